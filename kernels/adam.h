// The Adam / AdamW parameter update over float arrays, dispatched at run time
// to the best SIMD target (Highway). The trainer's optimizer
// (trainer/optim/optimizer.cc) computes the per-step coefficients in double,
// as torch.optim does, and hands the element loop to this kernel.
//
//   sparrow::AdamCoefficients c;               // from lr, betas, eps, t
//   c.beta1 = 0.9f; c.one_minus_beta1 = 0.1f; ...
//   sparrow::AdamUpdate(c, value, grad, m1, m2, n);
//
// Contract
// - Per element, in this order and with no fused multiply-add:
//     g  = grad                       (kL2: g = g + l2 * value)
//     value = value * shrink          (kDecoupled only, before the moments)
//     m1 = m1 * beta1 + one_minus_beta1 * g
//     m2 = m2 * beta2 + (one_minus_beta2 * g) * g
//     value = value + neg_step_size * (m1 / (sqrt(m2) / bias2_sqrt + eps))
//   Every operation is a correctly rounded IEEE float operation, so every
//   target (and AdamUpdateScalar<float> in kernels/adam_scalar.h, built with
//   -ffp-contract=off) produces the same bits: training is reproducible
//   across machines, and a checkpoint resumes bit-exactly on another CPU.
// - Memory: the caller owns the four [n] arrays (any alignment); value, m1
//   and m2 are updated in place; none may overlap another. n == 0 is a no-op.
//   Nothing is allocated. Thread-safe (no state).
#ifndef SPARROW_KERNELS_ADAM_H_
#define SPARROW_KERNELS_ADAM_H_

#include <stddef.h>

namespace sparrow {

enum class AdamDecay : int {
  kNone = 0,   // no weight decay
  kDecoupled,  // AdamW: value *= shrink before the update
  kL2,         // Adam: the gradient gets l2 * value
};

struct AdamCoefficients {
  float beta1 = 0.9f, beta2 = 0.999f;
  float one_minus_beta1 = 0.1f, one_minus_beta2 = 0.001f;
  float neg_step_size = 0.0f;  // -lr / (1 - beta1^t)
  float bias2_sqrt = 1.0f;     // sqrt(1 - beta2^t)
  float eps = 1e-8f;
  float shrink = 1.0f;  // kDecoupled: 1 - lr * weight_decay
  float l2 = 0.0f;      // kL2: weight_decay
  AdamDecay decay = AdamDecay::kNone;
};

void AdamUpdate(const AdamCoefficients& c,
                float* value,       // [n], updated
                const float* grad,  // [n]
                float* m1,          // [n] first moment, updated
                float* m2,          // [n] second moment, updated
                size_t n);

}  // namespace sparrow

#endif  // SPARROW_KERNELS_ADAM_H_
