// SIMD body of kernels/adam.h for every Highway target: the scalar
// reference's operations on whole vectors (Mul and Add, never MulAdd, so the
// bits match every other target; kernels/BUILD compiles it with
// -ffp-contract=off so GCC does not fuse them either).

// Non-SIMD includes.
#ifndef SPARROW_KERNELS_ADAM_INL_H_ONCE_
#define SPARROW_KERNELS_ADAM_INL_H_ONCE_
#include <stddef.h>
#include <string.h>

#include "kernels/adam.h"
#endif  // SPARROW_KERNELS_ADAM_INL_H_ONCE_

#if defined(SPARROW_KERNELS_ADAM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARROW_KERNELS_ADAM_INL_H_
#undef SPARROW_KERNELS_ADAM_INL_H_
#else
#define SPARROW_KERNELS_ADAM_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

namespace adam_simd {

template <AdamDecay kDecay, class D, class V = hn::Vec<D>>
HWY_INLINE void Step(D d, const AdamCoefficients& c, V& value, V g, V& m1,
                     V& m2) {
  if constexpr (kDecay == AdamDecay::kL2) {
    g = hn::Add(g, hn::Mul(hn::Set(d, c.l2), value));
  }
  if constexpr (kDecay == AdamDecay::kDecoupled) {
    value = hn::Mul(value, hn::Set(d, c.shrink));
  }
  m1 = hn::Add(hn::Mul(m1, hn::Set(d, c.beta1)),
               hn::Mul(hn::Set(d, c.one_minus_beta1), g));
  m2 = hn::Add(hn::Mul(m2, hn::Set(d, c.beta2)),
               hn::Mul(hn::Mul(hn::Set(d, c.one_minus_beta2), g), g));
  const V denom = hn::Add(hn::Div(hn::Sqrt(m2), hn::Set(d, c.bias2_sqrt)),
                          hn::Set(d, c.eps));
  value = hn::Add(value, hn::Mul(hn::Set(d, c.neg_step_size),
                                 hn::Div(m1, denom)));
}

template <AdamDecay kDecay>
HWY_NOINLINE void UpdateT(const AdamCoefficients& c, float* HWY_RESTRICT value,
                          const float* HWY_RESTRICT grad,
                          float* HWY_RESTRICT m1, float* HWY_RESTRICT m2,
                          size_t n) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    V v = hn::LoadU(d, value + i), a = hn::LoadU(d, m1 + i),
      b = hn::LoadU(d, m2 + i);
    Step<kDecay>(d, c, v, hn::LoadU(d, grad + i), a, b);
    hn::StoreU(v, d, value + i);
    hn::StoreU(a, d, m1 + i);
    hn::StoreU(b, d, m2 + i);
  }
  if (i < n) {
    // The tail through zero-padded copies (a MaskedLoad would read past the
    // arrays on SSE4): padded lanes compute sqrt(0) / bias2_sqrt + eps > 0,
    // no traps, and are never copied back.
    const size_t r = n - i;
    HWY_ALIGN_MAX float buf[4][64 / sizeof(float)] = {};  // >= N lanes
    memcpy(buf[0], value + i, r * sizeof(float));
    memcpy(buf[1], grad + i, r * sizeof(float));
    memcpy(buf[2], m1 + i, r * sizeof(float));
    memcpy(buf[3], m2 + i, r * sizeof(float));
    V v = hn::Load(d, buf[0]), a = hn::Load(d, buf[2]), b = hn::Load(d, buf[3]);
    Step<kDecay>(d, c, v, hn::Load(d, buf[1]), a, b);
    hn::Store(v, d, buf[0]);
    hn::Store(a, d, buf[2]);
    hn::Store(b, d, buf[3]);
    memcpy(value + i, buf[0], r * sizeof(float));
    memcpy(m1 + i, buf[2], r * sizeof(float));
    memcpy(m2 + i, buf[3], r * sizeof(float));
  }
}

}  // namespace adam_simd

void AdamUpdateImpl(const AdamCoefficients& c, float* HWY_RESTRICT value,
                    const float* HWY_RESTRICT grad, float* HWY_RESTRICT m1,
                    float* HWY_RESTRICT m2, size_t n) {
  switch (c.decay) {
    case AdamDecay::kNone:
      return adam_simd::UpdateT<AdamDecay::kNone>(c, value, grad, m1, m2, n);
    case AdamDecay::kDecoupled:
      return adam_simd::UpdateT<AdamDecay::kDecoupled>(c, value, grad, m1, m2,
                                                       n);
    case AdamDecay::kL2:
      return adam_simd::UpdateT<AdamDecay::kL2>(c, value, grad, m1, m2, n);
  }
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#endif  // SPARROW_KERNELS_ADAM_INL_H_
