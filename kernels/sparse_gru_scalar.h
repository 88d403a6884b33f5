// Scalar reference for kernels/sparse_gru.h (PyTorch GRUCell semantics on
// block-sparse weights), written for obviousness: it walks each row's blocks
// with BlockWeight. Templated on T so tests can run it in double.
//
//   sparrow::SparseGruStepScalar<double>(w_ih.view(), w_hh.view(), b_ih, b_hh,
//                                        H, x, h_prev, h_next);
#ifndef SPARROW_KERNELS_SPARSE_GRU_SCALAR_H_
#define SPARROW_KERNELS_SPARSE_GRU_SCALAR_H_

#include <stddef.h>

#include <cmath>

#include "kernels/block_sparse.h"

namespace sparrow {

// Row `row` of w times v: the sum over the nonzero blocks covering the row.
template <typename T>
T SparseRowDotScalar(const BlockSparseView& w, size_t row, const T* v) {
  const size_t i = row / kSparseBlockRows, r = row % kSparseBlockRows;
  T s = T(0);
  for (size_t k = 0; k < w.Count(i); ++k) {
    const size_t c = w.col_indices[w.block_offsets[i] + k];
    s += static_cast<T>(BlockWeight(w, i, k, r)) * v[c];
  }
  return s;
}

// w_ih [3H, I], w_hh [3H, H] (valid views), b_ih/b_hh [3H] or nullptr, x [I]
// (I = w_ih.cols); rows ordered (r, z, n). Any hidden: the kernel's
// multiple-of-16 rule is its own.
template <typename T>
void SparseGruStepScalar(const BlockSparseView& w_ih,
                         const BlockSparseView& w_hh, const T* b_ih,
                         const T* b_hh, size_t hidden, const T* x,
                         const T* h_prev, T* h_next) {
  auto gi = [&](size_t row) {  // W_i? x + b_i?
    return (b_ih ? b_ih[row] : T(0)) + SparseRowDotScalar<T>(w_ih, row, x);
  };
  auto gh = [&](size_t row) {  // W_h? h + b_h?
    return (b_hh ? b_hh[row] : T(0)) + SparseRowDotScalar<T>(w_hh, row, h_prev);
  };
  auto sigmoid = [](T v) { return T(1) / (T(1) + std::exp(-v)); };
  for (size_t j = 0; j < hidden; ++j) {
    const T r = sigmoid(gi(j) + gh(j));
    const T z = sigmoid(gi(hidden + j) + gh(hidden + j));
    const T n = std::tanh(gi(2 * hidden + j) + r * gh(2 * hidden + j));
    h_next[j] = (T(1) - z) * n + z * h_prev[j];
  }
}

}  // namespace sparrow

#endif  // SPARROW_KERNELS_SPARSE_GRU_SCALAR_H_
