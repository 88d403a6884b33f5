// The trainer's matrix products, one call for float (the SIMD kernels of
// kernels/gemm.h) and double (kernels/gemm_scalar.h, for gradient checks).
//
//   sparrow::train::MatMul<float>(Transpose::kNo, Transpose::kYes, m, n, k,
//                                 1.0f, x, k, w, k, 0.0f, y, n);
//   sparrow::train::LinearBias<float>(m, n, k, x, k, w, b, Activation::kRelu,
//                                     y, n);
//
// Contract: as Gemm / GemmBiasActivation (row-major, beta == 0 means C is
// not read). The float path keeps one packing workspace per thread (grown on
// demand, never shrunk), so steady-state training does not allocate. Each
// call runs on the calling thread only; results depend on the shapes, not on
// the thread, so batch-parallel training is deterministic.
#ifndef SPARROW_TRAINER_MATMUL_H_
#define SPARROW_TRAINER_MATMUL_H_

#include <stddef.h>

#include <type_traits>

#include "hwy/aligned_allocator.h"
#include "kernels/activation_type.h"
#include "kernels/gemm.h"
#include "kernels/gemm_scalar.h"

namespace sparrow {
namespace train {

// This thread's GEMM workspace of at least `bytes` bytes.
void* GemmWorkspace(size_t bytes);

template <typename T>
void MatMul(Transpose ta, Transpose tb, size_t m, size_t n, size_t k, T alpha,
            const T* a, size_t lda, const T* b, size_t ldb, T beta, T* c,
            size_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    const size_t bytes = GemmWorkspaceBytes(m, n, k);
    Gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
         GemmWorkspace(bytes), bytes);
  } else {
    GemmScalar<T>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

// y [m, n] (row stride ldy) = act(x [m, k] (row stride ldx) . w [n, k]^T
// + b [n]); b may be null.
template <typename T>
void LinearBias(size_t m, size_t n, size_t k, const T* x, size_t ldx,
                const T* w, const T* b, Activation act, T* y, size_t ldy) {
  if constexpr (std::is_same_v<T, float>) {
    const size_t bytes = GemmWorkspaceBytes(m, n, k);
    GemmBiasActivation(m, n, k, x, ldx, w, k, b, act, Accuracy::kPrecise, y,
                       ldy, GemmWorkspace(bytes), bytes);
  } else {
    GemmBiasActivationScalar<T>(m, n, k, x, ldx, w, k, b, act, y, ldy);
  }
}

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_MATMUL_H_
