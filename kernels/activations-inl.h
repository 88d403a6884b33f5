// Per-vector activations, inlined into fused kernels (GEMV/GEMM/GRU epilogues)
// and into the trainer's dispatched loops. Listed in textual_hdrs.
//
// PLACEHOLDER (to be replaced by the activations work): these forward to
// hwy/contrib/math so that fused kernels compile against the final names.

// Non-SIMD includes.
#ifndef SPARROW_KERNELS_ACTIVATIONS_INL_H_ONCE_
#define SPARROW_KERNELS_ACTIVATIONS_INL_H_ONCE_
#include "kernels/activation_type.h"
#endif

#if defined(SPARROW_KERNELS_ACTIVATIONS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARROW_KERNELS_ACTIVATIONS_INL_H_
#undef SPARROW_KERNELS_ACTIVATIONS_INL_H_
#else
#define SPARROW_KERNELS_ACTIVATIONS_INL_H_
#endif

#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class D, class V>
HWY_INLINE V ExpPrecise(D d, V x) {
  return hn::Exp(d, x);
}
template <class D, class V>
HWY_INLINE V TanhPrecise(D d, V x) {
  return hn::Tanh(d, x);
}
template <class D, class V>
HWY_INLINE V TanhFast(D d, V x) {
  return hn::Tanh(d, x);
}
template <class D, class V>
HWY_INLINE V SigmoidPrecise(D d, V x) {
  const V one = hn::Set(d, 1.0f);
  return hn::Div(one, hn::Add(one, hn::Exp(d, hn::Neg(x))));
}
template <class D, class V>
HWY_INLINE V SigmoidFast(D d, V x) {
  return SigmoidPrecise(d, x);
}
template <class D, class V>
HWY_INLINE V Relu(D d, V x) {
  return hn::Max(x, hn::Zero(d));
}
template <class D, class V>
HWY_INLINE V GeluPrecise(D d, V x) {
  const V kC = hn::Set(d, 0.7978845608028654f);  // sqrt(2/pi)
  const V inner =
      hn::Mul(kC, hn::MulAdd(hn::Mul(hn::Set(d, 0.044715f), x),
                             hn::Mul(x, x), x));
  return hn::Mul(hn::Mul(hn::Set(d, 0.5f), x),
                 hn::Add(hn::Set(d, 1.0f), TanhPrecise(d, inner)));
}
template <class D, class V>
HWY_INLINE V GeluFast(D d, V x) {
  return GeluPrecise(d, x);
}

// Compile-time selected activation for fused kernel epilogues.
template <Activation kAct, Accuracy kAcc, class D, class V>
HWY_INLINE V Activate(D d, V x) {
  if constexpr (kAct == Activation::kRelu) {
    return Relu(d, x);
  } else if constexpr (kAct == Activation::kSigmoid) {
    return kAcc == Accuracy::kFast ? SigmoidFast(d, x) : SigmoidPrecise(d, x);
  } else if constexpr (kAct == Activation::kTanh) {
    return kAcc == Accuracy::kFast ? TanhFast(d, x) : TanhPrecise(d, x);
  } else if constexpr (kAct == Activation::kGelu) {
    return kAcc == Accuracy::kFast ? GeluFast(d, x) : GeluPrecise(d, x);
  } else {
    return x;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#endif  // SPARROW_KERNELS_ACTIVATIONS_INL_H_ toggle
