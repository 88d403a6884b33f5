// Tests for kernels/gemv.h: every compiled target against the scalar
// reference run in double, over shapes around the vector length and
// misaligned pointers.
//
// Tolerance (stated once, used everywhere). Let u = 2^-24 and
// S = |bias| + sum_j |w_j x_j|. Each output is a tree of f32 roundings whose
// depth is at most cols / (2N) sequential FMAs per accumulator, + 2 adds
// merging accumulators, + log2(N) + 2 reduction adds, + 1 bias add. Higham's
// bound for such a sum is |err| <= depth * u * S (to first order). We allow
// twice that depth: kDotTol = (cols / N + 2 log2(N) + 8) * u * S. A missing or
// duplicated term, a wrong row or a stale accumulator is O(|w_j x_j|), far
// above it. The activation then scales that error by at most max|act'| <= 1.13
// (GELU; tanh 1, sigmoid 0.25) and adds its own error: kPrecise <= 4 ULP of
// tanh/exp, which GELU's 0.5 x (1 + tanh) turns into <= 8 * 2^-23 (|y| + |x|);
// kFast <= 1e-4 absolute for tanh/sigmoid, (1 + |x|) * 1e-4 for GELU.
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "hwy/aligned_allocator.h"
#include "kernels/gemv.h"
#include "kernels/gemv_scalar.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/gemv_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/test_util-inl.h"
#include "kernels/gemv-inl.h"

// Highway 1.0.3 has no HWY_AFTER_TEST (newer versions do); keep the house
// pattern so the file is unchanged after an upgrade.
#ifndef HWY_AFTER_TEST
#define HWY_AFTER_TEST() static_assert(true, "")
#endif

