// Tests for kernels/gru.h: every compiled target against the scalar reference
// in double (gru_scalar.h), both accuracy tiers, f32 and bf16 weights (bf16 is
// compared with the reference run on the bf16-rounded weights).
//
// Tolerance, derived per hidden unit j from the double intermediates. Let
// u = 2^-24, depth = (I + H) / N + 2 log2(N) + 8 (twice the longest chain of
// f32 roundings in one dot product, as in gemv_test.cc) and S_g = |biases| +
// sum |w x| (or |w h|) for g in {r, z, in, hn}; each pre-activation is off by
// e_g <= depth u S_g. The activation tiers add a = 8 * 2^-23 (kPrecise, <= 4
// ULP on outputs of magnitude <= 1) or 1e-4 (kFast). Propagating with
// sigmoid' <= 1/4, tanh' <= 1, |r|, |z| <= 1:
//   e_r = e_pre_r / 4 + a,  e_z likewise,
//   e_n = e_in + |hn| e_r + e_hn + a + 2u(|in| + |r hn|),
//   e_h = e_n + |h - n| e_z + 4u(|n| + |h|).
// A wrong gate order, bias, row or a dropped term moves h' by O(|w x|) or
// O(0.1), far above these (~1e-6 for 384 x 384).
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmath>
#include <random>
#include <vector>

#include "hwy/aligned_allocator.h"
#include "kernels/gemv.h"
#include "kernels/gemv_scalar.h"
#include "kernels/gru.h"
#include "kernels/gru_scalar.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/gru_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/test_util-inl.h"
#include "kernels/gru-inl.h"

// Highway 1.0.3 has no HWY_AFTER_TEST (newer versions do).
#ifndef HWY_AFTER_TEST
#define HWY_AFTER_TEST() static_assert(true, "")
#endif

#ifndef SPARROW_KERNELS_GRU_TEST_HELPERS_
#define SPARROW_KERNELS_GRU_TEST_HELPERS_
namespace sparrow {
namespace gru_test {

inline void FillRandom(float* p, size_t n, float scale, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (size_t i = 0; i < n; ++i) p[i] = dist(rng);
}

// Owns one random GRU problem; weights as float and their bf16 rounding.
struct Problem {
  size_t I, H;
  std::vector<float> w_ih, w_hh, b_ih, b_hh, x, h;
  std::vector<hwy::bfloat16_t> w_ih16, w_hh16;
  std::vector<float> w_ih_r, w_hh_r;  // bf16-rounded, as f32

