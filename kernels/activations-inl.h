// Per-vector activations, inlined into fused kernels (GEMV/GEMM/GRU epilogues)
// and into the trainer's dispatched loops. Listed in textual_hdrs.
//
//   #include "kernels/activations-inl.h"   // after hwy/foreach_target.h
//   const hn::ScalableTag<float> d;
//   auto y = Activate<Activation::kTanh, Accuracy::kFast>(d, hn::LoadU(d, p));
//
// Every function is `template <class D, class V> V F(D d, V x)` on float
// vectors. Contracts (docs/ACTIVATIONS.md has the measured errors, enforced by
// kernels/activations_test.cc on every compiled target):
//   ExpPrecise, TanhPrecise, SigmoidPrecise: <= 4 ULP from the correctly
//     rounded result over all floats; overflow gives +inf, underflow gives
//     denormals then +0, +-inf give the limits, NaN in gives NaN out.
//   TanhFast, SigmoidFast: <= 1e-4 absolute error; saturate to exactly +-1
//     (tanh) / 0, 1 (sigmoid) for large |x|; NaN in gives NaN out.
//   GeluPrecise / GeluFast: x * sigmoid(2u), u = sqrt(2/pi)(x + 0.044715x^3),
//     which equals the tanh form 0.5x(1 + tanh(u)) without its cancellation
//     for negative x. Errors are stated in docs/ACTIVATIONS.md.
//   Relu: max(x, 0); NaN propagates.
//
// ActivateBackward<kAct>(d, x, y, dy, dx) returns dx + dy * act'(x) (see there).
//
// The array loops at the bottom (ActivateArray, ActivateBackwardArray,
// SoftmaxRows) are the per-target bodies behind kernels/activations.h; the
// trainer may call them directly.

// Non-SIMD includes.
#ifndef SPARROW_KERNELS_ACTIVATIONS_INL_H_ONCE_
#define SPARROW_KERNELS_ACTIVATIONS_INL_H_ONCE_
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "kernels/activation_type.h"
#endif

#if defined(SPARROW_KERNELS_ACTIVATIONS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARROW_KERNELS_ACTIVATIONS_INL_H_
#undef SPARROW_KERNELS_ACTIVATIONS_INL_H_
#else
#define SPARROW_KERNELS_ACTIVATIONS_INL_H_
#endif

// Not used here any more; kept because fused kernels written against the
// placeholder may still reach hwy contrib through this header.
#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"
#include "kernels/loops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// x86 min/max instructions return their second operand if either is NaN, so
// Min(constant, x) keeps a NaN x; EMU128/SCALAR return the non-NaN operand and
// need an explicit select. AVX-512 adds vscalefps (p * 2^n with IEEE overflow
// and denormal rounding in one instruction), which Highway 1.0.3 does not wrap.
#undef SPARROW_ACT_X86_MINMAX
#undef SPARROW_ACT_AVX512
#if HWY_ARCH_X86 && HWY_TARGET != HWY_EMU128 && HWY_TARGET != HWY_SCALAR
#define SPARROW_ACT_X86_MINMAX 1
#else
#define SPARROW_ACT_X86_MINMAX 0
#endif
#if HWY_ARCH_X86 && (HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL)
#define SPARROW_ACT_AVX512 1
#else
#define SPARROW_ACT_AVX512 0
#endif