#ifndef SPARROW_KERNELS_GEMV_TEST_HELPERS_
#define SPARROW_KERNELS_GEMV_TEST_HELPERS_
namespace sparrow {
namespace gemv_test {

constexpr Activation kActivations[] = {
    Activation::kIdentity, Activation::kRelu, Activation::kSigmoid,
    Activation::kTanh, Activation::kGelu};

inline void FillRandom(float* p, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < n; ++i) p[i] = dist(rng);
}

// Allowed |y - y_ref| for one output (see the file comment).
inline double Tolerance(double abs_sum, double pre, double ref, size_t cols,
                        size_t lanes, Activation act, Accuracy acc) {
  const double u = std::ldexp(1.0, -24);
  const double depth = static_cast<double>(cols) / static_cast<double>(lanes) +
                       2.0 * std::log2(static_cast<double>(lanes)) + 8.0;
  double tol = 1.13 * depth * u * abs_sum;
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

// Runs `kernel(w, x, bias, y)` against the double reference on weights
// `w_ref` (the values the kernel sees, i.e. bf16-rounded for bf16).
// Returns the number of mismatches (and reports the first few).
template <class Kernel>
size_t Check(const char* what, const float* w_ref, const float* x,
             const float* bias, size_t rows, size_t cols, size_t lanes,
             Activation act, Accuracy acc, float* y, const Kernel& kernel) {
  std::vector<double> wd(w_ref, w_ref + rows * cols), xd(x, x + cols);
  std::vector<double> pre(rows), abs_sum(rows);
  for (size_t r = 0; r < rows; ++r) {
    double s = bias ? bias[r] : 0.0, a = bias ? std::abs(bias[r]) : 0.0;
    for (size_t c = 0; c < cols; ++c) {
      s += wd[r * cols + c] * xd[c];
      a += std::abs(wd[r * cols + c] * xd[c]);
    }
    pre[r] = s;
    abs_sum[r] = a;
  }
  // Cross-check the plain reference once: it must agree with the sum above.
  std::vector<double> yd(rows);
  std::vector<double> bd(bias ? bias : x, bias ? bias + rows : x);
  GemvScalar<double>(wd.data(), xd.data(), bias ? bd.data() : nullptr,
                     yd.data(), rows, cols, act);

  kernel(y);
  size_t errors = 0;
  for (size_t r = 0; r < rows; ++r) {
    const double ref = ActivateRef<double>(act, pre[r]);
    EXPECT_NEAR(ref, yd[r], 1e-12 * (1.0 + abs_sum[r]));
    const double tol =
        Tolerance(abs_sum[r], pre[r], ref, cols, lanes, act, acc);
    const double err = std::abs(static_cast<double>(y[r]) - ref);
    if (!(err <= tol)) {  // also catches NaN
      if (++errors <= 5) {
        ADD_FAILURE() << what << " rows=" << rows << " cols=" << cols
                      << " act=" << static_cast<int>(act)
                      << " acc=" << static_cast<int>(acc) << " bias=" << !!bias
                      << " r=" << r << " y=" << y[r] << " ref=" << ref
                      << " err=" << err << " tol=" << tol;
      }
    }
  }
  return errors;
}

}  // namespace gemv_test
}  // namespace sparrow
#endif  // SPARROW_KERNELS_GEMV_TEST_HELPERS_

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// One shape, every activation/tier/bias/offset combination, f32 and bf16.
void TestShape(size_t rows, size_t cols, size_t N,
               const std::vector<size_t>& offsets, bool all_activations) {
  using gemv_test::Check;
  using gemv_test::FillRandom;
  const size_t pad = N + 2;  // offsets <= N / 2 (or 1), plus a sentinel
  auto w = hwy::AllocateAligned<float>(rows * cols + pad);
  auto w_rounded = hwy::AllocateAligned<float>(rows * cols + pad);
  auto w16 = hwy::AllocateAligned<hwy::bfloat16_t>(rows * cols + pad);
  auto x = hwy::AllocateAligned<float>(cols + pad);
  auto b = hwy::AllocateAligned<float>(rows + pad);
  auto y = hwy::AllocateAligned<float>(rows + pad);
  for (size_t off : offsets) {
    float* wp = w.get() + off;
    float* xp = x.get() + off;
    float* bp = b.get() + off;
    float* yp = y.get() + off;
    hwy::bfloat16_t* w16p = w16.get() + off;
    FillRandom(wp, rows * cols, 1000 + rows * 7 + cols);
    FillRandom(xp, cols, 2000 + cols);
    FillRandom(bp, rows, 3000 + rows);
    ConvertF32ToBf16Impl(wp, w16p, rows * cols);
    for (size_t i = 0; i < rows * cols; ++i) {
      w_rounded[i] = Bf16ToF32Scalar(w16p[i]);
    }
    for (bool with_bias : {false, true}) {
      const float* bias = with_bias ? bp : nullptr;
      for (Activation act : gemv_test::kActivations) {
        if (!all_activations && act != Activation::kIdentity &&
            act != Activation::kTanh) {
          continue;
        }
        for (Accuracy acc : {Accuracy::kPrecise, Accuracy::kFast}) {
          // Sentinel after y: the kernel must write exactly rows outputs.
          yp[rows] = 12345.0f;
          size_t errors = Check(
              "f32", wp, xp, bias, rows, cols, N, act, acc, yp, [&](float* y) {
                GemvDispatch(wp, cols, xp, bias, y, rows, cols, act, acc);
              });
          errors += Check("bf16", w_rounded.get(), xp, bias, rows, cols, N,
                          act, acc, yp, [&](float* y) {
                            GemvDispatch(w16p, cols, xp, bias, y, rows, cols,
                                         act, acc);
                          });
          ASSERT_EQ(0u, errors);
          ASSERT_EQ(12345.0f, yp[rows]);
        }
      }
    }
  }
}

HWY_NOINLINE void TestAllGemv() {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  const std::vector<size_t> sizes = {1, N - 1, N, N + 1, 3 * N, 8 * N + 2};
  const std::vector<size_t> offsets = {0, 1, N / 2};
  for (size_t rows : sizes) {
    for (size_t cols : sizes) {
      TestShape(rows, cols, N, offsets, /*all_activations=*/true);
    }
  }
  // Degenerate and large shapes.
  TestShape(0, 5, N, {0}, true);
  TestShape(7, 0, N, {0, 1}, true);
  TestShape(1152, 384, N, {0, 1}, /*all_activations=*/false);
  TestShape(37, 1001, N, {N / 2}, /*all_activations=*/false);
}

