// One GRU step (batch 1, PyTorch layout) against peers, single thread.
//
//   bazel run -c opt //bench:gru_bench -- --benchmark_min_time=0.2
//   python3 bench/torch_gru.py   # torch.nn.GRUCell on the same shape
//
// BM_GruStep_<impl>/<input>/<hidden>. FLOPS counts the two GEMVs only:
// 2 * 3H * (I + H) per step.
#include <stddef.h>
#include <stdint.h>

#include <cmath>
#include <vector>

#include "Eigen/Core"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "cblas.h"
#include "hwy/aligned_allocator.h"
#include "kernels/activation_type.h"
#include "kernels/gemv.h"
#include "kernels/gru.h"

namespace sparrow {
namespace bench {
namespace {

struct GruData {
  size_t I, H;
  hwy::AlignedFreeUniquePtr<float[]> w_ih, w_hh, b_ih, b_hh, x, h0, h1;
  hwy::AlignedFreeUniquePtr<hwy::bfloat16_t[]> w_ih16, w_hh16;

  GruData(size_t input, size_t hidden) : I(input), H(hidden) {
    const float k = 1.0f / std::sqrt(static_cast<float>(H));
    w_ih = RandomFloats(3 * H * I, -k, k, 1);
    w_hh = RandomFloats(3 * H * H, -k, k, 2);
    b_ih = RandomFloats(3 * H, -k, k, 3);
    b_hh = RandomFloats(3 * H, -k, k, 4);
    x = RandomFloats(I, -1.0f, 1.0f, 5);
    h0 = RandomFloats(H, -1.0f, 1.0f, 6);
    h1 = RandomFloats(H, 0.0f, 0.0f, 7);
    w_ih16 = hwy::AllocateAligned<hwy::bfloat16_t>(3 * H * I);
    w_hh16 = hwy::AllocateAligned<hwy::bfloat16_t>(3 * H * H);
    ConvertF32ToBf16(w_ih.get(), w_ih16.get(), 3 * H * I);
    ConvertF32ToBf16(w_hh.get(), w_hh16.get(), 3 * H * H);
  }
};

GruData Setup(benchmark::State& state) {
  const size_t I = static_cast<size_t>(state.range(0));
  const size_t H = static_cast<size_t>(state.range(1));
  SetFlops(state, 2.0 * 3.0 * static_cast<double>(H) *
                      static_cast<double>(I + H));
  return GruData(I, H);
}

void BM_GruStep_sparrow_f32(benchmark::State& state) {
  GruData d = Setup(state);
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

void BM_GruStep_sparrow_f32_fast(benchmark::State& state) {
  GruData d = Setup(state);
  const GruWeights w{d.w_ih.get(), d.w_hh.get(), d.b_ih.get(), d.b_hh.get(),
                     d.I, d.H};
  float* h[2] = {d.h0.get(), d.h1.get()};
  size_t t = 0;
  for (auto _ : state) {
    GruStep(w, d.x.get(), h[t & 1], h[(t + 1) & 1], Accuracy::kFast);
    ++t;
    benchmark::ClobberMemory();
  }
}

void BM_GruStep_sparrow_bf16(benchmark::State& state) {
  GruData d = Setup(state);
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

void BM_GruStep_sparrow_bf16_fast(benchmark::State& state) {
  GruData d = Setup(state);
  const GruWeightsBf16 w{d.w_ih16.get(), d.w_hh16.get(), d.b_ih.get(),
                         d.b_hh.get(), d.I, d.H};
  float* h[2] = {d.h0.get(), d.h1.get()};
  size_t t = 0;
  for (auto _ : state) {
    GruStepBf16(w, d.x.get(), h[t & 1], h[(t + 1) & 1], Accuracy::kFast);
    ++t;
    benchmark::ClobberMemory();
  }
}

using RowMajor =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Eigen: two GEMVs into [3H] gate buffers, then array expressions.
void BM_GruStep_eigen(benchmark::State& state) {
  GruData d = Setup(state);
  const Eigen::Index I = static_cast<Eigen::Index>(d.I);
  const Eigen::Index H = static_cast<Eigen::Index>(d.H);
  Eigen::Map<const RowMajor> w_ih(d.w_ih.get(), 3 * H, I);
  Eigen::Map<const RowMajor> w_hh(d.w_hh.get(), 3 * H, H);
  Eigen::Map<const Eigen::VectorXf> b_ih(d.b_ih.get(), 3 * H);
  Eigen::Map<const Eigen::VectorXf> b_hh(d.b_hh.get(), 3 * H);
  Eigen::Map<const Eigen::VectorXf> x(d.x.get(), I);
  Eigen::VectorXf gi(3 * H), gh(3 * H);
  Eigen::VectorXf h[2] = {Eigen::Map<Eigen::VectorXf>(d.h0.get(), H),
                          Eigen::VectorXf::Zero(H)};
  size_t t = 0;
  for (auto _ : state) {
    const Eigen::VectorXf& hp = h[t & 1];
    Eigen::VectorXf& hn = h[(t + 1) & 1];
    gi.noalias() = w_ih * x;
    gi += b_ih;
    gh.noalias() = w_hh * hp;
    gh += b_hh;
    const Eigen::ArrayXf r =
        (1.0f + (-(gi.head(H) + gh.head(H)).array()).exp()).inverse();
    const Eigen::ArrayXf z =
        (1.0f + (-(gi.segment(H, H) + gh.segment(H, H)).array()).exp())
            .inverse();
    const Eigen::ArrayXf n =
        (gi.tail(H).array() + r * gh.tail(H).array()).tanh();
    hn = ((1.0f - z) * n + z * hp.array()).matrix();
    ++t;
    benchmark::DoNotOptimize(hn.data());
    benchmark::ClobberMemory();
  }
}

// OpenBLAS: two sgemv (bias preloaded via beta = 1), scalar gate math.
void BM_GruStep_openblas(benchmark::State& state) {
  GruData d = Setup(state);
  const int I = static_cast<int>(d.I), H = static_cast<int>(d.H);
  std::vector<float> gi(3 * d.H), gh(3 * d.H);
  float* h[2] = {d.h0.get(), d.h1.get()};
  size_t t = 0;
  for (auto _ : state) {
    const float* hp = h[t & 1];
    float* hn = h[(t + 1) & 1];
    for (size_t i = 0; i < 3 * d.H; ++i) {
      gi[i] = d.b_ih[i];
      gh[i] = d.b_hh[i];
    }
    cblas_sgemv(CblasRowMajor, CblasNoTrans, 3 * H, I, 1.0f, d.w_ih.get(), I,
                d.x.get(), 1, 1.0f, gi.data(), 1);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, 3 * H, H, 1.0f, d.w_hh.get(), H,
                hp, 1, 1.0f, gh.data(), 1);
    for (int j = 0; j < H; ++j) {
      const float r = 1.0f / (1.0f + std::exp(-(gi[j] + gh[j])));
      const float z = 1.0f / (1.0f + std::exp(-(gi[H + j] + gh[H + j])));
      const float n = std::tanh(gi[2 * H + j] + r * gh[2 * H + j]);
      hn[j] = (1.0f - z) * n + z * hp[j];
    }
    ++t;
    benchmark::DoNotOptimize(hn);
    benchmark::ClobberMemory();
  }
}

#define SPARROW_GRU_SHAPES ->Args({384, 384})->Args({128, 256})->Args({512, 1024})

BENCHMARK(BM_GruStep_sparrow_f32) SPARROW_GRU_SHAPES;
BENCHMARK(BM_GruStep_sparrow_f32_fast) SPARROW_GRU_SHAPES;
BENCHMARK(BM_GruStep_sparrow_bf16) SPARROW_GRU_SHAPES;
BENCHMARK(BM_GruStep_sparrow_bf16_fast) SPARROW_GRU_SHAPES;
BENCHMARK(BM_GruStep_eigen) SPARROW_GRU_SHAPES;
BENCHMARK(BM_GruStep_openblas) SPARROW_GRU_SHAPES;

}  // namespace
}  // namespace bench
}  // namespace sparrow
