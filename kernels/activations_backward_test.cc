// Contract of sparrow::ActivateBackward (kernels/activations.h), measured on
// every compiled target against the double reference ActivateBackwardRef
// (activations_scalar.h): sizes around the vector length x misalignments with
// random inputs, NaN / +-inf / +-0 included, and dx starting non-zero (the
// kernel accumulates); Relu and identity bit for bit; an accuracy sweep of the
// smooth activations over a float bit-pattern grid and a dense linear grid
// that prints the worst error it found.
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <limits>
#include <random>
#include <vector>

#include "hwy/aligned_allocator.h"
#include "kernels/activations.h"
#include "kernels/activations_scalar.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/activations_backward_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/hwy_gtest.h"
#include "hwy/tests/test_util-inl.h"
#include "kernels/activations-inl.h"

// Sanitizer builds run ~10x slower: sample a coarser grid there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SPARROW_BWD_GRID_STRIDE (1021u * 8u)
#define SPARROW_BWD_LINEAR_POINTS (1u << 18)
#else
#define SPARROW_BWD_GRID_STRIDE 1021u  // odd: low mantissa bits vary; 2^22 points
#define SPARROW_BWD_LINEAR_POINTS (1u << 21)
#endif

#ifndef SPARROW_KERNELS_ACTIVATIONS_BACKWARD_TEST_ONCE_
#define SPARROW_KERNELS_ACTIVATIONS_BACKWARD_TEST_ONCE_
namespace sparrow {
namespace test {

constexpr double kEps = 0x1.0p-24;  // float unit roundoff
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInfF = std::numeric_limits<float>::infinity();

constexpr Activation kAllActivations[] = {
    Activation::kIdentity, Activation::kRelu, Activation::kTanh,
    Activation::kSigmoid, Activation::kGelu};

// Same float, NaN equal to NaN, +0 different from -0.
inline bool SameBits(float a, float b) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
  uint32_t ua, ub;
  memcpy(&ua, &a, 4);
  memcpy(&ub, &b, 4);
  return ua == ub;
}

// The forward output the kernel is given: act(x) rounded to float.
inline float Forward(Activation act, float x) {
  return static_cast<float>(ActivateRef<double>(act, x));
}

// The documented bound on |dx_new - exact| (kernels/activations.h), for one
// element, and the "natural" scale it is measured in (printed as the
// measured max): eps (|dx0| + |dy act'|) for Tanh/Sigmoid, eps (|dx0| + |dy|
// (|s| + |t|)) for GELU, where d gelu = s + t.
struct Bound {
  double tol = 0.0;
  double unit = 0.0;
};

inline Bound BackwardBound(Activation act, float xf, float yf, float dyf,
                           float dx0f) {
  const double x = xf, y = yf, dy = fabs(dyf), dx0 = fabs(dx0f);
  Bound b;
  switch (act) {
    case Activation::kTanh:
    case Activation::kSigmoid: {
      // (1 - y)(1 + y) or y (1 - y): <= 3 roundings of eps each; the FMA (or
      // multiply and add) <= 2 more, relative to |dy t| and |result|. Each
      // denormal rounding adds up to 2^-150 absolute, one of them scaled by dy.
      const double t = fabs(ActivationDerivativeRef(act, x, y));
      b.unit = kEps * (dx0 + dy * t);
      b.tol = 5.0 * b.unit + (1.0 + dy) * 0x1.0p-149;
      return b;
    }
    case Activation::kGelu: {
      if (isinf(x)) break;
      // d gelu = s + t. The float argument g = 2u carries ~3 eps relative
      // error, which exp turns into |g| 3 eps relative error of s and t; the
      // exp, the divisions and products add ~10 eps. Where e = exp(-|g|) is
      // denormal or flushed, t is off by up to ~2^-149 |x g'|.
      const double c = 0.79788456080286535587989211986876, a = 0.044715;
      const double g = 2.0 * c * (x + a * x * x * x);
      const double s = SigmoidRef(g);
      const double g1 = 2.0 * c * (1.0 + 3.0 * a * x * x);
      const double t = x * s * (1.0 - s) * g1;
      b.unit = kEps * (dx0 + dy * (fabs(s) + fabs(t)));
      b.tol = kEps * (2.0 * dx0 + dy * (fabs(s) + fabs(t)) * (16.0 + 4.0 * fabs(g))) +
              (1.0 + dy) * (1.0 + fabs(x * g1)) * 0x1.0p-147;
      return b;
    }
    case Activation::kRelu:
    case Activation::kIdentity:
      break;
  }
  b.unit = kEps * (dx0 + dy);
  return b;  // tol 0: exact
}

// The worst error seen, in units of Bound::unit, and the worst fraction of
// the bound used.
struct Worst {
  double err = 0.0, frac = 0.0;
  float x = 0.0f, y = 0.0f;
  double got = 0.0, want = 0.0;
  void Update(double units, double frac_of_bound, float xi, float yi, float g,
              double w) {
    frac = std::max(frac, frac_of_bound);
    if (units > err) {
      err = units;
      x = xi;
      y = yi;
      got = g;
      want = w;
    }
  }
};

}  // namespace test
}  // namespace sparrow
#endif  // SPARROW_KERNELS_ACTIVATIONS_BACKWARD_TEST_ONCE_

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Checks dx (after the kernel) against the reference for n elements; returns
// the number of failures (the first few are printed by EXPECT).
size_t CheckBackward(Activation act, const float* x, const float* y,
                     const float* dy, const float* dx0, const float* dx,
                     size_t n, const char* what, test::Worst* worst) {
  size_t failures = 0;
  for (size_t i = 0; i < n; ++i) {
    const double xd = x[i], yd = y[i], dyd = dy[i];
    double want = dx0[i];
    ActivateBackwardRef<double>(act, &xd, &yd, &dyd, &want, 1);
    const test::Bound b = test::BackwardBound(act, x[i], y[i], dy[i], dx0[i]);
    bool ok;
    if (b.tol == 0.0 || isnan(want) || isinf(want)) {
      // Exact ops, and specials: the correctly rounded float of the exact
      // result (a double sum of two floats rounds to float correctly).
      ok = test::SameBits(dx[i], static_cast<float>(want));
      if (!ok && b.tol != 0.0 && !isnan(want)) ok = dx[i] == static_cast<float>(want);
    } else {
      const double err = fabs(static_cast<double>(dx[i]) - want);
      ok = err <= b.tol;
      // Units only where the result is normal (the denormal floor dominates
      // below); the fraction of the bound everywhere.
      if (worst != nullptr && b.unit >= test::kEps * FLT_MIN) {
        worst->Update(err / b.unit, err / b.tol, x[i], y[i], dx[i], want);
      } else if (worst != nullptr) {
        worst->frac = std::max(worst->frac, err / b.tol);
      }
    }
    if (!ok && ++failures <= 5) {
      ADD_FAILURE() << hwy::TargetName(HWY_TARGET) << " " << ActivationName(act)
                    << " " << what << " i=" << i << " x=" << x[i] << " y=" << y[i]
                    << " dy=" << dy[i] << " dx0=" << dx0[i] << ": got " << dx[i]
                    << " want " << want << " tol " << b.tol;
    }
  }
  return failures;
}

