// 16x1 block-sparse SpMV / SpMM against peers, single thread, same data.
//
//   bazel run -c opt //bench:sparse_bench -- --benchmark_min_time=0.2
//
// BM_SpMV_<impl>/<rows>/<cols>/<density per mille>: y = W x (62 = 6.25%).
// BM_SpMM_<impl>/<rows>/<cols>/<density per mille>/<batch>: Y = X Wᵀ, X
//   [batch, cols] (Eigen sees the same bytes as a column-major [cols, batch]).
// impl: sparrow_f32, sparrow_bf16 (ours, BlockSparse16x1 pruned by block L2
//   norm); sparrow_dense (our dense Gemv / Gemm on the unpruned matrix);
//   eigen_dense; eigen (SparseMatrix<float, RowMajor> with the same nonzeros,
//   element-wise CSR); lpcnet (our plain re-implementation of the LPCNet-style
//   16x1 loop: two 8-wide AVX2 FMAs per block into one accumulator pair per
//   block-row; SpMM calls it once per input).
// Counters, identical for every impl of a shape, so their ratios are time
// ratios: FLOPS = 2 * nonzeros * batch, dense_FLOPS = 2 * rows * cols * batch.
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "Eigen/Core"
#include "Eigen/SparseCore"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "hwy/aligned_allocator.h"
#include "kernels/block_sparse.h"
#include "kernels/gemm.h"
#include "kernels/gemv.h"
#include "kernels/spmv.h"

