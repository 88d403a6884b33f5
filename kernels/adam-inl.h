// SIMD body of kernels/adam.h for every Highway target: the scalar
// reference's operations on whole vectors (Mul and Add, never MulAdd, so the
// bits match every other target; kernels/BUILD compiles it with
// -ffp-contract=off so GCC does not fuse them either); the loop and its tail
// are kernels/loops-inl.h's.

// Non-SIMD includes.
#ifndef SPARROW_KERNELS_ADAM_INL_H_ONCE_
#define SPARROW_KERNELS_ADAM_INL_H_ONCE_
#include <stddef.h>

#include "kernels/adam.h"
#endif  // SPARROW_KERNELS_ADAM_INL_H_ONCE_

#if defined(SPARROW_KERNELS_ADAM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARROW_KERNELS_ADAM_INL_H_
#undef SPARROW_KERNELS_ADAM_INL_H_
#else
#define SPARROW_KERNELS_ADAM_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/loops-inl.h"

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
  // Zero-padded tail lanes compute sqrt(0) / bias2_sqrt + eps > 0: no traps.
  const float* in[1] = {grad};
  float* io[3] = {value, m1, m2};
  ForEachVector(d, n, in, io, [&](const V (&g)[1], V (&v)[3]) HWY_ATTR {
    Step<kDecay>(d, c, v[0], g[0], v[1], v[2]);
  });
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
