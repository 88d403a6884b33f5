// Tests for kernels/sparse_gru.h: every compiled target (and the generic
// Lanes(d) kernel on each) against references run in double: hidden 16, 32,
// 48, 384; input 1, 7, 16, 130; densities 0 / one block / 1% / 10% / 50% /
// 100%, with and without forced-empty block-rows; f32, bf16 and mixed block
// dtypes; with and without biases; both accuracy tiers; misaligned x, h and
// h_next; chunk sub-ranges (sentinels around them). Each result is also
// compared with the dense kernels/gru.h GruStep on the densified weights.
//
// Tolerance, per hidden unit j, from the double intermediates (the
// derivation of gru_test.cc with spmv_test.cc's bound for the sums). Let
// u = 2^-24, n_g the nonzero blocks a gate's pre-activation sums over (both
// matrices for r and z) and S_g = |biases| + sum |w x| (+ sum |w h|). The
// kernel sums each block-row in up to 8 interleaved FMA chains, merges them
// with <= 3 levels of adds and adds the other product and the biases, so each
// term sees at most n_g + 8 roundings: e_g <= 2 (n_g + 10) u S_g. The
// activation tiers add a = 8 * 2^-23 (kPrecise, <= 4 ULP of outputs <= 1) or
// 1e-4 (kFast). With sigmoid' <= 1/4, tanh' <= 1, |r|, |z| <= 1:
//   e_r = e_pre_r / 4 + a,  e_z likewise,
//   e_n = e_in + |hn| e_r + e_hn + a + 2u(|in| + |r hn|),
//   e_h = e_n + |h - n| e_z + 4u(|n| + |h|).
// The dense GruStep gets gru_test.cc's bound (depth (I + H) / 4 + 12, the
// smallest vector of any target), and the two kernels must agree within the
// sum of their bounds. A wrong gate order, block-row, bias or dropped block
// moves h' by O(|w x|) or O(0.1), far above these (~1e-6 at 384).
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hwy/aligned_allocator.h"
#include "kernels/block_sparse.h"
#include "kernels/gru.h"
#include "kernels/gru_scalar.h"
#include "kernels/sparse_gru.h"
#include "kernels/sparse_gru_scalar.h"
#include "kernels/status.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/sparse_gru_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/test_util-inl.h"
#include "kernels/sparse_gru-inl.h"

// Highway 1.0.3 has no HWY_AFTER_TEST (newer versions do).
#ifndef HWY_AFTER_TEST
#define HWY_AFTER_TEST() static_assert(true, "")
#endif

#ifndef SPARROW_KERNELS_SPARSE_GRU_TEST_HELPERS_
#define SPARROW_KERNELS_SPARSE_GRU_TEST_HELPERS_
namespace sparrow {
namespace sparse_gru_test {

constexpr float kSentinel = 12345.0f;
constexpr double kOneBlock = -1.0;  // density: exactly one nonzero block

inline void FillRandom(float* p, size_t n, float scale, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (size_t i = 0; i < n; ++i) p[i] = dist(rng);
}

// A [rows, cols] matrix with block density p (or kOneBlock); with
// `empty_rows`, every third block-row is empty. Weights are scaled so that a
// row's sum is O(1) whatever the density, which keeps the gates away from
// saturation and a wrong term visible.
inline BlockSparse16x1 MakeMatrix(size_t rows, size_t cols, double p,
                                  bool empty_rows, BlockDType dtype,
                                  uint64_t seed) {
  const size_t br = (rows + 15) / 16;
  const double per_row = p == kOneBlock ? 1.0 : p * static_cast<double>(cols);
  const float scale =
      static_cast<float>(1.0 / std::sqrt(std::max(1.0, per_row)));
  std::vector<float> w(rows * cols + 1);
  FillRandom(w.data(), rows * cols, scale, seed);
  std::vector<uint8_t> mask(br * cols + 1, 0);
  std::mt19937_64 rng(seed + 1);
  if (p == kOneBlock) {
    mask[rng() % (br * cols)] = 1;
  } else {
    std::bernoulli_distribution keep(p);
    for (size_t i = 0; i < br * cols; ++i) mask[i] = keep(rng);
    if (empty_rows) {
      for (size_t i = 0; i < br; i += 3) {
        std::fill(mask.begin() + i * cols, mask.begin() + (i + 1) * cols, 0);
      }
    }
  }
  auto m = BlockSparse16x1::FromDense(w.data(), rows, cols, mask.data(), dtype);
  HWY_ASSERT(m.ok());
  return std::move(m).value();
}

// One problem with its references, computed once and shared by every target.
struct Fixture {
  std::string name;
  size_t I = 0, H = 0;
  BlockSparse16x1 w_ih, w_hh;
  std::vector<float> b_ih, b_hh, x, h;
  // [bias][acc]: the double reference, the sparse kernel's tolerance, the
  // dense GruStep's output on the densified weights and its tolerance.
  std::vector<double> ref[2];
  std::vector<double> tol[2][2], dense_tol[2][2];
  std::vector<float> dense[2][2];