namespace act_detail {

#if SPARROW_ACT_AVX512
// p * 2^n for integral n (any magnitude), rounded once.
template <size_t N>
HWY_INLINE hn::Vec128<float, N> Scalef(hn::Vec128<float, N> p,
                                       hn::Vec128<float, N> n) {
  return hn::Vec128<float, N>{_mm_scalef_ps(p.raw, n.raw)};
}
HWY_INLINE hn::Vec256<float> Scalef(hn::Vec256<float> p, hn::Vec256<float> n) {
  return hn::Vec256<float>{_mm256_scalef_ps(p.raw, n.raw)};
}
HWY_INLINE hn::Vec512<float> Scalef(hn::Vec512<float> p, hn::Vec512<float> n) {
  return hn::Vec512<float>{_mm512_scalef_ps(p.raw, n.raw)};
}
#endif  // SPARROW_ACT_AVX512

// x restricted to [lo, hi]; a NaN x stays NaN on x86 (see above) and is
// handled by the callers elsewhere.
template <class D, class V>
HWY_INLINE V Clamp(D d, V x, float lo, float hi) {
  return hn::Min(hn::Set(d, hi), hn::Max(hn::Set(d, lo), x));
}

// NaN lanes of x are copied to y where Min/Max may have dropped them.
template <class V>
HWY_INLINE V KeepNaN(V x, V y) {
#if SPARROW_ACT_X86_MINMAX
  (void)x;
  return y;
#else
  return hn::IfThenElse(hn::IsNaN(x), x, y);
#endif
}

// Range reduction shared by exp and tanh: y = n ln2 + r with n = round(y /
// ln2), r in [-ln2/2, ln2/2] (Cody-Waite: n * kLn2Hi is exact, so only the
// kLn2Lo step rounds). Returns q = expm1(r) = r + r^2 P(r), P from Cephes'
// expf minimax polynomial (~0.5 ULP), and n both as a float and in the low
// mantissa bits of n_shift (= 1.5 * 2^23 + n). Valid for |y| < 2^22.
template <class D, class V>
HWY_INLINE V Expm1Reduced(D d, V y, V& n, V& n_shift) {
  const V kShifter = hn::Set(d, 12582912.0f);  // 1.5 * 2^23: rounds to int
  n_shift = hn::MulAdd(y, hn::Set(d, 1.44269504088896341f), kShifter);
  n = hn::Sub(n_shift, kShifter);
  V r = hn::NegMulAdd(n, hn::Set(d, 0.693359375f), y);
  r = hn::NegMulAdd(n, hn::Set(d, -2.12194440e-4f), r);
  const V r2 = hn::Mul(r, r);
  V p = hn::MulAdd(hn::Set(d, 1.9875691500e-4f), r, hn::Set(d, 1.3981999507e-3f));
  p = hn::MulAdd(p, r, hn::Set(d, 8.3334519073e-3f));
  p = hn::MulAdd(p, r, hn::Set(d, 4.1665795894e-2f));
  p = hn::MulAdd(p, r, hn::Set(d, 1.6666665459e-1f));
  p = hn::MulAdd(p, r, hn::Set(d, 5.0000001201e-1f));
  return hn::MulAdd(p, r2, r);
}

// 2^n for n in [-126, 127] (from Expm1Reduced).
template <class D, class V>
HWY_INLINE V Pow2(D d, V n, V n_shift) {
#if SPARROW_ACT_AVX512
  (void)n_shift;
  return Scalef(hn::Set(d, 1.0f), n);
#else
  (void)n;
  const hn::RebindToSigned<D> di;
  // bits(n_shift) - bits(1.5 * 2^23) + 127 is the biased exponent of 2^n.
  const auto biased = hn::Sub(hn::BitCast(di, n_shift), hn::Set(di, 0x4B400000 - 127));
  return hn::BitCast(d, hn::ShiftLeft<23>(biased));
#endif
}

// exp(x) for x in [-104, 89] (callers clamp) as (1 + q) * 2^n. With
// kDenormals, 2^n is applied in two halves so that n in [-150, 128] neither
// overflows the exponent field nor flushes denormal results; only the second
// multiply rounds. AVX-512's vscalefps does the same in one instruction.
template <bool kDenormals, class D, class V>
HWY_INLINE V ExpClamped(D d, V x) {
  V n, n_shift;
  const V p = hn::Add(Expm1Reduced(d, x, n, n_shift), hn::Set(d, 1.0f));
#if SPARROW_ACT_AVX512
  return Scalef(p, n);
#else
  if (!kDenormals) return hn::Mul(p, Pow2(d, n, n_shift));
  const hn::RebindToSigned<D> di;
  const auto ni = hn::Sub(hn::BitCast(di, n_shift), hn::Set(di, 0x4B400000));
  const auto n1 = hn::ShiftRight<1>(ni);
  const auto n2 = hn::Sub(ni, n1);
  const auto bias = hn::Set(di, 127);
  const V s1 = hn::BitCast(d, hn::ShiftLeft<23>(hn::Add(n1, bias)));
  const V s2 = hn::BitCast(d, hn::ShiftLeft<23>(hn::Add(n2, bias)));
  return hn::Mul(hn::Mul(p, s1), s2);
#endif
}

// 1/x to ~1 ULP without a divide: the ~2^-14 (AVX-512) or 1.5 * 2^-12
// (SSE/AVX2) estimate plus one Newton step.
template <class D, class V>
HWY_INLINE V ReciprocalNewton(D d, V x) {
  const V r0 = hn::ApproximateReciprocal(x);
  const V e = hn::NegMulAdd(x, r0, hn::Set(d, 1.0f));  // 1 - x r0
  return hn::MulAdd(r0, e, r0);
}

}  // namespace act_detail

