#include "runtime/interpreter_test_models.h"

#include <string>
#include <vector>

#include "hwy/base.h"
#include "kernels/block_sparse.h"
#include "runtime/model_test_models.h"

namespace sparrow {
namespace test_models {
namespace {

using schema::ActivationType;
using schema::OpType;

// A constant of Values(prod(shape), seed) in f32 or bf16.
int Weights(ModelBuilder& b, const std::string& name,
            std::vector<int32_t> shape, uint32_t seed, bool bf16 = false) {
  size_t n = 1;
  for (int32_t d : shape) n *= static_cast<size_t>(d);
  const std::vector<float> v = Values(n, seed);
  return bf16 ? b.AddConstantBf16(name, std::move(shape), v.data())
              : b.AddConstant(name, std::move(shape), v.data());
}

int Sparse(ModelBuilder& b, const std::string& name, size_t rows, size_t cols,
           float density, uint32_t seed, bool bf16 = false) {
  const std::vector<float> v = Values(rows * cols, seed);
  PruneOptions o;
  o.dtype = bf16 ? BlockDType::kBf16 : BlockDType::kF32;
  StatusOr<BlockSparse16x1> w =
      BlockSparse16x1::PruneToDensity(v.data(), rows, cols, density, o);
  HWY_ASSERT(w.ok());
  return b.AddSparseConstant(name, *w);
}

schema::OpOptionsUnion Fc(ActivationType a = ActivationType::Identity) {
  return MakeOptions(FullyConnectedOptions(a));
}

schema::OpOptionsUnion Act(ActivationType a) {
  return MakeOptions(ActivationOptions(a));
}

schema::Conv2DOptionsT ConvOptions(int pad, ActivationType a) {
  schema::Conv2DOptionsT o;
  o.pad_top = o.pad_bottom = o.pad_left = o.pad_right = pad;
  o.activation = a;
  return o;
}

}  // namespace

ModelBuilder FusionChain() {
  ModelBuilder b;
  b.set_description("fusion: FC/Conv2D -> Add(bias) -> Activation");
  const int x = b.AddTensor("x", {1, 24});
  const int w = Weights(b, "fc.weight", {32, 24}, 101);
  const int bias = Weights(b, "fc.bias", {32}, 102);
  const int t1 = b.AddTensor("fc.out", {1, 32});
  const int t2 = b.AddTensor("fc.biased", {1, 32});
  const int t3 = b.AddTensor("fc.act", {1, 32});
  b.AddOp(OpType::FullyConnected, {x, w, -1}, {t1}, Fc());
  b.AddOp(OpType::Add, {bias, t1}, {t2}, MakeOptions(ElementwiseOptions()));
  b.AddOp(OpType::Activation, {t2}, {t3}, Act(ActivationType::Tanh));
  const int img = b.AddTensor("img", {1, 6, 6, 3});
  const int f = Weights(b, "conv.filter", {4, 3, 3, 3}, 103);
  const int cb = Weights(b, "conv.bias", {1, 4}, 104);
  const int c1 = b.AddTensor("conv.out", {1, 6, 6, 4});
  const int c2 = b.AddTensor("conv.biased", {1, 6, 6, 4});
  const int c3 = b.AddTensor("conv.act", {1, 6, 6, 4});
  b.AddOp(OpType::Conv2D, {img, f}, {c1},
          MakeOptions(ConvOptions(1, ActivationType::Identity)));
  b.AddOp(OpType::Add, {c1, cb}, {c2}, MakeOptions(ElementwiseOptions()));
  b.AddOp(OpType::Activation, {c2}, {c3}, Act(ActivationType::Relu));
  b.SetInputs({x, img});
  b.SetOutputs({t3, c3});
  return b;
}

ModelBuilder FusionBlocked() {
  ModelBuilder b;
  b.set_description("fusion blocked by a graph output and a second reader");
  const int x = b.AddTensor("x", {1, 8});
  const int w = Weights(b, "fc1.weight", {16, 8}, 111);
  const int bias = Weights(b, "fc1.bias", {16}, 112);
  const int t1 = b.AddTensor("fc1.out", {1, 16});  // a graph output
  const int t2 = b.AddTensor("fc1.biased", {1, 16});
  const int t3 = b.AddTensor("fc1.act", {1, 16});
  const int t4 = b.AddTensor("prod", {1, 16});
  b.AddOp(OpType::FullyConnected, {x, w}, {t1}, Fc());
  b.AddOp(OpType::Add, {t1, bias}, {t2}, MakeOptions(ElementwiseOptions()));
  b.AddOp(OpType::Activation, {t2}, {t3}, Act(ActivationType::Relu));
  b.AddOp(OpType::Mul, {t2, t3}, {t4}, MakeOptions(ElementwiseOptions()));
  const int w2 = Weights(b, "fc2.weight", {8, 16}, 113);
  const int b2 = Weights(b, "fc2.bias", {8}, 114);
  const int t5 = b.AddTensor("fc2.out", {1, 8});  // two readers
  const int t6 = b.AddTensor("fc2.biased", {1, 8});
  const int t7 = b.AddTensor("fc2.act", {1, 8});
  b.AddOp(OpType::FullyConnected, {t4, w2}, {t5}, Fc());
  b.AddOp(OpType::Add, {t5, b2}, {t6}, MakeOptions(ElementwiseOptions()));
  b.AddOp(OpType::Activation, {t5}, {t7}, Act(ActivationType::Sigmoid));
  b.SetInputs({x});
  b.SetOutputs({t1, t6, t7});
  return b;
}

ModelBuilder WideSparseMlp() {
  ModelBuilder b;
  b.set_description("wide block-sparse MLP");
  const int x = b.AddTensor("x", {1, 384});
  const int w1 = Sparse(b, "fc1.weight", 256, 384, 0.10f, 121);
  const int b1 = Weights(b, "fc1.bias", {256}, 122);
  const int h1 = b.AddTensor("h1", {1, 256});
  const int w2 = Sparse(b, "fc2.weight", 128, 256, 0.25f, 123, /*bf16=*/true);
  const int b2 = Weights(b, "fc2.bias", {128}, 124);
  const int h2 = b.AddTensor("h2", {1, 128});
  const int w3 = Weights(b, "fc3.weight", {64, 128}, 125);
  const int b3 = Weights(b, "fc3.bias", {64}, 126);
  const int h3 = b.AddTensor("h3", {1, 64});
  const int w4 = Weights(b, "fc4.weight", {10, 64}, 127, /*bf16=*/true);
  const int h4 = b.AddTensor("logits", {1, 10});
  const int y = b.AddTensor("probs", {1, 10});
  b.AddOp(OpType::FullyConnected, {x, w1, b1}, {h1}, Fc(ActivationType::Relu));
  b.AddOp(OpType::FullyConnected, {h1, w2, b2}, {h2}, Fc(ActivationType::Tanh));
  b.AddOp(OpType::FullyConnected, {h2, w3, b3}, {h3}, Fc());
  b.AddOp(OpType::FullyConnected, {h3, w4}, {h4}, Fc());
  b.AddOp(OpType::Softmax, {h4}, {y}, MakeOptions(schema::SoftmaxOptionsT()));
  b.SetInputs({x});
  b.SetOutputs({y});
  return b;
}

ModelBuilder DenseGruState() {
  constexpr int kIn = 12, kH = 20;
  ModelBuilder b;
  b.set_description("dense GRU step with state");
  const int x = b.AddTensor("x", {1, kIn});
  const int wi = Weights(b, "gru.w_ih", {3 * kH, kIn}, 131);
  const int wh = Weights(b, "gru.w_hh", {3 * kH, kH}, 132);
  const int bi = Weights(b, "gru.b_ih", {3 * kH}, 133);
  const int bh = Weights(b, "gru.b_hh", {3 * kH}, 134);
  const std::vector<float> h0 = Values(kH, 135);
  const int state = b.AddState("gru.h", {1, kH}, h0.data());
  const int y = b.AddTensor("y", {1, kH});
  b.AddOp(OpType::Gru, {x, wi, wh, bi, bh, state}, {y},
          MakeOptions(GruOptions(kH, schema::GruMode::Step)));
  b.SetInputs({x});
  b.SetOutputs({y});
  return b;
}

ModelBuilder SparseGruSequence() {
  constexpr int kT = 4, kIn = 24, kH1 = 32, kH2 = 20;
  ModelBuilder b;
  b.set_description("block-sparse GRU sequences");
  const int x = b.AddTensor("x", {kT, kIn});
  const int wi = Sparse(b, "gru1.w_ih", 3 * kH1, kIn, 0.3f, 141);
  const int wh = Sparse(b, "gru1.w_hh", 3 * kH1, kH1, 0.2f, 142, /*bf16=*/true);
  const int bi = Weights(b, "gru1.b_ih", {3 * kH1}, 143);
  const int state = b.AddState("gru1.h", {1, kH1});
  const int y1 = b.AddTensor("gru1.out", {kT, kH1});
  b.AddOp(OpType::Gru, {x, wi, wh, bi, -1, state}, {y1},
          MakeOptions(GruOptions(kH1)));
  const int wi2 = Sparse(b, "gru2.w_ih", 3 * kH2, kH1, 0.5f, 144);
  const int wh2 = Weights(b, "gru2.w_hh", {3 * kH2, kH2}, 145, /*bf16=*/true);
  const int bh2 = Weights(b, "gru2.b_hh", {3 * kH2}, 146);
  const int y2 = b.AddTensor("gru2.out", {kT, kH2});
  b.AddOp(OpType::Gru, {y1, wi2, wh2, -1, bh2}, {y2},
          MakeOptions(GruOptions(kH2)));
  b.SetInputs({x});
  b.SetOutputs({y1, y2});
  return b;
}

ModelBuilder GreyConv() {
  ModelBuilder b;
  b.set_description("single-channel convolutions (direct kernel)");
  const int x = b.AddTensor("x", {3, 12, 11, 1});
  const int f1 = Weights(b, "conv1.filter", {6, 5, 5, 1}, 161);
  const int b1 = Weights(b, "conv1.bias", {6}, 162);
  const int c1 = b.AddTensor("conv1.out", {3, 12, 11, 6});
  b.AddOp(OpType::Conv2D, {x, f1, b1}, {c1},
          MakeOptions(ConvOptions(2, ActivationType::Relu)));
  schema::Pool2DOptionsT q;
  q.filter_h = q.filter_w = 2;
  q.stride_h = q.stride_w = 2;
  const int p1 = b.AddTensor("max", {3, 6, 5, 6});
  b.AddOp(OpType::MaxPool2D, {c1}, {p1}, MakeOptions(q));
  const int f2 = Weights(b, "conv2.filter", {17, 3, 2, 1}, 163);
  const int c2 = b.AddTensor("conv2.out", {3, 10, 10, 17});
  b.AddOp(OpType::Conv2D, {x, f2}, {c2},
          MakeOptions(ConvOptions(0, ActivationType::Tanh)));
  b.SetInputs({x});
  b.SetOutputs({p1, c2});
  return b;
}

ModelBuilder StridedConv() {
  ModelBuilder b;
  b.set_description("strided, dilated and pointwise convolutions");
  const int x = b.AddTensor("x", {2, 9, 8, 3});
  const int f1 = Weights(b, "conv1.filter", {5, 3, 3, 3}, 151, /*bf16=*/true);
  const int b1 = Weights(b, "conv1.bias", {5}, 152);
  const int c1 = b.AddTensor("conv1.out", {2, 4, 4, 5});
  schema::Conv2DOptionsT o1;
  o1.stride_h = o1.stride_w = 2;
  o1.dilation_h = o1.dilation_w = 2;
  o1.pad_top = 2;
  o1.pad_bottom = 1;
  o1.pad_left = 1;
  o1.pad_right = 2;
  o1.activation = ActivationType::Gelu;
  b.AddOp(OpType::Conv2D, {x, f1, b1}, {c1}, MakeOptions(o1));
  const int f2 = Weights(b, "conv2.filter", {4, 1, 1, 5}, 153);
  const int c2 = b.AddTensor("conv2.out", {2, 4, 4, 4});
  b.AddOp(OpType::Conv2D, {c1, f2}, {c2},
          MakeOptions(ConvOptions(0, ActivationType::Identity)));
  schema::Pool2DOptionsT p;
  p.filter_h = p.filter_w = 3;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
  p.count_include_pad = true;
  const int p1 = b.AddTensor("avg", {2, 2, 2, 4});
  b.AddOp(OpType::AvgPool2D, {c2}, {p1}, MakeOptions(p));
  // 1600 patch rows of 72: several im2col chunks per thread.
  const int x2 = b.AddTensor("x2", {1, 40, 40, 8});
  const int f3 = Weights(b, "conv3.filter", {8, 3, 3, 8}, 154);
  const int b3 = Weights(b, "conv3.bias", {8}, 155);
  const int c3 = b.AddTensor("conv3.out", {1, 40, 40, 8});
  b.AddOp(OpType::Conv2D, {x2, f3, b3}, {c3},
          MakeOptions(ConvOptions(1, ActivationType::Relu)));
  schema::Pool2DOptionsT q;
  q.filter_h = q.filter_w = 2;
  q.stride_h = q.stride_w = 2;
  const int p2 = b.AddTensor("max", {1, 20, 20, 8});
  b.AddOp(OpType::MaxPool2D, {c3}, {p2}, MakeOptions(q));
  b.SetInputs({x, x2});
  b.SetOutputs({p1, p2});
  return b;
}

ModelBuilder SoftmaxAxes() {
  ModelBuilder b;
  b.set_description("softmax on inner axes");
  const int x = b.AddTensor("x", {2, 3, 4});
  const int a = b.AddTensor("softmax1", {2, 3, 4});
  const int l = b.AddTensor("logsoftmax0", {2, 3, 4});
  const int c = b.AddTensor("softmax_last", {2, 3, 4});
  schema::SoftmaxOptionsT o1, o0, olast;
  o1.axis = 1;
  o0.axis = 0;
  olast.axis = -1;
  b.AddOp(OpType::Softmax, {x}, {a}, MakeOptions(o1));
  b.AddOp(OpType::LogSoftmax, {x}, {l}, MakeOptions(o0));
  b.AddOp(OpType::Softmax, {x}, {c}, MakeOptions(olast));
  b.SetInputs({x});
  b.SetOutputs({a, l, c});
  return b;
}

ModelBuilder Broadcast() {
  ModelBuilder b;
  b.set_description("broadcasting, concat, flatten");
  const int x = b.AddTensor("x", {2, 3, 4});
  const int c1 = Weights(b, "c1", {3, 1}, 161);
  const int s1 = b.AddTensor("sum", {2, 3, 4});
  b.AddOp(OpType::Add, {x, c1}, {s1}, MakeOptions(ElementwiseOptions()));
  const int v = b.AddTensor("v", {4});
  const int m = b.AddTensor("prod", {2, 3, 4});
  b.AddOp(OpType::Mul, {s1, v}, {m},
          MakeOptions(ElementwiseOptions(ActivationType::Sigmoid)));
  const int u = b.AddTensor("u", {1, 3, 1});
  const int c2 = Weights(b, "c2", {2, 1, 4}, 162);
  const int z = b.AddTensor("outer", {2, 3, 4});
  b.AddOp(OpType::Add, {u, c2}, {z}, MakeOptions(ElementwiseOptions()));
  schema::ConcatOptionsT co;
  co.axis = 1;
  const int cat = b.AddTensor("cat", {2, 9, 4});
  b.AddOp(OpType::Concat, {m, z, x}, {cat}, MakeOptions(co));
  schema::FlattenOptionsT fo;
  fo.axis = 2;
  const int flat = b.AddTensor("flat", {18, 4});
  b.AddOp(OpType::Flatten, {cat}, {flat}, MakeOptions(fo));
  b.SetInputs({x, v, u});
  b.SetOutputs({flat, s1});
  return b;
}

ModelBuilder BatchedFc() {
  ModelBuilder b;
  b.set_description("batched fully connected layers");
  const int x = b.AddTensor("x", {3, 5, 40});
  const int w1 = Weights(b, "fc1.weight", {24, 40}, 171);
  const int b1 = Weights(b, "fc1.bias", {24}, 172);
  const int h1 = b.AddTensor("h1", {3, 5, 24});
  const int w2 = Sparse(b, "fc2.weight", 32, 24, 0.4f, 173, /*bf16=*/true);
  const int h2 = b.AddTensor("h2", {3, 5, 32});
  const int w3 = Weights(b, "fc3.weight", {7, 32}, 174, /*bf16=*/true);
  const int b3 = Weights(b, "fc3.bias", {7}, 175);
  const int y = b.AddTensor("y", {3, 5, 7});
  b.AddOp(OpType::FullyConnected, {x, w1, b1}, {h1}, Fc(ActivationType::Relu));
  b.AddOp(OpType::FullyConnected, {h1, w2}, {h2}, Fc(ActivationType::Tanh));
  b.AddOp(OpType::FullyConnected, {h2, w3, b3}, {y}, Fc());
  b.SetInputs({x});
  b.SetOutputs({y});
  return b;
}

}  // namespace test_models
}  // namespace sparrow