namespace sparrow {
namespace bench {
namespace {

using RowMajor =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ColMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;
using SparseRowMajor = Eigen::SparseMatrix<float, Eigen::RowMajor, int>;

constexpr size_t kMaxBatch = 16;

// LPCNet-style layout: per block-row the count, then its column indices; the
// weights as one contiguous stream of 16-float blocks.
struct LpcnetMatrix {
  std::vector<int> idx;
  hwy::AlignedFreeUniquePtr<float[]> w;
};

struct SparseData {
  size_t rows, cols, nonzeros;
  hwy::AlignedFreeUniquePtr<float[]> dense, x, y;
  BlockSparse16x1 f32, bf16;
  SparseRowMajor eigen;
  LpcnetMatrix lpcnet;
  hwy::AlignedFreeUniquePtr<uint8_t[]> gemm_ws;
  size_t gemm_ws_bytes = 0;
};

SparseData& Data(size_t rows, size_t cols, size_t per_mille) {
  static std::map<std::tuple<size_t, size_t, size_t>,
                  std::unique_ptr<SparseData>>
      cache;
  auto& slot = cache[{rows, cols, per_mille}];
  if (slot) return *slot;
  slot.reset(new SparseData);
  SparseData& d = *slot;
  d.rows = rows;
  d.cols = cols;
  d.dense = RandomFloats(rows * cols, -1.0f, 1.0f, 1);
  d.x = RandomFloats(kMaxBatch * cols, -1.0f, 1.0f, 2);
  d.y = RandomFloats(kMaxBatch * rows, 0.0f, 0.0f, 3);
  // 62 stands for Lyra's 6.25% = 1/16 (per mille is an integer argument).
  const float density =
      per_mille == 62 ? 0.0625f : static_cast<float>(per_mille) / 1000.0f;
  auto f32 = BlockSparse16x1::PruneToDensity(d.dense.get(), rows, cols,
                                             density);
  HWY_ASSERT(f32.ok());
  d.f32 = std::move(f32).value();
  auto bf16 = d.f32.ConvertTo(BlockDType::kBf16);
  HWY_ASSERT(bf16.ok());
  d.bf16 = std::move(bf16).value();
  d.nonzeros = d.f32.nonzero_blocks() * 16;

  // The same nonzeros for Eigen and the LPCNet-style loop.
  std::vector<float> pruned(rows * cols);
  d.f32.ToDense(pruned.data());
  const BlockSparseView v = d.f32.view();
  std::vector<Eigen::Triplet<float, int>> triplets;
  d.lpcnet.w = hwy::AllocateAligned<float>(v.num_blocks * 16 + 16);
  float* lw = d.lpcnet.w.get();
  for (size_t i = 0; i < v.BlockRows(); ++i) {
    d.lpcnet.idx.push_back(static_cast<int>(v.Count(i)));
    for (uint32_t k = v.block_offsets[i]; k < v.block_offsets[i + 1]; ++k) {
      const uint32_t c = v.col_indices[k];
      d.lpcnet.idx.push_back(static_cast<int>(c));
      for (size_t r = 0; r < 16; ++r) {
        const float f = pruned[(i * 16 + r) * cols + c];
        *lw++ = f;
        triplets.emplace_back(static_cast<int>(i * 16 + r),
                              static_cast<int>(c), f);
      }
    }
  }
  d.eigen.resize(static_cast<int>(rows), static_cast<int>(cols));
  d.eigen.setFromTriplets(triplets.begin(), triplets.end());
  d.eigen.makeCompressed();
  d.gemm_ws_bytes = GemmWorkspaceBytes(kMaxBatch, rows, cols);
  d.gemm_ws = hwy::AllocateAligned<uint8_t>(d.gemm_ws_bytes);
  return d;
}

SparseData& Setup(benchmark::State& state, size_t batch) {
  SparseData& d = Data(static_cast<size_t>(state.range(0)),
                       static_cast<size_t>(state.range(1)),
                       static_cast<size_t>(state.range(2)));
  const double b = static_cast<double>(batch);
  SetFlops(state, 2.0 * static_cast<double>(d.nonzeros) * b);
  state.counters["dense_FLOPS"] = benchmark::Counter(
      2.0 * static_cast<double>(d.rows) * static_cast<double>(d.cols) * b,
      benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
  return d;
}

size_t Batch(benchmark::State& state) {
  return static_cast<size_t>(state.range(3));
}

// Written from the description of LPCNet's sparse 16x1 loop, not its code:
// per block-row one pair of 8-wide accumulators, per block one broadcast and
// two FMAs.
__attribute__((target("avx2,fma"))) void LpcnetSpmv(
    float* HWY_RESTRICT out, const float* HWY_RESTRICT w, size_t rows,
    const int* HWY_RESTRICT idx, const float* HWY_RESTRICT x) {
  for (size_t i = 0; i < rows; i += 16) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    const int count = *idx++;
    for (int k = 0; k < count; ++k) {
      const __m256 xv = _mm256_broadcast_ss(x + *idx++);
      lo = _mm256_fmadd_ps(_mm256_loadu_ps(w), xv, lo);
      hi = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8), xv, hi);
      w += 16;
    }
    _mm256_storeu_ps(out + i, lo);
    _mm256_storeu_ps(out + i + 8, hi);
  }
}

// ------------------------------ SpMV

void BM_SpMV_sparrow_f32(benchmark::State& state) {
  SparseData& d = Setup(state, 1);
  const BlockSparseView v = d.f32.view();
  for (auto _ : state) {
    Spmv(v, d.x.get(), nullptr, d.y.get());
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_SpMV_sparrow_bf16(benchmark::State& state) {
  SparseData& d = Setup(state, 1);
  const BlockSparseView v = d.bf16.view();
  for (auto _ : state) {
    Spmv(v, d.x.get(), nullptr, d.y.get());
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_SpMV_sparrow_dense(benchmark::State& state) {
  SparseData& d = Setup(state, 1);
  for (auto _ : state) {
    Gemv(d.dense.get(), d.x.get(), nullptr, d.y.get(), d.rows, d.cols);
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_SpMV_eigen_dense(benchmark::State& state) {
  SparseData& d = Setup(state, 1);
  const Eigen::Index rows = static_cast<Eigen::Index>(d.rows);
  const Eigen::Index cols = static_cast<Eigen::Index>(d.cols);
  Eigen::Map<const RowMajor> w(d.dense.get(), rows, cols);
  Eigen::Map<const Eigen::VectorXf> x(d.x.get(), cols);
  Eigen::Map<Eigen::VectorXf> y(d.y.get(), rows);
  for (auto _ : state) {
    y.noalias() = w * x;
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_SpMV_eigen(benchmark::State& state) {
  SparseData& d = Setup(state, 1);
  Eigen::Map<const Eigen::VectorXf> x(d.x.get(),
                                      static_cast<Eigen::Index>(d.cols));
  Eigen::Map<Eigen::VectorXf> y(d.y.get(), static_cast<Eigen::Index>(d.rows));
  for (auto _ : state) {
    y.noalias() = d.eigen * x;
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_SpMV_lpcnet(benchmark::State& state) {
  SparseData& d = Setup(state, 1);
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    state.SkipWithError("needs AVX2 and FMA");
    return;
  }
  for (auto _ : state) {
    LpcnetSpmv(d.y.get(), d.lpcnet.w.get(), d.rows, d.lpcnet.idx.data(),
               d.x.get());
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

// ------------------------------ SpMM: X [batch, cols], Y [batch, rows]

void BM_SpMM_sparrow_f32(benchmark::State& state) {
  const size_t batch = Batch(state);
  SparseData& d = Setup(state, batch);
  const BlockSparseView v = d.f32.view();
  for (auto _ : state) {
    Spmm(v, d.x.get(), d.cols, nullptr, d.y.get(), d.rows, batch);
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_SpMM_sparrow_bf16(benchmark::State& state) {
  const size_t batch = Batch(state);
  SparseData& d = Setup(state, batch);
  const BlockSparseView v = d.bf16.view();
  for (auto _ : state) {
    Spmm(v, d.x.get(), d.cols, nullptr, d.y.get(), d.rows, batch);
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_SpMM_sparrow_dense(benchmark::State& state) {
  const size_t batch = Batch(state);
  SparseData& d = Setup(state, batch);
  for (auto _ : state) {
    // Y[batch, rows] = X[batch, cols] · Wᵀ.
    Gemm(Transpose::kNo, Transpose::kYes, batch, d.rows, d.cols, 1.0f,
         d.x.get(), d.cols, d.dense.get(), d.cols, 0.0f, d.y.get(), d.rows,
         d.gemm_ws.get(), d.gemm_ws_bytes);
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_SpMM_eigen_dense(benchmark::State& state) {
  const size_t batch = Batch(state);
  SparseData& d = Setup(state, batch);
  const Eigen::Index rows = static_cast<Eigen::Index>(d.rows);
  const Eigen::Index cols = static_cast<Eigen::Index>(d.cols);
  const Eigen::Index b = static_cast<Eigen::Index>(batch);
  Eigen::Map<const RowMajor> w(d.dense.get(), rows, cols);
  Eigen::Map<const ColMajor> x(d.x.get(), cols, b);
  Eigen::Map<ColMajor> y(d.y.get(), rows, b);
  for (auto _ : state) {
    y.noalias() = w * x;
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_SpMM_eigen(benchmark::State& state) {
  const size_t batch = Batch(state);
  SparseData& d = Setup(state, batch);
  const Eigen::Index b = static_cast<Eigen::Index>(batch);
  Eigen::Map<const ColMajor> x(d.x.get(), static_cast<Eigen::Index>(d.cols),
                               b);
  Eigen::Map<ColMajor> y(d.y.get(), static_cast<Eigen::Index>(d.rows), b);
  for (auto _ : state) {
    y.noalias() = d.eigen * x;
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_SpMM_lpcnet(benchmark::State& state) {
  const size_t batch = Batch(state);
  SparseData& d = Setup(state, batch);
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    state.SkipWithError("needs AVX2 and FMA");
    return;
  }
  for (auto _ : state) {
    for (size_t b = 0; b < batch; ++b) {
      LpcnetSpmv(d.y.get() + b * d.rows, d.lpcnet.w.get(), d.rows,
                 d.lpcnet.idx.data(), d.x.get() + b * d.cols);
    }
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

#define SPARROW_SPMV_SHAPES \
  ->Args({1152, 384, 100})->Args({3072, 1024, 62})->Args({4096, 4096, 50})

#define SPARROW_SPMM_SHAPES                                               \
  ->Args({1152, 384, 100, 4})->Args({1152, 384, 100, 16})                 \
  ->Args({3072, 1024, 62, 4})->Args({3072, 1024, 62, 16})                 \
  ->Args({4096, 4096, 50, 4})->Args({4096, 4096, 50, 16})

BENCHMARK(BM_SpMV_sparrow_f32) SPARROW_SPMV_SHAPES;
BENCHMARK(BM_SpMV_sparrow_bf16) SPARROW_SPMV_SHAPES;
BENCHMARK(BM_SpMV_sparrow_dense) SPARROW_SPMV_SHAPES;
BENCHMARK(BM_SpMV_eigen_dense) SPARROW_SPMV_SHAPES;
BENCHMARK(BM_SpMV_eigen) SPARROW_SPMV_SHAPES;
BENCHMARK(BM_SpMV_lpcnet) SPARROW_SPMV_SHAPES;
BENCHMARK(BM_SpMM_sparrow_f32) SPARROW_SPMM_SHAPES;
BENCHMARK(BM_SpMM_sparrow_bf16) SPARROW_SPMM_SHAPES;
BENCHMARK(BM_SpMM_sparrow_dense) SPARROW_SPMM_SHAPES;
BENCHMARK(BM_SpMM_eigen_dense) SPARROW_SPMM_SHAPES;
BENCHMARK(BM_SpMM_eigen) SPARROW_SPMM_SHAPES;
BENCHMARK(BM_SpMM_lpcnet) SPARROW_SPMM_SHAPES;

}  // namespace
}  // namespace bench
}  // namespace sparrow
