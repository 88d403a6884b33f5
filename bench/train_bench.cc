// One training step of the native trainer (issue 5): forward, softmax
// cross-entropy, backward and an Adam update on a batch of 64
// Fashion-MNIST-shaped examples ([28, 28, 1], NHWC).
//
//   bazel run -c opt //bench:train_bench
//   /usr/bin/python3 bench/torch_train.py   # the PyTorch peer (own process)
//   bench/train_compare.sh                  # both, side by side, with ratios
//
// BM_TrainStep_sparrow[_2threads]/<model>: one Trainer::TrainEpoch() over a
// 64-example dataset, i.e. exactly one optimizer step through the public API
// (the epoch's permutation and batch gather included, as in real training).
// items_per_second = examples/s (wall clock). FLOPS is dense-equivalent:
// 3x the forward pass's multiply-adds (forward, dX and dW), counting the
// first layer's unneeded dX too, as is customary.
//
// Where the time goes, on the same net and data:
//   BM_TrainForward_sparrow/<model>          Net::Forward + loss
//   BM_TrainForwardBackward_sparrow/<model>  + loss backward, Net::Backward,
//                                            TakeGrads
//   BM_TrainAdam_sparrow/<model>             Optimizer::Step alone
// Step - ForwardBackward - Adam is the trainer's own overhead. Per layer:
//   BM_TrainPrefix_sparrow_{fwd,fwdbwd}/<model>/<k>_<layer>  the first k layers
// On a loaded machine read cpu_time (one thread), not the wall-clock rates.
#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "trainer/loss.h"
#include "trainer/net.h"
#include "trainer/optim/optimizer.h"
#include "trainer/train.h"

namespace sparrow {
namespace bench {
namespace {

using train::Layer;
using train::LayerKind;
using train::Net;
using train::NetWorkspace;
using train::Shape;

constexpr size_t kBatch = 64;
constexpr int kClasses = 10;
const Shape kInput = {28, 28, 1};
constexpr size_t kInputSize = 28 * 28;

// Pixels in [0, 1) and labels 0..9, fixed seeds (speed does not depend on the
// values: no layer here skips zeros).
struct Batch {
  std::vector<float> images;    // [64, 28, 28, 1]
  std::vector<uint8_t> labels;  // [64]
  std::vector<int32_t> labels32;
  Batch() : images(kBatch * kInputSize), labels(kBatch), labels32(kBatch) {
    FillUniform(images.data(), images.size(), 0.0f, 1.0f, 1);
    for (size_t i = 0; i < kBatch; ++i) {
      labels[i] = static_cast<uint8_t>((i * 7 + 3) % kClasses);
      labels32[i] = labels[i];
    }
  }
};

// Multiply-adds x 2 of one example's forward pass through linear and conv
// layers (pools and activations are not counted).
double ForwardFlopsPerExample(const Net& net) {
  double flops = 0.0;
  for (const Layer& l : net.layers()) {
    const double out = static_cast<double>(train::NumElements(l.out));
    const double in_last = static_cast<double>(l.in.back());
    if (l.kind == LayerKind::kLinear) {
      flops += 2.0 * out * in_last;
    } else if (l.kind == LayerKind::kConv2D) {
      flops += 2.0 * out * l.kernel * l.kernel * in_last;
    }
  }
  return flops;
}

// `passes`: 3 for a training step (forward, dX, dW), 1 for forward alone.
void SetCounters(benchmark::State& state, const Net& net, double passes = 3.0) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  SetFlops(state, passes * kBatch * ForwardFlopsPerExample(net));
}

void TrainStep(benchmark::State& state, const std::string& model,
               size_t threads) {
  const Batch data;
  train::TrainOptions o;
  o.model = model;
  o.batch = kBatch;
  o.optimizer = "adam:lr=0.001";
  o.threads = threads;
  auto trainer = train::Trainer::Create(o, data.images.data(),
                                        data.labels.data(), kBatch, kInput);
  if (!trainer.ok()) {
    state.SkipWithError(trainer.status().message());
    return;
  }
  train::Trainer& t = **trainer;
  // The first step sizes the workspaces; keep allocation out of the timing.
  if (!t.TrainEpoch().ok()) {
    state.SkipWithError("warm-up step failed");
    return;
  }
  for (auto _ : state) {
    auto stats = t.TrainEpoch();  // 64 examples, batch 64: one step
    if (!stats.ok()) {
      state.SkipWithError(stats.status().message());
      break;
    }
    benchmark::DoNotOptimize(stats->loss);
  }
  SetCounters(state, t.net());
}

void BM_TrainStep_sparrow(benchmark::State& state, const char* model) {
  TrainStep(state, model, 1);
}
void BM_TrainStep_sparrow_2threads(benchmark::State& state, const char* model) {
  TrainStep(state, model, 2);
}

BENCHMARK_CAPTURE(BM_TrainStep_sparrow, lenet5, "lenet5")->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep_sparrow, mlp, "mlp")->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep_sparrow_2threads, lenet5, "lenet5")->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep_sparrow_2threads, mlp, "mlp")->UseRealTime();

// ---- The split, one thread, through Net and Optimizer directly.

struct Phases {
  Batch data;
  Net net;
  NetWorkspace ws;
  std::vector<float> probs;
  std::unique_ptr<train::Optimizer> opt;
  std::vector<train::Param*> params;

