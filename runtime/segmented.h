// Segmented block-sparse products: a 16x1 block-sparse matrix product (or a
// sparse GRU step) split across the threads of a pinned ThreadPool, each
// thread writing only its own segment of the output.
//
//   auto pool = sparrow::ThreadPool::Create({.threads = 2});
//   sparrow::RowPartition part = sparrow::PartitionBlockRows(w, 2);  // once
//   sparrow::SegmentedSpmv(**pool, w, part, x, bias, y, Activation::kTanh);
//
//   // A sparse GRU (kernels/sparse_gru.h): chunks of 16 hidden units.
//   sparrow::RowPartition units = sparrow::PartitionGruUnits(gw, 2);  // once
//   sparrow::SegmentedSparseGruStep(**pool, gw, units, x, h[0], h[1]);
//
// Contract:
// - The partition is computed once per matrix (at prepare time), not per
//   call: block-rows are split into contiguous ranges holding the same number
//   of nonzero blocks (not the same number of rows), with a small per-row
//   cost for the epilogue, so threads finish together.
// - Results are bit-identical for any thread count: each output row (GRU
//   unit) is computed by the same kernel code whichever thread owns it.
// - No allocation per call; the pool's Run() is the only synchronisation.
#ifndef SPARROW_RUNTIME_SEGMENTED_H_
#define SPARROW_RUNTIME_SEGMENTED_H_

#include <stddef.h>

#include <vector>

#include "kernels/activation_type.h"
#include "kernels/block_sparse.h"
#include "kernels/sparse_gru.h"
#include "kernels/spmv.h"
#include "runtime/thread_pool.h"

namespace sparrow {

// Contiguous block-row (or GRU chunk) ranges, one per part: part i owns
// [bounds[i], bounds[i + 1]).
struct RowPartition {
  std::vector<size_t> bounds;  // [parts + 1], bounds[0] = 0, last = count

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

// Cost of a sparse GRU chunk (16 hidden units) beyond its nonzero blocks, in
// units of one block: six block-row reductions, the bias loads, two sigmoids
// and a tanh on 16 lanes, and the state update; roughly one block per
// block-row the chunk reads.
constexpr double kGruChunkOverheadBlocks = 6.0;

// Splits a sparse GRU's hidden/16 chunks (the `units` of SparseGruStep) into
// `parts` ranges of (nearly) equal cost: the nonzero blocks of the six
// block-rows each chunk reads (r, z, n of W_ih and W_hh) plus the overhead.
// w must satisfy ValidateSparseGru.
RowPartition PartitionGruUnits(const SparseGruWeights& w, size_t parts);

// PartitionImbalance for a partition of GRU chunks.
double GruPartitionImbalance(const SparseGruWeights& w, const RowPartition& p);

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

// One sparse GRU step, chunks of part i computed by pool thread i
// (p.parts() == pool.NumThreads(); p from PartitionGruUnits). Every thread
// reads all of x and h_prev; h_next must not alias h_prev (ping-pong).
void SegmentedSparseGruStep(ThreadPool& pool, const SparseGruWeights& w,
                            const RowPartition& p, const float* x,
                            const float* h_prev, float* h_next,
                            Accuracy acc = Accuracy::kPrecise);

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_SEGMENTED_H_