  SparseGruWeights Weights(bool with_bias) const {
    return SparseGruWeights{w_ih.view(),
                            w_hh.view(),
                            with_bias ? b_ih.data() : nullptr,
                            with_bias ? b_hh.data() : nullptr,
                            I,
                            H};
  }
};

inline double Sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// Fills the references of f (weights, biases, x, h already set).
inline void ComputeReferences(Fixture& f) {
  const size_t I = f.I, H = f.H;
  std::vector<float> d_ih(3 * H * I + 1), d_hh(3 * H * H + 1);
  f.w_ih.ToDense(d_ih.data());
  f.w_hh.ToDense(d_hh.data());
  std::vector<double> wi(d_ih.begin(), d_ih.begin() + 3 * H * I);
  std::vector<double> wh(d_hh.begin(), d_hh.begin() + 3 * H * H);
  std::vector<double> bi(f.b_ih.begin(), f.b_ih.end());
  std::vector<double> bh(f.b_hh.begin(), f.b_hh.end());
  std::vector<double> x(f.x.begin(), f.x.end()), h(f.h.begin(), f.h.end());
  const BlockSparseView vi = f.w_ih.view(), vh = f.w_hh.view();
  const double u = std::ldexp(1.0, -24);
  const double dense_depth = static_cast<double>(I + H) / 4.0 + 12.0;
  const GruWeights dense_w{d_ih.data(), d_hh.data(), f.b_ih.data(),
                           f.b_hh.data(), I, H};
  const GruWeights dense_w_nb{d_ih.data(), d_hh.data(), nullptr, nullptr, I,
                              H};
  for (int with_bias = 0; with_bias < 2; ++with_bias) {
    std::vector<double>& ref = f.ref[with_bias];
    ref.resize(H);
    SparseGruStepScalar<double>(vi, vh, with_bias ? bi.data() : nullptr,
                                with_bias ? bh.data() : nullptr, H, x.data(),
                                h.data(), ref.data());
    std::vector<double> ref_dense(H);
    GruStepScalar<double>(wi.data(), wh.data(),
                          with_bias ? bi.data() : nullptr,
                          with_bias ? bh.data() : nullptr, I, H, x.data(),
                          h.data(), ref_dense.data());
    for (int a = 0; a < 2; ++a) {
      const Accuracy acc = a ? Accuracy::kFast : Accuracy::kPrecise;
      f.dense[with_bias][a].assign(H, 0.0f);
      GruStep(with_bias ? dense_w : dense_w_nb, f.x.data(), f.h.data(),
              f.dense[with_bias][a].data(), acc);
      f.tol[with_bias][a].resize(H);
      f.dense_tol[with_bias][a].resize(H);
    }
    // Sum and absolute sum of one gate row over x or h, plus its bias.
    auto dot = [&](const std::vector<double>& w, size_t row, size_t cols,
                   const std::vector<double>& v, const std::vector<double>& b,
                   double* abs_sum) {
      double s = with_bias ? b[row] : 0.0;
      *abs_sum = std::abs(s);
      for (size_t c = 0; c < cols; ++c) {
        s += w[row * cols + c] * v[c];
        *abs_sum += std::abs(w[row * cols + c] * v[c]);
      }
      return s;
    };
    for (size_t j = 0; j < H; ++j) {
      double ar_i, ar_h, az_i, az_h, a_in, a_hn;
      const double pr =
          dot(wi, j, I, x, bi, &ar_i) + dot(wh, j, H, h, bh, &ar_h);
      const double pz =
          dot(wi, H + j, I, x, bi, &az_i) + dot(wh, H + j, H, h, bh, &az_h);
      const double in = dot(wi, 2 * H + j, I, x, bi, &a_in);
      const double hn = dot(wh, 2 * H + j, H, h, bh, &a_hn);
      const double r = Sigmoid(pr), z = Sigmoid(pz);
      const double n = std::tanh(in + r * hn);
      const double h1 = (1.0 - z) * n + z * h[j];
      // Three independent computations of the reference agree.
      const double scale = 1.0 + ar_i + ar_h + az_i + az_h + a_in + a_hn;
      HWY_ASSERT(std::abs(h1 - ref[j]) <= 1e-12 * scale);
      HWY_ASSERT(std::abs(h1 - ref_dense[j]) <= 1e-12 * scale);

      const size_t c = j / 16;
      const double n_r = static_cast<double>(vi.Count(c) + vh.Count(c));
      const double n_z =
          static_cast<double>(vi.Count(H / 16 + c) + vh.Count(H / 16 + c));
      const double n_in = static_cast<double>(vi.Count(2 * H / 16 + c));
      const double n_hn = static_cast<double>(vh.Count(2 * H / 16 + c));
      for (int a = 0; a < 2; ++a) {
        const double act_err = a ? 1e-4 : 8.0 * std::ldexp(1.0, -23);
        auto propagate = [&](double e_pr, double e_pz, double e_in,
                             double e_hn) {
          const double e_r = e_pr / 4.0 + act_err;
          const double e_z = e_pz / 4.0 + act_err;
          const double e_n = e_in + std::abs(hn) * e_r + e_hn + act_err +
                             2.0 * u * (std::abs(in) + std::abs(r * hn));
          return e_n + std::abs(h[j] - n) * e_z +
                 4.0 * u * (std::abs(n) + std::abs(h[j]));
        };
        auto sparse_e = [&](double blocks, double abs_sum) {
          return 2.0 * (blocks + 10.0) * u * abs_sum;
        };
        f.tol[with_bias][a][j] = propagate(
            sparse_e(n_r, ar_i + ar_h), sparse_e(n_z, az_i + az_h),
            sparse_e(n_in, a_in), sparse_e(n_hn, a_hn));
        const double du = dense_depth * u;
        f.dense_tol[with_bias][a][j] =
            propagate(du * (ar_i + ar_h), du * (az_i + az_h), du * a_in,
                      du * a_hn);
      }
    }
  }
}

inline Fixture MakeFixture(size_t I, size_t H, double p, bool empty_rows,
                           BlockDType t_ih, BlockDType t_hh, uint64_t seed) {
  Fixture f;
  f.I = I;
  f.H = H;
  f.w_ih = MakeMatrix(3 * H, I, p, empty_rows, t_ih, seed);
  f.w_hh = MakeMatrix(3 * H, H, p, empty_rows, t_hh, seed + 7);
  f.b_ih.resize(3 * H);
  f.b_hh.resize(3 * H);
  f.x.resize(I);
  f.h.resize(H);
  const float k = 1.0f / std::sqrt(static_cast<float>(H));
  FillRandom(f.b_ih.data(), f.b_ih.size(), k, seed + 2);
  FillRandom(f.b_hh.data(), f.b_hh.size(), k, seed + 3);
  FillRandom(f.x.data(), f.x.size(), 1.0f, seed + 4);
  FillRandom(f.h.data(), f.h.size(), 1.0f, seed + 5);
  char name[160];
  snprintf(name, sizeof(name),
           "I=%zu H=%zu p=%g empty_rows=%d w_ih=%s w_hh=%s blocks=%zu+%zu", I,
           H, p, static_cast<int>(empty_rows), BlockDTypeName(t_ih),
           BlockDTypeName(t_hh), f.w_ih.nonzero_blocks(),
           f.w_hh.nonzero_blocks());
  f.name = name;
  HWY_ASSERT(ValidateSparseGru(f.Weights(true)).ok());
  ComputeReferences(f);
  return f;
}

// Every fixture, built once per process (the references dominate the cost).
inline const std::vector<std::unique_ptr<Fixture>>& AllFixtures() {
  static const std::vector<std::unique_ptr<Fixture>> all = [] {
    std::vector<std::unique_ptr<Fixture>> all;
    std::vector<std::unique_ptr<Fixture>>* v = &all;
    constexpr BlockDType kF = BlockDType::kF32, kB = BlockDType::kBf16;
    const double densities[] = {0.0, kOneBlock, 0.01, 0.1, 0.5, 1.0};
    uint64_t seed = 1;
    for (size_t H : {16, 32, 48}) {
      for (size_t I : {1, 7, 16, 130}) {
        for (double p : densities) {
          for (bool empty_rows : {false, true}) {
            if (empty_rows && p <= 0.0) continue;
            for (BlockDType t : {kF, kB}) {
              v->push_back(std::make_unique<Fixture>(
                  MakeFixture(I, H, p, empty_rows, t, t, ++seed)));
            }
          }
        }
        // Mixed dtypes, one density per shape.
        v->push_back(std::make_unique<Fixture>(
            MakeFixture(I, H, 0.3, false, kB, kF, ++seed)));
        v->push_back(std::make_unique<Fixture>(
            MakeFixture(I, H, 0.3, true, kF, kB, ++seed)));
      }
    }
    // The LPCNet / WaveRNN size: fewer variants, each costs ~100x more.
    for (size_t I : {16, 130}) {
      for (double p : {kOneBlock, 0.01, 0.1, 1.0}) {
        for (BlockDType t : {kF, kB}) {
          v->push_back(std::make_unique<Fixture>(
              MakeFixture(I, 384, p, /*empty_rows=*/p == 0.1, t, t, ++seed)));
        }
      }
    }
    return all;
  }();
  return all;
}

// Mismatches of h_next[0, H) against the fixture; each also against the dense
// kernel. Reports the first few.
inline size_t Check(const char* what, const Fixture& f, int with_bias, int a,
                    const float* h_next) {
  size_t errors = 0;
  for (size_t j = 0; j < f.H; ++j) {
    const double got = h_next[j];
    const double want = f.ref[with_bias][j];
    const double tol = f.tol[with_bias][a][j];
    const double dense = f.dense[with_bias][a][j];
    const double dense_tol = tol + f.dense_tol[with_bias][a][j];
    if (!(std::abs(got - want) <= tol) ||
        !(std::abs(got - dense) <= dense_tol)) {
      if (++errors <= 5) {
        ADD_FAILURE() << what << " " << f.name << " bias=" << with_bias
                      << " fast=" << a << " j=" << j << " got=" << got
                      << " ref=" << want << " tol=" << tol
                      << " dense=" << dense << " dense_tol=" << dense_tol;
      }
    }
  }
  return errors;
}

}  // namespace sparse_gru_test
}  // namespace sparrow
#endif  // SPARROW_KERNELS_SPARSE_GRU_TEST_HELPERS_

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using sparse_gru_test::kSentinel;

