// Accuracy contracts of kernels/activations-inl.h, measured on every compiled
// target against double-precision references (activations_scalar.h): a grid of
// ~2^24 float bit patterns spread over the whole range (every sign, exponent
// and many mantissas, denormals included), a dense linear sweep of the range
// where the function is not saturated, and the special values. Each sweep
// prints the max error it found and asserts the documented bound.
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "hwy/aligned_allocator.h"
#include "kernels/activations.h"
#include "kernels/activations_scalar.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/activations_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/hwy_gtest.h"
#include "hwy/tests/test_util-inl.h"
#include "kernels/activations-inl.h"

// Sanitizer builds run ~10x slower: sample every 8th grid point there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SPARROW_GRID_STRIDE (255u * 8u)
#define SPARROW_LINEAR_POINTS (1u << 19)
#else
#define SPARROW_GRID_STRIDE 255u  // odd, so low mantissa bits vary: 2^24 points
#define SPARROW_LINEAR_POINTS (1u << 22)
#endif

#ifndef SPARROW_KERNELS_ACTIVATIONS_TEST_ONCE_
#define SPARROW_KERNELS_ACTIVATIONS_TEST_ONCE_
namespace sparrow {
namespace test {

constexpr double kInf = std::numeric_limits<double>::infinity();

// |y - exact| in units of the float spacing at `exact` (2^-149 below 2^-126);
// 0 if y is the correctly rounded result, inf for a wrong special value.
inline double UlpError(float y, double exact) {
  if (isnan(exact) || isnan(y)) return isnan(exact) && isnan(y) ? 0.0 : kInf;
  const float rounded = static_cast<float>(exact);
  if (y == rounded) return 0.0;
  if (isinf(y) || isinf(rounded)) return kInf;
  int e;
  frexp(fabs(exact), &e);  // |exact| in [2^(e-1), 2^e)
  const double ulp = ldexp(1.0, std::max(e - 24, -149));
  return fabs(static_cast<double>(y) - exact) / ulp;
}

inline double AbsError(float y, double exact) {
  if (isnan(exact) || isnan(y)) return isnan(exact) && isnan(y) ? 0.0 : kInf;
  if (static_cast<double>(y) == exact) return 0.0;  // also equal infinities
  return fabs(static_cast<double>(y) - exact);
}

inline float FromBits(uint32_t bits) {
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

inline std::vector<float> Specials() {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {0.0f, 1.0f, inf, std::numeric_limits<float>::quiet_NaN(),
                          FLT_MIN, FLT_MAX, FLT_TRUE_MIN, 2.0f * FLT_TRUE_MIN,
                          FromBits(0x007FFFFFu),  // largest denormal
                          0.625f, nextafterf(0.625f, 0.0f), 5.25f, 5.3f, 9.0f,
                          10.0f, 11.0f, 20.0f, 88.72283935546875f,
                          nextafterf(88.72283935546875f, 0.0f), 87.33654f,
                          89.0f, 103.97208f, 103.972084f, 104.0f, 1e-20f,
                          1e20f, 0.5f, 2.0f};
  const size_t n = v.size();
  for (size_t i = 0; i < n; ++i) v.push_back(-v[i]);
  return v;
}

// The worst case seen so far.
struct Worst {
  double err = 0.0;
  float x = 0.0f;
  float y = 0.0f;
  double exact = 0.0;
  void Update(double e, float xi, float yi, double ref) {
    if (e > err || (isinf(e) && !isinf(err))) {
      err = e;
      x = xi;
      y = yi;
      exact = ref;
    }
  }
  void Print(const char* target, const char* what, const char* unit) const {
    printf("%-7s %-28s max %s %.4g at x=%.9g (got %.9g, want %.17g)\n", target,
           what, unit, err, x, y, exact);
  }
};

}  // namespace test
}  // namespace sparrow
#endif  // SPARROW_KERNELS_ACTIVATIONS_TEST_ONCE_

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using test::Worst;

// Calls visit(const float* xs, size_t n) on chunks of: the bit-pattern grid,
// a linear sweep of [lo, hi], and the specials.
template <class Visit>
void ForEachInput(float lo, float hi, const Visit& visit) {
  constexpr size_t kChunk = 1 << 16;
  std::vector<float> xs;
  xs.reserve(kChunk);
  auto flush = [&]() {
    if (!xs.empty()) visit(xs.data(), xs.size());
    xs.clear();
  };
  for (uint64_t bits = 0; bits < (1ull << 32); bits += SPARROW_GRID_STRIDE) {
    xs.push_back(test::FromBits(static_cast<uint32_t>(bits)));
    if (xs.size() == kChunk) flush();
  }
  for (uint32_t i = 0; i <= SPARROW_LINEAR_POINTS; ++i) {
    xs.push_back(lo + (hi - lo) * (static_cast<double>(i) / SPARROW_LINEAR_POINTS));
    if (xs.size() == kChunk) flush();
  }
  for (float x : test::Specials()) xs.push_back(x);
  flush();
}

// Runs the per-vector kernel over each chunk (through the array loop, which
// the array-API tests check separately) and hands (x, y) pairs to check.
template <class Kernel, class Check>
void SweepKernel(float lo, float hi, const Kernel& kernel, const Check& check) {
  const hn::ScalableTag<float> d;
  std::vector<float> ys;
  ForEachInput(lo, hi, [&](const float* xs, size_t n) {
    ys.resize(n);
    TransformArray(d, xs, ys.data(), n, kernel);
    for (size_t i = 0; i < n; ++i) check(xs[i], ys[i]);
  });
}

template <class Kernel, class Ref>
void CheckUlp(const char* name, float lo, float hi, double max_ulp,
              const Kernel& kernel, const Ref& ref) {
  Worst worst;
  SweepKernel(lo, hi, kernel, [&](float x, float y) {
    const double exact = ref(static_cast<double>(x));
    worst.Update(test::UlpError(y, exact), x, y, exact);
  });
  worst.Print(hwy::TargetName(HWY_TARGET), name, "ULP");
  EXPECT_LE(worst.err, max_ulp) << name << " at x=" << worst.x;
}

template <class Kernel, class Ref>
void CheckAbs(const char* name, float lo, float hi, double max_abs,
              const Kernel& kernel, const Ref& ref) {
  Worst worst;
  SweepKernel(lo, hi, kernel, [&](float x, float y) {
    const double exact = ref(static_cast<double>(x));
    worst.Update(test::AbsError(y, exact), x, y, exact);
  });
  worst.Print(hwy::TargetName(HWY_TARGET), name, "abs err");
  EXPECT_LE(worst.err, max_abs) << name << " at x=" << worst.x;
}

// ------------------------------ Precise tier: <= 4 ULP everywhere

void TestExpPrecise() {
  CheckUlp("ExpPrecise", -104.0f, 89.0f, 4.0,
           [](auto d, auto v) HWY_ATTR { return ExpPrecise(d, v); },
           [](double x) { return ExpRef(x); });
}

void TestTanhPrecise() {
  CheckUlp("TanhPrecise", -10.0f, 10.0f, 4.0,
           [](auto d, auto v) HWY_ATTR { return TanhPrecise(d, v); },
           [](double x) { return TanhRef(x); });
}

void TestSigmoidPrecise() {
  CheckUlp("SigmoidPrecise", -104.0f, 20.0f, 4.0,
           [](auto d, auto v) HWY_ATTR { return SigmoidPrecise(d, v); },
           [](double x) { return SigmoidRef(x); });
}

// GELU's float evaluation of u = sqrt(2/pi)(x + 0.044715 x^3) carries ~2 ULP
// relative error, which exp amplifies by |2u| in the negative tail, so its
// contract is relative where gelu is not tiny, absolute everywhere.
void TestGeluPrecise() {
  Worst ulp_pos, rel_neg, abs_all;
  SweepKernel(-12.0f, 12.0f,
              [](auto d, auto v) HWY_ATTR { return GeluPrecise(d, v); },
              [&](float x, float y) {
                const double exact = GeluRef(static_cast<double>(x));
                if (x >= -3.0f) ulp_pos.Update(test::UlpError(y, exact), x, y, exact);
                if (x < -3.0f && fabs(exact) >= FLT_MIN) {
                  rel_neg.Update(fabs(y - exact) / fabs(exact), x, y, exact);
                }
                abs_all.Update(test::AbsError(y, exact), x, y, exact);
              });
  const char* t = hwy::TargetName(HWY_TARGET);
  ulp_pos.Print(t, "GeluPrecise x>=-3", "ULP");
  rel_neg.Print(t, "GeluPrecise x<-3 (normal)", "rel err");
  abs_all.Print(t, "GeluPrecise all x", "abs err");
  EXPECT_LE(ulp_pos.err, 16.0);
  EXPECT_LE(rel_neg.err, 2e-5);
  EXPECT_LE(abs_all.err, 1e-6);
}

// ------------------------------ Fast tier: <= 1e-4 absolute

void TestTanhFast() {
  CheckAbs("TanhFast", -12.0f, 12.0f, 1e-4,
           [](auto d, auto v) HWY_ATTR { return TanhFast(d, v); },
           [](double x) { return TanhRef(x); });
}

void TestSigmoidFast() {
  CheckAbs("SigmoidFast", -24.0f, 24.0f, 1e-4,
           [](auto d, auto v) HWY_ATTR { return SigmoidFast(d, v); },
           [](double x) { return SigmoidRef(x); });
}

// |gelu_fast - gelu| <= 1e-4 max(1, |x|): TanhFast's error scaled by x / 2,
// and exact (x or -0) once tanh saturates.
void TestGeluFast() {
  Worst scaled;
  SweepKernel(-12.0f, 12.0f,
              [](auto d, auto v) HWY_ATTR { return GeluFast(d, v); },
              [&](float x, float y) {
                const double exact = GeluRef(static_cast<double>(x));
                const double e = test::AbsError(y, exact);
                scaled.Update(isinf(e) ? e : e / std::max(1.0, fabs(static_cast<double>(x))), x, y, exact);
              });
  scaled.Print(hwy::TargetName(HWY_TARGET), "GeluFast", "abs err/max(1,|x|)");
  EXPECT_LE(scaled.err, 1e-4);
}

// ------------------------------ Special values, exactly

void TestSpecials() {
  const hn::ScalableTag<float> d;
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto f = [&](auto kernel, float x) {
    float y[HWY_MAX_BYTES / sizeof(float)];
    hn::StoreU(kernel(d, hn::Set(d, x)), d, y);
    return y[0];
  };
  auto exp = [](auto d, auto v) HWY_ATTR { return ExpPrecise(d, v); };
  auto tp = [](auto d, auto v) HWY_ATTR { return TanhPrecise(d, v); };
  auto tf = [](auto d, auto v) HWY_ATTR { return TanhFast(d, v); };
  auto sp = [](auto d, auto v) HWY_ATTR { return SigmoidPrecise(d, v); };
  auto sf = [](auto d, auto v) HWY_ATTR { return SigmoidFast(d, v); };
  auto gp = [](auto d, auto v) HWY_ATTR { return GeluPrecise(d, v); };
  auto gf = [](auto d, auto v) HWY_ATTR { return GeluFast(d, v); };
  auto relu = [](auto d, auto v) HWY_ATTR { return Relu(d, v); };

  EXPECT_EQ(inf, f(exp, inf));
  EXPECT_EQ(0.0f, f(exp, -inf));
  EXPECT_EQ(inf, f(exp, 89.0f));
  EXPECT_EQ(0.0f, f(exp, -104.0f));
  EXPECT_EQ(1.0f, f(exp, 0.0f));
  EXPECT_EQ(1.0f, f(exp, -0.0f));
  EXPECT_EQ(FLT_TRUE_MIN, f(exp, -103.2789f));  // a denormal result
  EXPECT_TRUE(isfinite(f(exp, 88.72283f)));
  EXPECT_EQ(1.0f, f(tp, inf));
  EXPECT_EQ(-1.0f, f(tp, -inf));
  EXPECT_TRUE(signbit(f(tp, -0.0f)) && f(tp, -0.0f) == 0.0f);
  EXPECT_EQ(FLT_TRUE_MIN, f(tp, FLT_TRUE_MIN));
  EXPECT_EQ(1.0f, f(tf, inf));
  EXPECT_EQ(-1.0f, f(tf, -inf));
  EXPECT_EQ(1.0f, f(tf, 6.0f));  // saturates exactly
  EXPECT_EQ(0.0f, f(tf, 0.0f));
  auto check_sigmoid = [&](auto s) {
    EXPECT_EQ(1.0f, f(s, inf));
    EXPECT_EQ(0.0f, f(s, -inf));
    EXPECT_EQ(0.5f, f(s, 0.0f));
  };
  check_sigmoid(sp);
  check_sigmoid(sf);
  EXPECT_GT(f(sp, -100.0f), 0.0f);  // denormal, not flushed
  auto check_gelu = [&](auto g) {
    EXPECT_EQ(inf, f(g, inf));
    EXPECT_EQ(0.0f, f(g, -inf));
    EXPECT_EQ(0.0f, f(g, 0.0f));
    EXPECT_EQ(100.0f, f(g, 100.0f));
  };
  check_gelu(gp);
  check_gelu(gf);
  EXPECT_EQ(0.0f, f(relu, -inf));
  EXPECT_EQ(inf, f(relu, inf));
  EXPECT_EQ(0.0f, f(relu, -3.0f));
  EXPECT_EQ(3.0f, f(relu, 3.0f));
  EXPECT_TRUE(isnan(f(exp, nan)));
  EXPECT_TRUE(isnan(f(tp, nan)));
  EXPECT_TRUE(isnan(f(tf, nan)));
  EXPECT_TRUE(isnan(f(sp, nan)));
  EXPECT_TRUE(isnan(f(sf, nan)));
  EXPECT_TRUE(isnan(f(gp, nan)));
  EXPECT_TRUE(isnan(f(gf, nan)));
  EXPECT_TRUE(isnan(f(relu, nan)));
  EXPECT_TRUE(isnan(f(relu, -nan)));
}

// ------------------------------ Array loops: sizes, offsets, in place

// Sizes and misalignments around the vector length (STYLE.md).
template <class Body>
void ForSizesAndOffsets(const Body& body) {
  const size_t N = hn::Lanes(hn::ScalableTag<float>());
  for (size_t n : {size_t{0}, size_t{1}, N - 1, N, N + 1, 3 * N, 8 * N + 2}) {
    for (size_t offset : {size_t{0}, size_t{1}, N / 2}) body(n, offset);
  }
}

// Inputs in [-12, 12] plus a NaN, and guard values around the output.
void TestActivateArray() {
  const float kGuard = 12345.0f;
  ForSizesAndOffsets([&](size_t n, size_t offset) {
    auto in = hwy::AllocateAligned<float>(n + offset + 1);
    auto out = hwy::AllocateAligned<float>(n + offset + 2);
    for (size_t i = 0; i < n; ++i) {
      in[offset + i] = -12.0f + 24.0f * static_cast<float>((i * 37) % 101) / 100;
    }
    if (n > 2) in[offset + n / 2] = std::numeric_limits<float>::quiet_NaN();
    for (Activation act : {Activation::kIdentity, Activation::kRelu,
                           Activation::kSigmoid, Activation::kTanh,
                           Activation::kGelu}) {
      for (Accuracy acc : {Accuracy::kPrecise, Accuracy::kFast}) {
        for (bool in_place : {false, true}) {
          std::fill(out.get(), out.get() + n + offset + 2, kGuard);
          float* y = out.get() + offset + 1;
          if (in_place) std::copy(in.get() + offset, in.get() + offset + n, y);
          ActivateArray(act, acc, in_place ? y : in.get() + offset, y, n);
          EXPECT_EQ(kGuard, out[offset]) << ActivationName(act) << " n=" << n;
          EXPECT_EQ(kGuard, out[offset + n + 1]) << ActivationName(act);
          for (size_t i = 0; i < n; ++i) {
            const double x = in[offset + i];
            double exact = x;
            switch (act) {
              case Activation::kRelu: exact = ReluRef(x); break;
              case Activation::kSigmoid: exact = SigmoidRef(x); break;
              case Activation::kTanh: exact = TanhRef(x); break;
              case Activation::kGelu: exact = GeluRef(x); break;
              case Activation::kIdentity: break;
            }
            // Bounds as in the sweeps: precise 4 ULP (GELU: 1e-6 absolute),
            // fast 1e-4 absolute (GELU: 1e-4 max(1, |x|)), Relu/identity exact.
            const bool exact_op = act == Activation::kRelu || act == Activation::kIdentity;
            const bool gelu = act == Activation::kGelu;
            double err, bound;
            if (exact_op) {
              err = test::UlpError(y[i], exact), bound = 0.0;
            } else if (acc == Accuracy::kFast) {
              err = test::AbsError(y[i], exact);
              bound = gelu ? 1e-4 * std::max(1.0, fabs(x)) : 1e-4;
            } else if (gelu) {
              err = test::AbsError(y[i], exact), bound = 1e-6;
            } else {
              err = test::UlpError(y[i], exact), bound = 4.0;
            }
            EXPECT_LE(err, bound) << ActivationName(act) << " x=" << x
                                  << " got " << y[i] << " n=" << n;
          }
        }
      }
    }
    // Exp has one tier.
    std::fill(out.get(), out.get() + n + offset + 2, kGuard);
    ExpArray(in.get() + offset, out.get() + offset + 1, n);
    EXPECT_EQ(kGuard, out[offset]);
    EXPECT_EQ(kGuard, out[offset + n + 1]);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_LE(test::UlpError(out[offset + 1 + i], ExpRef<double>(in[offset + i])), 4.0);
    }
  });
}

