// Single-channel convolution (kernels/conv1ch.h) on LeNet-5's first layer at
// training batch size: x [64, 28, 28, 1], 5x5 filters, pad 2, 6 output
// channels. Ours against the im2col + GEMM path it replaced (the trainer's
// and runtime's, same chunking) and oneDNN's convolution primitives, single
// threaded, on the same data.
//
//   bazel run -c opt //bench:conv_bench
//
// Cases ("FLOPS" = 2 N OH OW O KH KW per iteration, dense-equivalent):
//   BM_Conv1ChFwd_<impl>/lenet1   y = conv(x, w) + b (NHWC in and out)
//   BM_Conv1ChDw_<impl>/lenet1    dw = sum dy * x taps, db = sum dy
// impl: sparrow (direct kernel), im2col (Im2Col + GemmBiasActivation, or the
// trainer's per-row axpy dW for this small filter), onednn (NHWC activations,
// weights in the layout oneDNN prefers, reordered outside the timed loop; its
// dW overwrites instead of accumulating).
//
// Max pooling (kernels/pool.h) on LeNet-5's two pools at batch 64, NHWC:
//   BM_MaxPool_<impl>/lenet1   [64, 28, 28, 6] -> [64, 14, 14, 6], 2x2 / 2
//   BM_MaxPool_<impl>/lenet2   [64, 10, 10, 16] -> [64, 5, 5, 16]
// impl: sparrow (with argmax, as training), sparrow_noargmax (as the
// runtime), scalar (the reference, the trainer's previous loop), onednn
// (forward_training: writes its workspace), onednn_infer (no workspace).
// Counters: items/s = outputs, bytes/s = x read + y written.
#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <exception>
#include <unordered_map>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "hwy/aligned_allocator.h"
#include "kernels/activation_type.h"
#include "kernels/conv1ch.h"
#include "kernels/gemm.h"
#include "kernels/im2col.h"
#include "kernels/pool.h"
#include "kernels/pool_scalar.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace sparrow {
namespace bench {
namespace {

constexpr size_t kO = 6;

ConvGeometry LeNet1() {
  ConvGeometry g;
  g.n = 64;
  g.h = g.w = 28;
  g.c = 1;
  g.kh = g.kw = 5;
  g.oh = g.ow = 28;
  g.pad_top = g.pad_left = 2;
  return g;
}

struct Data {
  ConvGeometry g = LeNet1();
  size_t M = g.PatchRows(), K = g.PatchCols();
  hwy::AlignedFreeUniquePtr<float[]> x = RandomFloats(g.n * g.h * g.w, 0, 1, 1);
  hwy::AlignedFreeUniquePtr<float[]> w = RandomFloats(kO * K, -1, 1, 2);
  hwy::AlignedFreeUniquePtr<float[]> b = RandomFloats(kO, -1, 1, 3);
  hwy::AlignedFreeUniquePtr<float[]> dy = RandomFloats(M * kO, -1, 1, 4);
  hwy::AlignedFreeUniquePtr<float[]> y = RandomFloats(M * kO, -1, 1, 5);
  hwy::AlignedFreeUniquePtr<float[]> dw = RandomFloats(kO * K, -1, 1, 6);
  hwy::AlignedFreeUniquePtr<float[]> db = RandomFloats(kO, -1, 1, 7);