using StepFn = void (*)(const SparseGruWeights&, const float*, const float*,
                        float*, Accuracy, size_t, size_t);

// Runs `step` on f (whole, at misalignments, and in two sub-ranges) and checks
// every output and every sentinel.
void TestFixture(const sparse_gru_test::Fixture& f, StepFn step,
                 const char* what) {
  const size_t H = f.H, I = f.I, G = H / 16;
  const size_t N = hn::Lanes(spmv_detail::DF());
  const size_t kPad = 8;
  auto x_buf = hwy::AllocateAligned<float>(I + N + 1);
  auto h_buf = hwy::AllocateAligned<float>(H + N + 1);
  auto out_buf = hwy::AllocateAligned<float>(H + N + 2 * kPad);
  std::vector<float> whole(H);
  for (int with_bias = 0; with_bias < 2; ++with_bias) {
    const SparseGruWeights w = f.Weights(with_bias);
    for (int a = 0; a < 2; ++a) {
      const Accuracy acc = a ? Accuracy::kFast : Accuracy::kPrecise;
      // x, h_prev and h_next at `offset` floats past an aligned address; the
      // result must not depend on it.
      for (size_t offset : {size_t{0}, size_t{1}, N / 2}) {
        float* x = x_buf.get() + offset;
        float* h = h_buf.get() + offset;
        memcpy(x, f.x.data(), I * sizeof(float));
        memcpy(h, f.h.data(), H * sizeof(float));
        float* out = out_buf.get() + kPad + offset;
        std::fill(out - kPad, out + H + kPad, kSentinel);
        step(w, x, h, out, acc, 0, ~size_t{0});
        size_t errors = sparse_gru_test::Check(what, f, with_bias, a, out);
        for (size_t i = 0; i < kPad; ++i) {
          errors += out[-1 - static_cast<ptrdiff_t>(i)] != kSentinel;
          errors += out[H + i] != kSentinel;
        }
        if (offset == 0) {
          memcpy(whole.data(), out, H * sizeof(float));
        } else {
          errors += memcmp(whole.data(), out, H * sizeof(float)) != 0;
        }
        ASSERT_EQ(0u, errors) << what << " " << f.name << " offset=" << offset;
      }
      // [0, k) then [k, end): bit-identical to the whole; units outside the
      // range untouched. Also an end past the chunks (clipped) and empty
      // ranges.
      std::vector<size_t> splits = {0, 1, G / 2, G - 1, G};
      float* out = out_buf.get() + kPad;
      for (size_t k : splits) {
        if (k > G) continue;
        std::fill(out - kPad, out + H + kPad, kSentinel);
        step(w, f.x.data(), f.h.data(), out, acc, 0, k);
        size_t errors = 0;
        for (size_t j = 0; j < H; ++j) {
          errors += j < 16 * k ? memcmp(&out[j], &whole[j], sizeof(float)) != 0
                               : out[j] != kSentinel;
        }
        step(w, f.x.data(), f.h.data(), out, acc, k, G + 3);
        errors += memcmp(whole.data(), out, H * sizeof(float)) != 0;
        for (size_t i = 0; i < kPad; ++i) {
          errors += out[-1 - static_cast<ptrdiff_t>(i)] != kSentinel;
          errors += out[H + i] != kSentinel;
        }
        ASSERT_EQ(0u, errors) << what << " " << f.name << " split=" << k;
      }
      std::fill(out, out + H, kSentinel);
      step(w, f.x.data(), f.h.data(), out, acc, G, G + 1);
      step(w, f.x.data(), f.h.data(), out, acc, 1, 0);
      for (size_t j = 0; j < H; ++j) ASSERT_EQ(kSentinel, out[j]) << j;
    }
  }
}

