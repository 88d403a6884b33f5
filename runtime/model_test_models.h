// Small valid models for tests and testdata/models/ (tests only). Each
// function returns a builder, so a test can change one field before Finish()
// to make a malformed model (runtime/model_test_cases.h).
//
//   sparrow::ModelBuilder b = sparrow::test_models::TinyMlp();
//   std::vector<uint8_t> bytes = b.Finish();
//
// Weights are deterministic (Values()), so the files are reproducible.
#ifndef SPARROW_RUNTIME_MODEL_TEST_MODELS_H_
#define SPARROW_RUNTIME_MODEL_TEST_MODELS_H_

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "runtime/model_builder.h"

namespace sparrow {
namespace test_models {

// n values k / 64, k in [-64, 64], from a fixed LCG: exactly representable in
// bf16, so bf16 round trips are exact too.
std::vector<float> Values(size_t n, uint32_t seed);

// x [1, 8] -> FullyConnected 16 + relu -> FullyConnected 4 -> Softmax.
// Tensors: 0 x, 1 fc1.weight, 2 fc1.bias, 3 fc1.out, 4 fc2.weight,
// 5 fc2.bias, 6 logits, 7 probs. Ops: 0 fc1, 1 fc2, 2 softmax.
ModelBuilder TinyMlp(bool bf16_weights = false);

// Step-mode GRU, hidden 32, block-sparse weights (w_ih bf16 [96, 16] at 50%,
// w_hh f32 [96, 32] at 25%), a state, then a dense FullyConnected [8, 32] +
// tanh. Tensors: 0 x [1, 16], 1 gru.w_ih, 2 gru.w_hh, 3 gru.b_ih, 4 gru.b_hh,
// 5 gru.h (state), 6 gru.out, 7 head.weight, 8 head.bias, 9 y.
ModelBuilder TinySparseGru();

// Full-sequence dense GRU: x [5, 3], hidden 4, f32 w_ih, bf16 w_hh, b_ih
// only, no state. Tensors: 0 x, 1 w_ih, 2 w_hh, 3 b_ih, 4 y [5, 4]. Op 0.
ModelBuilder GruSequence();

// A block-sparse FullyConnected: x [2, 16] -> y [2, 32], f32 blocks at
// columns 1, 4, 9 (block-row 0) and 0, 15 (block-row 1). Tensors: 0 x, 1 w
// (sparse, buffer 0), 2 b, 3 y.
ModelBuilder SparseFc();

// x [1, 5, 5, 2] -> Conv2D 3x3x3 pad 1 + relu -> MaxPool2D 2x2/2 ->
// AvgPool2D 3x3/1 pad 1 -> Flatten -> FullyConnected 4 -> LogSoftmax.
// Tensors: 0 x, 1 conv.filter [3, 3, 3, 2], 2 conv.bias, 3 conv.out
// [1, 5, 5, 3], 4 pool1 [1, 2, 2, 3], 5 pool2 [1, 2, 2, 3], 6 flat [1, 12],
// 7 fc.weight, 8 fc.bias, 9 logits, 10 y. Ops: 0 conv, 1 max, 2 avg,
// 3 flatten, 4 fc, 5 logsoftmax.
ModelBuilder ConvNet();

// The remaining op types: tokens i32 [3] -> Embedding (bf16 table [20, 8])
// [3, 8]; Concat with feats [3, 4] on axis -1 -> [3, 12]; Mul by a constant
// [12]; Add a constant [1, 12] + relu; Reshape [36]; Activation tanh.
// Also an int8 constant with per-channel quantization (used by no op).
// Tensors: 0 tokens, 1 emb.table, 2 emb, 3 feats, 4 cat, 5 scale, 6 scaled,
// 7 shift, 8 shifted, 9 flat [36], 10 y, 11 q.weight int8 [4, 3].
// Ops: 0 embedding, 1 concat, 2 mul, 3 add, 4 reshape, 5 activation.
ModelBuilder Misc();

}  // namespace test_models
}  // namespace sparrow

#endif  // SPARROW_RUNTIME_MODEL_TEST_MODELS_H_
