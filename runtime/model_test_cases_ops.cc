// Malformed models for the op rules of docs/FORMAT.md: structure (O1-O7) and
// each op's shapes and attributes (FC1, GRU1, ...).
#include <stdint.h>

#include <utility>
#include <vector>

#include "runtime/model_test_cases.h"
#include "runtime/model_test_models.h"

namespace sparrow {
namespace {

using bad_models::WithBuilder;
using bad_models::WithModel;
using schema::DType;
using schema::ModelT;
using schema::OpType;
using SC = StatusCode;

ModelBuilder Mlp() { return test_models::TinyMlp(); }
ModelBuilder SparseGru() { return test_models::TinySparseGru(); }
ModelBuilder GruSeq() { return test_models::GruSequence(); }
ModelBuilder Conv() { return test_models::ConvNet(); }
ModelBuilder Misc() { return test_models::Misc(); }
ModelBuilder SparseFc() { return test_models::SparseFc(); }

schema::Conv2DOptionsT& ConvOpts(ModelT& m) {
  return *m.ops[0]->options.AsConv2DOptions();
}
schema::Pool2DOptionsT& PoolOpts(ModelT& m, size_t op) {
  return *m.ops[op]->options.AsPool2DOptions();
}

// A constant of `shape` (zeros) wired as input `k` of op `op`.
std::function<void(ModelBuilder&)> ReplaceInput(size_t op, size_t k,
                                                const char* name,
                                                std::vector<int32_t> shape,
                                                DType dtype = DType::F32) {
  return [=](ModelBuilder& b) {
    size_t n = 1;
    for (int32_t d : shape) n *= static_cast<size_t>(d);
    const std::vector<float> zeros(n, 0.0f);
    int t;
    if (dtype == DType::BF16) {
      t = b.AddConstantBf16(name, shape, zeros.data());
    } else {
      t = b.AddConstant(name, shape, zeros.data());
    }
    b.model().ops[op]->inputs[k] = t;
  };
}

void AddStructureCases(std::vector<BadModelCase>& c) {
  c.push_back({"o1_unknown_op_type", "O1", SC::kInvalidArgument,
               {"op 2", "type=200"}, "op type 200",
               WithModel(Mlp, [](ModelT& m) {
                 m.ops[2]->type = static_cast<OpType>(200);
               })});
  c.push_back({"o2_wrong_options", "O2", SC::kInvalidArgument,
               {"op 0 (FullyConnected)", "options=GruOptions",
                "want FullyConnectedOptions"},
               "FullyConnected carrying GruOptions",
               WithModel(Mlp, [](ModelT& m) {
                 m.ops[0]->options = MakeOptions(GruOptions(16));
               })});
  c.push_back({"o2_missing_options", "O2", SC::kInvalidArgument,
               {"op 0 (FullyConnected)", "options=NONE",
                "want FullyConnectedOptions"},
               "FullyConnected without options",
               WithModel(Mlp, [](ModelT& m) {
                 m.ops[0]->options = schema::OpOptionsUnion();
               })});
  c.push_back({"o2_options_on_reshape", "O2", SC::kInvalidArgument,
               {"op 4 (Reshape)", "options=FlattenOptions", "want NONE"},
               "Reshape carrying options",
               WithModel(Misc, [](ModelT& m) {
                 m.ops[4]->options = MakeOptions(schema::FlattenOptionsT());
               })});
  c.push_back({"o3_too_few_inputs", "O3", SC::kInvalidArgument,
               {"op 0 (FullyConnected)", "has 1 inputs, want 2..3"},
               "FullyConnected with only x",
               WithModel(Mlp, [](ModelT& m) { m.ops[0]->inputs = {0}; })});
  c.push_back({"o3_two_outputs", "O3", SC::kInvalidArgument,
               {"op 2 (Softmax)", "has 2 outputs, want 1"},
               "Softmax with two outputs",
               WithModel(Mlp, [](ModelT& m) { m.ops[2]->outputs = {7, 6}; })});
  c.push_back({"o4_input_out_of_range", "O4", SC::kOutOfRange,
               {"op 0 (FullyConnected)", "input 1 (weight)", "tensor index 50"},
               "weight index 50",
               WithModel(Mlp, [](ModelT& m) { m.ops[0]->inputs[1] = 50; })});
  c.push_back({"o4_required_input_absent", "O4", SC::kInvalidArgument,
               {"op 0 (FullyConnected)", "input 1 (weight) is required"},
               "weight index -1",
               WithModel(Mlp, [](ModelT& m) { m.ops[0]->inputs[1] = -1; })});
  c.push_back({"o4_output_out_of_range", "O4", SC::kOutOfRange,
               {"op 0 (FullyConnected)", "output 0 is tensor index 50"},
               "output index 50",
               WithModel(Mlp, [](ModelT& m) { m.ops[0]->outputs = {50}; })});
  c.push_back({"o5_input_dtype", "O5", SC::kInvalidArgument,
               {"op 0 (FullyConnected)",
                "input tensor 0 'x' has dtype i32, want f32"},
               "i32 input to FullyConnected",
               WithModel(Mlp, [](ModelT& m) { m.tensors[0]->dtype = DType::I32; })});
  c.push_back({"o5_indices_dtype", "O5", SC::kInvalidArgument,
               {"op 0 (Embedding)",
                "indices tensor 0 'tokens' has dtype f32, want i32"},
               "f32 embedding indices",
               WithModel(Misc, [](ModelT& m) { m.tensors[0]->dtype = DType::F32; })});
  c.push_back({"o6_weight_not_constant", "O6", SC::kInvalidArgument,
               {"op 0 (FullyConnected)", "weight tensor 1 'fc1.weight'",
                "no buffer"},
               "weight without data",
               WithModel(Mlp, [](ModelT& m) { m.tensors[1]->buffer = -1; })});
  c.push_back({"o6_sparse_embedding_table", "O6", SC::kInvalidArgument,
               {"op 0 (Embedding)", "table tensor 12 'emb.sparse'",
                "block-sparse"},
               "block-sparse embedding table",
               WithBuilder(Misc, [](ModelBuilder& b) {
                 const std::vector<float> w(20 * 8, 0.5f);
                 const std::vector<uint8_t> mask(2 * 8, 1);
                 StatusOr<BlockSparse16x1> s = BlockSparse16x1::FromDense(
                     w.data(), 20, 8, mask.data(), BlockDType::kBf16);
                 HWY_ASSERT(s.ok());
                 b.model().ops[0]->inputs[1] = b.AddSparseConstant("emb.sparse", *s);
               })});
  c.push_back({"o6_sparse_activation_input", "O6", SC::kInvalidArgument,
               {"op 0 (FullyConnected)", "input tensor 1 'w'", "block-sparse"},
               "block-sparse constant as an FC input (not its weight)",
               WithModel(SparseFc, [](ModelT& m) { m.ops[0]->inputs[0] = 1; })});
  c.push_back({"o7_unknown_activation", "O7", SC::kInvalidArgument,
               {"op 0 (FullyConnected)", "activation=9"}, "activation 9",
               WithModel(Mlp, [](ModelT& m) {
                 m.ops[0]->options.AsFullyConnectedOptions()->activation =
                     static_cast<schema::ActivationType>(9);
               })});
  c.push_back({"o7_unknown_gru_mode", "O7", SC::kInvalidArgument,
               {"op 0 (Gru)", "mode=5"}, "GRU mode 5",
               WithModel(GruSeq, [](ModelT& m) {
                 m.ops[0]->options.AsGruOptions()->mode =
                     static_cast<schema::GruMode>(5);
               })});
}

void AddDenseOpCases(std::vector<BadModelCase>& c) {
  c.push_back({"fc1_features", "FC1", SC::kInvalidArgument,
               {"op 0 (FullyConnected)",
                "weight tensor 1 'fc1.weight' has shape [16,8] but input has 9 "
                "features"},
               "x has 9 features, the weight takes 8",
               WithModel(Mlp, [](ModelT& m) { m.tensors[0]->shape = {1, 9}; })});
  c.push_back({"fc1_weight_rank", "FC1", SC::kInvalidArgument,
               {"op 0 (FullyConnected)",
                "weight tensor 8 'w3' has shape [16,8,1], want rank 2"},
               "rank-3 weight",
               WithBuilder(Mlp, ReplaceInput(0, 1, "w3", {16, 8, 1}))});
  c.push_back({"fc1_bias_shape", "FC1", SC::kInvalidArgument,
               {"op 0 (FullyConnected)",
                "bias tensor 8 'b8' has shape [8], want [16]"},
               "bias of 8 for 16 outputs",
               WithBuilder(Mlp, ReplaceInput(0, 2, "b8", {8}))});
  c.push_back({"fc1_output_shape", "FC1", SC::kInvalidArgument,
               {"op 0 (FullyConnected)",
                "output tensor 3 'fc1.out' has shape [1,15], want [1,16]"},
               "output of 15 for 16 outputs",
               WithModel(Mlp, [](ModelT& m) { m.tensors[3]->shape = {1, 15}; })});
  c.push_back({"fc1_scalar_input", "FC1", SC::kInvalidArgument,
               {"op 0 (FullyConnected)", "input tensor 0 'x' is a scalar"},
               "scalar input",
               WithModel(Mlp, [](ModelT& m) { m.tensors[0]->shape.clear(); })});
  // GruSequence: 0 x [5, 3], 1 w_ih [12, 3], 2 w_hh [12, 4], 3 b_ih, 4 y.
  c.push_back({"gru1_hidden_size", "GRU1", SC::kInvalidArgument,
               {"op 0 (Gru)", "hidden_size=0"}, "hidden size 0",
               WithModel(GruSeq, [](ModelT& m) {
                 m.ops[0]->options.AsGruOptions()->hidden_size = 0;
               })});
  c.push_back({"gru1_w_ih_shape", "GRU1", SC::kInvalidArgument,
               {"op 0 (Gru)", "w_ih tensor 1 'w_ih' has shape [12,3], want [12,4]"},
               "x has 4 features, w_ih takes 3",
               WithModel(GruSeq, [](ModelT& m) { m.tensors[0]->shape = {5, 4}; })});
  c.push_back({"gru1_w_hh_shape", "GRU1", SC::kInvalidArgument,
               {"op 0 (Gru)", "w_hh tensor 5 'w_hh2' has shape [12,5], want [12,4]"},
               "w_hh [3H, H+1]",
               WithBuilder(GruSeq, ReplaceInput(0, 2, "w_hh2", {12, 5}))});
  c.push_back({"gru1_bias_shape", "GRU1", SC::kInvalidArgument,
               {"op 0 (Gru)", "b_ih tensor 5 'b_ih2' has shape [11], want [12]"},
               "b_ih of 11 for 3H = 12",
               WithBuilder(GruSeq, ReplaceInput(0, 3, "b_ih2", {11}))});
  c.push_back({"gru1_step_sequence", "GRU1", SC::kInvalidArgument,
               {"op 0 (Gru)", "mode=Step runs one time step", "[5,3]"},
               "step mode over 5 time steps",
               WithModel(GruSeq, [](ModelT& m) {
                 m.ops[0]->options.AsGruOptions()->mode = schema::GruMode::Step;
               })});
  c.push_back({"gru1_output_shape", "GRU1", SC::kInvalidArgument,
               {"op 0 (Gru)", "output tensor 4 'y' has shape [5,5], want [5,4]"},
               "output [T, H+1]",
               WithModel(GruSeq, [](ModelT& m) { m.tensors[4]->shape = {5, 5}; })});
  c.push_back({"gru2_step_without_state", "GRU2", SC::kInvalidArgument,
               {"op 0 (Gru)", "mode=Step needs a state input"},
               "step mode without a state",
               WithModel(SparseGru, [](ModelT& m) { m.ops[0]->inputs[5] = -1; })});
  c.push_back({"gru2_state_not_variable", "GRU2", SC::kInvalidArgument,
               {"op 0 (Gru)", "state tensor 5 'gru.h' is not a state"},
               "state input without is_variable",
               WithModel(SparseGru, [](ModelT& m) {
                 m.tensors[5]->is_variable = false;
               })});
  c.push_back({"gru2_state_shape", "GRU2", SC::kInvalidArgument,
               {"op 0 (Gru)", "state tensor 5 'gru.h' has shape [32], want [1,32]"},
               "state [H] instead of [1, H]",
               WithModel(SparseGru, [](ModelT& m) { m.tensors[5]->shape = {32}; })});
}

void AddWindowOpCases(std::vector<BadModelCase>& c) {
  // ConvNet: 0 x [1, 5, 5, 2], 1 filter [3, 3, 3, 2], 2 bias [3],
  // 3 conv.out [1, 5, 5, 3], 4 pool1 [1, 2, 2, 3], 6 flat [1, 12].
  c.push_back({"conv1_channels", "CONV1", SC::kInvalidArgument,
               {"op 0 (Conv2D)",
                "filter tensor 1 'conv.filter' has shape [3,3,3,2] but input "
                "has 3 channels"},
               "3 input channels, filter takes 2",
               WithModel(Conv, [](ModelT& m) { m.tensors[0]->shape = {1, 5, 5, 3}; })});
  c.push_back({"conv1_input_rank", "CONV1", SC::kInvalidArgument,
               {"op 0 (Conv2D)", "input tensor 0 'x' has shape [1,5,5], want rank 4"},
               "rank-3 input",
               WithModel(Conv, [](ModelT& m) { m.tensors[0]->shape = {1, 5, 5}; })});
  c.push_back({"conv1_bias_shape", "CONV1", SC::kInvalidArgument,
               {"op 0 (Conv2D)", "bias tensor 11 'bias4' has shape [4], want [3]"},
               "bias of 4 for 3 output channels",
               WithBuilder(Conv, ReplaceInput(0, 2, "bias4", {4}))});
  c.push_back({"conv2_stride_zero", "CONV2", SC::kInvalidArgument,
               {"op 0 (Conv2D)", "stride_h=0, want 1..65535"}, "stride 0",
               WithModel(Conv, [](ModelT& m) { ConvOpts(m).stride_h = 0; })});
  c.push_back({"conv2_dilation", "CONV2", SC::kInvalidArgument,
               {"op 0 (Conv2D)", "dilation_w=70000"}, "dilation 70000",
               WithModel(Conv, [](ModelT& m) { ConvOpts(m).dilation_w = 70000; })});
  c.push_back({"conv2_pad_too_large", "CONV2", SC::kInvalidArgument,
               {"op 0 (Conv2D)", "pad_left=3, want 0..2"},
               "padding as wide as the kernel",
               WithModel(Conv, [](ModelT& m) { ConvOpts(m).pad_left = 3; })});
  c.push_back({"conv2_input_too_small", "CONV2", SC::kInvalidArgument,
               {"op 0 (Conv2D)", "[1,2,2,2]", "smaller than the dilated kernel"},
               "2x2 input, 3x3 kernel, no padding",
               WithModel(Conv, [](ModelT& m) {
                 m.tensors[0]->shape = {1, 2, 2, 2};
                 schema::Conv2DOptionsT& o = ConvOpts(m);
                 o.pad_top = o.pad_bottom = o.pad_left = o.pad_right = 0;
               })});
  c.push_back({"conv2_output_shape", "CONV2", SC::kInvalidArgument,
               {"op 0 (Conv2D)",
                "output tensor 3 'conv.out' has shape [1,5,5,3], want [1,3,3,3]"},
               "stride 2 but the output keeps stride 1's size",
               WithModel(Conv, [](ModelT& m) {
                 ConvOpts(m).stride_h = ConvOpts(m).stride_w = 2;
               })});
  c.push_back({"pool1_filter_zero", "POOL1", SC::kInvalidArgument,
               {"op 1 (MaxPool2D)", "filter_h=0"}, "pool filter 0",
               WithModel(Conv, [](ModelT& m) { PoolOpts(m, 1).filter_h = 0; })});
  c.push_back({"pool1_pad_too_large", "POOL1", SC::kInvalidArgument,
               {"op 2 (AvgPool2D)", "pad_top=3, want 0..2"},
               "pool padding as wide as the filter",
               WithModel(Conv, [](ModelT& m) { PoolOpts(m, 2).pad_top = 3; })});
  c.push_back({"pool1_output_shape", "POOL1", SC::kInvalidArgument,
               {"op 1 (MaxPool2D)",
                "output tensor 4 'pool1' has shape [1,3,3,3], want [1,2,2,3]"},
               "pool output too large",
               WithModel(Conv, [](ModelT& m) { m.tensors[4]->shape = {1, 3, 3, 3}; })});
  c.push_back({"flatten1_axis", "FLATTEN1", SC::kOutOfRange,
               {"op 3 (Flatten)", "axis=5"}, "flatten axis beyond the rank",
               WithModel(Conv, [](ModelT& m) {
                 m.ops[3]->options.AsFlattenOptions()->axis = 5;
               })});
  c.push_back({"flatten1_output_shape", "FLATTEN1", SC::kInvalidArgument,
               {"op 3 (Flatten)",
                "output tensor 6 'flat' has shape [1,12], want [2,6]"},
               "flatten at axis 2 into a [1, 12] tensor",
               WithModel(Conv, [](ModelT& m) {
                 m.ops[3]->options.AsFlattenOptions()->axis = 2;
               })});
}

void AddOtherOpCases(std::vector<BadModelCase>& c) {
  // Misc: 0 tokens [3], 1 emb.table [20, 8], 2 emb [3, 8], 3 feats [3, 4],
  // 4 cat [3, 12], 5 scale [12], 6 scaled, 7 shift [1, 12], 8 shifted,
  // 9 flat [36], 10 y [36]; ops 0 embedding, 1 concat, 2 mul, 3 add,
  // 4 reshape, 5 activation.
  c.push_back({"ew1_no_broadcast", "EW1", SC::kInvalidArgument,
               {"op 2 (Mul)", "[3,12] and [5] do not broadcast"},
               "[3, 12] * [5]",
               WithBuilder(Misc, ReplaceInput(2, 1, "s5", {5}))});
  c.push_back({"ew1_output_shape", "EW1", SC::kInvalidArgument,
               {"op 2 (Mul)", "output tensor 6 'scaled' has shape [3,13], want [3,12]"},
               "elementwise output of the wrong shape",
               WithModel(Misc, [](ModelT& m) { m.tensors[6]->shape = {3, 13}; })});
  c.push_back({"reshape1_elements", "RESHAPE1", SC::kInvalidArgument,
               {"op 4 (Reshape)", "output tensor 9 'flat' has shape [35]",
                "36 elements"},
               "reshape 36 elements into 35",
               WithModel(Misc, [](ModelT& m) { m.tensors[9]->shape = {35}; })});
  c.push_back({"concat1_axis", "CONCAT1", SC::kOutOfRange,
               {"op 1 (Concat)", "axis=2"}, "concat axis beyond the rank",
               WithModel(Misc, [](ModelT& m) {
                 m.ops[1]->options.AsConcatOptions()->axis = 2;
               })});
  c.push_back({"concat1_dims", "CONCAT1", SC::kInvalidArgument,
               {"op 1 (Concat)", "input 1 tensor 3 'feats' has shape [2,4]"},
               "inputs differ off the concat axis",
               WithModel(Misc, [](ModelT& m) { m.tensors[3]->shape = {2, 4}; })});
  c.push_back({"concat1_output_shape", "CONCAT1", SC::kInvalidArgument,
               {"op 1 (Concat)", "output tensor 4 'cat' has shape [3,11], want [3,12]"},
               "concat output of the wrong size",
               WithModel(Misc, [](ModelT& m) { m.tensors[4]->shape = {3, 11}; })});
  c.push_back({"act1_output_shape", "ACT1", SC::kInvalidArgument,
               {"op 5 (Activation)", "output tensor 10 'y' has shape [35], want [36]"},
               "activation output of the wrong shape",
               WithModel(Misc, [](ModelT& m) { m.tensors[10]->shape = {35}; })});
  c.push_back({"act1_softmax_axis", "ACT1", SC::kOutOfRange,
               {"op 2 (Softmax)", "axis=2"}, "softmax axis beyond the rank",
               WithModel(Mlp, [](ModelT& m) {
                 m.ops[2]->options.AsSoftmaxOptions()->axis = 2;
               })});
  c.push_back({"emb1_table_rank", "EMB1", SC::kInvalidArgument,
               {"op 0 (Embedding)",
                "table tensor 12 'flat.table' has shape [160], want rank 2"},
               "rank-1 embedding table",
               WithBuilder(Misc, ReplaceInput(0, 1, "flat.table", {160}, DType::BF16))});
  c.push_back({"emb1_index_out_of_range", "EMB1", SC::kOutOfRange,
               {"op 0 (Embedding)", "'ids'[2]=20", "20 rows"},
               "constant index 20 into a 20-row table",
               WithBuilder(Misc, [](ModelBuilder& b) {
                 const int32_t ids[3] = {0, 5, 20};
                 b.model().ops[0]->inputs[0] = b.AddConstantI32("ids", {3}, ids);
               })});
  c.push_back({"emb1_output_shape", "EMB1", SC::kInvalidArgument,
               {"op 0 (Embedding)", "output tensor 2 'emb' has shape [3,7], want [3,8]"},
               "embedding output narrower than the table",
               WithModel(Misc, [](ModelT& m) { m.tensors[2]->shape = {3, 7}; })});
}

}  // namespace

std::vector<BadModelCase> BadModelCasesOps() {
  std::vector<BadModelCase> c;
  AddStructureCases(c);
  AddDenseOpCases(c);
  AddWindowOpCases(c);
  AddOtherOpCases(c);
  return c;
}

}  // namespace sparrow
