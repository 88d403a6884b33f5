// Scalar reference for gemm.h, written for obviousness: the triple loop.
// Templated on T so tests can run it in double on float inputs (T = double
// after converting the inputs).
//
//   sparrow::GemmScalar<double>(Transpose::kNo, Transpose::kYes, m, n, k,
//                               1.0, a, k, b, k, 0.0, c, n);
//
// Same contract as Gemm (row-major, beta == 0 means C is not read), no
// workspace, no allocation.
#ifndef SPARROW_KERNELS_GEMM_SCALAR_H_
#define SPARROW_KERNELS_GEMM_SCALAR_H_

#include <stddef.h>

#include <cmath>

#include "kernels/activation_type.h"
#include "kernels/activations_scalar.h"
#include "kernels/gemm.h"

namespace sparrow {

// op(A)[i, p] for a matrix stored row-major with leading dimension ld.
template <typename T>
T GemmScalarAt(Transpose t, const T* x, size_t ld, size_t row, size_t col) {
  return t == Transpose::kNo ? x[row * ld + col] : x[col * ld + row];
}

// C = alpha * op(A) * op(B) + beta * C.
template <typename T>
void GemmScalar(Transpose ta, Transpose tb, size_t m, size_t n, size_t k,
                T alpha, const T* a, size_t lda, const T* b, size_t ldb,
                T beta, T* c, size_t ldc) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      T sum = 0;
      for (size_t p = 0; p < k; ++p) {
        sum += GemmScalarAt(ta, a, lda, i, p) * GemmScalarAt(tb, b, ldb, p, j);
      }
      const T old = beta == T(0) ? T(0) : beta * c[i * ldc + j];
      c[i * ldc + j] = alpha * sum + old;
    }
  }
}

// Y[m,n] = act(X[m,k] · W[n,k]ᵀ + bias[n]); bias may be null.
template <typename T>
void GemmBiasActivationScalar(size_t m, size_t n, size_t k, const T* x,
                              size_t ldx, const T* w, size_t ldw, const T* bias,
                              Activation act, T* y, size_t ldy) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      T sum = bias == nullptr ? T(0) : bias[j];
      for (size_t p = 0; p < k; ++p) sum += x[i * ldx + p] * w[j * ldw + p];
      y[i * ldy + j] = ActivateRef(act, sum);
    }
  }
}

}  // namespace sparrow

#endif  // SPARROW_KERNELS_GEMM_SCALAR_H_
