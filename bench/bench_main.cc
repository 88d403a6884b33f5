// main() for every bench/*_bench binary: peers on one thread, then Google
// Benchmark's usual flags.
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"

int main(int argc, char** argv) {
  sparrow::bench::InitPeersSingleThreaded();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
