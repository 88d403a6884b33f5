// GEMM for batches: ours against OpenBLAS, oneDNN, Eigen and XNNPACK, single
// threaded, on the trainer's shapes (M = 64 rows, K and N in {256, 512, 1024}).
//
//   bazel run //bench:gemm_bench -- --benchmark_min_time=0.2
//
// Cases (args are /M/K/N, "FLOPS" = 2 M N K per iteration):
//   BM_Gemm_<impl>       C[M,N] = X[M,K] · W[N,K]ᵀ   (NT: the linear layer)
//   BM_GemmNN_<impl>     C[M,N] = A[M,K] · B[K,N]    (dX = dY · W)
//   BM_GemmTN_<impl>     C[M,N] = A[K,M]ᵀ · B[K,N]   (dW = dYᵀ · X)
//   BM_GemmBiasTanh_<impl>  Y = tanh(X · Wᵀ + b), fused (ours) vs unfused.
// XNNPACK packs its weights when the operator is created (outside the timed
// loop); the others, ours included, pack on every call.
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <limits>

#include "Eigen/Core"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "cblas.h"
#include "hwy/aligned_allocator.h"
#include "hwy/base.h"
#include "kernels/activation_type.h"
#include "kernels/gemm.h"
#include "oneapi/dnnl/dnnl.h"
#include "xnnpack.h"