// exp(x), <= 4 ULP (measured ~1). Overflow (x > 88.72) gives +inf, results
// below 2^-126 are denormals (correctly scaled), x < -103.98 gives +0.
template <class D, class V>
HWY_INLINE V ExpPrecise(D d, V x) {
  const V xc = act_detail::Clamp(d, x, -104.0f, 89.0f);
  return act_detail::KeepNaN(x, act_detail::ExpClamped</*kDenormals=*/true>(d, xc));
}

// tanh(x), <= 4 ULP (measured 2.5). One formula for all x, no branch to
// blend: tanh(|x|) = -m / (2 + m) with m = expm1(-2|x|) in (-1, 0], where
// expm1(y) = 2^n q + (2^n - 1) is one FMA after the shared range reduction
// (2^n - 1 is exact for n >= -24; n = 0 for |x| < 0.17, where m = q keeps full
// relative accuracy down to the denormals). tanh(10) rounds to 1, so -2|x| is
// clamped at -20, which also keeps 2^n normal.
template <class D, class V>
HWY_INLINE V TanhPrecise(D d, V x) {
  const V y = hn::Max(hn::Set(d, -20.0f), hn::Mul(hn::Abs(x), hn::Set(d, -2.0f)));
  V n, n_shift;
  const V q = act_detail::Expm1Reduced(d, y, n, n_shift);
  const V s = act_detail::Pow2(d, n, n_shift);
  const V m = hn::MulAdd(q, s, hn::Sub(s, hn::Set(d, 1.0f)));
  const V t = hn::Div(m, hn::Add(m, hn::Set(d, 2.0f)));  // -tanh(|x|) <= 0
  return act_detail::KeepNaN(x, hn::CopySign(t, x));  // CopySign keeps tanh(-0) = -0
}

namespace act_detail {
// exp(-|x|) in [0, 1], NaN for NaN x: the one exp of the precise sigmoid and
// of GELU's derivative.
template <class D, class V>
HWY_INLINE V ExpNegAbs(D d, V x) {
  // -|x| by setting the sign bit; exp(-104) already rounds to 0.
  const V neg_abs = hn::Or(x, hn::Set(d, -0.0f));
  return KeepNaN(x, ExpClamped</*kDenormals=*/true>(
                        d, hn::Max(hn::Set(d, -104.0f), neg_abs)));
}
}  // namespace act_detail

// 1 / (1 + exp(-x)), <= 4 ULP (measured ~2). With e = exp(-|x|) in (0, 1]:
// 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0, so the negative tail keeps
// full relative accuracy down to the denormals (sigmoid(x) ~ exp(x) there).
template <class D, class V>
HWY_INLINE V SigmoidPrecise(D d, V x) {
  const V one = hn::Set(d, 1.0f);
  const V e = act_detail::ExpNegAbs(d, x);
  const V num = hn::IfThenElse(hn::Lt(x, hn::Zero(d)), e, one);
  return hn::Div(num, hn::Add(one, e));
}