// ------------------------------ Softmax

// Checks one row against the double reference. Softmax: relative error grows
// with |x - max| (its rounding is amplified by exp) and with n (the sum).
void CheckSoftmaxRow(const float* x, size_t n, bool log_out, const char* what) {
  std::vector<float> y(n);
  std::vector<double> xd(x, x + n), want(n);
  SoftmaxRow(x, y.data(), n, log_out);
  SoftmaxRef(xd.data(), want.data(), n, log_out);
  double max = -test::kInf, sum = 0.0;
  for (size_t i = 0; i < n; ++i) max = std::max(max, xd[i]);
  for (size_t i = 0; i < n; ++i) {
    if (isnan(want[i]) || isinf(want[i]) || want[i] == 0.0) {
      if (isnan(want[i])) {
        EXPECT_TRUE(isnan(y[i])) << what << " i=" << i;
      } else {
        EXPECT_EQ(want[i], y[i]) << what << " i=" << i << " n=" << n;
      }
      continue;
    }
    const double dx = isinf(max) ? 0.0 : fabs(xd[i] - max);
    const double tol = log_out ? 2e-7 * (4.0 + dx + fabs(want[i])) + 1.2e-7 * n
                               : want[i] * (2e-7 * (8.0 + dx) + 1.2e-7 * n) + 1e-44;
    EXPECT_NEAR(want[i], y[i], tol) << what << " i=" << i << " n=" << n;
  }
  for (size_t i = 0; i < n; ++i) sum += log_out ? exp(static_cast<double>(y[i])) : y[i];
  if (!isnan(want[0])) {
    EXPECT_NEAR(1.0, sum, 1e-6 + 1.2e-7 * n) << what;
  }
}