// Conversion: sizes around N, misaligned, against the scalar definition.
HWY_NOINLINE void TestAllConvert() {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  std::mt19937 rng(123);
  for (size_t n : {size_t{0}, size_t{1}, N - 1, N, N + 1, 3 * N, 8 * N + 2}) {
    for (size_t off : {size_t{0}, size_t{1}, N / 2}) {
      auto in = hwy::AllocateAligned<float>(n + off + 1);
      auto out16 = hwy::AllocateAligned<hwy::bfloat16_t>(n + off + 1);
      auto back = hwy::AllocateAligned<float>(n + off + 1);
      for (size_t i = 0; i < n; ++i) {
        uint32_t bits = rng();  // every bit pattern: NaN, Inf, denormals
        memcpy(&in[off + i], &bits, 4);
      }
      out16[off + n].bits = 0xBEEF;
      back[off + n] = 7.0f;
      ConvertF32ToBf16Impl(in.get() + off, out16.get() + off, n);
      ConvertBf16ToF32Impl(out16.get() + off, back.get() + off, n);
      ASSERT_EQ(0xBEEF, out16[off + n].bits);
      ASSERT_EQ(7.0f, back[off + n]);
      for (size_t i = 0; i < n; ++i) {
        const float f = in[off + i];
        ASSERT_EQ(F32ToBf16Scalar(f).bits, out16[off + i].bits) << f;
        const float expected = Bf16ToF32Scalar(out16[off + i]);
        ASSERT_EQ(0, memcmp(&expected, &back[off + i], 4));
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparrow {
HWY_BEFORE_TEST(GemvTest);
HWY_EXPORT_AND_TEST_P(GemvTest, TestAllGemv);
HWY_EXPORT_AND_TEST_P(GemvTest, TestAllConvert);
HWY_AFTER_TEST();

// ------------------------------ Public API (dispatched)

TEST(GemvApiTest, MatchesReferenceF32AndBf16) {
  const size_t rows = 300, cols = 77;
  std::vector<float> w(rows * cols), x(cols), b(rows), y(rows), y16(rows);
  gemv_test::FillRandom(w.data(), w.size(), 1);
  gemv_test::FillRandom(x.data(), x.size(), 2);
  gemv_test::FillRandom(b.data(), b.size(), 3);
  std::vector<hwy::bfloat16_t> w16(w.size());
  ConvertF32ToBf16(w.data(), w16.data(), w.size());
  std::vector<float> w_rounded(w.size());
  ConvertBf16ToF32(w16.data(), w_rounded.data(), w.size());
  for (Activation act : gemv_test::kActivations) {
    EXPECT_EQ(0u, gemv_test::Check("api f32", w.data(), x.data(), b.data(),
                                   rows, cols, 16, act, Accuracy::kPrecise,
                                   y.data(), [&](float* out) {
                                     Gemv(w.data(), x.data(), b.data(), out,
                                          rows, cols, act);
                                   }));
    EXPECT_EQ(0u, gemv_test::Check(
                      "api bf16", w_rounded.data(), x.data(), b.data(), rows,
                      cols, 16, act, Accuracy::kFast, y16.data(),
                      [&](float* out) {
                        GemvBf16(w16.data(), x.data(), b.data(), out, rows,
                                 cols, act, Accuracy::kFast);
                      }));
  }
}

TEST(GemvApiTest, EmptyShapes) {
  float y[3] = {5.0f, 5.0f, 5.0f};
  const float b[3] = {-1.0f, 0.0f, 2.0f};
  Gemv(nullptr, nullptr, b, y, 0, 0);  // rows == 0: nothing written
  EXPECT_EQ(5.0f, y[0]);
  Gemv(nullptr, nullptr, b, y, 3, 0, Activation::kRelu);  // y = relu(b)
  EXPECT_EQ(0.0f, y[0]);
  EXPECT_EQ(0.0f, y[1]);
  EXPECT_EQ(2.0f, y[2]);
  Gemv(nullptr, nullptr, nullptr, y, 3, 0, Activation::kSigmoid);
  EXPECT_FLOAT_EQ(0.5f, y[2]);
}

TEST(GemvApiTest, NanPropagates) {
  const size_t rows = 5, cols = 40;
  std::vector<float> w(rows * cols, 0.5f), x(cols, 1.0f), y(rows);
  w[3 * cols + 17] = std::numeric_limits<float>::quiet_NaN();
  Gemv(w.data(), x.data(), nullptr, y.data(), rows, cols, Activation::kTanh);
  for (size_t r = 0; r < rows; ++r) {
    EXPECT_EQ(r == 3, std::isnan(y[r])) << r;
  }
}

// Independent definition of round-to-nearest-even: pick the nearer of the two
// bf16 neighbours in double, ties to the even mantissa.
TEST(ConvertBf16Test, RoundsToNearestEven) {
  auto bits_of = [](float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
  };
  auto from_bits = [](uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
  };
  std::mt19937 rng(7);
  std::vector<float> in;
  for (uint32_t hi : {0x3F80u, 0x3F81u, 0x0001u, 0x7F7Fu, 0xC2F7u}) {
    for (uint32_t lo : {0x0000u, 0x0001u, 0x7FFFu, 0x8000u, 0x8001u, 0xFFFFu}) {
      in.push_back(from_bits(hi << 16 | lo));
    }
  }
  for (int i = 0; i < 10000; ++i) {
    const float f = from_bits(rng());
    if (std::isfinite(f)) in.push_back(f);
  }
  std::vector<hwy::bfloat16_t> out(in.size());
  ConvertF32ToBf16(in.data(), out.data(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const uint32_t u = bits_of(in[i]);
    const uint32_t down = u & 0xFFFF0000u;
    const double lo = from_bits(down);
    const uint32_t up_bits = down + 0x10000u;
    // Stepping past the largest finite bf16 reaches Inf, whose value for
    // rounding purposes is 2^128 (IEEE: overflow iff |x| >= max + ulp/2).
    const double hi = (up_bits & 0x7FFFFFFFu) == 0x7F800000u
                          ? std::copysign(std::ldexp(1.0, 128), lo)
                          : static_cast<double>(from_bits(up_bits));
    const double dl = std::abs(static_cast<double>(in[i]) - lo);
    const double dh = std::abs(hi - static_cast<double>(in[i]));
    uint32_t expected;
    if (dl < dh) {
      expected = down >> 16;
    } else if (dh < dl) {
      expected = up_bits >> 16;
    } else {
      expected = ((down >> 16) & 1) ? (up_bits >> 16) : (down >> 16);
    }
    ASSERT_EQ(expected, out[i].bits) << std::hex << u;
  }
}

TEST(ConvertBf16Test, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  float in[6] = {inf, -inf, std::numeric_limits<float>::quiet_NaN(), 0.0f,
                 -0.0f, std::numeric_limits<float>::max()};
  // A signalling NaN whose payload is only in the low bits must stay NaN.
  const uint32_t snan = 0x7F800001u;
  memcpy(&in[3], &snan, 4);
  hwy::bfloat16_t out[6];
  float back[6];
  ConvertF32ToBf16(in, out, 6);
  ConvertBf16ToF32(out, back, 6);
  EXPECT_EQ(inf, back[0]);
  EXPECT_EQ(-inf, back[1]);
  EXPECT_TRUE(std::isnan(back[2]));
  EXPECT_TRUE(std::isnan(back[3]));
  EXPECT_EQ(0xFF80u, out[1].bits);
  EXPECT_EQ(inf, back[5]);  // FLT_MAX rounds up past the bf16 range
  const float neg_zero = -0.0f;
  ConvertF32ToBf16(&neg_zero, out, 1);
  EXPECT_EQ(0x8000u, out[0].bits);
}

}  // namespace sparrow
#endif  // HWY_ONCE
