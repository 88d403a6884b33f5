// What the runtime adds on top of its kernels: Interpreter::Invoke() on a
// model against the same kernel calls made directly, same data, one thread.
//
//   bazel run -c opt //bench:runtime_bench -- --benchmark_repetitions=5
//
// BM_Invoke_<impl>/<model>:
//   sparrow: Interpreter::Invoke() (the planned, fused steps);
//   direct: the kernels of those steps called by hand on the same buffers,
//     the floor an interpreter could reach.
// Models:
//   tiny_mlp: x [1, 8] -> FC 16 + relu -> FC 4 -> Softmax (kernels take tens
//     of ns, so the difference is the per-Invoke and per-step overhead);
//   sparse_gru_384: LPCNet-sized step-mode GRU, input 384, hidden 384,
//     block-sparse f32 weights at 10%, with state, then FC 16 (a real RNN
//     step through the runtime).
// Counter: steps (kernel calls per Invoke).
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "hwy/aligned_allocator.h"
#include "kernels/activations.h"
#include "kernels/block_sparse.h"
#include "kernels/gemv.h"
#include "kernels/sparse_gru.h"
#include "runtime/interpreter.h"
#include "runtime/model.h"
#include "runtime/model_builder.h"

namespace sparrow {
namespace bench {
namespace {

using schema::ActivationType;
using schema::OpType;

std::vector<float> Values(size_t n, uint64_t seed, float scale) {
  std::vector<float> v(n);
  FillUniform(v.data(), n, -scale, scale, seed);
  return v;
}

// A model held in aligned memory (zero-copy weights) with its interpreter.
struct Loaded {
  hwy::AlignedFreeUniquePtr<uint8_t[]> bytes;
  Model model;
  StatusOr<Interpreter> interp = Status(StatusCode::kInternal, "not created");
};

Loaded* Load(const ModelBuilder& b) {
  const std::vector<uint8_t> file = b.Finish();
  auto bytes = hwy::AllocateAligned<uint8_t>(file.size());
  memcpy(bytes.get(), file.data(), file.size());
  StatusOr<Model> m = Model::FromBuffer(bytes.get(), file.size());
  HWY_ASSERT(m.ok());
  auto* l = new Loaded{std::move(bytes), std::move(m).value()};
  l->interp = Interpreter::Create(l->model);  // points at l->model: no moves
  HWY_ASSERT(l->interp.ok());
  for (size_t i = 0; i < l->interp->num_inputs(); ++i) {
    const TensorView in = l->interp->input(i);
    FillUniform(in.f32(), in.num_elements, -1.0f, 1.0f, 7 + i);
  }
  return l;
}

// ------------------------------ tiny_mlp

struct TinyMlp {
  std::vector<float> w1 = Values(16 * 8, 1, 0.5f), b1 = Values(16, 2, 0.5f);
  std::vector<float> w2 = Values(4 * 16, 3, 0.5f), b2 = Values(4, 4, 0.5f);
  Loaded* loaded = nullptr;

  TinyMlp() {
    ModelBuilder b;
    const int x = b.AddTensor("x", {1, 8});
    const int tw1 = b.AddConstant("fc1.weight", {16, 8}, w1.data());
    const int tb1 = b.AddConstant("fc1.bias", {16}, b1.data());
    const int h = b.AddTensor("h", {1, 16});
    const int tw2 = b.AddConstant("fc2.weight", {4, 16}, w2.data());
    const int tb2 = b.AddConstant("fc2.bias", {4}, b2.data());
    const int logits = b.AddTensor("logits", {1, 4});
    const int probs = b.AddTensor("probs", {1, 4});
    b.AddOp(OpType::FullyConnected, {x, tw1, tb1}, {h},
            MakeOptions(FullyConnectedOptions(ActivationType::Relu)));
    b.AddOp(OpType::FullyConnected, {h, tw2, tb2}, {logits},
            MakeOptions(FullyConnectedOptions()));
    b.AddOp(OpType::Softmax, {logits}, {probs},
            MakeOptions(schema::SoftmaxOptionsT()));
    b.SetInputs({x});
    b.SetOutputs({probs});
    loaded = Load(b);
  }
  static TinyMlp& Get() {
    static TinyMlp* m = new TinyMlp();
    return *m;
  }
};

void BM_Invoke_sparrow_tiny_mlp(benchmark::State& state) {
  Interpreter& it = *TinyMlp::Get().loaded->interp;
  for (auto _ : state) {
    HWY_ASSERT(it.Invoke().ok());
    benchmark::DoNotOptimize(it.output(0).data);
  }
  state.counters["steps"] = static_cast<double>(it.steps().size());
}

void BM_Invoke_direct_tiny_mlp(benchmark::State& state) {
  TinyMlp& m = TinyMlp::Get();
  const float* x = m.loaded->interp->input(0).f32();
  alignas(64) float h[16], logits[4], probs[4];
  for (auto _ : state) {
    Gemv(m.w1.data(), x, m.b1.data(), h, 16, 8, Activation::kRelu);
    Gemv(m.w2.data(), h, m.b2.data(), logits, 4, 16);
    SoftmaxRows(logits, probs, 1, 4);
    benchmark::DoNotOptimize(probs);
  }
  state.counters["steps"] = 3;
}

// ------------------------------ sparse_gru_384

struct SparseGru {
  static constexpr size_t kI = 384, kH = 384, kOut = 16;
  BlockSparse16x1 w_ih, w_hh;
  std::vector<float> b_ih = Values(3 * kH, 13, 0.1f), b_hh = Values(3 * kH, 14, 0.1f);
  std::vector<float> head_w = Values(kOut * kH, 15, 0.1f), head_b = Values(kOut, 16, 0.1f);
  Loaded* loaded = nullptr;

