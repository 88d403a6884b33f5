#include "runtime/memory_planner_graphs.h"

#include <math.h>

#include <algorithm>
#include <utility>

#include "hwy/base.h"

namespace sparrow {

int GraphBuilder::Input(size_t bytes) {
  tensor_bytes_.push_back(bytes);
  producer_.push_back(-1);
  return static_cast<int>(tensor_bytes_.size()) - 1;
}

int GraphBuilder::Op(std::initializer_list<int> inputs, size_t out_bytes,
                     size_t scratch_bytes) {
  return Op(std::vector<int>(inputs), out_bytes, scratch_bytes);
}

int GraphBuilder::Op(const std::vector<int>& inputs, size_t out_bytes,
                     size_t scratch_bytes) {
  for (int t : inputs) {
    HWY_ASSERT(t >= 0 && static_cast<size_t>(t) < tensor_bytes_.size());
  }
  tensor_bytes_.push_back(out_bytes);
  producer_.push_back(static_cast<int>(ops_.size()));
  const int out = static_cast<int>(tensor_bytes_.size()) - 1;
  ops_.push_back({inputs, out, scratch_bytes});
  return out;
}

std::vector<BufferLifetime> GraphBuilder::Lifetimes(bool with_scratch) const {
  HWY_ASSERT(!ops_.empty());
  const int32_t last_op = static_cast<int32_t>(ops_.size()) - 1;
  std::vector<BufferLifetime> buffers(tensor_bytes_.size());
  for (size_t t = 0; t < tensor_bytes_.size(); ++t) {
    const int32_t first = producer_[t] < 0 ? 0 : producer_[t];
    buffers[t] = {tensor_bytes_[t], first, first};
  }
  for (size_t op = 0; op < ops_.size(); ++op) {
    for (int t : ops_[op].inputs) {
      buffers[t].last_step =
          std::max(buffers[t].last_step, static_cast<int32_t>(op));
    }
  }
  for (int t : outputs_) buffers[t].last_step = last_op;
  for (size_t op = 0; with_scratch && op < ops_.size(); ++op) {
    if (ops_[op].scratch_bytes == 0) continue;
    const int32_t step = static_cast<int32_t>(op);
    buffers.push_back({ops_[op].scratch_bytes, step, step});
  }
  return buffers;
}

namespace {

constexpr size_t kF32 = 4;  // bytes

struct NamedGraph {
  std::string name;
  GraphBuilder graph;
};

// A float32 [h, w, c] feature map.
size_t Map(size_t h, size_t w, size_t c) { return h * w * c * kF32; }

// Conv2D "same" 3x3 (or k x k) at the output resolution: output and its
// im2col scratch [h * w, k * k * cin].
int Conv(GraphBuilder& g, int in, size_t h, size_t w, size_t cin, size_t cout,
         size_t k = 3) {
  return g.Op({in}, Map(h, w, cout), k == 1 ? 0 : Map(h, w, k * k * cin));
}
int Relu(GraphBuilder& g, int in, size_t bytes) { return g.Op({in}, bytes); }
int ConvRelu(GraphBuilder& g, int in, size_t h, size_t w, size_t cin,
             size_t cout, size_t k = 3) {
  return Relu(g, Conv(g, in, h, w, cin, cout, k), Map(h, w, cout));
}

NamedGraph Mlp() {
  GraphBuilder g;
  const size_t batch = 16;
  int x = g.Input(batch * 784 * kF32);
  const size_t widths[] = {512, 512, 256};
  for (size_t n : widths) {
    x = g.Op({x}, batch * n * kF32);  // FullyConnected
    x = g.Op({x}, batch * n * kF32);  // ReLU
  }
  x = g.Op({x}, batch * 10 * kF32);
  x = g.Op({x}, batch * 10 * kF32);  // Softmax
  g.Output(x);
  return {"mlp", g};
}

NamedGraph LeNet5() {
  GraphBuilder g;
  int x = g.Input(Map(32, 32, 1));
  x = g.Op({x}, Map(28, 28, 6), Map(28, 28, 25));  // conv 5x5 valid
  x = Relu(g, x, Map(28, 28, 6));
  x = g.Op({x}, Map(14, 14, 6));                   // maxpool 2x2
  x = g.Op({x}, Map(10, 10, 16), Map(10, 10, 150));
  x = Relu(g, x, Map(10, 10, 16));
  x = g.Op({x}, Map(5, 5, 16));                    // maxpool
  x = g.Op({x}, 400 * kF32);                       // flatten (a copy)
  const size_t widths[] = {120, 84};
  for (size_t n : widths) x = Relu(g, g.Op({x}, n * kF32), n * kF32);
  x = g.Op({x}, 10 * kF32);
  x = g.Op({x}, 10 * kF32);  // Softmax
  g.Output(x);
  return {"lenet5", g};
}

NamedGraph GruSequence() {
  GraphBuilder g;
  const size_t frames = 100, features = 40, hidden = 128, classes = 32;
  int x = g.Input(frames * features * kF32);
  x = g.Op({x}, frames * hidden * kF32);  // FC frontend
  x = Relu(g, x, frames * hidden * kF32);
  for (int layer = 0; layer < 2; ++layer) {
    // Full-sequence GRU: scratch holds W x for every frame plus one step's
    // gates; the hidden state carried between calls is persistent (tail).
    x = g.Op({x}, frames * hidden * kF32,
             (frames * 3 * hidden + 3 * hidden) * kF32);
  }
  x = g.Op({x}, frames * classes * kF32);
  x = g.Op({x}, frames * classes * kF32);  // LogSoftmax
  g.Output(x);
  return {"gru_seq", g};
}

NamedGraph ResNet() {
  GraphBuilder g;
  size_t hw = 32, c = 16;
  int x = g.Input(Map(hw, hw, 3));
  x = ConvRelu(g, x, hw, hw, 3, c);
  const size_t stages[] = {16, 32, 64};
  for (size_t stage = 0; stage < 3; ++stage) {
    for (int block = 0; block < 3; ++block) {
      const bool down = stage > 0 && block == 0;
      const size_t out_hw = down ? hw / 2 : hw, out_c = stages[stage];
      int skip = x;
      if (down) skip = g.Op({x}, Map(out_hw, out_hw, out_c),  // 1x1 stride 2
                            Map(out_hw, out_hw, c));
      int y = ConvRelu(g, x, out_hw, out_hw, c, out_c);
      y = Conv(g, y, out_hw, out_hw, out_c, out_c);
      y = g.Op({skip, y}, Map(out_hw, out_hw, out_c));  // Add
      x = Relu(g, y, Map(out_hw, out_hw, out_c));
      hw = out_hw;
      c = out_c;
    }
  }
  x = g.Op({x}, c * kF32);  // global average pool
  x = g.Op({x}, 10 * kF32);
  x = g.Op({x}, 10 * kF32);
  g.Output(x);
  return {"resnet", g};
}

NamedGraph UNet() {
  GraphBuilder g;
  size_t hw = 64;
  int x = g.Input(Map(hw, hw, 3));
  size_t c_in = 3;
  const size_t widths[] = {16, 32, 64};
  std::vector<int> skips;
  for (size_t c : widths) {
    x = ConvRelu(g, x, hw, hw, c_in, c);
    x = ConvRelu(g, x, hw, hw, c, c);
    skips.push_back(x);  // Alive until the decoder's concat at this level.
    hw /= 2;
    x = g.Op({x}, Map(hw, hw, c));  // maxpool
    c_in = c;
  }
  x = ConvRelu(g, x, hw, hw, c_in, 128);
  x = ConvRelu(g, x, hw, hw, 128, 128);
  c_in = 128;
  for (int level = 2; level >= 0; --level) {
    const size_t c = widths[level];
    hw *= 2;
    x = g.Op({x}, Map(hw, hw, c_in));        // nearest upsample
    x = Conv(g, x, hw, hw, c_in, c, 1);      // 1x1 projection
    x = g.Op({skips[level], x}, Map(hw, hw, 2 * c));  // Concat
    x = ConvRelu(g, x, hw, hw, 2 * c, c);
    x = ConvRelu(g, x, hw, hw, c, c);
    c_in = c;
  }
  x = Conv(g, x, hw, hw, c_in, 2, 1);
  x = g.Op({x}, Map(hw, hw, 2));  // Softmax
  g.Output(x);
  return {"unet", g};
}

// Two DenseNet blocks: every layer reads the concat of all earlier maps.
NamedGraph DenseNet() {
  GraphBuilder g;
  size_t hw = 32, c = 24;
  const size_t growth = 12;
  int x = g.Input(Map(hw, hw, 3));
  x = ConvRelu(g, x, hw, hw, 3, c);
  for (int block = 0; block < 2; ++block) {
    std::vector<int> features = {x};
    size_t channels = c;
    for (int layer = 0; layer < 6; ++layer) {
      const int cat =
          layer == 0 ? x : g.Op(features, Map(hw, hw, channels));  // Concat
      features.push_back(ConvRelu(g, cat, hw, hw, channels, growth));
      channels += growth;
    }
    x = g.Op(features, Map(hw, hw, channels));  // Concat
    c = channels / 2;
    x = Conv(g, x, hw, hw, channels, c, 1);     // transition 1x1
    hw /= 2;
    x = g.Op({x}, Map(hw, hw, c));              // avgpool 2x2
  }
  x = g.Op({x}, c * kF32);
  x = g.Op({x}, 10 * kF32);
  g.Output(x);
  return {"densenet", g};
}

// Inception modules: four parallel branches joined by a Concat.
NamedGraph Inception() {
  GraphBuilder g;
  size_t hw = 28, c = 64;
  int x = g.Input(Map(hw, hw, c));
  for (int module = 0; module < 4; ++module) {
    const size_t b1 = c / 4, b3r = c / 4, b3 = c / 2, b5r = c / 8, b5 = c / 4,
                 bp = c / 4;
    const int y1 = Conv(g, x, hw, hw, c, b1, 1);
    const int y3 = ConvRelu(g, Conv(g, x, hw, hw, c, b3r, 1), hw, hw, b3r, b3);
    const int y5 =
        ConvRelu(g, Conv(g, x, hw, hw, c, b5r, 1), hw, hw, b5r, b5, 5);
    const int yp = Conv(g, g.Op({x}, Map(hw, hw, c)), hw, hw, c, bp, 1);
    c = b1 + b3 + b5 + bp;
    x = g.Op({y1, y3, y5, yp}, Map(hw, hw, c));  // Concat
    if (module == 1) {
      hw /= 2;
      x = g.Op({x}, Map(hw, hw, c));  // maxpool
    }
  }
  x = g.Op({x}, c * kF32);
  x = g.Op({x}, 10 * kF32);
  g.Output(x);
  return {"inception", g};
}

// A two-layer Transformer encoder (keyword spotting scale): attention
// scores per head, residual Adds around attention and the MLP.
NamedGraph Transformer() {
  GraphBuilder g;
  const size_t tokens = 64, d = 128, heads = 4, ffn = 4 * d;
  const size_t row = tokens * d * kF32;
  int x = g.Input(row);
  for (int layer = 0; layer < 2; ++layer) {
    const int ln1 = g.Op({x}, row);  // LayerNorm
    const int q = g.Op({ln1}, row), k = g.Op({ln1}, row), v = g.Op({ln1}, row);
    const size_t scores_bytes = heads * tokens * tokens * kF32;
    const int scores = g.Op({q, k}, scores_bytes);     // Q K^T per head
    const int probs = g.Op({scores}, scores_bytes);    // Softmax
    const int attn = g.Op({probs, v}, row);            // P V
    const int x1 = g.Op({x, g.Op({attn}, row)}, row);  // Add(x, proj)
    const int ln2 = g.Op({x1}, row);
    const int h = g.Op({ln2}, tokens * ffn * kF32);
    const int gelu = g.Op({h}, tokens * ffn * kF32);
    x = g.Op({x1, g.Op({gelu}, row)}, row);  // Add(x1, FC)
  }
  x = g.Op({x}, d * kF32);  // mean over tokens
  x = g.Op({x}, 12 * kF32);
  g.Output(x);
  return {"transformer", g};
}

// MobileNetV2 inverted residuals: 1x1 expand (6x), 3x3 depthwise, 1x1
// project, Add when the shape is kept.
NamedGraph MobileNetV2() {
  GraphBuilder g;
  size_t hw = 64, c = 16;
  int x = g.Input(Map(hw, hw, 3));
  x = ConvRelu(g, x, hw / 2, hw / 2, 3, c);  // stride 2 stem
  hw /= 2;
  struct Stage {
    size_t c_out;
    int blocks;
    bool down;
  };
  const Stage stages[] = {{24, 2, true}, {32, 3, true}, {64, 3, true}};
  for (const Stage& stage : stages) {
    for (int block = 0; block < stage.blocks; ++block) {
      const bool down = stage.down && block == 0;
      const size_t out_hw = down ? hw / 2 : hw, wide = 6 * c;
      int y = ConvRelu(g, x, hw, hw, c, wide, 1);                  // expand
      y = Relu(g, g.Op({y}, Map(out_hw, out_hw, wide)),            // depthwise
               Map(out_hw, out_hw, wide));
      y = Conv(g, y, out_hw, out_hw, wide, stage.c_out, 1);        // project
      if (!down && c == stage.c_out) {
        y = g.Op({x, y}, Map(out_hw, out_hw, stage.c_out));  // Add
      }
      x = y;
      hw = out_hw;
      c = stage.c_out;
    }
  }
  x = g.Op({x}, c * kF32);
  x = g.Op({x}, 10 * kF32);
  g.Output(x);
  return {"mobilenet2", g};
}

// SplitMix64: the same numbers on every platform and standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  uint64_t Below(uint64_t n) { return Next() % n; }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Log-uniform in [1, 2^20] bytes.
  size_t Bytes() {
    return static_cast<size_t>(exp2(Unit() * 20.0));
  }