// Random inputs for one activation: x mostly in [-12, 12] with specials
// (NaN, +-inf, +-0, denormals), y = act(x) rounded to float, dy in [-2, 2]
// and dx0 in [-1, 1], both non-zero mostly, with +-0 (and, for Relu and the
// identity, NaN and +-inf dy: Relu must mask them where x <= 0).
void FillInputs(Activation act, std::mt19937* rng, size_t n, float* x, float* y,
                float* dy, float* dx0) {
  std::uniform_real_distribution<float> ux(-12.0f, 12.0f), udy(-2.0f, 2.0f),
      udx(-1.0f, 1.0f);
  std::uniform_int_distribution<int> pick(0, 15);
  const float kSpecialX[] = {test::kNaN, test::kInfF, -test::kInfF, 0.0f, -0.0f,
                             FLT_TRUE_MIN, -FLT_TRUE_MIN, 1e-30f, -1e-30f};
  const float kSpecialDy[] = {test::kNaN, test::kInfF, -test::kInfF, 0.0f, -0.0f};
  const bool dy_specials = act == Activation::kRelu || act == Activation::kIdentity;
  for (size_t i = 0; i < n; ++i) {
    x[i] = pick(*rng) < 3 ? kSpecialX[pick(*rng) % 9] : ux(*rng);
    y[i] = test::Forward(act, x[i]);
    dy[i] = dy_specials && pick(*rng) < 2 ? kSpecialDy[pick(*rng) % 5] : udy(*rng);
    const int k = pick(*rng);
    dx0[i] = k == 0 ? -0.0f : k == 1 ? 0.0f : udx(*rng);
  }
}

