// Tests for kernels/spmv.h on every compiled target against the scalar
// reference run in double: random shapes (rows not a multiple of 16, empty
// block-rows), densities 0 / one block / 1% / 10% / 50% / 100%, batches 1..64
// (odd ones included), block-row sub-ranges, misaligned x and y, strided
// batches, every activation and accuracy tier, f32 and bf16 blocks, and the
// generic Lanes(d) kernel.
//
// Tolerance. Let u = 2^-24, S = |bias| + sum_k |w_k x_k| over the output's
// n nonzero blocks. The kernel sums n products in up to 8 interleaved FMA
// chains, merges them with <= 3 levels of adds, then adds the bias: every
// term passes through at most n + 5 roundings, so |err| <= (n + 5) u S to
// first order (Higham). We allow 2 (n + 8) u S. A missing, duplicated or
// misplaced block is O(|w x|) ~ S / n, far above it. The activation scales
// that by max|act'| <= 1.13 (GELU) and adds its own error (same bounds as
// kernels/gemv_test.cc): kPrecise 8 * 2^-23 (|y| + |pre|), kFast
// 1e-4 (1 + |pre|). bf16 weights are the stored (rounded) values in the
// reference too, so bf16 has the same bound.
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "hwy/aligned_allocator.h"
#include "kernels/block_sparse.h"
#include "kernels/spmv.h"
#include "kernels/spmv_scalar.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/spmv_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/test_util-inl.h"
#include "kernels/spmv-inl.h"

// Highway 1.0.3 has no HWY_AFTER_TEST (newer versions do).
#ifndef HWY_AFTER_TEST
#define HWY_AFTER_TEST() static_assert(true, "")
#endif