// tanh(x) within 5.7e-5 (contract 1e-4): x P(x^2) / Q(x^2), P and Q of degree
// 2 (our Lawson/Loeb minimax fit on [0, 5.25], absolute error), the reciprocal
// from the hardware estimate plus one Newton step, and the output clamped to
// [-1, 1]: the rational crosses 1 near x = 5.3 where 1 - tanh < 5.7e-5, so
// large |x| saturates to exactly +-1.
template <class D, class V>
HWY_INLINE V TanhFast(D d, V x) {
  // x^2 <= 81 keeps P and Q finite; the numerator may still overflow to
  // +-inf for |x| > 2e37, which the output clamp turns into +-1.
  const V z = hn::Min(hn::Set(d, 81.0f), hn::Mul(x, x));
  V num = hn::MulAdd(hn::Set(d, 6.3083775673e-04f), z, hn::Set(d, 1.0087331079e-01f));
  num = hn::Mul(hn::MulAdd(num, z, hn::Set(d, 9.9975356464e-01f)), x);
  V den = hn::MulAdd(hn::Set(d, 1.2390103272e-02f), z, hn::Set(d, 4.3351373383e-01f));
  den = hn::MulAdd(den, z, hn::Set(d, 1.0f));
  const V y = hn::Mul(num, act_detail::ReciprocalNewton(d, den));
  return act_detail::KeepNaN(x, act_detail::Clamp(d, y, -1.0f, 1.0f));
}

// sigmoid(x) = 0.5 + 0.5 tanh(x / 2): within half of TanhFast's error, and
// exactly 0 / 1 in the saturated tails.
template <class D, class V>
HWY_INLINE V SigmoidFast(D d, V x) {
  const V half = hn::Set(d, 0.5f);
  return hn::MulAdd(half, TanhFast(d, hn::Mul(half, x)), half);
}

// max(x, 0). NaN propagates (a plain Max would drop it on some targets).
template <class D, class V>
HWY_INLINE V Relu(D d, V x) {
  return hn::IfThenZeroElse(hn::Lt(x, hn::Zero(d)), x);
}

namespace act_detail {
// 2u = 2 sqrt(2/pi) (x + 0.044715 x^3) = x (kC1 + kC2 x^2).
template <class D, class V>
HWY_INLINE V GeluArg2(D d, V x) {
  return hn::Mul(x, hn::MulAdd(hn::Set(d, 0.0713548162726009f), hn::Mul(x, x),
                               hn::Set(d, 1.5957691216057308f)));
}
// gelu(x) < 2^-150 for x < -11: return -0 there, which also maps -inf to -0
// (x * sigmoid would give -inf * 0 = NaN).
template <class D, class V>
HWY_INLINE V GeluTail(D d, V x, V y) {
  return hn::IfThenElse(hn::Lt(x, hn::Set(d, -11.0f)), hn::Set(d, -0.0f), y);
}
}  // namespace act_detail

// GELU (tanh form) as x * sigmoid(2u); see the header comment for why.
template <class D, class V>
HWY_INLINE V GeluPrecise(D d, V x) {
  const V y = hn::Mul(x, SigmoidPrecise(d, act_detail::GeluArg2(d, x)));
  return act_detail::GeluTail(d, x, y);
}

template <class D, class V>
HWY_INLINE V GeluFast(D d, V x) {
  const V y = hn::Mul(x, SigmoidFast(d, act_detail::GeluArg2(d, x)));
  return act_detail::GeluTail(d, x, y);
}

// Compile-time selected activation for fused kernel epilogues. Exp has one
// tier; kIdentity returns x.
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

// (act, acc) as types, so one switch outside a kernel's loops picks the
// instantiation whose epilogue inlines the activation.
template <Activation kA, Accuracy kC>
struct ActTag {
  static constexpr Activation kAct = kA;
  static constexpr Accuracy kAcc = kC;
};

