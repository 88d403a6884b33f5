// Segmented block-sparse products: a 16x1 block-sparse matrix product split
// across the threads of a pinned ThreadPool, each thread writing only its own
// segment of the output.
//
//   auto pool = sparrow::ThreadPool::Create({.threads = 2});
//   sparrow::RowPartition part = sparrow::PartitionBlockRows(w, 2);  // once
//   sparrow::SegmentedSpmv(**pool, w, part, x, bias, y, Activation::kTanh);
//
// Contract:
// - The partition is computed once per matrix (at prepare time), not per
//   call: block-rows are split into contiguous ranges holding the same number
//   of nonzero blocks (not the same number of rows), with a small per-row
//   cost for the epilogue, so threads finish together.
// - Results are bit-identical for any thread count: each output row is
//   computed by the same kernel code whichever thread owns it.
// - No allocation per call; the pool's Run() is the only synchronisation.
#ifndef SPARROW_RUNTIME_SEGMENTED_H_
#define SPARROW_RUNTIME_SEGMENTED_H_

#include <stddef.h>

#include <vector>

#include "kernels/activation_type.h"
#include "kernels/block_sparse.h"
#include "kernels/spmv.h"
#include "runtime/thread_pool.h"

namespace sparrow {

// Contiguous block-row ranges, one per part: part i owns block-rows
// [bounds[i], bounds[i + 1]).
struct RowPartition {
  std::vector<size_t> bounds;  // [parts + 1], bounds[0] = 0, last = BlockRows

  size_t parts() const { return bounds.empty() ? 0 : bounds.size() - 1; }
  BlockRowRange range(size_t part) const {
    return BlockRowRange{bounds[part], bounds[part + 1]};
  }
};

// Cost of a block-row in units of one nonzero block: the blocks plus the
// epilogue (bias, activation, store of 16 outputs).
constexpr double kBlockRowOverheadBlocks = 1.0;

// Splits w's block-rows into `parts` ranges of (nearly) equal cost. parts must
// be >= 1; parts larger than the block-rows give some empty ranges.
RowPartition PartitionBlockRows(const BlockSparseView& w, size_t parts);

// The largest part's cost over the mean part's cost (1.0 is perfect).
double PartitionImbalance(const BlockSparseView& w, const RowPartition& p);

// y = act(W x + bias), part i computed by pool thread i (p.parts() must equal
// pool.NumThreads()).
void SegmentedSpmv(ThreadPool& pool, const BlockSparseView& w,
                   const RowPartition& p, const float* x, const float* bias,
                   float* y, Activation act = Activation::kIdentity,
                   Accuracy acc = Accuracy::kPrecise);

// Y = act(X Wᵀ + bias) for a small batch (layout as Spmm in kernels/spmv.h).
void SegmentedSpmm(ThreadPool& pool, const BlockSparseView& w,
                   const RowPartition& p, const float* x, size_t x_stride,
                   const float* bias, float* y, size_t y_stride, size_t batch,
                   Activation act = Activation::kIdentity,
                   Accuracy acc = Accuracy::kPrecise);

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_SEGMENTED_H_
