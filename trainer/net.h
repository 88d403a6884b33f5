// A sequential network for the trainer, declared in a small text spec or
// with the builder, trained batch-parallel and deterministically.
//
//   StatusOr<Net> net = Net::FromSpec("lenet5", {28, 28, 1}, /*seed=*/1);
//   // or: "conv(6,5,pad=2) relu maxpool(2) flatten linear(10)"
//   NetWorkspace ws;                          // per thread, reused
//   net->Forward(x, batch, &ws, /*training=*/true, /*step=*/s);
//   const float* logits = ws.output();        // [batch, 10]
//   ...loss backward into ws.output_grad()...
//   net->Backward(x, batch, &ws);             // += into ws.grads
//   net->AccumulateGrads(ws);                 // += into Param::grad
//
// Spec grammar: layers separated by spaces, each `name` or
// `name(a,b,key=value,...)` with integer or decimal values:
//   linear(out[,bias=1])   conv(out,k[,stride=1,pad=0,dilation=1,bias=1])
//   maxpool(k[,stride=k,pad=0])   avgpool(k[,stride=k,pad=0,include_pad=0])
//   flatten   relu   tanh   sigmoid   gelu   dropout(p)
//   gru(hidden[,bias=1])  (input [T, I] -> [T, H], every step's h)
// Built in: "lenet5" (for [28, 28, 1]) and "mlp" (784-256-128-10).
// Shapes are per example, channels last (NHWC, as the runtime): conv and
// pools need [H, W, C]; linear acts on the last axis ([..., in] -> [...,
// out]); flatten makes [prod].
//
// Contract:
// - Parameters live in the Net (params()); Forward/Backward read them and
//   keep everything else in the caller's NetWorkspace, so several threads
//   can run disjoint slices of a batch at once with one workspace each.
// - Backward accumulates (+=) into the workspace's gradient buffers;
//   AccumulateGrads adds them into Param::grad. Reducing the threads'
//   workspaces in a fixed order makes results a pure function of (seed,
//   data, thread count).
// - Initialisation is PyTorch's default for each layer (uniform in
//   +-1/sqrt(fan_in)), from a SplitMix64 stream of `seed`: the same on every
//   machine.
// - Dropout is active only when training; its mask is a hash of (step,
//   example index, element), independent of how the batch is split.
#ifndef SPARROW_TRAINER_NET_H_
#define SPARROW_TRAINER_NET_H_

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "kernels/activation_type.h"
#include "kernels/status.h"
#include "trainer/gru_layer.h"
#include "trainer/param.h"

namespace sparrow {
namespace train {

using Shape = std::vector<int>;  // per example, no batch axis

inline size_t NumElements(const Shape& s) {
  size_t n = 1;
  for (int d : s) n *= static_cast<size_t>(d);
  return n;
}
std::string ShapeString(const Shape& s);  // "[28, 28, 1]"

// What a layer keeps between Forward and Backward, per thread.
struct LayerCache {
  std::vector<float> f;    // saved activations / patch matrices / gates
  std::vector<int32_t> i;  // saved indices (max-pool argmax)
  std::vector<float> scratch;
  std::unique_ptr<GruCache<float>> gru;
};

enum class LayerKind : uint8_t {
  kLinear, kConv2D, kMaxPool2D, kAvgPool2D, kFlatten, kActivation, kDropout,
  kGru,
};

// One parsed layer with its resolved shapes and (for linear/conv/gru) its
// parameters. Built by Net; read by the exporter.
struct Layer {
  LayerKind kind = LayerKind::kFlatten;
  std::string name;  // "conv1", "fc2", "relu3", ...
  Shape in, out;
  // kLinear: out features; kConv2D: out channels; kGru: hidden size.
  int units = 0;
  int kernel = 1, stride = 1, pad = 0, dilation = 1;  // conv and pools
  bool bias = true;
  bool include_pad = false;  // avgpool
  float p = 0.0f;            // dropout
  Activation act = Activation::kIdentity;
  // Indices into Net::params(): weight (conv: [O, KH, KW, C]; gru: w_ih),
  // bias (gru: b_ih), w_hh, b_hh; -1 when absent.
  int weight = -1, bias_param = -1, w_hh = -1, b_hh = -1;
};

struct NetWorkspace {
  size_t batch = 0;
  std::vector<std::vector<float>> acts;   // [layers + 1][batch * size]
  std::vector<std::vector<float>> dacts;  // gradients of acts
  std::vector<LayerCache> caches;         // [layers]
  std::vector<std::vector<float>> grads;  // parallel to Net::params()

