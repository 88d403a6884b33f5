// Shared helpers for Sparrow's benchmarks: deterministic data, aligned
// buffers, FLOP counters and single-threaded peers.
//
// Conventions (STYLE.md): cases are named BM_<Op>_<impl>[_<variant>]/<shape>,
// where <impl> is "sparrow" for ours and the peer's name otherwise
// (eigen, openblas, onednn, xnnpack, lpcnet, std, hwy). //bench:compare groups
// cases by <Op> and shape and reads the "FLOPS" counter (or items/s) to print
// our ratio to the best peer.
#ifndef SPARROW_BENCH_BENCH_UTIL_H_
#define SPARROW_BENCH_BENCH_UTIL_H_

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "benchmark/benchmark.h"
#include "hwy/aligned_allocator.h"

namespace sparrow {
namespace bench {

// Uniform values in [lo, hi), fixed seed: every run sees the same data.
void FillUniform(float* p, size_t n, float lo, float hi, uint64_t seed);
hwy::AlignedFreeUniquePtr<float[]> RandomFloats(size_t n, float lo, float hi,
                                                uint64_t seed);

// Sets the "FLOPS" rate counter: `flops_per_iteration` floating-point
// operations (a multiply-add counts 2) done once per benchmark iteration.
void SetFlops(benchmark::State& state, double flops_per_iteration);

// Forces every peer library to one thread (OpenBLAS, oneDNN's OpenMP).
// Called by each bench binary before any benchmark runs; idempotent.
void InitPeersSingleThreaded();

}  // namespace bench
}  // namespace sparrow

#endif  // SPARROW_BENCH_BENCH_UTIL_H_
