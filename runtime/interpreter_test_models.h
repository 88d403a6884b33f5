// More valid models for runtime/interpreter_test.cc (tests only): fusion
// patterns, sizes that split across threads, every kernel path (dense f32,
// bf16, block-sparse; GEMV, GEMM, SpMV, SpMM; GRU step and sequence, mixed
// storage), convolutions with stride, dilation, padding and im2col chunks,
// softmax on inner axes, broadcasting. Weights from test_models::Values.
#ifndef SPARROW_RUNTIME_INTERPRETER_TEST_MODELS_H_
#define SPARROW_RUNTIME_INTERPRETER_TEST_MODELS_H_

#include "runtime/model_builder.h"

namespace sparrow {
namespace test_models {

// Rows of Misc()'s embedding table.
inline constexpr int kMiscVocab = 20;

// Ops 0-2: FullyConnected (no bias) -> Add(bias [32]) -> Activation tanh;
// ops 3-5: Conv2D (no bias) -> Add(bias [4]) -> Activation relu.
ModelBuilder FusionChain();
// The same patterns where an intermediate is a graph output or has two
// readers: nothing fuses.
ModelBuilder FusionBlocked();
// 384 -> sparse f32 256 (10%) relu -> sparse bf16 128 (25%) tanh -> dense
// f32 64 -> dense bf16 10 -> Softmax.
ModelBuilder WideSparseMlp();
// Step-mode dense f32 GRU, hidden 20, with state.
ModelBuilder DenseGruState();
// FullSequence GRUs: block-sparse hidden 32 with state, then w_ih sparse /
// w_hh dense bf16, hidden 20 (repacked to dense f32).
ModelBuilder SparseGruSequence();
// Conv2D stride 2 dilation 2 asymmetric padding, bf16 filter, gelu; a 1x1
// conv; AvgPool counting padding. A second input through a conv large
// enough to take several im2col chunks, then MaxPool.
ModelBuilder StridedConv();
// Grey-image convolutions (C = 1: the direct kernel, kernels/conv1ch.h):
// LeNet's first layer on a small batch and an unpadded non-square filter.
ModelBuilder GreyConv();
// Softmax on axis 1, LogSoftmax on axis 0 and Softmax on -1 of [2, 3, 4].
ModelBuilder SoftmaxAxes();
// Add/Mul broadcasting across ranks, Concat axis 1, Flatten axis 2.
ModelBuilder Broadcast();
// x [3, 5, 40]: dense f32 GEMM + bias + relu, sparse bf16 SpMM, dense bf16.
ModelBuilder BatchedFc();

}  // namespace test_models
}  // namespace sparrow

#endif  // SPARROW_RUNTIME_INTERPRETER_TEST_MODELS_H_
