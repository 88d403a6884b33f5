// GEMV (batch-1 fully connected) against peers, single thread, same data.
//
//   bazel run -c opt //bench:gemv_bench -- --benchmark_min_time=0.2
//
// BM_Gemv_<impl>/<rows>/<cols>: y = W x, W row-major [rows, cols].
// BM_FusedLinear_<impl>/<rows>/<cols>: y = tanh(W x + b).
// FLOPS counts 2 * rows * cols per call for every impl (bf16 included).
#include <stddef.h>
#include <stdint.h>

#include <limits>
#include <map>
#include <memory>
#include <utility>

#include "Eigen/Core"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "cblas.h"
#include "dnnl.h"
#include "hwy/aligned_allocator.h"
#include "hwy/base.h"
#include "kernels/activation_type.h"
#include "kernels/gemv.h"
#include "xnnpack.h"

namespace sparrow {
namespace bench {
namespace {

// One data set per shape, shared by every impl so they read the same values.
struct GemvData {
  size_t rows, cols;
  hwy::AlignedFreeUniquePtr<float[]> w, x, b, y;
  hwy::AlignedFreeUniquePtr<hwy::bfloat16_t[]> w16;
};

GemvData& Data(size_t rows, size_t cols) {
  static std::map<std::pair<size_t, size_t>, std::unique_ptr<GemvData>> cache;
  auto& slot = cache[{rows, cols}];
  if (!slot) {
    slot.reset(new GemvData);
    slot->rows = rows;
    slot->cols = cols;
    slot->w = RandomFloats(rows * cols, -1.0f, 1.0f, 1);
    slot->x = RandomFloats(cols, -1.0f, 1.0f, 2);
    slot->b = RandomFloats(rows, -1.0f, 1.0f, 3);
    slot->y = RandomFloats(rows, 0.0f, 0.0f, 4);
    slot->w16 = hwy::AllocateAligned<hwy::bfloat16_t>(rows * cols);
    ConvertF32ToBf16(slot->w.get(), slot->w16.get(), rows * cols);
  }
  return *slot;
}

GemvData& Setup(benchmark::State& state) {
  const size_t rows = static_cast<size_t>(state.range(0));
  const size_t cols = static_cast<size_t>(state.range(1));
  SetFlops(state, 2.0 * static_cast<double>(rows) * static_cast<double>(cols));
  return Data(rows, cols);
}

using RowMajor =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// ------------------------------ Gemv

void BM_Gemv_sparrow_f32(benchmark::State& state) {
  GemvData& d = Setup(state);
  for (auto _ : state) {
    Gemv(d.w.get(), d.x.get(), nullptr, d.y.get(), d.rows, d.cols);
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_Gemv_sparrow_bf16(benchmark::State& state) {
  GemvData& d = Setup(state);
  for (auto _ : state) {
    GemvBf16(d.w16.get(), d.x.get(), nullptr, d.y.get(), d.rows, d.cols);
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_Gemv_eigen(benchmark::State& state) {
  GemvData& d = Setup(state);
  const Eigen::Index rows = static_cast<Eigen::Index>(d.rows);
  const Eigen::Index cols = static_cast<Eigen::Index>(d.cols);
  Eigen::Map<const RowMajor> w(d.w.get(), rows, cols);
  Eigen::Map<const Eigen::VectorXf> x(d.x.get(), cols);
  Eigen::Map<Eigen::VectorXf> y(d.y.get(), rows);
  for (auto _ : state) {
    y.noalias() = w * x;
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_Gemv_openblas(benchmark::State& state) {
  GemvData& d = Setup(state);
  const int rows = static_cast<int>(d.rows), cols = static_cast<int>(d.cols);
  for (auto _ : state) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, rows, cols, 1.0f, d.w.get(), cols,
                d.x.get(), 1, 0.0f, d.y.get(), 1);
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_Gemv_onednn(benchmark::State& state) {
  GemvData& d = Setup(state);
  const dnnl_dim_t rows = static_cast<dnnl_dim_t>(d.rows);
  const dnnl_dim_t cols = static_cast<dnnl_dim_t>(d.cols);
  for (auto _ : state) {
    // Row-major C[M, N] = A[M, K] B[K, N] with M = rows, N = 1, K = cols.
    if (dnnl_sgemm('N', 'N', rows, 1, cols, 1.0f, d.w.get(), cols, d.x.get(),
                   1, 0.0f, d.y.get(), 1) != dnnl_success) {
      state.SkipWithError("dnnl_sgemm failed");
      break;
    }
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

bool InitXnnpack() {
  static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
  return ok;
}

// Creates (packs) a fully connected operator outside the timed loop.
xnn_operator_t CreateXnnFc(const GemvData& d, const float* bias,
                           float output_min, float output_max) {
  xnn_operator_t op = nullptr;
  if (!InitXnnpack() ||
      xnn_create_fully_connected_nc_f32(d.cols, d.rows, d.cols, d.rows,
                                        d.w.get(), bias, output_min,
                                        output_max, 0, &op) !=
          xnn_status_success) {
    return nullptr;
  }
  return op;
}

void BM_Gemv_xnnpack(benchmark::State& state) {
  GemvData& d = Setup(state);
  const float inf = std::numeric_limits<float>::infinity();
  xnn_operator_t op = CreateXnnFc(d, nullptr, -inf, inf);
  if (op == nullptr ||
      xnn_setup_fully_connected_nc_f32(op, 1, d.x.get(), d.y.get(), nullptr) !=
          xnn_status_success) {
    state.SkipWithError("XNNPACK setup failed");
    return;
  }
  for (auto _ : state) {
    xnn_run_operator(op, nullptr);
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
  xnn_delete_operator(op);
}

// ------------------------------ FusedLinear: tanh(W x + b)

void BM_FusedLinear_sparrow_f32(benchmark::State& state) {
  GemvData& d = Setup(state);
  for (auto _ : state) {
    Gemv(d.w.get(), d.x.get(), d.b.get(), d.y.get(), d.rows, d.cols,
         Activation::kTanh);
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_FusedLinear_sparrow_f32_fast(benchmark::State& state) {
  GemvData& d = Setup(state);
  for (auto _ : state) {
    Gemv(d.w.get(), d.x.get(), d.b.get(), d.y.get(), d.rows, d.cols,
         Activation::kTanh, Accuracy::kFast);
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_FusedLinear_sparrow_bf16(benchmark::State& state) {
  GemvData& d = Setup(state);
  for (auto _ : state) {
    GemvBf16(d.w16.get(), d.x.get(), d.b.get(), d.y.get(), d.rows, d.cols,
             Activation::kTanh);
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

void BM_FusedLinear_eigen(benchmark::State& state) {
  GemvData& d = Setup(state);
  const Eigen::Index rows = static_cast<Eigen::Index>(d.rows);
  const Eigen::Index cols = static_cast<Eigen::Index>(d.cols);
  Eigen::Map<const RowMajor> w(d.w.get(), rows, cols);
  Eigen::Map<const Eigen::VectorXf> x(d.x.get(), cols);
  Eigen::Map<const Eigen::VectorXf> b(d.b.get(), rows);
  Eigen::Map<Eigen::VectorXf> y(d.y.get(), rows);
  for (auto _ : state) {
    y.noalias() = w * x;
    y = (y + b).array().tanh().matrix();
    benchmark::DoNotOptimize(d.y[0]);
    benchmark::ClobberMemory();
  }
}

#define SPARROW_GEMV_SHAPES \
  ->Args({1152, 384})->Args({3072, 1024})->Args({4096, 4096})

BENCHMARK(BM_Gemv_sparrow_f32) SPARROW_GEMV_SHAPES;
BENCHMARK(BM_Gemv_sparrow_bf16) SPARROW_GEMV_SHAPES;
BENCHMARK(BM_Gemv_eigen) SPARROW_GEMV_SHAPES;
BENCHMARK(BM_Gemv_openblas) SPARROW_GEMV_SHAPES;
BENCHMARK(BM_Gemv_onednn) SPARROW_GEMV_SHAPES;
BENCHMARK(BM_Gemv_xnnpack) SPARROW_GEMV_SHAPES;
BENCHMARK(BM_FusedLinear_sparrow_f32) SPARROW_GEMV_SHAPES;
BENCHMARK(BM_FusedLinear_sparrow_f32_fast) SPARROW_GEMV_SHAPES;
BENCHMARK(BM_FusedLinear_sparrow_bf16) SPARROW_GEMV_SHAPES;
BENCHMARK(BM_FusedLinear_eigen) SPARROW_GEMV_SHAPES;

}  // namespace
}  // namespace bench
}  // namespace sparrow