void TestSoftmax() {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  ForSizesAndOffsets([&](size_t n, size_t offset) {
    if (n == 0) {
      SoftmaxRow(nullptr, nullptr, 0, false);  // no-op
      return;
    }
    auto buf = hwy::AllocateAligned<float>(n + offset);
    float* x = buf.get() + offset;
    for (bool log_out : {false, true}) {
      for (size_t i = 0; i < n; ++i) x[i] = -20.0f + 40.0f * ((i * 53) % 97) / 96.0f;
      CheckSoftmaxRow(x, n, log_out, "moderate");
      for (size_t i = 0; i < n; ++i) x[i] = (i % 3 == 0 ? 1e30f : -1e30f) * (1 + i);
      CheckSoftmaxRow(x, n, log_out, "huge");
      for (size_t i = 0; i < n; ++i) x[i] = i % 2 ? -inf : 3.0f + i;
      CheckSoftmaxRow(x, n, log_out, "-inf mixture");
      for (size_t i = 0; i < n; ++i) x[i] = -inf;
      CheckSoftmaxRow(x, n, log_out, "all -inf");
      for (size_t i = 0; i < n; ++i) x[i] = i % 4 == 1 ? inf : -FLT_MAX;
      CheckSoftmaxRow(x, n, log_out, "+inf");
      for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(i);
      x[n - 1] = nan;
      CheckSoftmaxRow(x, n, log_out, "NaN last");
      x[0] = inf;
      CheckSoftmaxRow(x, n, log_out, "NaN and +inf");
      // In place equals out of place.
      for (size_t i = 0; i < n; ++i) x[i] = 0.25f * i - 3.0f;
      std::vector<float> copy(x, x + n), y(n);
      SoftmaxRow(x, y.data(), n, log_out);
      SoftmaxRow(x, x, n, log_out);
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(y[i], x[i]) << "in place";
    }
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparrow {
namespace HWY_NAMESPACE {}
HWY_BEFORE_TEST(ActivationsTest);
HWY_EXPORT_AND_TEST_P(ActivationsTest, TestExpPrecise);
HWY_EXPORT_AND_TEST_P(ActivationsTest, TestTanhPrecise);
HWY_EXPORT_AND_TEST_P(ActivationsTest, TestSigmoidPrecise);
HWY_EXPORT_AND_TEST_P(ActivationsTest, TestGeluPrecise);
HWY_EXPORT_AND_TEST_P(ActivationsTest, TestTanhFast);
HWY_EXPORT_AND_TEST_P(ActivationsTest, TestSigmoidFast);
HWY_EXPORT_AND_TEST_P(ActivationsTest, TestGeluFast);
HWY_EXPORT_AND_TEST_P(ActivationsTest, TestSpecials);
HWY_EXPORT_AND_TEST_P(ActivationsTest, TestActivateArray);
HWY_EXPORT_AND_TEST_P(ActivationsTest, TestSoftmax);

// ------------------------------ Public (dispatched) API

TEST(ActivationsApi, MatchesPerTargetLoops) {
  const size_t n = 1000;
  std::vector<float> x(n), y(n), z(n);
  for (size_t i = 0; i < n; ++i) x[i] = -8.0f + 16.0f * i / n;
  Tanh(x.data(), y.data(), n);
  for (size_t i = 0; i < n; ++i) EXPECT_LE(test::UlpError(y[i], TanhRef<double>(x[i])), 4.0);
  Tanh(x.data(), y.data(), n, Accuracy::kFast);
  for (size_t i = 0; i < n; ++i) EXPECT_LE(test::AbsError(y[i], TanhRef<double>(x[i])), 1e-4);
  Sigmoid(x.data(), y.data(), n);
  for (size_t i = 0; i < n; ++i) EXPECT_LE(test::UlpError(y[i], SigmoidRef<double>(x[i])), 4.0);
  Sigmoid(x.data(), y.data(), n, Accuracy::kFast);
  for (size_t i = 0; i < n; ++i) EXPECT_LE(test::AbsError(y[i], SigmoidRef<double>(x[i])), 1e-4);
  Exp(x.data(), y.data(), n);
  for (size_t i = 0; i < n; ++i) EXPECT_LE(test::UlpError(y[i], ExpRef<double>(x[i])), 4.0);
  Gelu(x.data(), y.data(), n);
  for (size_t i = 0; i < n; ++i) EXPECT_LE(test::AbsError(y[i], GeluRef<double>(x[i])), 1e-6);
  Gelu(x.data(), y.data(), n, Accuracy::kFast);
  for (size_t i = 0; i < n; ++i) EXPECT_LE(test::AbsError(y[i], GeluRef<double>(x[i])), 1e-3);
  Relu(x.data(), y.data(), n);
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(ReluRef(x[i]), y[i]);
  Activate(Activation::kTanh, Accuracy::kPrecise, x.data(), z.data(), n);
  Tanh(x.data(), y.data(), n);
  EXPECT_EQ(y, z);
  z = x;
  Activate(Activation::kIdentity, Accuracy::kFast, z.data(), z.data(), n);
  EXPECT_EQ(x, z);
  Activate(Activation::kIdentity, Accuracy::kFast, x.data(), z.data(), n);
  EXPECT_EQ(x, z);
}

TEST(ActivationsApi, SoftmaxRows) {
  const size_t rows = 3, cols = 37;
  std::vector<float> x(rows * cols), y(rows * cols), row(cols);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * ((i * 31) % 50) - 2.0f;
  x[cols] = -std::numeric_limits<float>::infinity();  // row 1 starts masked
  for (bool log_out : {false, true}) {
    if (log_out) {
      LogSoftmaxRows(x.data(), y.data(), rows, cols);
    } else {
      SoftmaxRows(x.data(), y.data(), rows, cols);
    }
    for (size_t r = 0; r < rows; ++r) {
      if (log_out) {
        LogSoftmax(&x[r * cols], row.data(), cols);
      } else {
        Softmax(&x[r * cols], row.data(), cols);
      }
      for (size_t c = 0; c < cols; ++c) EXPECT_EQ(row[c], y[r * cols + c]);
      std::vector<double> xd(&x[r * cols], &x[r * cols] + cols), want(cols);
      SoftmaxRef(xd.data(), want.data(), cols, log_out);
      for (size_t c = 0; c < cols; ++c) {
        if (isinf(want[c])) {
          EXPECT_EQ(want[c], row[c]);
        } else {
          EXPECT_NEAR(want[c], row[c], 1e-5);
        }
      }
    }
  }
  Softmax(x.data(), y.data(), 0);  // n == 0 is a no-op
}

TEST(ActivationsApi, Names) {
  EXPECT_STREQ("identity", ActivationName(Activation::kIdentity));
  EXPECT_STREQ("relu", ActivationName(Activation::kRelu));
  EXPECT_STREQ("sigmoid", ActivationName(Activation::kSigmoid));
  EXPECT_STREQ("tanh", ActivationName(Activation::kTanh));
  EXPECT_STREQ("gelu", ActivationName(Activation::kGelu));
}

}  // namespace sparrow
#endif  // HWY_ONCE