  const float* output() const { return acts.back().data(); }
  float* output_grad() { return dacts.back().data(); }
};

class Net {
 public:
  // Parses `spec` (or a built-in name) for examples of shape `input`.
  // INVALID_ARGUMENT names the layer token and what is wrong with it.
  static StatusOr<Net> FromSpec(const std::string& spec, const Shape& input,
                                uint64_t seed);

  const Shape& input_shape() const { return layers_.front().in; }
  const Shape& output_shape() const { return layers_.back().out; }
  const std::vector<Layer>& layers() const { return layers_; }
  std::vector<Param>& params() { return params_; }
  const std::vector<Param>& params() const { return params_; }
  std::vector<Param*> param_ptrs();
  size_t NumParameters() const;
  const std::string& spec() const { return spec_; }
  // "conv(6,5,pad=2) relu ..." -> one line per layer with shapes.
  std::string Summary() const;

  // acts[0] = x [batch, input]; runs every layer and zeroes
  // ws->output_grad() for the loss to add its gradient into. `first_example`
  // is the index of x's first row within the whole batch (dropout masks).
  void Forward(const float* x, size_t batch, NetWorkspace* ws, bool training,
               uint64_t step, size_t first_example = 0) const;
  // From ws->output_grad() back to the first layer; += into ws->grads.
  void Backward(size_t batch, NetWorkspace* ws, bool training, uint64_t step,
                size_t first_example = 0) const;
  // Param::grad += ws.grads (then zeroes ws.grads).
  void AccumulateGrads(NetWorkspace* ws);
  // Param::grad = ws.grads (then zeroes ws.grads): ZeroGrads() followed by
  // AccumulateGrads(ws) in one pass, by swapping the buffers, for the first
  // (or only) slice of a batch.
  void TakeGrads(NetWorkspace* ws);
  void ZeroGrads();

 private:
  Net() = default;
  void Prepare(size_t batch, NetWorkspace* ws) const;

  std::string spec_;
  std::vector<Layer> layers_;
  std::vector<Param> params_;
};

// The expansion of a built-in name ("lenet5", "mlp"), or `spec` itself.
std::string ExpandSpec(const std::string& spec);

// The C++ form of a spec: each call appends one layer, Build() parses the
// result (so both forms share one grammar, one set of checks and messages).
//
//   StatusOr<Net> net = NetBuilder({28, 28, 1})
//       .Conv(6, 5, {.pad = 2}).Relu().MaxPool(2)
//       .Flatten().Linear(10).Build(/*seed=*/1);
struct ConvLayerArgs {
  int stride = 1, pad = 0, dilation = 1;
  bool bias = true;
};
struct PoolLayerArgs {
  int stride = 0;  // 0: the window size
  int pad = 0;
  bool include_pad = false;  // avgpool's divisor
};

class NetBuilder {
 public:
  using ConvArgs = ConvLayerArgs;
  using PoolArgs = PoolLayerArgs;

  explicit NetBuilder(Shape input) : input_(std::move(input)) {}

  NetBuilder& Linear(int out, bool bias = true);
  NetBuilder& Conv(int out, int kernel, const ConvArgs& args);
  NetBuilder& Conv(int out, int kernel) { return Conv(out, kernel, ConvArgs()); }
  NetBuilder& MaxPool(int kernel, const PoolArgs& args = PoolArgs());
  NetBuilder& AvgPool(int kernel, const PoolArgs& args = PoolArgs());
  NetBuilder& Flatten() { return Add("flatten"); }
  NetBuilder& Relu() { return Add("relu"); }
  NetBuilder& Tanh() { return Add("tanh"); }
  NetBuilder& Sigmoid() { return Add("sigmoid"); }
  NetBuilder& Gelu() { return Add("gelu"); }
  NetBuilder& Dropout(float p);
  NetBuilder& Gru(int hidden, bool bias = true);

  const std::string& spec() const { return spec_; }
  StatusOr<Net> Build(uint64_t seed) const {
    return Net::FromSpec(spec_, input_, seed);
  }

 private:
  NetBuilder& Add(const std::string& layer);

  Shape input_;
  std::string spec_;
};

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_NET_H_
