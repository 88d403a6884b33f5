// Scalar references for kernels/activations.h, written for obviousness and
// templated on T: tests run them in double to get the exact result that the
// float kernels are measured against.
//
//   double want = sparrow::TanhRef<double>(x);
#ifndef SPARROW_KERNELS_ACTIVATIONS_SCALAR_H_
#define SPARROW_KERNELS_ACTIVATIONS_SCALAR_H_

#include <stddef.h>

#include <cmath>
#include <limits>

#include "kernels/activation_type.h"

namespace sparrow {

template <typename T>
T ExpRef(T x) {
  return std::exp(x);
}

template <typename T>
T TanhRef(T x) {
  return std::tanh(x);
}

// Both branches avoid overflow and keep the negative tail's relative accuracy.
template <typename T>
T SigmoidRef(T x) {
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

template <typename T>
T ReluRef(T x) {
  return x < 0 ? T(0) : x;
}

// GELU, tanh form: 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3).
// Computed as the identical x * sigmoid(2u): 1 + tanh(u) cancels for x << 0
// even in double (it is exactly 0 in double from x ~ -8, while the true value
// is still a normal float). The -inf limit is -0.
template <typename T>
T GeluRef(T x) {
  if (std::isinf(x)) return x > 0 ? x : T(-0.0);
  const T kSqrt2OverPi = T(0.79788456080286535587989211986876);
  const T u = kSqrt2OverPi * (x + T(0.044715) * x * x * x);
  return x * SigmoidRef(T(2) * u);
}

// The activation `act` by its definition; every kernel's scalar reference
// applies its epilogue through this one function.
template <typename T>
T ActivateRef(Activation act, T x) {
  switch (act) {
    case Activation::kRelu:
      return ReluRef(x);
    case Activation::kSigmoid:
      return SigmoidRef(x);
    case Activation::kTanh:
      return TanhRef(x);
    case Activation::kGelu:
      return GeluRef(x);
    case Activation::kIdentity:
      break;
  }
  return x;
}

// d act(x) / dx given x and y = act(x) (the trainer's gradient checks run it
// in double). GELU at +-inf returns its limits 1 / 0 (the formula gives
// inf * 0 = NaN there), as kernels/activations.h promises.
template <typename T>
T ActivationDerivativeRef(Activation act, T x, T y) {
  switch (act) {
    case Activation::kRelu:
      return x > T(0) ? T(1) : T(0);
    case Activation::kTanh:
      return T(1) - y * y;
    case Activation::kSigmoid:
      return y * (T(1) - y);
    case Activation::kGelu: {
      if (std::isinf(x)) return x > 0 ? T(1) : T(0);
      // y = x s(2u), u = c (x + a x^3): y' = s + x s (1 - s) 2 u'.
      const T c = T(0.79788456080286535587989211986876), a = T(0.044715);
      const T u = c * (x + a * x * x * x);
      const T s = SigmoidRef(T(2) * u);
      return s + x * s * (T(1) - s) * T(2) * c * (T(1) + T(3) * a * x * x);
    }
    case Activation::kIdentity:
      break;
  }
  return T(1);
}

// dx[i] += dy[i] * act'(x[i]). Relu adds x > 0 ? dy : 0 (not dy * 0, which
// would turn an infinite or NaN dy into NaN).
template <typename T>
void ActivateBackwardRef(Activation act, const T* x, const T* y, const T* dy,
                         T* dx, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (act == Activation::kRelu) {
      dx[i] += x[i] > T(0) ? dy[i] : T(0);
    } else {
      dx[i] += dy[i] * ActivationDerivativeRef(act, x[i], y[i]);
    }
  }
}

// Softmax over n values with the max subtracted; NaN and infinity handling as
// documented in kernels/activations.h.
template <typename T>
void SoftmaxRef(const T* in, T* out, size_t n, bool log_out = false) {
  if (n == 0) return;
  bool nan = false;
  T max = -std::numeric_limits<T>::infinity();
  for (size_t i = 0; i < n; ++i) {
    nan |= std::isnan(in[i]);
    if (in[i] > max) max = in[i];
  }
  if (nan) {
    for (size_t i = 0; i < n; ++i) out[i] = std::numeric_limits<T>::quiet_NaN();
    return;
  }
  if (std::isinf(max)) {  // the limit: infinities share the mass equally
    size_t k = 0;
    for (size_t i = 0; i < n; ++i) k += in[i] == max;
    for (size_t i = 0; i < n; ++i) {
      const bool hit = in[i] == max;
      out[i] = log_out ? (hit ? -std::log(T(k))
                              : -std::numeric_limits<T>::infinity())
                       : (hit ? T(1) / T(k) : T(0));
    }
    return;
  }
  T sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::exp(in[i] - max);
  for (size_t i = 0; i < n; ++i) {
    out[i] = log_out ? (in[i] - max) - std::log(sum)
                     : std::exp(in[i] - max) / sum;
  }
}

template <typename T>
void LogSoftmaxRef(const T* in, T* out, size_t n) {
  SoftmaxRef(in, out, n, /*log_out=*/true);
}

}  // namespace sparrow

#endif  // SPARROW_KERNELS_ACTIVATIONS_SCALAR_H_