// Calls fn(ActTag<act, acc>()) with compile-time constants. kIdentity and
// kRelu have no accuracy tiers, so they instantiate once.
template <class Fn>
HWY_INLINE void WithActivation(Activation act, Accuracy acc, const Fn& fn) {
  const bool fast = acc == Accuracy::kFast;
  switch (act) {
    case Activation::kRelu:
      return fn(ActTag<Activation::kRelu, Accuracy::kPrecise>());
    case Activation::kSigmoid:
      return fast ? fn(ActTag<Activation::kSigmoid, Accuracy::kFast>())
                  : fn(ActTag<Activation::kSigmoid, Accuracy::kPrecise>());
    case Activation::kTanh:
      return fast ? fn(ActTag<Activation::kTanh, Accuracy::kFast>())
                  : fn(ActTag<Activation::kTanh, Accuracy::kPrecise>());
    case Activation::kGelu:
      return fast ? fn(ActTag<Activation::kGelu, Accuracy::kFast>())
                  : fn(ActTag<Activation::kGelu, Accuracy::kPrecise>());
    case Activation::kIdentity:
    default:
      return fn(ActTag<Activation::kIdentity, Accuracy::kPrecise>());
  }
}

// ------------------------------ Backward

namespace act_detail {
// d gelu / dx = s + x s (1 - s) g' with g = 2u = x (kC1 + kC2 x^2) (GeluArg2),
// s = sigmoid(g), g' = kC1 + 3 kC2 x^2. With e = exp(-|g|), s (1 - s) is
// e / (1 + e)^2 for either sign of g, so it does not cancel as 1 - s would
// for g >> 0. Where e underflows to 0 the second term is 0 (not x 0 g' = NaN
// for huge or infinite x): the limits are 1 at +inf and 0 at -inf.
template <class D, class V>
HWY_INLINE V GeluDerivative(D d, V x) {
  const V one = hn::Set(d, 1.0f);
  const V x2 = hn::Mul(x, x);
  const V g = GeluArg2(d, x);
  const V e = ExpNegAbs(d, g);
  const V den = hn::Add(one, e);
  const V s = hn::Div(hn::IfThenElse(hn::Lt(g, hn::Zero(d)), e, one), den);
  const V sp = hn::Div(e, hn::Mul(den, den));  // s (1 - s)
  const V g1 = hn::MulAdd(hn::Set(d, 0.2140644488178027f), x2,
                          hn::Set(d, 1.5957691216057308f));
  const V t = hn::IfThenElseZero(hn::Gt(sp, hn::Zero(d)),
                                 hn::Mul(hn::Mul(x, sp), g1));
  return hn::Add(s, t);  // NaN x: s is NaN
}
}  // namespace act_detail

// dx + dy * act'(x) for one vector, x the forward input, y = act(x) its
// output (only the one the derivative needs is read: x for Relu and GELU, y
// for Tanh and Sigmoid). Relu and identity are exact and match the scalar
// `dx += x > 0 ? dy : 0` / `dx += dy` bit for bit (so NaN x contributes +0,
// and dx = -0 becomes +0). 1 - y^2 is evaluated as (1 - y)(1 + y), which has
// no cancellation with or without FMA.
template <Activation kAct, class D, class V>
HWY_INLINE V ActivateBackward(D d, V x, V y, V dy, V dx) {
  if constexpr (kAct == Activation::kRelu) {
    return hn::Add(dx, hn::IfThenElseZero(hn::Gt(x, hn::Zero(d)), dy));
  } else if constexpr (kAct == Activation::kTanh) {
    const V one = hn::Set(d, 1.0f);
    return hn::MulAdd(dy, hn::Mul(hn::Sub(one, y), hn::Add(one, y)), dx);
  } else if constexpr (kAct == Activation::kSigmoid) {
    return hn::MulAdd(dy, hn::Mul(y, hn::Sub(hn::Set(d, 1.0f), y)), dx);
  } else if constexpr (kAct == Activation::kGelu) {
    return hn::MulAdd(dy, act_detail::GeluDerivative(d, x), dx);
  } else {
    return hn::Add(dx, dy);
  }
}

// ------------------------------ Array loops

