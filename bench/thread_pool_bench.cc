// The pinned pool's barrier round trip: one Run() of an empty task on every
// thread, the synchronisation cost an RNN step pays per segmented product.
//
//   bazel run -c opt //bench:thread_pool_bench
#include <memory>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "runtime/thread_pool.h"

namespace sparrow {
namespace {

void BM_Barrier_sparrow(benchmark::State& state) {
  ThreadPool::Options o;
  o.threads = static_cast<size_t>(state.range(0));
  auto pool = ThreadPool::Create(o);
  if (!pool.ok()) {
    state.SkipWithError(pool.status().message());
    return;
  }
  for (auto _ : state) {
    (*pool)->Run([](size_t) {});
  }
  // The reported real time per iteration is the round trip.
}

// 1 .. the physical cores of socket 0.
void CoreCounts(benchmark::internal::Benchmark* b) {
  const int cores = CpuTopology::Detect().NumCores(0);
  for (int t = 1; t <= cores; ++t) b->Arg(t);
}
BENCHMARK(BM_Barrier_sparrow)->Apply(CoreCounts)->UseRealTime();

}  // namespace
}  // namespace sparrow
