// Scalar references for kernels/spmv.h, written for obviousness and templated
// on T: tests run them in double to get the result the SIMD kernels are
// measured against; trainer tests can use them directly.
//
//   sparrow::SpmmScalar<double>(m.view(), x, cols, b, y, rows, batch,
//                               sparrow::Activation::kTanh);
#ifndef SPARROW_KERNELS_SPMV_SCALAR_H_
#define SPARROW_KERNELS_SPMV_SCALAR_H_

#include <stddef.h>

#include "kernels/activation_type.h"
#include "kernels/activations_scalar.h"
#include "kernels/block_sparse.h"

namespace sparrow {

// Y[b, r] = act(bias[r] + sum over nonzero blocks (i, c) covering row r of
// w[r, c] * X[b, c]) for block-rows [begin, min(end, BlockRows())); rows
// outside the range and padding rows are not written.
template <typename T>
void SpmmScalar(const BlockSparseView& w, const T* x, size_t x_stride,
                const T* bias, T* y, size_t y_stride, size_t batch,
                Activation act, size_t begin = 0, size_t end = ~size_t{0}) {
  if (end > w.BlockRows()) end = w.BlockRows();
  for (size_t i = begin; i < end; ++i) {
    for (size_t r = 0; r < 16 && i * 16 + r < w.rows; ++r) {
      const size_t row = i * 16 + r;
      for (size_t b = 0; b < batch; ++b) {
        T sum = bias != nullptr ? bias[row] : T(0);
        for (size_t k = 0; k < w.Count(i); ++k) {
          const size_t c = w.col_indices[w.block_offsets[i] + k];
          sum += static_cast<T>(BlockWeight(w, i, k, r)) * x[b * x_stride + c];
        }
        y[b * y_stride + row] = ActivateRef<T>(act, sum);
      }
    }
  }
}

template <typename T>
void SpmvScalar(const BlockSparseView& w, const T* x, const T* bias, T* y,
                Activation act) {
  SpmmScalar<T>(w, x, w.cols, bias, y, w.rows, 1, act);
}

}  // namespace sparrow

#endif  // SPARROW_KERNELS_SPMV_SCALAR_H_
