// Block-sparse (16x1) matrix products with bias and activation fused into the
// epilogue: y = act(W x + b) for one vector (Spmv) and Y = act(X Wᵀ + b) for a
// small batch (Spmm), W a BlockSparse16x1 (kernels/block_sparse.h), f32 or
// bf16 blocks, f32 accumulation.
//
//   auto m = sparrow::BlockSparse16x1::PruneToDensity(w, 1152, 384, 0.1f);
//   sparrow::Spmv(m->view(), x, bias, y, sparrow::Activation::kTanh);
//
//   // Batch of 16 inputs, the layout of a fully connected layer (as gemm.h):
//   // X [16, cols] row-major (stride x_stride), Y [16, rows] (stride y_stride).
//   sparrow::Spmm(m->view(), x, cols, bias, y, rows, 16);
//
//   // A thread of a pool computes block-rows [b, e) only: rows 16b .. 16e-1
//   // of y (clipped to rows); other rows of y are not touched.
//   sparrow::Spmv(m->view(), x, bias, y, act, acc, sparrow::BlockRowRange{b, e});
//
// Contract:
// - The view must be valid (Validate() once; BlockSparse16x1::view() always
//   is). Kernels do not check it beyond HWY_DASSERT.
// - Nothing is allocated; no state: concurrent calls are safe as long as their
//   outputs do not overlap (disjoint block-row ranges of one y are disjoint).
// - x, bias, y need only float alignment. y must not overlap x or bias.
// - Exactly the rows of the range are written, each once, after its sum,
//   bias and activation are complete; padding rows are never written.
// - Numerics: each output is an f32 FMA sum over its nonzero blocks in an
//   order that differs from a sequential loop (up to 8 interleaved partial
//   sums); bf16 weights are widened exactly. Error bound in spmv_test.cc.
// - Runtime-dispatched to the best compiled Highway target.
#ifndef SPARROW_KERNELS_SPMV_H_
#define SPARROW_KERNELS_SPMV_H_

#include <stddef.h>

#include "hwy/base.h"
#include "kernels/activation_type.h"
#include "kernels/block_sparse.h"

namespace sparrow {

// Block-rows [begin, end) of a product; end is clipped to BlockRows(), so the
// default is the whole matrix. begin >= end computes nothing.
struct BlockRowRange {
  size_t begin = 0;
  size_t end = ~size_t{0};
};

// y = act(W x + bias); bias may be nullptr.
void Spmv(const BlockSparseView& w,
          const float* HWY_RESTRICT x,     // [cols]
          const float* HWY_RESTRICT bias,  // [rows] or nullptr
          float* HWY_RESTRICT y,           // [rows]
          Activation act = Activation::kIdentity,
          Accuracy acc = Accuracy::kPrecise, BlockRowRange range = {});

// Y = act(X Wᵀ + bias) for `batch` inputs: row b of X is input b, row b of Y
// its output. Any batch (the kernels are tuned for 1..64); batch 1 is Spmv.
void Spmm(const BlockSparseView& w,
          const float* HWY_RESTRICT x,  // [batch, cols], row stride x_stride
          size_t x_stride,
          const float* HWY_RESTRICT bias,  // [rows] or nullptr
          float* HWY_RESTRICT y,           // [batch, rows], row stride y_stride
          size_t y_stride, size_t batch,
          Activation act = Activation::kIdentity,
          Accuracy acc = Accuracy::kPrecise, BlockRowRange range = {});

}  // namespace sparrow

#endif  // SPARROW_KERNELS_SPMV_H_
