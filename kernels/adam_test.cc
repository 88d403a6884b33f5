// Tests for kernels/adam.h: every compiled target against the scalar
// reference (kernels/adam_scalar.h), bit for bit, over sizes around the vector
// length, misaligned pointers, the three decay modes and several steps (so
// the moments are not zero). Bit equality is the contract: the kernel and the
// reference perform the same correctly rounded operations in the same order
// (both built with -ffp-contract=off), so any difference is a defect, and
// training stays reproducible across targets and machines.
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <random>
#include <vector>

#include "kernels/adam.h"
#include "kernels/adam_scalar.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/adam_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/test_util-inl.h"
#include "kernels/adam-inl.h"

// Highway 1.0.3 has no HWY_AFTER_TEST (newer versions do).
#ifndef HWY_AFTER_TEST
#define HWY_AFTER_TEST() static_assert(true, "")
#endif

#ifndef SPARROW_KERNELS_ADAM_TEST_HELPERS_
#define SPARROW_KERNELS_ADAM_TEST_HELPERS_
namespace sparrow {
namespace adam_test {

// Coefficients as trainer/optim/optimizer.cc derives them for step t.
inline AdamCoefficients Coefficients(AdamDecay decay, int t) {
  const double lr = 1e-3, b1 = 0.9, b2 = 0.999, wd = 0.01;
  AdamCoefficients c;
  c.beta1 = static_cast<float>(b1);
  c.beta2 = static_cast<float>(b2);
  c.one_minus_beta1 = static_cast<float>(1.0 - b1);
  c.one_minus_beta2 = static_cast<float>(1.0 - b2);
  c.neg_step_size = static_cast<float>(-(lr / (1.0 - pow(b1, t))));
  c.bias2_sqrt = static_cast<float>(sqrt(1.0 - pow(b2, t)));
  c.eps = 1e-8f;
  c.shrink = static_cast<float>(1.0 - lr * wd);
  c.l2 = static_cast<float>(wd);
  c.decay = decay;
  return c;
}

inline bool SameBits(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;  // payloads may differ
  uint32_t ua, ub;
  memcpy(&ua, &a, 4);
  memcpy(&ub, &b, 4);
  return ua == ub;
}

// Runs `steps` updates of the kernel `update` and of the reference on the
// same random state; returns the number of mismatching floats.
template <class Update>
size_t Compare(size_t n, size_t off, AdamDecay decay, bool specials,
               const Update& update) {
  std::mt19937 rng(static_cast<uint32_t>(n * 31 + off * 7 +
                                         static_cast<int>(decay)));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  // One spare float past the end of each array, to check the tail writes
  // nothing beyond n.
  std::vector<float> v(off + n + 1), g(off + n + 1), a(off + n + 1),
      b(off + n + 1);
  for (size_t i = 0; i < off + n + 1; ++i) {
    v[i] = dist(rng);
    g[i] = dist(rng) * 1e-2f;
    a[i] = dist(rng) * 1e-3f;
    b[i] = std::fabs(dist(rng)) * 1e-5f;
  }
  if (specials && n >= 4) {
    g[off + 0] = 0.0f;
    g[off + 1] = -0.0f;
    g[off + 2] = 1e30f;  // the second moment overflows to inf
    g[off + 3] = NAN;
    b[off + 0] = 0.0f;
  }
  std::vector<float> v2 = v, a2 = a, b2 = b;
  const float guard = v[off + n];
  for (int t = 1; t <= 3; ++t) {
    const AdamCoefficients c = Coefficients(decay, t);
    update(c, v.data() + off, g.data() + off, a.data() + off, b.data() + off,
           n);
    AdamUpdateScalar<float>(c, v2.data() + off, g.data() + off,
                            a2.data() + off, b2.data() + off, n);
  }
  size_t bad = 0;
  for (size_t i = off; i < off + n; ++i) {
    bad += !SameBits(v[i], v2[i]) + !SameBits(a[i], a2[i]) +
           !SameBits(b[i], b2[i]);
  }
  bad += !SameBits(v[off + n], guard);
  return bad;
}

}  // namespace adam_test
}  // namespace sparrow
#endif  // SPARROW_KERNELS_ADAM_TEST_HELPERS_

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void TestMatchesScalarBits() {
  const size_t N = hn::Lanes(hn::ScalableTag<float>());
  const size_t sizes[] = {0, 1, N - 1, N, N + 1, 3 * N, 8 * N + 2, 1000};
  const size_t offsets[] = {0, 1, N / 2};
  const AdamDecay modes[] = {AdamDecay::kNone, AdamDecay::kDecoupled,
                             AdamDecay::kL2};
  for (size_t n : sizes) {
    for (size_t off : offsets) {
      for (AdamDecay mode : modes) {
        for (bool specials : {false, true}) {
          const size_t bad = adam_test::Compare(
              n, off, mode, specials,
              [](const AdamCoefficients& c, float* v, const float* g,
                 float* a, float* b, size_t count) {
                AdamUpdateImpl(c, v, g, a, b, count);
              });
          EXPECT_EQ(bad, 0u) << "n=" << n << " off=" << off
                             << " mode=" << static_cast<int>(mode)
                             << " specials=" << specials;
        }
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparrow {
HWY_BEFORE_TEST(AdamTest);
HWY_EXPORT_AND_TEST_P(AdamTest, TestMatchesScalarBits);
HWY_AFTER_TEST();

// The dispatched entry point, and a hand-computed first step: with m1 = m2 =
// 0 and t = 1, Adam moves every weight by -lr * g / (|g| + eps') = -lr sign g.
TEST(AdamApiTest, FirstStepIsLrTimesSign) {
  const AdamCoefficients c = adam_test::Coefficients(AdamDecay::kNone, 1);
  std::vector<float> v = {1.0f, 1.0f, 1.0f}, g = {0.5f, -2.0f, 0.0f},
                     a(3, 0.0f), b(3, 0.0f);
  AdamUpdate(c, v.data(), g.data(), a.data(), b.data(), v.size());
  EXPECT_NEAR(v[0], 1.0f - 1e-3f, 1e-7f);
  EXPECT_NEAR(v[1], 1.0f + 1e-3f, 1e-7f);
  EXPECT_EQ(v[2], 1.0f);
  AdamUpdate(c, v.data(), g.data(), a.data(), b.data(), 0);  // no-op
  EXPECT_NEAR(v[0], 1.0f - 1e-3f, 1e-7f);
}

}  // namespace sparrow
#endif  // HWY_ONCE