  void Counters(benchmark::State& state) const {
    SetFlops(state, 2.0 * M * kO * K);
  }
};

// The trainer's chunk of patch rows (trainer/conv_layers.h ConvChunkRows).
size_t ChunkRows(const ConvGeometry& g) {
  const size_t rows = (size_t{32} << 10) / std::max<size_t>(1, g.PatchCols());
  return std::max<size_t>(16, std::min(rows, g.PatchRows()));
}

// ---------------------------------------------------------------- sparrow

void BM_Conv1ChFwd_sparrow(benchmark::State& state) {
  Data d;
  std::vector<float> scratch(Conv1ChScratchFloats(d.g));
  for (auto _ : state) {
    Conv1ChForward(d.g, d.x.get(), d.w.get(), d.b.get(), kO,
                   Activation::kIdentity, Accuracy::kPrecise, d.y.get(),
                   scratch.data());
    benchmark::DoNotOptimize(d.y[0]);
  }
  d.Counters(state);
}
BENCHMARK(BM_Conv1ChFwd_sparrow)->Name("BM_Conv1ChFwd_sparrow/lenet1");

void BM_Conv1ChDw_sparrow(benchmark::State& state) {
  Data d;
  std::vector<float> scratch(Conv1ChScratchFloats(d.g));
  for (auto _ : state) {
    Conv1ChBackwardWeights(d.g, d.x.get(), d.dy.get(), kO, d.dw.get(),
                           d.db.get(), scratch.data());
    benchmark::DoNotOptimize(d.dw[0]);
  }
  d.Counters(state);
}
BENCHMARK(BM_Conv1ChDw_sparrow)->Name("BM_Conv1ChDw_sparrow/lenet1");

// ---------------------------------------------------------------- im2col

void BM_Conv1ChFwd_im2col(benchmark::State& state) {
  Data d;
  const size_t chunk = ChunkRows(d.g);
  std::vector<float> cols(chunk * d.K);
  const size_t ws_bytes = GemmWorkspaceBytes(chunk, kO, d.K);
  auto ws = hwy::AllocateAligned<uint8_t>(ws_bytes);
  for (auto _ : state) {
    for (size_t r0 = 0; r0 < d.M; r0 += chunk) {
      const size_t r1 = std::min(d.M, r0 + chunk);
      Im2Col(d.g, d.x.get(), r0, r1, cols.data());
      GemmBiasActivation(r1 - r0, kO, d.K, cols.data(), d.K, d.w.get(), d.K,
                         d.b.get(), Activation::kIdentity, Accuracy::kPrecise,
                         d.y.get() + r0 * kO, kO, ws.get(), ws_bytes);
    }
    benchmark::DoNotOptimize(d.y[0]);
  }
  d.Counters(state);
}
BENCHMARK(BM_Conv1ChFwd_im2col)->Name("BM_Conv1ChFwd_im2col/lenet1");

// The trainer's previous dW for a small filter: per patch row, an axpy per
// output channel into the L1-resident dW (trainer/conv_layers.h).
void BM_Conv1ChDw_im2col(benchmark::State& state) {
  Data d;
  const size_t chunk = ChunkRows(d.g);
  std::vector<float> cols(chunk * d.K);
  for (auto _ : state) {
    const float* HWY_RESTRICT dy = d.dy.get();
    float* HWY_RESTRICT db = d.db.get();
    for (size_t r = 0; r < d.M; ++r) {
      for (size_t o = 0; o < kO; ++o) db[o] += dy[r * kO + o];
    }
    for (size_t r0 = 0; r0 < d.M; r0 += chunk) {
      const size_t r1 = std::min(d.M, r0 + chunk);
      Im2Col(d.g, d.x.get(), r0, r1, cols.data());
      for (size_t r = 0; r < r1 - r0; ++r) {
        const float* HWY_RESTRICT c = cols.data() + r * d.K;
        const float* HWY_RESTRICT dr = dy + (r0 + r) * kO;
        for (size_t o = 0; o < kO; ++o) {
          float* HWY_RESTRICT wo = d.dw.get() + o * d.K;
          const float coef = dr[o];
          for (size_t k = 0; k < d.K; ++k) wo[k] += coef * c[k];
        }
      }
    }
    benchmark::DoNotOptimize(d.dw[0]);
  }
  d.Counters(state);
}
BENCHMARK(BM_Conv1ChDw_im2col)->Name("BM_Conv1ChDw_im2col/lenet1");

// ---------------------------------------------------------------- oneDNN

struct OneDnn {
  using md = dnnl::memory::desc;
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::memory::dims src_dims, w_dims, b_dims, dst_dims, strides, pad;
  md src_md, dst_md, b_md, w_any, w_user;
  dnnl::convolution_forward::primitive_desc fwd_pd;