  Problem(size_t input, size_t hidden, uint64_t seed)
      : I(input), H(hidden), w_ih(3 * H * I), w_hh(3 * H * H), b_ih(3 * H),
        b_hh(3 * H), x(I), h(H), w_ih16(w_ih.size()), w_hh16(w_hh.size()),
        w_ih_r(w_ih.size()), w_hh_r(w_hh.size()) {
    // PyTorch's init range U(-1/sqrt(H), 1/sqrt(H)); inputs/state in [-1, 1].
    const float k = 1.0f / std::sqrt(static_cast<float>(H));
    FillRandom(w_ih.data(), w_ih.size(), k, seed);
    FillRandom(w_hh.data(), w_hh.size(), k, seed + 1);
    FillRandom(b_ih.data(), b_ih.size(), k, seed + 2);
    FillRandom(b_hh.data(), b_hh.size(), k, seed + 3);
    FillRandom(x.data(), x.size(), 1.0f, seed + 4);
    FillRandom(h.data(), h.size(), 1.0f, seed + 5);
    ConvertF32ToBf16(w_ih.data(), w_ih16.data(), w_ih.size());
    ConvertF32ToBf16(w_hh.data(), w_hh16.data(), w_hh.size());
    ConvertBf16ToF32(w_ih16.data(), w_ih_r.data(), w_ih.size());
    ConvertBf16ToF32(w_hh16.data(), w_hh_r.data(), w_hh.size());
  }
};

// Checks h_next against the double reference on weights (w_ih, w_hh).
// Returns the number of mismatching units.
inline size_t CheckStep(const char* what, const Problem& p, const float* w_ih,
                        const float* w_hh, bool with_bias, size_t lanes,
                        Accuracy acc, const float* h_next) {
  const size_t I = p.I, H = p.H;
  std::vector<double> wi(w_ih, w_ih + 3 * H * I), wh(w_hh, w_hh + 3 * H * H);
  std::vector<double> bi(p.b_ih.begin(), p.b_ih.end());
  std::vector<double> bh(p.b_hh.begin(), p.b_hh.end());
  std::vector<double> x(p.x.begin(), p.x.end()), h(p.h.begin(), p.h.end());
  std::vector<double> ref(H);
  GruStepScalar<double>(wi.data(), wh.data(), with_bias ? bi.data() : nullptr,
                        with_bias ? bh.data() : nullptr, I, H, x.data(),
                        h.data(), ref.data());

  const double u = std::ldexp(1.0, -24);
  const double depth =
      static_cast<double>(I + H) / static_cast<double>(lanes) +
      2.0 * std::log2(static_cast<double>(lanes)) + 8.0;
  const double a =
      acc == Accuracy::kFast ? 1e-4 : 8.0 * std::ldexp(1.0, -23);
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
  auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  size_t errors = 0;
  for (size_t j = 0; j < H; ++j) {
    double ar_i, ar_h, az_i, az_h, a_in, a_hn;
    const double pr = dot(wi, j, I, x, bi, &ar_i) + dot(wh, j, H, h, bh, &ar_h);
    const double pz =
        dot(wi, H + j, I, x, bi, &az_i) + dot(wh, H + j, H, h, bh, &az_h);
    const double in = dot(wi, 2 * H + j, I, x, bi, &a_in);
    const double hn = dot(wh, 2 * H + j, H, h, bh, &a_hn);
    const double r = sigmoid(pr), z = sigmoid(pz);
    const double n = std::tanh(in + r * hn);
    const double h1 = (1.0 - z) * n + z * h[j];
    EXPECT_NEAR(h1, ref[j], 1e-12);  // the reference agrees with itself

    const double e_r = depth * u * (ar_i + ar_h) / 4.0 + a;
    const double e_z = depth * u * (az_i + az_h) / 4.0 + a;
    const double e_n = depth * u * a_in + std::abs(hn) * e_r +
                       depth * u * a_hn + a +
                       2.0 * u * (std::abs(in) + std::abs(r * hn));
    const double tol = e_n + std::abs(h[j] - n) * e_z +
                       4.0 * u * (std::abs(n) + std::abs(h[j]));
    const double err = std::abs(static_cast<double>(h_next[j]) - ref[j]);
    if (!(err <= tol)) {
      if (++errors <= 5) {
        ADD_FAILURE() << what << " I=" << I << " H=" << H << " j=" << j
                      << " acc=" << static_cast<int>(acc)
                      << " bias=" << with_bias << " got=" << h_next[j]
                      << " ref=" << ref[j] << " err=" << err << " tol=" << tol;
      }
    }
  }
  return errors;
}

}  // namespace gru_test
}  // namespace sparrow
#endif  // SPARROW_KERNELS_GRU_TEST_HELPERS_

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void TestGruShape(size_t I, size_t H, size_t N) {
  const gru_test::Problem p(I, H, 100 + 3 * I + H);
  std::vector<float> h_next(H + 1);
  for (bool with_bias : {true, false}) {
    const float* b_ih = with_bias ? p.b_ih.data() : nullptr;
    const float* b_hh = with_bias ? p.b_hh.data() : nullptr;
    for (Accuracy acc : {Accuracy::kPrecise, Accuracy::kFast}) {
      h_next[H] = 777.0f;  // sentinel: exactly H outputs are written
      GruStepDispatch(p.w_ih.data(), p.w_hh.data(), b_ih, b_hh, I, H,
                      p.x.data(), p.h.data(), h_next.data(), acc);
      size_t errors = gru_test::CheckStep("f32", p, p.w_ih.data(),
                                          p.w_hh.data(), with_bias, N, acc,
                                          h_next.data());
      GruStepDispatch(p.w_ih16.data(), p.w_hh16.data(), b_ih, b_hh, I, H,
                      p.x.data(), p.h.data(), h_next.data(), acc);
      errors += gru_test::CheckStep("bf16", p, p.w_ih_r.data(),
                                    p.w_hh_r.data(), with_bias, N, acc,
                                    h_next.data());
      ASSERT_EQ(0u, errors);
      ASSERT_EQ(777.0f, h_next[H]);
    }
  }
}

