// One GRU step (batch 1, PyTorch layout) with 16x1 block-sparse W_ih and W_hh
// against our dense GRU step on the unpruned weights, single thread, same
// inputs.
//
//   bazel run -c opt //bench:sparse_gru_bench -- --benchmark_min_time=0.2
//   python3 bench/torch_gru.py   # torch.nn.GRUCell (dense) on the same shape
//
// BM_SparseGruStep_<impl>/<input>/<hidden>/<density per mille>:
//   sparrow_f32, sparrow_bf16: SparseGruStep, both matrices pruned to the
//     density by block L2 norm (PruneToDensity), f32 or bf16 blocks (_fast:
//     Accuracy::kFast activations);
//   sparrow_dense_f32, sparrow_dense_bf16: GruStep / GruStepBf16 on the
//     unpruned matrices (what the model costs without pruning).
// Counters, identical for every impl of a shape so that their ratios are time
// ratios: FLOPS = 2 * (nonzero weights of W_ih and W_hh) per step,
// dense_FLOPS = 2 * 3H * (I + H) per step (the dense GRU's work, as in
// gru_bench.cc).
#include <stddef.h>
#include <stdint.h>

#include <cmath>
#include <map>
#include <memory>
#include <tuple>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "hwy/aligned_allocator.h"
#include "kernels/activation_type.h"
#include "kernels/block_sparse.h"
#include "kernels/gemv.h"
#include "kernels/gru.h"
#include "kernels/sparse_gru.h"

