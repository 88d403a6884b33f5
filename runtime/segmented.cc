#include "runtime/segmented.h"

#include <algorithm>

#include "hwy/base.h"

namespace sparrow {

static double RowCost(const BlockSparseView& w, size_t block_row) {
  return static_cast<double>(w.Count(block_row)) + kBlockRowOverheadBlocks;
}

RowPartition PartitionBlockRows(const BlockSparseView& w, size_t parts) {
  HWY_ASSERT(parts >= 1);
  const size_t n = w.BlockRows();
  double total = 0.0;
  for (size_t r = 0; r < n; ++r) total += RowCost(w, r);
  RowPartition p;
  p.bounds.assign(parts + 1, n);
  p.bounds[0] = 0;
  // Part i ends at the block-row where the running cost is nearest to
  // (i + 1) / parts of the total.
  double running = 0.0;
  size_t row = 0;
  for (size_t i = 0; i + 1 < parts; ++i) {
    const double target = total * static_cast<double>(i + 1) / parts;
    while (row < n && running + RowCost(w, row) <= target) {
      running += RowCost(w, row++);
    }
    if (row < n && target - running > running + RowCost(w, row) - target) {
      running += RowCost(w, row++);  // Including the row lands nearer.
    }
    p.bounds[i + 1] = row;
  }
  return p;
}

double PartitionImbalance(const BlockSparseView& w, const RowPartition& p) {
  double total = 0.0, largest = 0.0;
  for (size_t i = 0; i < p.parts(); ++i) {
    double cost = 0.0;
    for (size_t r = p.bounds[i]; r < p.bounds[i + 1]; ++r) {
      cost += RowCost(w, r);
    }
    total += cost;
    largest = std::max(largest, cost);
  }
  if (total == 0.0) return 1.0;
  return largest / (total / static_cast<double>(p.parts()));
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

}  // namespace sparrow