template <class Body>
void ForSizesAndOffsets(const Body& body) {
  const size_t N = hn::Lanes(hn::ScalableTag<float>());
  for (size_t n : {size_t{0}, size_t{1}, N - 1, N, N + 1, 3 * N, 8 * N + 2}) {
    for (size_t offset : {size_t{0}, size_t{1}, N / 2}) body(n, offset);
  }
}

// Every activation, every size and misalignment (x, y, dy at `offset`, dx one
// further), guards around dx. Relu and identity also equal the plain float
// loops bit for bit.
void TestBackwardSizes() {
  const float kGuard = 12345.0f;
  std::mt19937 rng(1234);
  ForSizesAndOffsets([&](size_t n, size_t offset) {
    // + 1: AllocateAligned rejects 0.
    auto x = hwy::AllocateAligned<float>(n + offset + 1);
    auto y = hwy::AllocateAligned<float>(n + offset + 1);
    auto dy = hwy::AllocateAligned<float>(n + offset + 1);
    auto dx0 = hwy::AllocateAligned<float>(n + offset + 1);
    auto dx = hwy::AllocateAligned<float>(n + offset + 2);
    for (Activation act : test::kAllActivations) {
      for (int rep = 0; rep < 4; ++rep) {
        float* px = x.get() + offset;
        float* py = y.get() + offset;
        float* pdy = dy.get() + offset;
        float* pdx0 = dx0.get() + offset;
        FillInputs(act, &rng, n, px, py, pdy, pdx0);
        std::fill(dx.get(), dx.get() + n + offset + 2, kGuard);
        float* pdx = dx.get() + offset + 1;
        std::copy(pdx0, pdx0 + n, pdx);
        ActivateBackwardArray(act, px, py, pdy, pdx, n);
        EXPECT_EQ(kGuard, dx[offset]) << ActivationName(act) << " n=" << n;
        EXPECT_EQ(kGuard, dx[offset + n + 1]) << ActivationName(act) << " n=" << n;
        CheckBackward(act, px, py, pdy, pdx0, pdx, n, "sizes", nullptr);
        if (act == Activation::kRelu || act == Activation::kIdentity) {
          for (size_t i = 0; i < n; ++i) {
            float want = pdx0[i];
            want += act == Activation::kIdentity ? pdy[i] : px[i] > 0.0f ? pdy[i] : 0.0f;
            EXPECT_TRUE(test::SameBits(want, pdx[i]))
                << ActivationName(act) << " i=" << i << " x=" << px[i]
                << " dy=" << pdy[i] << " dx0=" << pdx0[i] << " got " << pdx[i];
          }
        }
      }
    }
  });
}

// The accuracy sweep of Tanh, Sigmoid and GELU backward: dy = 1, dx0 = 0
// (the derivative alone) and dy in [-2, 2], dx0 in [-1, 1] (the accumulate),
// over every SPARROW_BWD_GRID_STRIDE-th finite float bit pattern and a linear
// sweep of [-12, 12]. Prints the worst error in units of the contract's scale.
void TestBackwardSweep() {
  const size_t kChunk = 1 << 16;
  std::vector<float> xs;
  xs.reserve(kChunk);
  std::vector<float> y(kChunk), dy(kChunk), dx0(kChunk), dx(kChunk);
  for (Activation act : {Activation::kTanh, Activation::kSigmoid, Activation::kGelu}) {
    for (bool accumulate : {false, true}) {
      test::Worst worst;
      std::mt19937 rng(99);
      std::uniform_real_distribution<float> udy(-2.0f, 2.0f), udx(-1.0f, 1.0f);
      size_t failures = 0;
      const auto flush = [&]() {
        const size_t n = xs.size();
        for (size_t i = 0; i < n; ++i) {
          y[i] = test::Forward(act, xs[i]);
          dy[i] = accumulate ? udy(rng) : 1.0f;
          dx0[i] = accumulate ? udx(rng) : 0.0f;
        }
        std::copy(dx0.begin(), dx0.begin() + n, dx.begin());
        ActivateBackwardArray(act, xs.data(), y.data(), dy.data(), dx.data(), n);
        failures += CheckBackward(act, xs.data(), y.data(), dy.data(), dx0.data(),
                                  dx.data(), n, "sweep", &worst);
        xs.clear();
      };
      for (uint64_t bits = 0; bits < (1ull << 32); bits += SPARROW_BWD_GRID_STRIDE) {
        float x;
        const uint32_t b32 = static_cast<uint32_t>(bits);
        memcpy(&x, &b32, 4);
        if (!isfinite(x)) continue;
        xs.push_back(x);
        if (xs.size() == kChunk) flush();
      }
      for (uint32_t i = 0; i <= SPARROW_BWD_LINEAR_POINTS; ++i) {
        xs.push_back(static_cast<float>(-12.0 + 24.0 * i / SPARROW_BWD_LINEAR_POINTS));
        if (xs.size() == kChunk) flush();
      }
      flush();
      EXPECT_EQ(0u, failures);
      printf("%-7s %-8s %-10s max err %.3g units (%.2f of bound) at x=%.9g y=%.9g "
             "(got %.9g, want %.17g)\n",
             hwy::TargetName(HWY_TARGET), ActivationName(act),
             accumulate ? "accumulate" : "dy=1", worst.err, worst.frac, worst.x,
             worst.y, worst.got, worst.want);
    }
  }
}