  explicit Phases(Net n) : net(std::move(n)), probs(kBatch * kClasses) {}

  void Forward(uint64_t step) {
    net.Forward(data.images.data(), kBatch, &ws, /*training=*/true, step);
    double loss = train::SoftmaxCrossEntropyForward(
        probs.data(), ws.output(), data.labels32.data(), kBatch, kClasses);
    benchmark::DoNotOptimize(loss);
  }
  void Backward(uint64_t step) {
    train::SoftmaxCrossEntropyBackward(ws.output_grad(), probs.data(),
                                       data.labels32.data(), kBatch, kClasses);
    net.Backward(kBatch, &ws, /*training=*/true, step);
    net.TakeGrads(&ws);
  }
};

std::unique_ptr<Phases> MakePhases(benchmark::State& state,
                                   const std::string& model) {
  StatusOr<Net> net = Net::FromSpec(model, kInput, /*seed=*/1);
  if (!net.ok()) {
    state.SkipWithError(net.status().message());
    return nullptr;
  }
  auto p = std::make_unique<Phases>(std::move(net).value());
  auto opt = train::Optimizer::Create("adam:lr=0.001");
  if (!opt.ok()) {
    state.SkipWithError(opt.status().message());
    return nullptr;
  }
  p->opt = std::move(opt).value();
  p->params = p->net.param_ptrs();
  // One untimed step: workspaces sized, optimizer state bound.
  p->Forward(0);
  p->Backward(0);
  p->opt->Step(p->params, 1e-3f);
  return p;
}

void BM_TrainForward_sparrow(benchmark::State& state, const char* model) {
  auto p = MakePhases(state, model);
  if (p == nullptr) return;
  uint64_t step = 1;
  for (auto _ : state) p->Forward(step++);
  SetCounters(state, p->net, /*passes=*/1.0);
}

void BM_TrainForwardBackward_sparrow(benchmark::State& state,
                                     const char* model) {
  auto p = MakePhases(state, model);
  if (p == nullptr) return;
  uint64_t step = 1;
  for (auto _ : state) {
    p->Forward(step);
    p->Backward(step);
    ++step;
  }
  SetCounters(state, p->net);
}

void BM_TrainAdam_sparrow(benchmark::State& state, const char* model) {
  auto p = MakePhases(state, model);
  if (p == nullptr) return;
  for (auto _ : state) {
    p->opt->Step(p->params, 1e-3f);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  // Bytes: Adam reads value, grad, m1, m2 and writes value, m1, m2.
  state.counters["bytes_per_second"] = benchmark::Counter(
      7.0 * sizeof(float) * static_cast<double>(p->net.NumParameters()),
      benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1024);
}

BENCHMARK_CAPTURE(BM_TrainForward_sparrow, lenet5, "lenet5")->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainForward_sparrow, mlp, "mlp")->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainForwardBackward_sparrow, lenet5, "lenet5")->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainForwardBackward_sparrow, mlp, "mlp")->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainAdam_sparrow, lenet5, "lenet5")->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainAdam_sparrow, mlp, "mlp")->UseRealTime();

// ---- Per layer: forward and forward+backward of each prefix of the model's
// spec (the first k layers, batch 64, zero output gradient); the difference
// between prefixes k-1 and k is layer k's cost.
//   BM_TrainPrefix_sparrow_{fwd,fwdbwd}/<model>/<k>_<last layer token>

void TrainPrefix(benchmark::State& state, const std::string& spec,
                 bool backward) {
  const Batch data;
  StatusOr<Net> net = Net::FromSpec(spec, kInput, /*seed=*/1);
  if (!net.ok()) {
    state.SkipWithError(net.status().message());
    return;
  }
  NetWorkspace ws;
  uint64_t step = 0;
  for (auto _ : state) {
    net->Forward(data.images.data(), kBatch, &ws, /*training=*/true, step);
    if (backward) net->Backward(kBatch, &ws, /*training=*/true, step);
    ++step;
    benchmark::ClobberMemory();
  }
  SetCounters(state, *net, backward ? 3.0 : 1.0);
}

int RegisterPrefixes() {
  for (const char* model : {"lenet5", "mlp"}) {
    std::vector<std::string> tokens;
    const std::string spec = train::ExpandSpec(model);
    for (size_t b = 0; b < spec.size();) {
      size_t e = spec.find(' ', b);
      if (e == std::string::npos) e = spec.size();
      if (e > b) tokens.push_back(spec.substr(b, e - b));
      b = e + 1;
    }
    std::string prefix;
    for (size_t k = 0; k < tokens.size(); ++k) {
      prefix += (k ? " " : "") + tokens[k];
      for (bool bwd : {false, true}) {
        const std::string name =
            std::string("BM_TrainPrefix_sparrow_") + (bwd ? "fwdbwd/" : "fwd/") +
            model + "/" + std::to_string(k + 1) + "_" + tokens[k];
        benchmark::RegisterBenchmark(name.c_str(), TrainPrefix, prefix, bwd)
            ->UseRealTime();
      }
    }
  }
  return 0;
}
const int kPrefixesRegistered = RegisterPrefixes();

}  // namespace
}  // namespace bench
}  // namespace sparrow