 private:
  uint64_t state_;
};

}  // namespace

std::vector<TestGraph> RealisticGraphs() {
  std::vector<TestGraph> graphs;
  for (const NamedGraph& g :
       {Mlp(), LeNet5(), GruSequence(), ResNet(), UNet(), DenseNet(),
        Inception(), Transformer(), MobileNetV2()}) {
    graphs.push_back({g.name, g.graph.Lifetimes(true)});
    std::vector<BufferLifetime> without = g.graph.Lifetimes(false);
    if (without.size() != graphs.back().buffers.size()) {
      graphs.push_back({g.name + "-noscratch", std::move(without)});
    }
  }
  return graphs;
}

std::vector<BufferLifetime> RandomGraph(uint32_t seed, int num_ops) {
  Rng rng(seed);
  GraphBuilder g;
  std::vector<int> tensors = {g.Input(rng.Bytes())};
  for (int op = 0; op < num_ops; ++op) {
    std::vector<int> inputs = {tensors.back()};
    if (rng.Unit() < 0.3) {  // A skip from anywhere earlier.
      inputs.push_back(tensors[rng.Below(tensors.size())]);
    }
    if (rng.Unit() < 0.2) inputs[0] = tensors[rng.Below(tensors.size())];
    const size_t scratch = rng.Unit() < 0.3 ? rng.Bytes() : 0;
    tensors.push_back(g.Op(inputs, rng.Bytes(), scratch));
  }
  g.Output(tensors.back());
  return g.Lifetimes();
}

std::vector<BufferLifetime> RandomIntervals(uint32_t seed, int count,
                                            int steps) {
  Rng rng(seed);
  std::vector<BufferLifetime> buffers(count);
  for (BufferLifetime& b : buffers) {
    const int32_t first = static_cast<int32_t>(rng.Below(steps));
    // Mostly short lifetimes, a few long ones.
    const int32_t length = rng.Unit() < 0.1
                               ? static_cast<int32_t>(rng.Below(steps))
                               : static_cast<int32_t>(rng.Below(4));
    b = {rng.Bytes(), first, std::min(first + length, steps - 1)};
  }
  return buffers;
}

}  // namespace sparrow
