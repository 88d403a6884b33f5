#include "runtime/segmented.h"

#include <algorithm>

#include "hwy/base.h"

namespace sparrow {

namespace {

double RowCost(const BlockSparseView& w, size_t block_row) {
  return static_cast<double>(w.Count(block_row)) + kBlockRowOverheadBlocks;
}

// What a GRU chunk c reads: block-row c of each gate of both matrices.
double GruChunkCost(const SparseGruWeights& w, size_t c) {
  const size_t g = SparseGruChunks(w);
  size_t blocks = 0;
  for (size_t gate = 0; gate < 3; ++gate) {
    blocks += w.w_ih.Count(gate * g + c) + w.w_hh.Count(gate * g + c);
  }
  return static_cast<double>(blocks) + kGruChunkOverheadBlocks;
}

// Splits items [0, n) with costs cost(i) into `parts` contiguous ranges of
// (nearly) equal total cost.
template <class Cost>
RowPartition PartitionByCost(size_t n, size_t parts, const Cost& cost) {
  HWY_ASSERT(parts >= 1);
  double total = 0.0;
  for (size_t r = 0; r < n; ++r) total += cost(r);
  RowPartition p;
  p.bounds.assign(parts + 1, n);
  p.bounds[0] = 0;
  // Part i ends at the item where the running cost is nearest to
  // (i + 1) / parts of the total.
  double running = 0.0;
  size_t row = 0;
  for (size_t i = 0; i + 1 < parts; ++i) {
    const double target = total * static_cast<double>(i + 1) / parts;
    while (row < n && running + cost(row) <= target) {
      running += cost(row++);
    }
    if (row < n && target - running > running + cost(row) - target) {
      running += cost(row++);  // Including the item lands nearer.
    }
    p.bounds[i + 1] = row;
  }
  return p;
}

template <class Cost>
double ImbalanceByCost(const RowPartition& p, const Cost& cost) {
  double total = 0.0, largest = 0.0;
  for (size_t i = 0; i < p.parts(); ++i) {
    double part = 0.0;
    for (size_t r = p.bounds[i]; r < p.bounds[i + 1]; ++r) part += cost(r);
    total += part;
    largest = std::max(largest, part);
  }
  if (total == 0.0) return 1.0;
  return largest / (total / static_cast<double>(p.parts()));
}

}  // namespace

RowPartition PartitionBlockRows(const BlockSparseView& w, size_t parts) {
  return PartitionByCost(w.BlockRows(), parts,
                         [&w](size_t r) { return RowCost(w, r); });
}

double PartitionImbalance(const BlockSparseView& w, const RowPartition& p) {
  return ImbalanceByCost(p, [&w](size_t r) { return RowCost(w, r); });
}

RowPartition PartitionGruUnits(const SparseGruWeights& w, size_t parts) {
  return PartitionByCost(SparseGruChunks(w), parts,
                         [&w](size_t c) { return GruChunkCost(w, c); });
}

double GruPartitionImbalance(const SparseGruWeights& w,
                             const RowPartition& p) {
  return ImbalanceByCost(p, [&w](size_t c) { return GruChunkCost(w, c); });
}

void SegmentedSpmv(ThreadPool& pool, const BlockSparseView& w,
                   const RowPartition& p, const float* x, const float* bias,
                   float* y, Activation act, Accuracy acc) {
  HWY_ASSERT(p.parts() == pool.NumThreads());
  pool.Run([&](size_t thread) {
    Spmv(w, x, bias, y, act, acc, p.range(thread));
  });
}

void SegmentedSpmm(ThreadPool& pool, const BlockSparseView& w,
                   const RowPartition& p, const float* x, size_t x_stride,
                   const float* bias, float* y, size_t y_stride, size_t batch,
                   Activation act, Accuracy acc) {
  HWY_ASSERT(p.parts() == pool.NumThreads());
  pool.Run([&](size_t thread) {
    Spmm(w, x, x_stride, bias, y, y_stride, batch, act, acc, p.range(thread));
  });
}

void SegmentedSparseGruStep(ThreadPool& pool, const SparseGruWeights& w,
                            const RowPartition& p, const float* x,
                            const float* h_prev, float* h_next,
                            Accuracy acc) {
  HWY_ASSERT(p.parts() == pool.NumThreads());
  pool.Run([&](size_t thread) {
    SparseGruStep(w, x, h_prev, h_next, acc, p.range(thread));
  });
}

}  // namespace sparrow
