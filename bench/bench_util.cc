#include "bench/bench_util.h"

#include <random>

#include "cblas.h"

extern "C" void omp_set_num_threads(int);  // libgomp, used by oneDNN.

namespace sparrow {
namespace bench {

void FillUniform(float* p, size_t n, float lo, float hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (size_t i = 0; i < n; ++i) p[i] = dist(rng);
}

hwy::AlignedFreeUniquePtr<float[]> RandomFloats(size_t n, float lo, float hi,
                                                uint64_t seed) {
  auto p = hwy::AllocateAligned<float>(n == 0 ? 1 : n);
  FillUniform(p.get(), n, lo, hi, seed);
  return p;
}

void SetFlops(benchmark::State& state, double flops_per_iteration) {
  state.counters["FLOPS"] = benchmark::Counter(
      flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
}

void InitPeersSingleThreaded() {
  static bool done = false;
  if (done) return;
  done = true;
  openblas_set_num_threads(1);
  omp_set_num_threads(1);
}

}  // namespace bench
}  // namespace sparrow