#ifndef SPARROW_KERNELS_SPMV_TEST_HELPERS_
#define SPARROW_KERNELS_SPMV_TEST_HELPERS_
namespace sparrow {
namespace spmv_test {

constexpr Activation kActivations[] = {
    Activation::kIdentity, Activation::kRelu, Activation::kSigmoid,
    Activation::kTanh, Activation::kGelu};
constexpr float kSentinel = 12345.0f;

inline void FillRandom(float* p, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < n; ++i) p[i] = dist(rng);
}

// Density patterns: p in [0, 1], or kOneBlock for exactly one nonzero block.
constexpr double kOneBlock = -1.0;

// A matrix with the given pattern; with `empty_rows`, every third block-row is
// forced empty.
inline BlockSparse16x1 MakeMatrix(size_t rows, size_t cols, double p,
                                  bool empty_rows, BlockDType dtype,
                                  uint64_t seed) {
  const size_t br = (rows + 15) / 16;
  std::vector<float> w(rows * cols + 1);
  FillRandom(w.data(), rows * cols, seed);
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
  HWY_ASSERT(Validate(m->view()).ok());
  return std::move(m).value();
}

inline double Tolerance(double abs_sum, double pre, double ref, size_t n,
                        Activation act, Accuracy acc) {
  const double u = std::ldexp(1.0, -24);
  double tol = 1.13 * 2.0 * (static_cast<double>(n) + 8.0) * u * abs_sum;
  if (act == Activation::kSigmoid || act == Activation::kTanh ||
      act == Activation::kGelu) {
    if (acc == Accuracy::kFast) {
      tol += 1e-4 * (1.0 + std::abs(pre));
    } else {
      tol += 8.0 * std::ldexp(1.0, -23) * (std::abs(ref) + std::abs(pre)) +
             1e-37;
    }
  }
  return tol;
}

struct Case {
  const BlockSparseView* w;
  const float* x;
  size_t ldx;
  const float* bias;
  size_t ldy, batch;
  Activation act;
  Accuracy acc;
  size_t begin, end;
};

// Checks y (written by the kernel) against the double reference; every
// element outside the range, padding and stride gaps must still hold the
// sentinel. Returns the number of mismatches.
inline size_t Check(const char* what, const Case& c, const float* y,
                    size_t y_len) {
  const BlockSparseView& w = *c.w;
  const size_t end = std::min(c.end, w.BlockRows());
  std::vector<double> xd(c.x, c.x + (c.batch - 1) * c.ldx + w.cols);
  std::vector<double> bd(w.rows);
  for (size_t r = 0; r < w.rows && c.bias; ++r) bd[r] = c.bias[r];
  std::vector<double> yd(y_len, 0.0);
  SpmmScalar<double>(w, xd.data(), c.ldx, c.bias ? bd.data() : nullptr,
                     yd.data(), c.ldy, c.batch, c.act, c.begin, c.end);
  size_t errors = 0;
  auto report = [&](size_t b, size_t r, double want, double got, double tol) {
    if (++errors <= 5) {
      ADD_FAILURE() << what << " rows=" << w.rows << " cols=" << w.cols
                    << " blocks=" << w.num_blocks
                    << " dtype=" << BlockDTypeName(w.dtype)
                    << " batch=" << c.batch << " ldy=" << c.ldy
                    << " range=[" << c.begin << "," << c.end << ")"
                    << " act=" << ActivationName(c.act)
                    << " acc=" << static_cast<int>(c.acc)
                    << " bias=" << !!c.bias << " b=" << b << " r=" << r
                    << " y=" << got << " want=" << want << " tol=" << tol;
    }
  };
  for (size_t i = 0; i < y_len; ++i) {
    const size_t b = i / c.ldy, r = i % c.ldy;
    const bool in = b < c.batch && r < w.rows && r / 16 >= c.begin &&
                    r / 16 < end;
    if (!in) {
      if (!(y[i] == kSentinel)) report(b, r, kSentinel, y[i], 0.0);
      continue;
    }
    const size_t i16 = r / 16;
    double pre = c.bias ? bd[r] : 0.0, abs_sum = std::abs(pre);
    for (size_t k = 0; k < w.Count(i16); ++k) {
      const double p = double{BlockWeight(w, i16, k, r % 16)} *
                       xd[b * c.ldx + w.col_indices[w.block_offsets[i16] + k]];
      pre += p;
      abs_sum += std::abs(p);
    }
    const double ref = ActivateRef<double>(c.act, pre);
    // The reference itself must agree with this independent sum.
    if (!(std::abs(ref - yd[i]) <= 1e-12 * (1.0 + abs_sum))) {
      report(b, r, ref, yd[i], 0.0);
    }
    const double tol =
        Tolerance(abs_sum, pre, ref, w.Count(i16), c.act, c.acc);
    if (!(std::abs(double{y[i]} - ref) <= tol)) report(b, r, ref, y[i], tol);
  }
  return errors;
}

}  // namespace spmv_test
}  // namespace sparrow
#endif  // SPARROW_KERNELS_SPMV_TEST_HELPERS_

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {

using spmv_test::Case;
using spmv_test::kSentinel;

// Runs the dispatched-target kernel and the generic kernel on one case, with
// x and y at `offset` floats past an aligned address.
void RunCase(const Case& base, size_t offset, float* x_buf, float* y_buf) {
  Case c = base;
  float* x = x_buf + offset;
  memcpy(x, base.x, ((c.batch - 1) * c.ldx + c.w->cols) * sizeof(float));
  c.x = x;
  const size_t y_len = c.batch * c.ldy;
  float* y = y_buf + offset;
  for (int generic = 0; generic < 2; ++generic) {
    std::fill(y, y + y_len + 8, kSentinel);
    (generic ? SpmmGenericImpl : SpmmImpl)(*c.w, c.x, c.ldx, c.bias, y, c.ldy,
                                           c.batch, c.act, c.acc, c.begin,
                                           c.end);
    size_t errors = spmv_test::Check(generic ? "generic" : "simd", c, y, y_len);
    for (size_t i = y_len; i < y_len + 8; ++i) errors += y[i] != kSentinel;
    ASSERT_EQ(0u, errors);
  }
}

struct Sweep {
  std::vector<size_t> batches;
  bool all_activations;
  bool ranges;
};

void TestMatrix(const BlockSparse16x1& m, const Sweep& sweep) {
  const BlockSparseView w = m.view();
  const size_t N = hn::Lanes(spmv_detail::DF());
  const size_t max_batch =
      *std::max_element(sweep.batches.begin(), sweep.batches.end());
  const size_t ldx_max = w.cols + 3;
  auto x_src = hwy::AllocateAligned<float>(max_batch * ldx_max + 1);
  auto bias = hwy::AllocateAligned<float>(w.rows + 1);
  spmv_test::FillRandom(x_src.get(), max_batch * ldx_max, w.cols * 3 + 1);
  spmv_test::FillRandom(bias.get(), w.rows, w.rows + 7);
  auto x_buf = hwy::AllocateAligned<float>(max_batch * ldx_max + N + 16);
  auto y_buf = hwy::AllocateAligned<float>(max_batch * (w.rows + 3) + N + 16);

  std::vector<std::pair<size_t, size_t>> ranges = {{0, ~size_t{0}}};
  const size_t br = w.BlockRows();
  if (sweep.ranges) {
    ranges.push_back({0, 1});
    ranges.push_back({br / 2, br});
    ranges.push_back({1, br + 5});  // end clipped
    ranges.push_back({br, br});     // empty
    ranges.push_back({2, 1});       // begin > end: nothing
  }
  for (size_t batch : sweep.batches) {
    for (const auto& range : ranges) {
      for (Activation act : spmv_test::kActivations) {
        if (!sweep.all_activations && act != Activation::kIdentity &&
            act != Activation::kTanh) {
          continue;
        }
        for (Accuracy acc : {Accuracy::kPrecise, Accuracy::kFast}) {
          if (act == Activation::kIdentity && acc == Accuracy::kFast) continue;
          for (bool with_bias : {false, true}) {
            Case c;
            c.w = &w;
            c.x = x_src.get();
            // Strided rows (gaps in X and Y) for odd batches.
            const bool strided = batch % 2 == 1 && batch > 1;
            c.ldx = strided ? w.cols + 3 : w.cols;
            c.ldy = strided ? w.rows + 3 : w.rows;
            c.bias = with_bias ? bias.get() : nullptr;
            c.batch = batch;
            c.act = act;
            c.acc = acc;
            c.begin = range.first;
            c.end = range.second;
            for (size_t offset : {size_t{0}, size_t{1}, N / 2}) {
              RunCase(c, offset, x_buf.get(), y_buf.get());
              if (::testing::Test::HasFailure()) return;
            }
          }
        }
      }
    }
  }
}

HWY_NOINLINE void TestAllSpmv() {
  const double densities[] = {0.0, spmv_test::kOneBlock, 0.01, 0.1, 0.5, 1.0};
  const Sweep small_sweep = {{1, 2, 3, 4, 5, 8, 9, 16, 17}, true, true};
  const Sweep quick = {{1, 3, 8}, false, true};
  uint64_t seed = 1;
  for (BlockDType dtype : {BlockDType::kF32, BlockDType::kBf16}) {
    for (size_t rows : {1, 15, 16, 17, 47, 100}) {
      for (size_t cols : {1, 5, 16, 67}) {
        for (double p : densities) {
          for (bool empty_rows : {false, true}) {
            if (empty_rows && (p <= 0.0 || rows <= 16)) continue;
            const BlockSparse16x1 m = spmv_test::MakeMatrix(
                rows, cols, p, empty_rows, dtype, ++seed);
            const bool full = (rows == 17 || rows == 47) && cols == 67;
            TestMatrix(m, full ? small_sweep : quick);
            if (::testing::Test::HasFailure()) return;
          }
        }
      }
    }
    // Every batch up to 64 (each remainder chunk path) on one shape.
    std::vector<size_t> batches;
    for (size_t b = 1; b <= 64; ++b) batches.push_back(b);
    const BlockSparse16x1 m =
        spmv_test::MakeMatrix(50, 40, 0.3, true, dtype, ++seed);
    TestMatrix(m, {batches, false, false});
    // An LPCNet-sized matrix at 10%.
    const BlockSparse16x1 big =
        spmv_test::MakeMatrix(1152, 384, 0.1, false, dtype, ++seed);
    TestMatrix(big, {{1, 4, 16}, false, false});
  }
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparrow {
HWY_BEFORE_TEST(SpmvTest);
HWY_EXPORT_AND_TEST_P(SpmvTest, TestAllSpmv);
HWY_AFTER_TEST();

// The public, dispatched entry points (the per-target tests call the bodies).
TEST(SpmvDispatchTest, MatchesReference) {
  const BlockSparse16x1 m = spmv_test::MakeMatrix(
      33, 20, 0.4, false, BlockDType::kBf16, 99);
  const BlockSparseView w = m.view();
  std::vector<float> x(3 * 20), b(33), y(3 * 33, spmv_test::kSentinel);
  spmv_test::FillRandom(x.data(), x.size(), 1);
  spmv_test::FillRandom(b.data(), b.size(), 2);
  std::vector<double> xd(x.begin(), x.end()), bd(b.begin(), b.end());
  std::vector<double> yd(3 * 33);
  SpmmScalar<double>(w, xd.data(), 20, bd.data(), yd.data(), 33, 3,
                     Activation::kSigmoid);
  Spmm(w, x.data(), 20, b.data(), y.data(), 33, 3, Activation::kSigmoid);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(yd[i], y[i], 1e-5) << i;
  std::fill(y.begin(), y.end(), 0.0f);
  Spmv(w, x.data(), b.data(), y.data(), Activation::kSigmoid, Accuracy::kFast,
       BlockRowRange{1, 2});
  for (size_t r = 0; r < 33; ++r) {
    if (r >= 16 && r < 32) {
      EXPECT_NEAR(yd[r], y[r], 2e-4) << r;
    } else {
      EXPECT_EQ(0.0f, y[r]) << r;
    }
  }
}

}  // namespace sparrow
#endif  // HWY_ONCE