// out[i] = func(d, in[i]) for i < n; in == out is allowed. The tail goes
// through a stack buffer so func only ever sees whole vectors.
template <class D, class Func>
HWY_INLINE void TransformArray(D d, const float* in, float* out, size_t n,
                               Func func) {
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    hn::StoreU(func(d, hn::LoadU(d, in + i)), d, out + i);
  }
  if (i < n) {
    HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)] = {0};
    memcpy(buf, in + i, (n - i) * sizeof(float));
    hn::Store(func(d, hn::Load(d, buf)), d, buf);
    memcpy(out + i, buf, (n - i) * sizeof(float));
  }
}

template <Activation kAct, Accuracy kAcc>
HWY_NOINLINE void ActivateArrayT(const float* in, float* out, size_t n) {
  const hn::ScalableTag<float> d;
  TransformArray(d, in, out, n, [](auto d, auto v) HWY_ATTR {
    return Activate<kAct, kAcc>(d, v);
  });
}

// The per-target body of sparrow::Activate (kernels/activations.h).
// Activation::kIdentity copies.
inline HWY_MAYBE_UNUSED void ActivateArray(Activation act, Accuracy acc,
                                    const float* in, float* out, size_t n) {
  if (act != Activation::kIdentity) {
    return WithActivation(act, acc, [&](auto tag) HWY_ATTR {
      ActivateArrayT<decltype(tag)::kAct, decltype(tag)::kAcc>(in, out, n);
    });
  }
  if (in != out && n != 0) memmove(out, in, n * sizeof(float));
}

template <Activation kAct>
HWY_NOINLINE void ActivateBackwardArrayT(const float* HWY_RESTRICT x,   // [n]
                                         const float* HWY_RESTRICT y,   // [n]
                                         const float* HWY_RESTRICT dy,  // [n]
                                         float* HWY_RESTRICT dx,        // [n]
                                         size_t n) {
  constexpr bool kReadX = kAct == Activation::kRelu || kAct == Activation::kGelu;
  constexpr bool kReadY = kAct == Activation::kTanh || kAct == Activation::kSigmoid;
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  // Unread inputs are null (the loop passes Zero), and the tail goes through
  // stack buffers, so the same vector code (and rounding) handles every
  // element.
  const float* in[3] = {kReadX ? x : nullptr, kReadY ? y : nullptr, dy};
  float* io[1] = {dx};
  ForEachVector(d, n, in, io, [&](const V (&v)[3], V (&g)[1]) HWY_ATTR {
    g[0] = ActivateBackward<kAct>(d, v[0], v[1], v[2], g[0]);
  });
}

// The per-target body of sparrow::ActivateBackward (kernels/activations.h):
// dx[i] += dy[i] * act'(x[i]), precise tier.
inline HWY_MAYBE_UNUSED void ActivateBackwardArray(Activation act,
                                                   const float* x,
                                                   const float* y,
                                                   const float* dy, float* dx,
                                                   size_t n) {
  switch (act) {
    case Activation::kRelu:
      return ActivateBackwardArrayT<Activation::kRelu>(x, y, dy, dx, n);
    case Activation::kTanh:
      return ActivateBackwardArrayT<Activation::kTanh>(x, y, dy, dx, n);
    case Activation::kSigmoid:
      return ActivateBackwardArrayT<Activation::kSigmoid>(x, y, dy, dx, n);
    case Activation::kGelu:
      return ActivateBackwardArrayT<Activation::kGelu>(x, y, dy, dx, n);
    case Activation::kIdentity:
    default:
      return ActivateBackwardArrayT<Activation::kIdentity>(x, y, dy, dx, n);
  }
}

inline HWY_NOINLINE void ExpArray(const float* in, float* out, size_t n) {
  const hn::ScalableTag<float> d;
  TransformArray(d, in, out, n, [](auto d, auto v) HWY_ATTR {
    return ExpPrecise(d, v);
  });
}

