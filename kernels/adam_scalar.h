// Scalar reference for kernels/adam.h, the same operations in the same order.
// Build users with -ffp-contract=off, or the compiler may fuse a multiply and
// an add and change the bits.
#ifndef SPARROW_KERNELS_ADAM_SCALAR_H_
#define SPARROW_KERNELS_ADAM_SCALAR_H_

#include <stddef.h>

#include <cmath>

#include "kernels/adam.h"

namespace sparrow {

template <typename T>
void AdamUpdateScalar(const AdamCoefficients& c, T* value, const T* grad,
                      T* m1, T* m2, size_t n) {
  const T beta1 = c.beta1, beta2 = c.beta2;
  const T omb1 = c.one_minus_beta1, omb2 = c.one_minus_beta2;
  const T neg_step = c.neg_step_size, bias2_sqrt = c.bias2_sqrt, eps = c.eps;
  for (size_t i = 0; i < n; ++i) {
    T g = grad[i];
    if (c.decay == AdamDecay::kL2) g = g + T(c.l2) * value[i];
    if (c.decay == AdamDecay::kDecoupled) value[i] = value[i] * T(c.shrink);
    m1[i] = m1[i] * beta1 + omb1 * g;
    m2[i] = m2[i] * beta2 + omb2 * g * g;
    const T denom = std::sqrt(m2[i]) / bias2_sqrt + eps;
    value[i] = value[i] + neg_step * (m1[i] / denom);
  }
}

}  // namespace sparrow

#endif  // SPARROW_KERNELS_ADAM_SCALAR_H_