  explicit OneDnn(const Data& d) {
    const auto N = static_cast<dnnl::memory::dim>(d.g.n);
    const auto H = static_cast<dnnl::memory::dim>(d.g.h);
    const auto O = static_cast<dnnl::memory::dim>(kO);
    const auto KH = static_cast<dnnl::memory::dim>(d.g.kh);
    src_dims = {N, 1, H, H};
    w_dims = {O, 1, KH, KH};
    b_dims = {O};
    dst_dims = {N, O, H, H};
    strides = {1, 1};
    pad = {2, 2};
    src_md = md(src_dims, dt::f32, tag::nhwc);
    dst_md = md(dst_dims, dt::f32, tag::nhwc);
    b_md = md(b_dims, dt::f32, tag::a);
    w_any = md(w_dims, dt::f32, tag::any);
    w_user = md(w_dims, dt::f32, tag::oihw);
    fwd_pd = dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(
            dnnl::prop_kind::forward_training,
            dnnl::algorithm::convolution_direct, src_md, w_any, b_md, dst_md,
            strides, pad, pad),
        eng);
  }
  dnnl::memory Wrap(const md& m, const float* p) {
    return dnnl::memory(m, eng, const_cast<float*>(p));
  }
};

void BM_Conv1ChFwd_onednn(benchmark::State& state) {
  Data d;
  try {
    OneDnn o(d);
    dnnl::memory src = o.Wrap(o.src_md, d.x.get());
    dnnl::memory dst = o.Wrap(o.dst_md, d.y.get());
    dnnl::memory bias = o.Wrap(o.b_md, d.b.get());
    dnnl::memory w_user = o.Wrap(o.w_user, d.w.get());
    dnnl::memory w = w_user;
    if (o.fwd_pd.weights_desc() != o.w_user) {  // once, like inference
      w = dnnl::memory(o.fwd_pd.weights_desc(), o.eng);
      dnnl::reorder(w_user, w).execute(o.strm, w_user, w);
      o.strm.wait();
    }
    dnnl::convolution_forward conv(o.fwd_pd);
    const std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, src},
        {DNNL_ARG_WEIGHTS, w},
        {DNNL_ARG_BIAS, bias},
        {DNNL_ARG_DST, dst}};
    for (auto _ : state) {
      conv.execute(o.strm, args);
      o.strm.wait();
      benchmark::DoNotOptimize(d.y[0]);
    }
    state.SetLabel(o.fwd_pd.impl_info_str());
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  d.Counters(state);
}
BENCHMARK(BM_Conv1ChFwd_onednn)->Name("BM_Conv1ChFwd_onednn/lenet1");

void BM_Conv1ChDw_onednn(benchmark::State& state) {
  Data d;
  try {
    OneDnn o(d);
    const dnnl::convolution_backward_weights::primitive_desc pd(
        dnnl::convolution_backward_weights::desc(
            dnnl::algorithm::convolution_direct, o.src_md, o.w_any, o.b_md,
            o.dst_md, o.strides, o.pad, o.pad),
        o.eng, o.fwd_pd);
    dnnl::memory src = o.Wrap(o.src_md, d.x.get());
    dnnl::memory diff_dst = o.Wrap(o.dst_md, d.dy.get());
    dnnl::memory diff_b = o.Wrap(o.b_md, d.db.get());
    dnnl::memory diff_w = pd.diff_weights_desc() == o.w_user
                              ? o.Wrap(o.w_user, d.dw.get())
                              : dnnl::memory(pd.diff_weights_desc(), o.eng);
    dnnl::convolution_backward_weights conv(pd);
    const std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, src},
        {DNNL_ARG_DIFF_DST, diff_dst},
        {DNNL_ARG_DIFF_WEIGHTS, diff_w},
        {DNNL_ARG_DIFF_BIAS, diff_b}};
    for (auto _ : state) {
      conv.execute(o.strm, args);
      o.strm.wait();
      benchmark::DoNotOptimize(d.db[0]);
    }
    state.SetLabel(pd.impl_info_str());
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  d.Counters(state);
}
BENCHMARK(BM_Conv1ChDw_onednn)->Name("BM_Conv1ChDw_onednn/lenet1");

// ---------------------------------------------------------------- MaxPool

// LeNet-5's two 2x2 / 2 max pools at batch 64 (NHWC): lenet1 [64, 28, 28, 6]
// -> 14 x 14, lenet2 [64, 10, 10, 16] -> 5 x 5.
PoolGeometry LeNetPool(int which) {
  PoolGeometry p;
  p.n = 64;
  p.h = p.w = which == 1 ? 28 : 10;
  p.c = which == 1 ? 6 : 16;
  p.kh = p.kw = 2;
  p.stride_h = p.stride_w = 2;
  p.oh = p.ow = p.h / 2;
  return p;
}

struct PoolData {
  explicit PoolData(int which) : p(LeNetPool(which)) {}
  PoolGeometry p;
  hwy::AlignedFreeUniquePtr<float[]> x = RandomFloats(p.InputSize(), -1, 1, 8);
  hwy::AlignedFreeUniquePtr<float[]> y = RandomFloats(p.OutputSize(), 0, 1, 9);
  std::vector<int32_t> argmax = std::vector<int32_t>(p.OutputSize());

