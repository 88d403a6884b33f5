// The trainer's dense and elementwise layers, llm.c style: FooForward and
// FooBackward side by side. Backward reads what forward saved (its input or
// output, named in each signature) and ACCUMULATES gradients with +=, so a
// tensor read by two layers gets the sum; callers zero gradients once per
// step. Templated on T: float for training (SIMD kernels), double for the
// gradient checks (scalar references). Shapes are row-major, batch first.
//
//   LinearForward(y, x, w, b, B, K, N);          // y [B, N]
//   ActivationForward(Activation::kRelu, a, y, B * N);
//   ...
//   ActivationBackward(Activation::kRelu, dy, dA, y, a, B * N);  // dy += ...
//   LinearBackward(dx, dw, db, dy, x, w, B, K, N);
//
// Gradient pointers may be null where a gradient is not wanted (the input of
// the first layer, a bias-free layer).
#ifndef SPARROW_TRAINER_LAYERS_H_
#define SPARROW_TRAINER_LAYERS_H_

#include <stddef.h>
#include <stdint.h>

#include <cmath>
#include <type_traits>

#include "hwy/base.h"
#include "kernels/activation_type.h"
#include "kernels/activations.h"
#include "kernels/activations_scalar.h"
#include "trainer/matmul.h"

namespace sparrow {
namespace train {

// ------------------------------ Linear

// y [B, N] = x [B, K] . w [N, K]^T + b [N] (b may be null).
template <typename T>
void LinearForward(T* y, const T* x, const T* w, const T* b, size_t B,
                   size_t K, size_t N) {
  LinearBias<T>(B, N, K, x, K, w, b, Activation::kIdentity, y, N);
}

// dw += dy^T x, db += column sums of dy, dx += dy w.
template <typename T>
void LinearBackward(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w,
                    size_t B, size_t K, size_t N) {
  MatMul<T>(Transpose::kYes, Transpose::kNo, N, K, B, T(1), dy, N, x, K, T(1),
            dw, K);
  if (db != nullptr) {
    for (size_t r = 0; r < B; ++r) {
      for (size_t o = 0; o < N; ++o) db[o] += dy[r * N + o];
    }
  }
  if (dx != nullptr) {
    MatMul<T>(Transpose::kNo, Transpose::kNo, B, K, N, T(1), dy, N, w, K, T(1),
              dx, K);
  }
}

// ------------------------------ ReLU, Tanh, Sigmoid, GELU (tanh form)

// y = act(x), n elements. The float path is the runtime's kernel (precise
// tier), so a trained model computes what the runtime will.
template <typename T>
void ActivationForward(Activation act, T* y, const T* x, size_t n) {
  if constexpr (std::is_same_v<T, float>) {
    Activate(act, Accuracy::kPrecise, x, y, n);
  } else {
    for (size_t i = 0; i < n; ++i) y[i] = ActivateRef(act, x[i]);
  }
}

// dx += dy * act'(x); x is the forward input, y its output. The float path is
// the dispatched SIMD kernel (kernels/activations.h: Relu bit-identical to the
// reference, the others within a few eps); double runs the reference
// (kernels/activations_scalar.h), which the gradient checks use.
template <typename T>
void ActivationBackward(Activation act, T* HWY_RESTRICT dx,
                        const T* HWY_RESTRICT dy, const T* HWY_RESTRICT x,
                        const T* HWY_RESTRICT y, size_t n) {
  if constexpr (std::is_same_v<T, float>) {
    sparrow::ActivateBackward(act, x, y, dy, dx, n);
  } else {
    ActivateBackwardRef<T>(act, x, y, dy, dx, n);
  }
}

// ------------------------------ Dropout

// Keep element i of step `seed` with probability 1 - p: a counter-based hash,
// so the mask is a pure function of (seed, i) (deterministic for any thread
// split) and need not be stored.
inline bool DropoutKeep(uint64_t seed, size_t i, float p) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (static_cast<uint64_t>(i) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53 >= p;
}

// y = x * keep / (1 - p) in training (at inference dropout is the
// identity: callers skip it). Element i of x is element offset + i of the
// whole batch, so a batch split across threads draws the same mask.
template <typename T>
void DropoutForward(T* y, const T* x, size_t n, float p, uint64_t seed,
                    size_t offset = 0) {
  const T scale = p < 1.0f ? T(1) / (T(1) - T(p)) : T(0);
  for (size_t i = 0; i < n; ++i) {
    y[i] = DropoutKeep(seed, offset + i, p) ? x[i] * scale : T(0);
  }
}

template <typename T>
void DropoutBackward(T* dx, const T* dy, size_t n, float p, uint64_t seed,
                     size_t offset = 0) {
  const T scale = p < 1.0f ? T(1) / (T(1) - T(p)) : T(0);
  for (size_t i = 0; i < n; ++i) {
    if (DropoutKeep(seed, offset + i, p)) dx[i] += dy[i] * scale;
  }
}

// ------------------------------ Embedding

// y [n, D] = table [V, D] rows idx[0..n) (indices checked by the caller).
template <typename T>
void EmbeddingForward(T* y, const int32_t* idx, const T* table, size_t n,
                      size_t D) {
  for (size_t i = 0; i < n; ++i) {
    const T* row = table + static_cast<size_t>(idx[i]) * D;
    for (size_t d = 0; d < D; ++d) y[i * D + d] = row[d];
  }
}

template <typename T>
void EmbeddingBackward(T* dtable, const T* dy, const int32_t* idx, size_t n,
                       size_t D) {
  for (size_t i = 0; i < n; ++i) {
    T* row = dtable + static_cast<size_t>(idx[i]) * D;
    for (size_t d = 0; d < D; ++d) row[d] += dy[i * D + d];
  }
}

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_LAYERS_H_