  SparseGru() {
    const std::vector<float> wi = Values(3 * kH * kI, 11, 0.2f);
    const std::vector<float> wh = Values(3 * kH * kH, 12, 0.2f);
    PruneOptions o;
    o.balanced = true;
    auto si = BlockSparse16x1::PruneToDensity(wi.data(), 3 * kH, kI, 0.1f, o);
    auto sh = BlockSparse16x1::PruneToDensity(wh.data(), 3 * kH, kH, 0.1f, o);
    HWY_ASSERT(si.ok() && sh.ok());
    w_ih = std::move(si).value();
    w_hh = std::move(sh).value();
    ModelBuilder b;
    const int x = b.AddTensor("x", {1, static_cast<int>(kI)});
    const int twi = b.AddSparseConstant("gru.w_ih", w_ih);
    const int twh = b.AddSparseConstant("gru.w_hh", w_hh);
    const int tbi = b.AddConstant("gru.b_ih", {3 * kH}, b_ih.data());
    const int tbh = b.AddConstant("gru.b_hh", {3 * kH}, b_hh.data());
    const int state = b.AddState("gru.h", {1, static_cast<int>(kH)});
    const int h = b.AddTensor("gru.out", {1, static_cast<int>(kH)});
    const int hw = b.AddConstant("head.weight", {kOut, kH}, head_w.data());
    const int hb = b.AddConstant("head.bias", {kOut}, head_b.data());
    const int y = b.AddTensor("y", {1, static_cast<int>(kOut)});
    b.AddOp(OpType::Gru, {x, twi, twh, tbi, tbh, state}, {h},
            MakeOptions(GruOptions(kH, schema::GruMode::Step)));
    b.AddOp(OpType::FullyConnected, {h, hw, hb}, {y},
            MakeOptions(FullyConnectedOptions()));
    b.SetInputs({x});
    b.SetOutputs({y});
    loaded = Load(b);
  }
  static SparseGru& Get() {
    static SparseGru* m = new SparseGru();
    return *m;
  }
};

void BM_Invoke_sparrow_sparse_gru_384(benchmark::State& state) {
  Interpreter& it = *SparseGru::Get().loaded->interp;
  for (auto _ : state) {
    HWY_ASSERT(it.Invoke().ok());
    benchmark::DoNotOptimize(it.output(0).data);
  }
  state.counters["steps"] = static_cast<double>(it.steps().size());
}

void BM_Invoke_direct_sparse_gru_384(benchmark::State& state) {
  SparseGru& m = SparseGru::Get();
  const float* x = m.loaded->interp->input(0).f32();
  const SparseGruWeights w = {m.w_ih.view(), m.w_hh.view(), m.b_ih.data(),
                              m.b_hh.data(), SparseGru::kI, SparseGru::kH};
  auto h = hwy::AllocateAligned<float>(2 * SparseGru::kH);
  memset(h.get(), 0, 2 * SparseGru::kH * sizeof(float));
  alignas(64) float y[SparseGru::kOut];
  size_t cur = 0;
  for (auto _ : state) {
    float* hp = h.get() + cur * SparseGru::kH;
    float* hn = h.get() + (1 - cur) * SparseGru::kH;
    SparseGruStep(w, x, hp, hn);
    Gemv(m.head_w.data(), hn, m.head_b.data(), y, SparseGru::kOut,
         SparseGru::kH);
    cur = 1 - cur;
    benchmark::DoNotOptimize(y);
  }
  state.counters["steps"] = 2;
}

BENCHMARK(BM_Invoke_sparrow_tiny_mlp);
BENCHMARK(BM_Invoke_direct_tiny_mlp);
BENCHMARK(BM_Invoke_sparrow_sparse_gru_384);
BENCHMARK(BM_Invoke_direct_sparse_gru_384);

}  // namespace
}  // namespace bench
}  // namespace sparrow