HWY_NOINLINE void TestAllGru() {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  const std::vector<size_t> sizes = {1, N - 1, N, N + 1, 3 * N, 8 * N + 2};
  for (size_t H : sizes) {
    if (H == 0) continue;
    for (size_t I : sizes) {
      TestGruShape(I, H, N);
    }
  }
  TestGruShape(0, N + 3, N);  // no input: only the recurrent part
  TestGruShape(384, 384, N);
  TestGruShape(80, 200, N);
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparrow {
HWY_BEFORE_TEST(GruTest);
HWY_EXPORT_AND_TEST_P(GruTest, TestAllGru);
HWY_AFTER_TEST();

// ------------------------------ Public API (dispatched)

TEST(GruApiTest, MatchesReference384) {
  const gru_test::Problem p(384, 384, 7);
  std::vector<float> h_next(384);
  const GruWeights w{p.w_ih.data(), p.w_hh.data(), p.b_ih.data(),
                     p.b_hh.data(), p.I, p.H};
  const GruWeightsBf16 w16{p.w_ih16.data(), p.w_hh16.data(), p.b_ih.data(),
                           p.b_hh.data(), p.I, p.H};
  for (Accuracy acc : {Accuracy::kPrecise, Accuracy::kFast}) {
    GruStep(w, p.x.data(), p.h.data(), h_next.data(), acc);
    EXPECT_EQ(0u, gru_test::CheckStep("api f32", p, p.w_ih.data(),
                                      p.w_hh.data(), true, 16, acc,
                                      h_next.data()));
    GruStepBf16(w16, p.x.data(), p.h.data(), h_next.data(), acc);
    EXPECT_EQ(0u, gru_test::CheckStep("api bf16", p, p.w_ih_r.data(),
                                      p.w_hh_r.data(), true, 16, acc,
                                      h_next.data()));
  }
}

// A sequence with ping-pong state buffers stays close to the reference: the
// GRU update is a contraction for these weights, so errors do not grow.
TEST(GruApiTest, SequenceTracksReference) {
  const size_t I = 33, H = 70, T = 50;
  gru_test::Problem p(I, H, 11);
  const GruWeights w{p.w_ih.data(), p.w_hh.data(), p.b_ih.data(),
                     p.b_hh.data(), I, H};
  std::vector<double> wi(p.w_ih.begin(), p.w_ih.end());
  std::vector<double> wh(p.w_hh.begin(), p.w_hh.end());
  std::vector<double> bi(p.b_ih.begin(), p.b_ih.end());
  std::vector<double> bh(p.b_hh.begin(), p.b_hh.end());
  std::vector<float> xs(T * I);
  gru_test::FillRandom(xs.data(), xs.size(), 1.0f, 99);
  std::vector<float> h[2] = {std::vector<float>(H, 0.0f),
                             std::vector<float>(H, 0.0f)};
  std::vector<double> hd(H, 0.0), hd_next(H), xd(I);
  for (size_t t = 0; t < T; ++t) {
    GruStep(w, xs.data() + t * I, h[t % 2].data(), h[(t + 1) % 2].data());
    for (size_t c = 0; c < I; ++c) xd[c] = xs[t * I + c];
    GruStepScalar<double>(wi.data(), wh.data(), bi.data(), bh.data(), I, H,
                          xd.data(), hd.data(), hd_next.data());
    hd.swap(hd_next);
  }
  for (size_t j = 0; j < H; ++j) EXPECT_NEAR(hd[j], h[T % 2][j], 1e-5) << j;
}

}  // namespace sparrow
#endif  // HWY_ONCE
