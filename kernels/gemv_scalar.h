// Scalar references for kernels/gemv.h, written for obviousness. Templated on
// T so tests can run them in double. Not for production use.
#ifndef SPARROW_KERNELS_GEMV_SCALAR_H_
#define SPARROW_KERNELS_GEMV_SCALAR_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmath>

#include "hwy/base.h"
#include "kernels/activation_type.h"

namespace sparrow {

template <typename T>
T ActivateScalar(Activation act, T v) {
  switch (act) {
    case Activation::kRelu:
      return v > T(0) ? v : T(0);
    case Activation::kSigmoid:
      return T(1) / (T(1) + std::exp(-v));
    case Activation::kTanh:
      return std::tanh(v);
    case Activation::kGelu: {
      const T k = T(0.7978845608028654);  // sqrt(2/pi)
      return T(0.5) * v * (T(1) + std::tanh(k * (v + T(0.044715) * v * v * v)));
    }
    case Activation::kIdentity:
    default:
      return v;
  }
}

// y[r] = act(sum_c w[r * cols + c] * x[c] + bias[r]); bias may be null.
template <typename T>
void GemvScalar(const T* w, const T* x, const T* bias, T* y, size_t rows,
                size_t cols, Activation act) {
  for (size_t r = 0; r < rows; ++r) {
    T sum = bias ? bias[r] : T(0);
    for (size_t c = 0; c < cols; ++c) sum += w[r * cols + c] * x[c];
    y[r] = ActivateScalar(act, sum);
  }
}

inline float Bf16ToF32Scalar(hwy::bfloat16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b.bits) << 16;
  float f;
  memcpy(&f, &bits, sizeof(f));
  return f;
}

// Round to nearest even; NaN -> quiet NaN.
inline hwy::bfloat16_t F32ToBf16Scalar(float f) {
  uint32_t bits;
  memcpy(&bits, &f, sizeof(bits));
  hwy::bfloat16_t out;
  if (std::isnan(f)) {
    out.bits = static_cast<uint16_t>((bits | 0x00400000u) >> 16);
  } else {
    const uint32_t lsb = (bits >> 16) & 1u;
    out.bits = static_cast<uint16_t>((bits + 0x7FFFu + lsb) >> 16);
  }
  return out;
}

}  // namespace sparrow

#endif  // SPARROW_KERNELS_GEMV_SCALAR_H_
