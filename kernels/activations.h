// Element-wise activations and softmax over float arrays, dispatched at run
// time to the best SIMD target (Highway).
//
//   std::vector<float> h(n);
//   sparrow::Tanh(x.data(), h.data(), n);                          // precise
//   sparrow::Sigmoid(h.data(), h.data(), n, sparrow::Accuracy::kFast);
//   sparrow::Softmax(logits, probs, vocab);
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
//   in that output lane (every tier, every function).
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