namespace act_detail {

// Rows whose max is +-inf: the limit of softmax, computed in scalar code.
// Any NaN makes the row NaN. All -inf: uniform (1/n, log: -log n). Some +inf:
// the k infinities share the mass (1/k, log: -log k), the rest get 0 (-inf).
HWY_INLINE void SoftmaxInfRow(const float* in, float* out, size_t n, bool log_out,
                              float max) {
  size_t k = 0;
  bool nan = false;
  for (size_t i = 0; i < n; ++i) {
    nan |= isnan(in[i]);
    k += in[i] == max;
  }
  const float share = 1.0f / static_cast<float>(k);
  const float log_share = -logf(static_cast<float>(k));
  for (size_t i = 0; i < n; ++i) {
    const bool hit = in[i] == max;
    out[i] = nan ? NAN : log_out ? (hit ? log_share : -INFINITY) : (hit ? share : 0.0f);
  }
}

}  // namespace act_detail

// Softmax (log_softmax if `log_out`) of one row of n floats; in == out allowed.
// exp(x - max) cannot overflow; the sum is >= 1. NaN anywhere gives a NaN row.
inline void SoftmaxRow(const float* in, float* out, size_t n, bool log_out) {
  if (n == 0) return;
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  using V = hn::Vec<decltype(d)>;
  // Pass 1: max. Lanes beyond n read as -inf.
  V vmax = hn::Set(d, -INFINITY);
  size_t i = 0;
  for (; i + N <= n; i += N) vmax = hn::Max(vmax, hn::LoadU(d, in + i));
  float max = hn::GetLane(hn::MaxOfLanes(d, vmax));
  for (; i < n; ++i) max = in[i] > max ? in[i] : max;
  if (isinf(max)) return act_detail::SoftmaxInfRow(in, out, n, log_out, max);
  // Pass 2: exp(x - max), stored for softmax, summed for both. A NaN input
  // (or a NaN max) makes the sum NaN, and every output with it.
  const V vm = hn::Set(d, max);
  V sum0 = hn::Zero(d), sum1 = hn::Zero(d);
  i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    const V e0 = ExpPrecise(d, hn::Sub(hn::LoadU(d, in + i), vm));
    const V e1 = ExpPrecise(d, hn::Sub(hn::LoadU(d, in + i + N), vm));
    if (!log_out) {
      hn::StoreU(e0, d, out + i);
      hn::StoreU(e1, d, out + i + N);
    }
    sum0 = hn::Add(sum0, e0);
    sum1 = hn::Add(sum1, e1);
  }
  for (; i < n; i += N) {  // up to two partial vectors
    const size_t count = n - i < N ? n - i : N;
    HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)];
    for (size_t j = 0; j < N; ++j) buf[j] = j < count ? in[i + j] : -INFINITY;
    const V e = ExpPrecise(d, hn::Sub(hn::Load(d, buf), vm));
    sum0 = hn::Add(sum0, e);
    if (!log_out) {
      hn::Store(e, d, buf);
      memcpy(out + i, buf, count * sizeof(float));
    }
  }
  const float sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(sum0, sum1)));
  // Pass 3.
  i = 0;
  if (log_out) {
    const V shift = hn::Set(d, logf(sum));
    for (; i + N <= n; i += N) {
      hn::StoreU(hn::Sub(hn::Sub(hn::LoadU(d, in + i), vm), shift), d, out + i);
    }
    const float s = logf(sum);
    for (; i < n; ++i) out[i] = (in[i] - max) - s;
  } else {
    const V scale = hn::Set(d, 1.0f / sum);
    for (; i + N <= n; i += N) {
      hn::StoreU(hn::Mul(hn::LoadU(d, out + i), scale), d, out + i);
    }
    const float s = 1.0f / sum;
    for (; i < n; ++i) out[i] *= s;
  }
}

// Row-wise softmax over a [rows, cols] row-major matrix; in == out allowed.
inline HWY_NOINLINE void SoftmaxRows(const float* in,  // [rows, cols]
                                     float* out,       // [rows, cols]
                                     size_t rows, size_t cols, bool log_out) {
  for (size_t r = 0; r < rows; ++r) {
    SoftmaxRow(in + r * cols, out + r * cols, cols, log_out);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#endif  // SPARROW_KERNELS_ACTIVATIONS_INL_H_ toggle
