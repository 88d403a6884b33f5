#include "runtime/model_test_models.h"

#include <memory>
#include <utility>

#include "hwy/base.h"
#include "kernels/block_sparse.h"

namespace sparrow {
namespace test_models {

using schema::ActivationType;
using schema::OpType;

std::vector<float> Values(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 12345u;
  for (float& f : v) {
    s = s * 1664525u + 1013904223u;
    f = static_cast<float>(static_cast<int32_t>((s >> 8) % 129) - 64) / 64.0f;
  }
  return v;
}

ModelBuilder TinyMlp(bool bf16_weights) {
  ModelBuilder b;
  b.set_description(bf16_weights ? "tiny MLP, bf16 weights" : "tiny MLP");
  const std::vector<float> w1 = Values(16 * 8, 1), b1 = Values(16, 2);
  const std::vector<float> w2 = Values(4 * 16, 3), b2 = Values(4, 4);
  const int x = b.AddTensor("x", {1, 8});
  const int fc1_w = bf16_weights ? b.AddConstantBf16("fc1.weight", {16, 8}, w1.data())
                                 : b.AddConstant("fc1.weight", {16, 8}, w1.data());
  const int fc1_b = b.AddConstant("fc1.bias", {16}, b1.data());
  const int h = b.AddTensor("fc1.out", {1, 16});
  const int fc2_w = bf16_weights ? b.AddConstantBf16("fc2.weight", {4, 16}, w2.data())
                                 : b.AddConstant("fc2.weight", {4, 16}, w2.data());
  const int fc2_b = b.AddConstant("fc2.bias", {4}, b2.data());
  const int logits = b.AddTensor("logits", {1, 4});
  const int probs = b.AddTensor("probs", {1, 4});
  b.AddOp(OpType::FullyConnected, {x, fc1_w, fc1_b}, {h},
          MakeOptions(FullyConnectedOptions(ActivationType::Relu)));
  b.AddOp(OpType::FullyConnected, {h, fc2_w, fc2_b}, {logits},
          MakeOptions(FullyConnectedOptions()));
  b.AddOp(OpType::Softmax, {logits}, {probs},
          MakeOptions(schema::SoftmaxOptionsT()));
  b.SetInputs({x});
  b.SetOutputs({probs});
  return b;
}

ModelBuilder TinySparseGru() {
  constexpr int kIn = 16, kHidden = 32, kOut = 8;
  ModelBuilder b;
  b.set_description("tiny sparse GRU (step mode, block-sparse weights)");
  const std::vector<float> wi = Values(3 * kHidden * kIn, 11);
  const std::vector<float> wh = Values(3 * kHidden * kHidden, 12);
  const std::vector<float> bi = Values(3 * kHidden, 13), bh = Values(3 * kHidden, 14);
  const std::vector<float> hw = Values(kOut * kHidden, 15), hb = Values(kOut, 16);
  PruneOptions bf16;
  bf16.dtype = BlockDType::kBf16;
  StatusOr<BlockSparse16x1> w_ih =
      BlockSparse16x1::PruneToDensity(wi.data(), 3 * kHidden, kIn, 0.5f, bf16);
  StatusOr<BlockSparse16x1> w_hh = BlockSparse16x1::PruneToDensity(
      wh.data(), 3 * kHidden, kHidden, 0.25f, PruneOptions());
  HWY_ASSERT(w_ih.ok() && w_hh.ok());
  const int x = b.AddTensor("x", {1, kIn});
  const int t_wi = b.AddSparseConstant("gru.w_ih", *w_ih);
  const int t_wh = b.AddSparseConstant("gru.w_hh", *w_hh);
  const int t_bi = b.AddConstant("gru.b_ih", {3 * kHidden}, bi.data());
  const int t_bh = b.AddConstant("gru.b_hh", {3 * kHidden}, bh.data());
  const int state = b.AddState("gru.h", {1, kHidden});
  const int h = b.AddTensor("gru.out", {1, kHidden});
  const int head_w = b.AddConstant("head.weight", {kOut, kHidden}, hw.data());
  const int head_b = b.AddConstant("head.bias", {kOut}, hb.data());
  const int y = b.AddTensor("y", {1, kOut});
  b.AddOp(OpType::Gru, {x, t_wi, t_wh, t_bi, t_bh, state}, {h},
          MakeOptions(GruOptions(kHidden, schema::GruMode::Step)));
  b.AddOp(OpType::FullyConnected, {h, head_w, head_b}, {y},
          MakeOptions(FullyConnectedOptions(ActivationType::Tanh)));
  b.SetInputs({x});
  b.SetOutputs({y});
  return b;
}

ModelBuilder GruSequence() {
  constexpr int kSteps = 5, kIn = 3, kHidden = 4;
  ModelBuilder b;
  b.set_description("dense GRU over a sequence");
  const std::vector<float> wi = Values(3 * kHidden * kIn, 21);
  const std::vector<float> wh = Values(3 * kHidden * kHidden, 22);
  const std::vector<float> bi = Values(3 * kHidden, 23);
  const int x = b.AddTensor("x", {kSteps, kIn});
  const int t_wi = b.AddConstant("w_ih", {3 * kHidden, kIn}, wi.data());
  const int t_wh = b.AddConstantBf16("w_hh", {3 * kHidden, kHidden}, wh.data());
  const int t_bi = b.AddConstant("b_ih", {3 * kHidden}, bi.data());
  const int y = b.AddTensor("y", {kSteps, kHidden});
  b.AddOp(OpType::Gru, {x, t_wi, t_wh, t_bi, -1, -1}, {y},
          MakeOptions(GruOptions(kHidden)));
  b.SetInputs({x});
  b.SetOutputs({y});
  return b;
}

ModelBuilder SparseFc() {
  constexpr int kRows = 32, kCols = 16;
  ModelBuilder b;
  b.set_description("block-sparse fully connected");
  const std::vector<float> w = Values(kRows * kCols, 31), bias = Values(kRows, 32);
  std::vector<uint8_t> mask(2 * kCols, 0);
  for (int c : {1, 4, 9}) mask[c] = 1;       // block-row 0
  for (int c : {0, 15}) mask[kCols + c] = 1;  // block-row 1
  StatusOr<BlockSparse16x1> m =
      BlockSparse16x1::FromDense(w.data(), kRows, kCols, mask.data());
  HWY_ASSERT(m.ok());
  const int x = b.AddTensor("x", {2, kCols});
  const int t_w = b.AddSparseConstant("w", *m);
  const int t_b = b.AddConstant("b", {kRows}, bias.data());
  const int y = b.AddTensor("y", {2, kRows});
  b.AddOp(OpType::FullyConnected, {x, t_w, t_b}, {y},
          MakeOptions(FullyConnectedOptions()));
  b.SetInputs({x});
  b.SetOutputs({y});
  return b;
}

ModelBuilder ConvNet() {
  ModelBuilder b;
  b.set_description("tiny conv net, NHWC");
  const std::vector<float> f = Values(3 * 3 * 3 * 2, 41), fb = Values(3, 42);
  const std::vector<float> w = Values(4 * 12, 43), wb = Values(4, 44);
  const int x = b.AddTensor("x", {1, 5, 5, 2});
  const int filter = b.AddConstant("conv.filter", {3, 3, 3, 2}, f.data());
  const int bias = b.AddConstant("conv.bias", {3}, fb.data());
  const int conv = b.AddTensor("conv.out", {1, 5, 5, 3});
  const int pool1 = b.AddTensor("pool1", {1, 2, 2, 3});
  const int pool2 = b.AddTensor("pool2", {1, 2, 2, 3});
  const int flat = b.AddTensor("flat", {1, 12});
  const int fc_w = b.AddConstant("fc.weight", {4, 12}, w.data());
  const int fc_b = b.AddConstant("fc.bias", {4}, wb.data());
  const int logits = b.AddTensor("logits", {1, 4});
  const int y = b.AddTensor("y", {1, 4});
  schema::Conv2DOptionsT c;
  c.pad_top = c.pad_bottom = c.pad_left = c.pad_right = 1;
  c.activation = ActivationType::Relu;
  b.AddOp(OpType::Conv2D, {x, filter, bias}, {conv}, MakeOptions(c));
  schema::Pool2DOptionsT max;
  max.filter_h = max.filter_w = 2;
  max.stride_h = max.stride_w = 2;
  b.AddOp(OpType::MaxPool2D, {conv}, {pool1}, MakeOptions(max));
  schema::Pool2DOptionsT avg;
  avg.filter_h = avg.filter_w = 3;
  avg.pad_top = avg.pad_bottom = avg.pad_left = avg.pad_right = 1;
  avg.count_include_pad = false;
  b.AddOp(OpType::AvgPool2D, {pool1}, {pool2}, MakeOptions(avg));
  b.AddOp(OpType::Flatten, {pool2}, {flat},
          MakeOptions(schema::FlattenOptionsT()));
  b.AddOp(OpType::FullyConnected, {flat, fc_w, fc_b}, {logits},
          MakeOptions(FullyConnectedOptions()));
  b.AddOp(OpType::LogSoftmax, {logits}, {y},
          MakeOptions(schema::SoftmaxOptionsT()));
  b.SetInputs({x});
  b.SetOutputs({y});
  return b;
}

ModelBuilder Misc() {
  ModelBuilder b;
  b.set_description("embedding, concat, elementwise, reshape, activation");
  const std::vector<float> table = Values(20 * 8, 51), scale = Values(12, 52);
  const std::vector<float> shift = Values(12, 53);
  const int tokens = b.AddTensor("tokens", {3}, schema::DType::I32);
  const int emb_table = b.AddConstantBf16("emb.table", {20, 8}, table.data());
  const int emb = b.AddTensor("emb", {3, 8});
  const int feats = b.AddTensor("feats", {3, 4});
  const int cat = b.AddTensor("cat", {3, 12});
  const int t_scale = b.AddConstant("scale", {12}, scale.data());
  const int scaled = b.AddTensor("scaled", {3, 12});
  const int t_shift = b.AddConstant("shift", {1, 12}, shift.data());
  const int shifted = b.AddTensor("shifted", {3, 12});
  const int flat = b.AddTensor("flat", {36});
  const int y = b.AddTensor("y", {36});
  const int8_t q[12] = {-128, -5, 0, 1, 2, 3, 4, 5, 6, 7, 8, 127};
  const int qb = b.AddBuffer(q, sizeof(q));
  const int qt = b.AddTensor("q.weight", {4, 3}, schema::DType::INT8, qb);
  auto quant = std::make_unique<schema::QuantizationT>();
  quant->scale = {0.5f, 0.25f, 0.125f, 1.0f};
  quant->zero_point = {0, -3, 5, 127};
  quant->axis = 0;
  quant->bit_width = {8, 4, 2, 0};
  b.model().tensors[qt]->quantization = std::move(quant);
  b.AddOp(OpType::Embedding, {tokens, emb_table}, {emb});
  schema::ConcatOptionsT concat;
  concat.axis = -1;
  b.AddOp(OpType::Concat, {emb, feats}, {cat}, MakeOptions(concat));
  b.AddOp(OpType::Mul, {cat, t_scale}, {scaled},
          MakeOptions(ElementwiseOptions()));
  b.AddOp(OpType::Add, {scaled, t_shift}, {shifted},
          MakeOptions(ElementwiseOptions(ActivationType::Relu)));
  b.AddOp(OpType::Reshape, {shifted}, {flat});
  b.AddOp(OpType::Activation, {flat}, {y},
          MakeOptions(ActivationOptions(ActivationType::Tanh)));
  b.SetInputs({tokens, feats});
  b.SetOutputs({y});
  return b;
}

}  // namespace test_models
}  // namespace sparrow
