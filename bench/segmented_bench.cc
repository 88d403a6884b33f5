// Segmented block-sparse SpMV on the pinned pool: scaling with threads.
//
//   bazel run -c opt //bench:segmented_bench
//
// BM_SegmentedSpMV_sparrow/<threads>/<rows>/<cols>/<density in 1e-4>: the
// FLOPS counter is nonzero FLOP/s; compare rows of different thread counts
// from the same run for the speedup.
#include <memory>
#include <random>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "runtime/segmented.h"
#include "runtime/topology.h"

namespace sparrow {
namespace {

void BM_SegmentedSpMV_sparrow(benchmark::State& state) {
  const size_t threads = static_cast<size_t>(state.range(0));
  const size_t rows = static_cast<size_t>(state.range(1));
  const size_t cols = static_cast<size_t>(state.range(2));
  const float density = static_cast<float>(state.range(3)) / 10000.0f;
  auto w = bench::RandomFloats(rows * cols, -1.0f, 1.0f, 1);
  PruneOptions o;
  o.balanced = true;
  auto m = BlockSparse16x1::PruneToDensity(w.get(), rows, cols, density, o);
  ThreadPool::Options po;
  po.threads = threads;
  auto pool = ThreadPool::Create(po);
  if (!m.ok() || !pool.ok()) {
    state.SkipWithError(!m.ok() ? m.status().message()
                                : pool.status().message());
    return;
  }
  const RowPartition p = PartitionBlockRows(m->view(), threads);
  auto x = bench::RandomFloats(cols, -1.0f, 1.0f, 2);
  auto bias = bench::RandomFloats(rows, -1.0f, 1.0f, 3);
  auto y = bench::RandomFloats(rows, 0.0f, 0.0f, 4);
  for (auto _ : state) {
    SegmentedSpmv(**pool, m->view(), p, x.get(), bias.get(), y.get(),
                  Activation::kTanh, Accuracy::kFast);
    benchmark::DoNotOptimize(y.get());
  }
  bench::SetFlops(state, 2.0 * m->nonzero_blocks() * 16);
  state.counters["imbalance"] = PartitionImbalance(m->view(), p);
  state.counters["density"] = static_cast<double>(m->nonzero_blocks()) /
                              (m->view().BlockRows() * cols);
}

void Shapes(benchmark::internal::Benchmark* b) {
  const int cores = CpuTopology::Detect().NumCores(0);
  for (int t = 1; t <= cores; ++t) {
    b->Args({t, 1152, 384, 1000});
    b->Args({t, 3072, 1024, 625});
    b->Args({t, 4096, 4096, 500});
  }
}
BENCHMARK(BM_SegmentedSpMV_sparrow)->Apply(Shapes)->UseRealTime();

}  // namespace
}  // namespace sparrow