// Specials, exactly: Relu masks NaN/inf dy where x <= 0 (and for NaN x), GELU
// gives its limits at +-inf, NaN propagates through the smooth activations,
// tanh'(+-1) = sigmoid'(0 or 1) = 0 leaves dx as it was; the unread input may
// be null, and n == 0 reads nothing.
void TestBackwardSpecials() {
  const float inf = test::kInfF, nan = test::kNaN;
  struct Case {
    Activation act;
    float x, y, dy, dx0, want;
  };
  const Case kCases[] = {
      {Activation::kRelu, -1.0f, 0.0f, nan, 2.0f, 2.0f},
      {Activation::kRelu, 0.0f, 0.0f, inf, 2.0f, 2.0f},
      {Activation::kRelu, -0.0f, 0.0f, -inf, 2.0f, 2.0f},
      {Activation::kRelu, nan, nan, 3.0f, 2.0f, 2.0f},
      {Activation::kRelu, -inf, 0.0f, 3.0f, -0.0f, 0.0f},  // -0 + +0 = +0
      {Activation::kRelu, inf, inf, 3.0f, 2.0f, 5.0f},
      {Activation::kRelu, FLT_TRUE_MIN, FLT_TRUE_MIN, nan, 2.0f, nan},
      {Activation::kRelu, 1.0f, 1.0f, -inf, 2.0f, -inf},
      {Activation::kIdentity, 1.0f, 1.0f, -0.0f, -0.0f, -0.0f},
      {Activation::kIdentity, 1.0f, 1.0f, nan, 1.0f, nan},
      {Activation::kGelu, inf, inf, 3.0f, 2.0f, 5.0f},
      {Activation::kGelu, -inf, -0.0f, 3.0f, 2.0f, 2.0f},
      {Activation::kGelu, 1e30f, 1e30f, 3.0f, 2.0f, 5.0f},
      {Activation::kGelu, -1e30f, -0.0f, 3.0f, 2.0f, 2.0f},
      {Activation::kGelu, 0.0f, 0.0f, 3.0f, 2.0f, 3.5f},  // gelu'(0) = 1/2
      {Activation::kGelu, nan, nan, 3.0f, 2.0f, nan},
      {Activation::kTanh, inf, 1.0f, 3.0f, 2.0f, 2.0f},
      {Activation::kTanh, -inf, -1.0f, 3.0f, 2.0f, 2.0f},
      {Activation::kTanh, 0.0f, 0.0f, 3.0f, 2.0f, 5.0f},
      {Activation::kTanh, nan, nan, 3.0f, 2.0f, nan},
      {Activation::kSigmoid, inf, 1.0f, 3.0f, 2.0f, 2.0f},
      {Activation::kSigmoid, -inf, 0.0f, 3.0f, 2.0f, 2.0f},
      {Activation::kSigmoid, 0.0f, 0.5f, 4.0f, 2.0f, 3.0f},
      {Activation::kSigmoid, nan, nan, 3.0f, 2.0f, nan},
  };
  for (const Case& c : kCases) {
    // Every lane of a whole vector and the one-element tail path.
    for (size_t n : {size_t{1}, size_t{2 * HWY_MAX_BYTES / sizeof(float)}}) {
      std::vector<float> x(n, c.x), y(n, c.y), dy(n, c.dy), dx(n, c.dx0);
      ActivateBackwardArray(c.act, x.data(), y.data(), dy.data(), dx.data(), n);
      for (size_t i = 0; i < n; ++i) {
        EXPECT_TRUE(test::SameBits(c.want, dx[i]))
            << hwy::TargetName(HWY_TARGET) << " " << ActivationName(c.act)
            << " x=" << c.x << " dy=" << c.dy << " dx0=" << c.dx0 << " got "
            << dx[i] << " want " << c.want;
      }
    }
  }
  // The input an activation does not read may be null.
  const size_t n = 37;
  std::vector<float> x(n), y(n), dy(n, 1.0f), dx(n, 0.0f);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(i) - 18.0f;
  ActivateBackwardArray(Activation::kRelu, x.data(), nullptr, dy.data(), dx.data(), n);
  ActivateBackwardArray(Activation::kGelu, x.data(), nullptr, dy.data(), dx.data(), n);
  for (size_t i = 0; i < n; ++i) y[i] = test::Forward(Activation::kTanh, x[i]);
  ActivateBackwardArray(Activation::kTanh, nullptr, y.data(), dy.data(), dx.data(), n);
  for (size_t i = 0; i < n; ++i) y[i] = test::Forward(Activation::kSigmoid, x[i]);
  ActivateBackwardArray(Activation::kSigmoid, nullptr, y.data(), dy.data(), dx.data(), n);
  ActivateBackwardArray(Activation::kIdentity, nullptr, nullptr, dy.data(), dx.data(), n);
  for (size_t i = 0; i < n; ++i) {
    const double xd = x[i];
    double want = 1.0 + (xd > 0) + ActivationDerivativeRef(Activation::kGelu, xd, 0.0);
    const double t = TanhRef(xd), s = SigmoidRef(xd);
    want += (1 - t * t) + s * (1 - s);
    EXPECT_NEAR(want, dx[i], 1e-6) << "i=" << i;
  }
  ActivateBackwardArray(Activation::kGelu, nullptr, nullptr, nullptr, nullptr, 0);
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparrow {
namespace HWY_NAMESPACE {}
HWY_BEFORE_TEST(ActivationsBackwardTest);
HWY_EXPORT_AND_TEST_P(ActivationsBackwardTest, TestBackwardSizes);
HWY_EXPORT_AND_TEST_P(ActivationsBackwardTest, TestBackwardSweep);
HWY_EXPORT_AND_TEST_P(ActivationsBackwardTest, TestBackwardSpecials);

// ------------------------------ Public (dispatched) API

// The dispatched function meets the same contract (whichever target it
// picks), in place of dx only, and n == 0 is a no-op.
TEST(ActivateBackwardApi, MeetsContract) {
  const size_t n = 1001;
  std::vector<float> x(n), y(n), dy(n), dx0(n), dx(n);
  for (Activation act : test::kAllActivations) {
    for (size_t i = 0; i < n; ++i) {
      x[i] = -10.0f + 20.0f * static_cast<float>((i * 37) % 1001) / 1000.0f;
      y[i] = test::Forward(act, x[i]);
      dy[i] = 0.5f - static_cast<float>((i * 13) % 7) / 7.0f;
      dx0[i] = 0.25f * static_cast<float>(i % 5) - 0.5f;
    }
    dx = dx0;
    ActivateBackward(act, x.data(), y.data(), dy.data(), dx.data(), n);
    for (size_t i = 0; i < n; ++i) {
      const double xd = x[i], yd = y[i], dyd = dy[i];
      double want = dx0[i];
      ActivateBackwardRef<double>(act, &xd, &yd, &dyd, &want, 1);
      const test::Bound b = test::BackwardBound(act, x[i], y[i], dy[i], dx0[i]);
      if (b.tol == 0.0) {  // exact: the correctly rounded float
        EXPECT_TRUE(test::SameBits(static_cast<float>(want), dx[i]))
            << ActivationName(act) << " i=" << i;
      } else {
        EXPECT_NEAR(want, dx[i], b.tol) << ActivationName(act) << " i=" << i;
      }
    }
    const std::vector<float> before = dx;
    ActivateBackward(act, x.data(), y.data(), dy.data(), dx.data(), 0);
    EXPECT_EQ(before, dx);
  }
}

}  // namespace sparrow
#endif  // HWY_ONCE