namespace sparrow {
namespace bench {
namespace {

struct SparseGruData {
  size_t I, H, nonzeros;
  hwy::AlignedFreeUniquePtr<float[]> w_ih, w_hh, b_ih, b_hh, x, h0, h1;
  hwy::AlignedFreeUniquePtr<hwy::bfloat16_t[]> w_ih16, w_hh16;
  BlockSparse16x1 s_ih, s_hh, s_ih16, s_hh16;
};

BlockSparse16x1 Prune(const float* w, size_t rows, size_t cols, float density,
                      BlockDType dtype) {
  PruneOptions o;
  o.dtype = dtype;
  auto m = BlockSparse16x1::PruneToDensity(w, rows, cols, density, o);
  HWY_ASSERT(m.ok());
  return std::move(m).value();
}

// Built once per shape and shared by the impls (pruning 3.5 MB takes a while).
SparseGruData& Data(size_t I, size_t H, size_t per_mille) {
  static std::map<std::tuple<size_t, size_t, size_t>,
                  std::unique_ptr<SparseGruData>>
      cache;
  auto& slot = cache[{I, H, per_mille}];
  if (slot) return *slot;
  slot.reset(new SparseGruData);
  SparseGruData& d = *slot;
  d.I = I;
  d.H = H;
  const float k = 1.0f / std::sqrt(static_cast<float>(H));
  d.w_ih = RandomFloats(3 * H * I, -k, k, 1);
  d.w_hh = RandomFloats(3 * H * H, -k, k, 2);
  d.b_ih = RandomFloats(3 * H, -k, k, 3);
  d.b_hh = RandomFloats(3 * H, -k, k, 4);
  d.x = RandomFloats(I, -1.0f, 1.0f, 5);
  d.h0 = RandomFloats(H, -1.0f, 1.0f, 6);
  d.h1 = RandomFloats(H, 0.0f, 0.0f, 7);
  d.w_ih16 = hwy::AllocateAligned<hwy::bfloat16_t>(3 * H * I);
  d.w_hh16 = hwy::AllocateAligned<hwy::bfloat16_t>(3 * H * H);
  ConvertF32ToBf16(d.w_ih.get(), d.w_ih16.get(), 3 * H * I);
  ConvertF32ToBf16(d.w_hh.get(), d.w_hh16.get(), 3 * H * H);
  const float density = static_cast<float>(per_mille) / 1000.0f;
  d.s_ih = Prune(d.w_ih.get(), 3 * H, I, density, BlockDType::kF32);
  d.s_hh = Prune(d.w_hh.get(), 3 * H, H, density, BlockDType::kF32);
  d.s_ih16 = Prune(d.w_ih.get(), 3 * H, I, density, BlockDType::kBf16);
  d.s_hh16 = Prune(d.w_hh.get(), 3 * H, H, density, BlockDType::kBf16);
  d.nonzeros = (d.s_ih.nonzero_blocks() + d.s_hh.nonzero_blocks()) * 16;
  return d;
}

SparseGruData& Setup(benchmark::State& state) {
  SparseGruData& d = Data(static_cast<size_t>(state.range(0)),
                          static_cast<size_t>(state.range(1)),
                          static_cast<size_t>(state.range(2)));
  SetFlops(state, 2.0 * static_cast<double>(d.nonzeros));
  state.counters["dense_FLOPS"] = benchmark::Counter(
      2.0 * 3.0 * static_cast<double>(d.H) * static_cast<double>(d.I + d.H),
      benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
  return d;
}

void RunSparse(benchmark::State& state, const SparseGruData& d,
               const BlockSparse16x1& w_ih, const BlockSparse16x1& w_hh,
               Accuracy acc = Accuracy::kPrecise) {
  const SparseGruWeights w{w_ih.view(), w_hh.view(), d.b_ih.get(),
                           d.b_hh.get(), d.I, d.H};
  if (!ValidateSparseGru(w).ok()) {
    state.SkipWithError("invalid sparse GRU weights");
    return;
  }
  float* h[2] = {d.h0.get(), d.h1.get()};
  size_t t = 0;
  for (auto _ : state) {
    SparseGruStep(w, d.x.get(), h[t & 1], h[(t + 1) & 1], acc);
    ++t;
    benchmark::ClobberMemory();
  }
}

void BM_SparseGruStep_sparrow_f32(benchmark::State& state) {
  SparseGruData& d = Setup(state);
  RunSparse(state, d, d.s_ih, d.s_hh);
}

void BM_SparseGruStep_sparrow_bf16(benchmark::State& state) {
  SparseGruData& d = Setup(state);
  RunSparse(state, d, d.s_ih16, d.s_hh16);
}

void BM_SparseGruStep_sparrow_f32_fast(benchmark::State& state) {
  SparseGruData& d = Setup(state);
  RunSparse(state, d, d.s_ih, d.s_hh, Accuracy::kFast);
}

void BM_SparseGruStep_sparrow_bf16_fast(benchmark::State& state) {
  SparseGruData& d = Setup(state);
  RunSparse(state, d, d.s_ih16, d.s_hh16, Accuracy::kFast);
}

void BM_SparseGruStep_sparrow_dense_f32(benchmark::State& state) {
  SparseGruData& d = Setup(state);
  const GruWeights w{d.w_ih.get(), d.w_hh.get(), d.b_ih.get(), d.b_hh.get(),
                     d.I, d.H};
  float* h[2] = {d.h0.get(), d.h1.get()};
  size_t t = 0;
  for (auto _ : state) {
    GruStep(w, d.x.get(), h[t & 1], h[(t + 1) & 1]);
    ++t;
    benchmark::ClobberMemory();
  }
}

void BM_SparseGruStep_sparrow_dense_bf16(benchmark::State& state) {
  SparseGruData& d = Setup(state);
  const GruWeightsBf16 w{d.w_ih16.get(), d.w_hh16.get(), d.b_ih.get(),
                         d.b_hh.get(), d.I, d.H};
  float* h[2] = {d.h0.get(), d.h1.get()};
  size_t t = 0;
  for (auto _ : state) {
    GruStepBf16(w, d.x.get(), h[t & 1], h[(t + 1) & 1]);
    ++t;
    benchmark::ClobberMemory();
  }
}

// Input 384, hidden 384 (the dense GRU's headline shape) at 10% and 5%.
#define SPARROW_SPARSE_GRU_SHAPES ->Args({384, 384, 100})->Args({384, 384, 50})

BENCHMARK(BM_SparseGruStep_sparrow_f32) SPARROW_SPARSE_GRU_SHAPES;
BENCHMARK(BM_SparseGruStep_sparrow_bf16) SPARROW_SPARSE_GRU_SHAPES;
BENCHMARK(BM_SparseGruStep_sparrow_f32_fast) SPARROW_SPARSE_GRU_SHAPES;
BENCHMARK(BM_SparseGruStep_sparrow_bf16_fast) SPARROW_SPARSE_GRU_SHAPES;
BENCHMARK(BM_SparseGruStep_sparrow_dense_f32) SPARROW_SPARSE_GRU_SHAPES;
BENCHMARK(BM_SparseGruStep_sparrow_dense_bf16) SPARROW_SPARSE_GRU_SHAPES;

}  // namespace
}  // namespace bench
}  // namespace sparrow
