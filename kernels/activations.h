// Element-wise activations and softmax over float arrays, dispatched at run
// time to the best SIMD target (Highway).
//
//   std::vector<float> h(n);
//   sparrow::Tanh(x.data(), h.data(), n);                          // precise
//   sparrow::Sigmoid(h.data(), h.data(), n, sparrow::Accuracy::kFast);
//   sparrow::Softmax(logits, probs, vocab);
//   sparrow::ActivateBackward(Activation::kTanh, x, h, dh, dx, n);  // dx +=
//
// Contract
// - Memory: the caller owns `in` and `out` ([n] floats each, any alignment);
//   `in == out` (in place) is allowed, other overlaps are not. n == 0 is a
//   no-op. Nothing is allocated. All functions are thread-safe (no state).
// - Accuracy (measured by kernels/activations_test.cc on every compiled target,
//   figures in docs/ACTIVATIONS.md):
//   kPrecise: Tanh, Sigmoid, Exp within 4 ULP of the correctly rounded result
//             for every float input. Exp overflows to +inf above 88.72 and
//             returns correctly scaled denormals, then +0, below -87.34.
//   kFast:    Tanh, Sigmoid within 1e-4 absolute error; they saturate to
//             exactly -1/+1 (0/1) for large |x|. Exp has one tier (precise).
//   Gelu is the tanh form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))),
//   evaluated as x * sigmoid(2u) (no cancellation for x < 0); its errors are
//   stated in docs/ACTIVATIONS.md. Relu is exact.
// - Specials: +-0, +-inf give the mathematical limits; a NaN input gives NaN
//   in that output lane (every tier, every forward function).
// - ActivateBackward has its own contract, below.
// - Softmax/LogSoftmax subtract the row max, so no input overflows. NaN
//   anywhere in a row makes the whole row NaN. A row of all -inf gives the
//   uniform 1/n (log: -log n); a row with k entries of +inf gives 1/k to
//   those (log: -log k) and 0 (log: -inf) to the rest.
#ifndef SPARROW_KERNELS_ACTIVATIONS_H_
#define SPARROW_KERNELS_ACTIVATIONS_H_

#include <stddef.h>

#include "kernels/activation_type.h"

namespace sparrow {

void Tanh(const float* in, float* out, size_t n,
          Accuracy acc = Accuracy::kPrecise);
void Sigmoid(const float* in, float* out, size_t n,
             Accuracy acc = Accuracy::kPrecise);
// One tier: `acc` is accepted for a uniform signature and ignored.
void Exp(const float* in, float* out, size_t n,
         Accuracy acc = Accuracy::kPrecise);
void Gelu(const float* in, float* out, size_t n,
          Accuracy acc = Accuracy::kPrecise);
// Exact; `acc` is ignored.
void Relu(const float* in, float* out, size_t n,
          Accuracy acc = Accuracy::kPrecise);

// Runtime-selected activation, e.g. from a model file. kIdentity copies.
void Activate(Activation act, Accuracy acc, const float* in, float* out,
              size_t n);

// Backward of Activate (precise tier), for training:
//   dx[i] += dy[i] * act'(x[i])
// with x the forward input and y = act(x) its output, the derivatives those of
// ActivationDerivativeRef (kernels/activations_scalar.h): Relu x > 0 ? 1 : 0,
// Tanh 1 - y^2,
// Sigmoid y (1 - y), Gelu (tanh form) s + x s (1 - s) 2u' with s = sigmoid(2u),
// Identity 1.
// - Memory: [n] floats each, any alignment. dx is read and written and must
//   not overlap x, y or dy. Only x is read for Relu and Gelu, only y for Tanh
//   and Sigmoid, neither for Identity; the unread one may be null. n == 0 is
//   a no-op. Thread-safe, allocates nothing.
// - Relu and Identity are exact and equal the plain float loops
//   `dx += x > 0 ? dy : 0` and `dx += dy` bit for bit: a NaN x, or x <= 0,
//   contributes +0 whatever dy is (dx is kept, except that -0 becomes +0).
// - Tanh, Sigmoid: |error| <= 5 eps (|dx| + |dy act'(x)|) + (1 + |dy|) 2^-149,
//   eps = 2^-24, against the exact dx + dy act'(x) for the given float y:
//   1 - y^2 is computed as (1 - y)(1 + y) (no cancellation near |y| = 1, with
//   or without FMA), the accumulation is one FMA where the target has one.
//   Measured max 3.0 eps (2.3 with FMA; 1.6 for dx = 0, dy = 1).
// - Gelu: |error| <= eps (2 |dx| + |dy| (|s| + |t|) (16 + 4 |2u|)) +
//   (1 + |dy|)(1 + |x g'|) 2^-147, where act' = s + t and g' = d(2u)/dx: the
//   float argument 2u carries a few eps of relative error, which exp scales
//   by |2u| (400 eps relative at x = -10.2, where act' ~ 1e-38; 12 eps at
//   x = -3.5); s (1 - s) is computed as e / (1 + e)^2 (no cancellation for
//   x >> 0). Measured max 0.69 of the bound. +inf gives act' = 1, -inf 0
//   (the limits), NaN gives NaN.
// Measured by kernels/activations_backward_test.cc on every compiled target.
void ActivateBackward(Activation act, const float* x, const float* y,
                      const float* dy, float* dx, size_t n);

// out = softmax(in) / log_softmax(in) over n floats (kPrecise exp).
void Softmax(const float* in, float* out, size_t n);
void LogSoftmax(const float* in, float* out, size_t n);

// The same for each row of a row-major [rows, cols] matrix.
void SoftmaxRows(const float* in,  // [rows, cols]
                 float* out,       // [rows, cols]
                 size_t rows, size_t cols);
void LogSoftmaxRows(const float* in,  // [rows, cols]
                    float* out,       // [rows, cols]
                    size_t rows, size_t cols);

}  // namespace sparrow

#endif  // SPARROW_KERNELS_ACTIVATIONS_H_
