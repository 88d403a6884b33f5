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
#include "kernels/activations_scalar.h"
#include "kernels/bf16.h"

namespace sparrow {

// y[r] = act(sum_c w[r * cols + c] * x[c] + bias[r]); bias may be null.
template <typename T>
void GemvScalar(const T* w, const T* x, const T* bias, T* y, size_t rows,
                size_t cols, Activation act) {
  for (size_t r = 0; r < rows; ++r) {
    T sum = bias ? bias[r] : T(0);
    for (size_t c = 0; c < cols; ++c) sum += w[r * cols + c] * x[c];
    y[r] = ActivateRef(act, sum);
  }
}

inline float Bf16ToF32Scalar(hwy::bfloat16_t b) { return Bf16BitsToF32(b.bits); }

inline hwy::bfloat16_t F32ToBf16Scalar(float f) {
  hwy::bfloat16_t out;
  out.bits = F32ToBf16Bits(f);
  return out;
}

}  // namespace sparrow

#endif  // SPARROW_KERNELS_GEMV_SCALAR_H_