namespace sparrow {
namespace bench {
namespace {

using RowMajor =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Operands for one shape; every impl sees the same values.
struct Operands {
  explicit Operands(benchmark::State& state)
      : m(static_cast<size_t>(state.range(0))),
        k(static_cast<size_t>(state.range(1))),
        n(static_cast<size_t>(state.range(2))),
        a(RandomFloats(m * k, -1.0f, 1.0f, 1)),
        b(RandomFloats(k * n, -1.0f, 1.0f, 2)),
        bias(RandomFloats(n, -1.0f, 1.0f, 3)),
        c(RandomFloats(m * n, -1.0f, 1.0f, 4)) {
    SetFlops(state, 2.0 * m * n * k);
  }
  size_t m, k, n;
  hwy::AlignedFreeUniquePtr<float[]> a;     // [m,k] or [k,m]
  hwy::AlignedFreeUniquePtr<float[]> b;     // [n,k] or [k,n]
  hwy::AlignedFreeUniquePtr<float[]> bias;  // [n]
  hwy::AlignedFreeUniquePtr<float[]> c;     // [m,n]
};

void Shapes(benchmark::internal::Benchmark* b) {
  b->ArgsProduct({{64}, {256, 512, 1024}, {256, 512, 1024}});
}

// ---------------------------------------------------------------- sparrow

void RunSparrow(benchmark::State& state, Transpose ta, Transpose tb) {
  Operands o(state);
  const size_t bytes = GemmWorkspaceBytes(o.m, o.n, o.k);
  auto ws = hwy::AllocateAligned<uint8_t>(bytes);
  const size_t lda = ta == Transpose::kNo ? o.k : o.m;
  const size_t ldb = tb == Transpose::kNo ? o.n : o.k;
  for (auto _ : state) {
    Gemm(ta, tb, o.m, o.n, o.k, 1.0f, o.a.get(), lda, o.b.get(), ldb, 0.0f,
         o.c.get(), o.n, ws.get(), bytes);
    benchmark::DoNotOptimize(o.c.get());
    benchmark::ClobberMemory();
  }
}

void BM_Gemm_sparrow(benchmark::State& s) {
  RunSparrow(s, Transpose::kNo, Transpose::kYes);
}
void BM_GemmNN_sparrow(benchmark::State& s) {
  RunSparrow(s, Transpose::kNo, Transpose::kNo);
}
void BM_GemmTN_sparrow(benchmark::State& s) {
  RunSparrow(s, Transpose::kYes, Transpose::kNo);
}

// ---------------------------------------------------------------- OpenBLAS

void RunOpenBlas(benchmark::State& state, CBLAS_TRANSPOSE ta,
                 CBLAS_TRANSPOSE tb) {
  Operands o(state);
  const int m = static_cast<int>(o.m), n = static_cast<int>(o.n),
            k = static_cast<int>(o.k);
  const int lda = ta == CblasNoTrans ? k : m;
  const int ldb = tb == CblasNoTrans ? n : k;
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, o.a.get(), lda,
                o.b.get(), ldb, 0.0f, o.c.get(), n);
    benchmark::DoNotOptimize(o.c.get());
    benchmark::ClobberMemory();
  }
}

void BM_Gemm_openblas(benchmark::State& s) {
  RunOpenBlas(s, CblasNoTrans, CblasTrans);
}
void BM_GemmNN_openblas(benchmark::State& s) {
  RunOpenBlas(s, CblasNoTrans, CblasNoTrans);
}
void BM_GemmTN_openblas(benchmark::State& s) {
  RunOpenBlas(s, CblasTrans, CblasNoTrans);
}

// ---------------------------------------------------------------- oneDNN

// dnnl_sgemm is row-major; 'N'/'T' describe A and B as stored.
void RunOneDnn(benchmark::State& state, char ta, char tb) {
  Operands o(state);
  const dnnl_dim_t m = o.m, n = o.n, k = o.k;
  const dnnl_dim_t lda = ta == 'N' ? k : m;
  const dnnl_dim_t ldb = tb == 'N' ? n : k;
  for (auto _ : state) {
    const dnnl_status_t st = dnnl_sgemm(ta, tb, m, n, k, 1.0f, o.a.get(), lda,
                                        o.b.get(), ldb, 0.0f, o.c.get(), n);
    if (st != dnnl_success) {
      state.SkipWithError("dnnl_sgemm failed");
      break;
    }
    benchmark::DoNotOptimize(o.c.get());
    benchmark::ClobberMemory();
  }
}

void BM_Gemm_onednn(benchmark::State& s) { RunOneDnn(s, 'N', 'T'); }
void BM_GemmNN_onednn(benchmark::State& s) { RunOneDnn(s, 'N', 'N'); }
void BM_GemmTN_onednn(benchmark::State& s) { RunOneDnn(s, 'T', 'N'); }

// ---------------------------------------------------------------- Eigen

void BM_Gemm_eigen(benchmark::State& state) {
  Operands o(state);
  const Eigen::Index m = o.m, n = o.n, k = o.k;
  Eigen::Map<const RowMajor> x(o.a.get(), m, k), w(o.b.get(), n, k);
  Eigen::Map<RowMajor> y(o.c.get(), m, n);
  for (auto _ : state) {
    y.noalias() = x * w.transpose();
    benchmark::DoNotOptimize(o.c.get());
    benchmark::ClobberMemory();
  }
}

void BM_GemmNN_eigen(benchmark::State& state) {
  Operands o(state);
  const Eigen::Index m = o.m, n = o.n, k = o.k;
  Eigen::Map<const RowMajor> a(o.a.get(), m, k), b(o.b.get(), k, n);
  Eigen::Map<RowMajor> c(o.c.get(), m, n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(o.c.get());
    benchmark::ClobberMemory();
  }
}

void BM_GemmTN_eigen(benchmark::State& state) {
  Operands o(state);
  const Eigen::Index m = o.m, n = o.n, k = o.k;
  Eigen::Map<const RowMajor> a(o.a.get(), k, m), b(o.b.get(), k, n);
  Eigen::Map<RowMajor> c(o.c.get(), m, n);
  for (auto _ : state) {
    c.noalias() = a.transpose() * b;
    benchmark::DoNotOptimize(o.c.get());
    benchmark::ClobberMemory();
  }
}

// ---------------------------------------------------------------- XNNPACK

void InitXnnpack() {
  static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
  HWY_ASSERT(ok);
}

// Fully connected: kernel [N,K] (NT), or [K,N] with XNN_FLAG_TRANSPOSE_WEIGHTS
// (NN). XNNPACK has no transposed-input form, so no TN case.
void RunXnnpack(benchmark::State& state, uint32_t flags) {
  InitXnnpack();
  Operands o(state);
  const float inf = std::numeric_limits<float>::infinity();
  xnn_operator_t op = nullptr;
  if (xnn_create_fully_connected_nc_f32(o.k, o.n, o.k, o.n, o.b.get(),
                                        /*bias=*/nullptr, -inf, inf, flags,
                                        &op) != xnn_status_success ||
      xnn_setup_fully_connected_nc_f32(op, o.m, o.a.get(), o.c.get(),
                                       /*threadpool=*/nullptr) !=
          xnn_status_success) {
    state.SkipWithError("XNNPACK setup failed");
    if (op != nullptr) xnn_delete_operator(op);
    return;
  }
  for (auto _ : state) {
    xnn_run_operator(op, /*threadpool=*/nullptr);
    benchmark::DoNotOptimize(o.c.get());
    benchmark::ClobberMemory();
  }
  xnn_delete_operator(op);
}

void BM_Gemm_xnnpack(benchmark::State& s) { RunXnnpack(s, 0); }
void BM_GemmNN_xnnpack(benchmark::State& s) {
  RunXnnpack(s, XNN_FLAG_TRANSPOSE_WEIGHTS);
}

// ------------------------------------------------- fused bias + tanh (NT)

void BM_GemmBiasTanh_sparrow(benchmark::State& state) {
  Operands o(state);
  const size_t bytes = GemmWorkspaceBytes(o.m, o.n, o.k);
  auto ws = hwy::AllocateAligned<uint8_t>(bytes);
  for (auto _ : state) {
    GemmBiasActivation(o.m, o.n, o.k, o.a.get(), o.k, o.b.get(), o.k,
                       o.bias.get(), Activation::kTanh, Accuracy::kPrecise,
                       o.c.get(), o.n, ws.get(), bytes);
    benchmark::DoNotOptimize(o.c.get());
    benchmark::ClobberMemory();
  }
}

void BM_GemmBiasTanh_sparrow_fast(benchmark::State& state) {
  Operands o(state);
  const size_t bytes = GemmWorkspaceBytes(o.m, o.n, o.k);
  auto ws = hwy::AllocateAligned<uint8_t>(bytes);
  for (auto _ : state) {
    GemmBiasActivation(o.m, o.n, o.k, o.a.get(), o.k, o.b.get(), o.k,
                       o.bias.get(), Activation::kTanh, Accuracy::kFast,
                       o.c.get(), o.n, ws.get(), bytes);
    benchmark::DoNotOptimize(o.c.get());
    benchmark::ClobberMemory();
  }
}

void BM_GemmBiasTanh_eigen(benchmark::State& state) {
  Operands o(state);
  const Eigen::Index m = o.m, n = o.n, k = o.k;
  Eigen::Map<const RowMajor> x(o.a.get(), m, k), w(o.b.get(), n, k);
  Eigen::Map<const Eigen::RowVectorXf> b(o.bias.get(), n);
  Eigen::Map<RowMajor> y(o.c.get(), m, n);
  for (auto _ : state) {
    y.noalias() = x * w.transpose();
    y.rowwise() += b;
    y = y.array().tanh();
    benchmark::DoNotOptimize(o.c.get());
    benchmark::ClobberMemory();
  }
}

BENCHMARK(BM_Gemm_sparrow)->Apply(Shapes);
BENCHMARK(BM_Gemm_openblas)->Apply(Shapes);
BENCHMARK(BM_Gemm_onednn)->Apply(Shapes);
BENCHMARK(BM_Gemm_eigen)->Apply(Shapes);
BENCHMARK(BM_Gemm_xnnpack)->Apply(Shapes);
BENCHMARK(BM_GemmNN_sparrow)->Apply(Shapes);
BENCHMARK(BM_GemmNN_openblas)->Apply(Shapes);
BENCHMARK(BM_GemmNN_onednn)->Apply(Shapes);
BENCHMARK(BM_GemmNN_eigen)->Apply(Shapes);
BENCHMARK(BM_GemmNN_xnnpack)->Apply(Shapes);
BENCHMARK(BM_GemmTN_sparrow)->Apply(Shapes);
BENCHMARK(BM_GemmTN_openblas)->Apply(Shapes);
BENCHMARK(BM_GemmTN_onednn)->Apply(Shapes);
BENCHMARK(BM_GemmTN_eigen)->Apply(Shapes);
BENCHMARK(BM_GemmBiasTanh_sparrow)->Apply(Shapes);
BENCHMARK(BM_GemmBiasTanh_sparrow_fast)->Apply(Shapes);
BENCHMARK(BM_GemmBiasTanh_eigen)->Apply(Shapes);

}  // namespace
}  // namespace bench
}  // namespace sparrow