HWY_NOINLINE void TestAllSparseGru() {
  for (const auto& f : sparse_gru_test::AllFixtures()) {
    TestFixture(*f, SparseGruStepImpl, "simd");
    TestFixture(*f, SparseGruStepGenericImpl, "generic");
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparrow {
HWY_BEFORE_TEST(SparseGruTest);
HWY_EXPORT_AND_TEST_P(SparseGruTest, TestAllSparseGru);
HWY_AFTER_TEST();

// ------------------------------ Public API (dispatched)

// A sequence with ping-pong state buffers stays close to the reference: the
// GRU update is a contraction for these weights, so errors do not grow.
TEST(SparseGruApiTest, TenStepsTrackReference) {
  const size_t I = 33, H = 48, T = 10;
  for (BlockDType t : {BlockDType::kF32, BlockDType::kBf16}) {
    const BlockSparse16x1 w_ih =
        sparse_gru_test::MakeMatrix(3 * H, I, 0.3, false, t, 21);
    const BlockSparse16x1 w_hh =
        sparse_gru_test::MakeMatrix(3 * H, H, 0.3, true, t, 22);
    std::vector<float> b_ih(3 * H), b_hh(3 * H), xs(T * I);
    sparse_gru_test::FillRandom(b_ih.data(), b_ih.size(), 0.2f, 23);
    sparse_gru_test::FillRandom(b_hh.data(), b_hh.size(), 0.2f, 24);
    sparse_gru_test::FillRandom(xs.data(), xs.size(), 1.0f, 25);
    const SparseGruWeights w{w_ih.view(), w_hh.view(), b_ih.data(),
                             b_hh.data(), I, H};
    ASSERT_TRUE(ValidateSparseGru(w).ok());
    std::vector<double> bi(b_ih.begin(), b_ih.end());
    std::vector<double> bh(b_hh.begin(), b_hh.end());
    std::vector<float> h[2] = {std::vector<float>(H, 0.0f),
                               std::vector<float>(H, 0.0f)};
    std::vector<double> hd(H, 0.0), hd_next(H), xd(I);
    for (size_t step = 0; step < T; ++step) {
      SparseGruStep(w, xs.data() + step * I, h[step % 2].data(),
                    h[(step + 1) % 2].data());
      for (size_t c = 0; c < I; ++c) xd[c] = xs[step * I + c];
      SparseGruStepScalar<double>(w_ih.view(), w_hh.view(), bi.data(),
                                  bh.data(), H, xd.data(), hd.data(),
                                  hd_next.data());
      hd.swap(hd_next);
      double max_err = 0.0, max_abs = 0.0;
      for (size_t j = 0; j < H; ++j) {
        max_err = std::max(max_err, std::abs(hd[j] - h[(step + 1) % 2][j]));
        max_abs = std::max(max_abs, std::abs(hd[j]));
      }
      EXPECT_LE(max_err, 1e-5) << BlockDTypeName(t) << " step " << step;
      EXPECT_GT(max_abs, 0.05) << "the state must move";
    }
  }
}

TEST(SparseGruApiTest, RangesOfTheDispatchedKernel) {
  const size_t I = 20, H = 64;
  const BlockSparse16x1 w_ih = sparse_gru_test::MakeMatrix(
      3 * H, I, 0.5, false, BlockDType::kBf16, 31);
  const BlockSparse16x1 w_hh = sparse_gru_test::MakeMatrix(
      3 * H, H, 0.5, false, BlockDType::kF32, 32);
  std::vector<float> x(I), h(H), b(3 * H);
  sparse_gru_test::FillRandom(x.data(), I, 1.0f, 33);
  sparse_gru_test::FillRandom(h.data(), H, 1.0f, 34);
  sparse_gru_test::FillRandom(b.data(), 3 * H, 0.3f, 35);
  const SparseGruWeights w{w_ih.view(), w_hh.view(), b.data(), nullptr, I, H};
  std::vector<float> whole(H), parts(H, sparse_gru_test::kSentinel);
  SparseGruStep(w, x.data(), h.data(), whole.data(), Accuracy::kFast);
  SparseGruStep(w, x.data(), h.data(), parts.data(), Accuracy::kFast,
                BlockRowRange{1, 3});
  for (size_t j = 0; j < H; ++j) {
    if (j >= 16 && j < 48) {
      EXPECT_EQ(whole[j], parts[j]) << j;
    } else {
      EXPECT_EQ(sparse_gru_test::kSentinel, parts[j]) << j;
    }
  }
  SparseGruStep(w, x.data(), h.data(), parts.data(), Accuracy::kFast,
                BlockRowRange{0, 1});
  SparseGruStep(w, x.data(), h.data(), parts.data(), Accuracy::kFast,
                BlockRowRange{3, 4});
  EXPECT_EQ(0, memcmp(whole.data(), parts.data(), H * sizeof(float)));
  std::vector<double> xd(x.begin(), x.end()), hd(h.begin(), h.end());
  std::vector<double> bd(b.begin(), b.end()), ref(H);
  SparseGruStepScalar<double>(w_ih.view(), w_hh.view(), bd.data(), nullptr, H,
                              xd.data(), hd.data(), ref.data());
  for (size_t j = 0; j < H; ++j) EXPECT_NEAR(ref[j], whole[j], 2e-4) << j;
}

// ------------------------------ ValidateSparseGru

class ValidateSparseGruTest : public ::testing::Test {
 protected:
  static constexpr size_t kI = 24, kH = 32;

  ValidateSparseGruTest()
      : w_ih_(sparse_gru_test::MakeMatrix(3 * kH, kI, 0.4, false,
                                          BlockDType::kF32, 41)),
        w_hh_(sparse_gru_test::MakeMatrix(3 * kH, kH, 0.4, false,
                                          BlockDType::kBf16, 42)),
        b_(3 * kH, 0.5f) {}

  SparseGruWeights Good() const {
    return SparseGruWeights{w_ih_.view(), w_hh_.view(), b_.data(), b_.data(),
                            kI, kH};
  }

  // Expects `code` and every string of `parts` in the message.
  static void ExpectError(const SparseGruWeights& w, StatusCode code,
                          std::vector<std::string> parts) {
    const Status s = ValidateSparseGru(w);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(code, s.code()) << s.ToString();
    for (const std::string& p : parts) {
      EXPECT_NE(std::string(s.message()).find(p), std::string::npos)
          << "want \"" << p << "\" in " << s.ToString();
    }
  }

  BlockSparse16x1 w_ih_, w_hh_;
  std::vector<float> b_;
};

TEST_F(ValidateSparseGruTest, AcceptsGoodWeightsAndNullBiases) {
  EXPECT_TRUE(ValidateSparseGru(Good()).ok());
  SparseGruWeights w = Good();
  w.b_ih = w.b_hh = nullptr;
  EXPECT_TRUE(ValidateSparseGru(w).ok());
}

TEST_F(ValidateSparseGruTest, HiddenNotAMultipleOf16) {
  // Views of a consistent GRU with hidden 40: only the 16-rule is broken.
  const BlockSparse16x1 wi = sparse_gru_test::MakeMatrix(
      120, kI, 0.4, false, BlockDType::kF32, 43);
  const BlockSparse16x1 wh = sparse_gru_test::MakeMatrix(
      120, 40, 0.4, false, BlockDType::kF32, 44);
  const SparseGruWeights w{wi.view(), wh.view(), nullptr, nullptr, kI, 40};
  ExpectError(w, StatusCode::kInvalidArgument, {"hidden=40", "multiple of 16"});
  SparseGruWeights zero = Good();
  zero.hidden = 0;
  ExpectError(zero, StatusCode::kInvalidArgument, {"hidden=0"});
}

TEST_F(ValidateSparseGruTest, WrongShapes) {
  SparseGruWeights w = Good();
  w.input = kI + 1;
  ExpectError(w, StatusCode::kInvalidArgument,
              {"w_ih.cols=24", "input = 25"});
  w = Good();
  w.hidden = 48;
  ExpectError(w, StatusCode::kInvalidArgument,
              {"w_ih.rows=96", "3 * hidden = 144"});
  w = Good();
  w.w_ih.rows = 3 * kH - 1;
  ExpectError(w, StatusCode::kInvalidArgument, {"w_ih.rows=95"});
  // w_hh's checks, with w_ih still right.
  const BlockSparse16x1 tall = sparse_gru_test::MakeMatrix(
      3 * kH + 16, kH, 0.4, false, BlockDType::kF32, 45);
  w = Good();
  w.w_hh = tall.view();
  ExpectError(w, StatusCode::kInvalidArgument,
              {"w_hh.rows=112", "3 * hidden = 96"});
  const BlockSparse16x1 wide = sparse_gru_test::MakeMatrix(
      3 * kH, kH + 3, 0.4, false, BlockDType::kF32, 46);
  w = Good();
  w.w_hh = wide.view();
  ExpectError(w, StatusCode::kInvalidArgument,
              {"w_hh.cols=35", "hidden = 32"});
}

TEST_F(ValidateSparseGruTest, WrongDTypes) {
  SparseGruWeights w = Good();
  w.w_ih.dtype = BlockDType::kInt8;
  ExpectError(w, StatusCode::kInvalidArgument, {"w_ih.dtype=int8"});
  w = Good();
  w.w_hh.dtype = static_cast<BlockDType>(7);
  ExpectError(w, StatusCode::kInvalidArgument, {"w_hh.dtype=unknown (7)"});
}

TEST_F(ValidateSparseGruTest, CorruptViewsNameTheMatrix) {
  // A block-row count above cols in w_hh (rule 3 of Validate).
  const BlockSparseView good = w_hh_.view();
  std::vector<uint32_t> offsets(good.block_offsets,
                                good.block_offsets + good.num_offsets);
  offsets[1] = offsets[2] + 1;  // decreasing
  SparseGruWeights w = Good();
  w.w_hh.block_offsets = offsets.data();
  ExpectError(w, StatusCode::kInvalidArgument, {"w_hh: "});
  // Misaligned block stream in w_ih (rule 6).
  w = Good();
  w.w_ih.data = static_cast<const uint8_t*>(w.w_ih.data) + 4;
  ExpectError(w, StatusCode::kInvalidArgument,
              {"w_ih: ", "not 64-byte aligned"});
}

}  // namespace sparrow
#endif  // HWY_ONCE