  // items/s: outputs; bytes/s: x read + y written (argmax or a workspace not
  // counted, so every implementation is charged the same bytes).
  void Counters(benchmark::State& state) const {
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(p.OutputSize()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(
                                (p.InputSize() + p.OutputSize()) * 4));
  }
};

// Ours, with the argmax a training step keeps (the trainer's layer).
void BM_MaxPool_sparrow(benchmark::State& state, int which) {
  PoolData d(which);
  for (auto _ : state) {
    MaxPool2D(d.p, d.x.get(), d.y.get(), d.argmax.data());
    benchmark::DoNotOptimize(d.y[0]);
  }
  d.Counters(state);
}
BENCHMARK_CAPTURE(BM_MaxPool_sparrow, lenet1, 1);
BENCHMARK_CAPTURE(BM_MaxPool_sparrow, lenet2, 2);

// Ours without argmax (the runtime's op).
void BM_MaxPool_sparrow_noargmax(benchmark::State& state, int which) {
  PoolData d(which);
  for (auto _ : state) {
    MaxPool2D(d.p, d.x.get(), d.y.get(), nullptr);
    benchmark::DoNotOptimize(d.y[0]);
  }
  d.Counters(state);
}
BENCHMARK_CAPTURE(BM_MaxPool_sparrow_noargmax, lenet1, 1);
BENCHMARK_CAPTURE(BM_MaxPool_sparrow_noargmax, lenet2, 2);

// The scalar reference with argmax: the trainer's previous MaxPool2DForward,
// compiled with the trainer's flags (this library's copts).
void BM_MaxPool_scalar(benchmark::State& state, int which) {
  PoolData d(which);
  for (auto _ : state) {
    MaxPool2DScalar<float>(d.p, d.x.get(), d.y.get(), d.argmax.data());
    benchmark::DoNotOptimize(d.y[0]);
  }
  d.Counters(state);
}
BENCHMARK_CAPTURE(BM_MaxPool_scalar, lenet1, 1);
BENCHMARK_CAPTURE(BM_MaxPool_scalar, lenet2, 2);

// oneDNN's pooling_forward (pooling_max), NHWC in and out. Training mode
// writes a workspace (its argmax) as ours does; inference mode has none.
void BM_MaxPool_onednn(benchmark::State& state, int which, bool training) {
  PoolData d(which);
  try {
    using md = dnnl::memory::desc;
    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream strm(eng);
    const auto N = static_cast<dnnl::memory::dim>(d.p.n);
    const auto C = static_cast<dnnl::memory::dim>(d.p.c);
    const auto H = static_cast<dnnl::memory::dim>(d.p.h);
    const auto OH = static_cast<dnnl::memory::dim>(d.p.oh);
    const md src_md({N, C, H, H}, dt::f32, tag::nhwc);
    const md dst_md({N, C, OH, OH}, dt::f32, tag::nhwc);
    const dnnl::pooling_forward::primitive_desc pd(
        dnnl::pooling_forward::desc(
            training ? dnnl::prop_kind::forward_training
                     : dnnl::prop_kind::forward_inference,
            dnnl::algorithm::pooling_max, src_md, dst_md, {2, 2}, {2, 2},
            {0, 0}, {0, 0}),
        eng);
    dnnl::memory src(src_md, eng, d.x.get());
    dnnl::memory dst(dst_md, eng, d.y.get());
    std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, src},
                                                  {DNNL_ARG_DST, dst}};
    if (training) {
      args[DNNL_ARG_WORKSPACE] = dnnl::memory(pd.workspace_desc(), eng);
    }
    dnnl::pooling_forward pool(pd);
    for (auto _ : state) {
      pool.execute(strm, args);
      strm.wait();
      benchmark::DoNotOptimize(d.y[0]);
    }
    state.SetLabel(pd.impl_info_str());
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  d.Counters(state);
}
BENCHMARK_CAPTURE(BM_MaxPool_onednn, lenet1, 1, true);
BENCHMARK_CAPTURE(BM_MaxPool_onednn, lenet2, 2, true);
BENCHMARK_CAPTURE(BM_MaxPool_onednn, infer_lenet1, 1, false)
    ->Name("BM_MaxPool_onednn_infer/lenet1");
BENCHMARK_CAPTURE(BM_MaxPool_onednn, infer_lenet2, 2, false)
    ->Name("BM_MaxPool_onednn_infer/lenet2");

}  // namespace
}  // namespace bench
}  // namespace sparrow
