// Malformed models for the file-level rules of docs/FORMAT.md: header (H),
// buffers (B), tensors (T), quantization (Q), model inputs/outputs (I) and
// the graph (G). Op rules are in model_test_cases_ops.cc.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <memory>
#include <utility>

#include "runtime/model_test_cases.h"
#include "runtime/model_test_models.h"

namespace sparrow {
namespace {

using bad_models::AfterLayout;
using bad_models::WithBuilder;
using bad_models::WithBytes;
using bad_models::WithModel;
using schema::DType;
using schema::ModelT;
using schema::OpType;
using SC = StatusCode;

ModelBuilder Mlp() { return test_models::TinyMlp(); }
ModelBuilder SparseGru() { return test_models::TinySparseGru(); }
ModelBuilder SparseFc() { return test_models::SparseFc(); }
ModelBuilder Misc() { return test_models::Misc(); }

void PutU32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
  memcpy(v.data() + at, &x, sizeof(x));
}

schema::QuantizationT& Quant(ModelT& m, size_t t) {
  return *m.tensors[t]->quantization;
}

void AddHeaderCases(std::vector<BadModelCase>& c) {
  c.push_back({"h1_short_header", "H1", SC::kDataLoss,
               {"file is 11 bytes", "12-byte header"},
               "11 bytes: shorter than the header",
               WithBytes(Mlp, [](std::vector<uint8_t>& v) { v.resize(11); })});
  c.push_back({"h2_bad_identifier", "H2", SC::kInvalidArgument,
               {"identifier", "'ABCD'"},
               "file identifier ABCD instead of SPRW",
               WithBytes(Mlp, [](std::vector<uint8_t>& v) {
                 memcpy(v.data() + 8, "ABCD", 4);
               })});
  c.push_back({"h3_size_prefix_past_end", "H3", SC::kDataLoss,
               {"size prefix says", "truncated"},
               "size prefix larger than the file",
               WithBytes(Mlp, [](std::vector<uint8_t>& v) {
                 PutU32(v, 0, static_cast<uint32_t>(v.size()));
               })});
  c.push_back({"h3_truncated_flatbuffer", "H3", SC::kDataLoss,
               {"size prefix says", "truncated"},
               "file cut inside the FlatBuffer",
               WithBytes(Mlp, [](std::vector<uint8_t>& v) { v.resize(100); })});
  c.push_back({"h4_root_offset", "H4", SC::kDataLoss,
               {"fails verification"},
               "root table offset points outside the FlatBuffer",
               WithBytes(Mlp, [](std::vector<uint8_t>& v) {
                 PutU32(v, 4, 0x7FFFFFF0u);
               })});
  c.push_back({"h4_unterminated_string", "H4", SC::kDataLoss,
               {"fails verification"},
               "the description string lost its NUL terminator",
               WithBytes(Mlp, [](std::vector<uint8_t>& v) {
                 static const char kText[] = "tiny MLP";  // with its NUL
                 for (size_t i = 0; i + sizeof(kText) <= v.size(); ++i) {
                   if (memcmp(v.data() + i, kText, sizeof(kText)) == 0) {
                     v[i + sizeof(kText) - 1] = 'X';
                     return;
                   }
                 }
               })});
  c.push_back({"h5_version_zero", "H5", SC::kInvalidArgument, {"version=0"},
               "version 0",
               WithModel(Mlp, [](ModelT& m) { m.version = 0; })});
  c.push_back({"h5_version_newer", "H5", SC::kUnimplemented,
               {"version=2", "reads versions 1..1"},
               "version 2, newer than the reader",
               WithModel(Mlp, [](ModelT& m) { m.version = 2; })});
}

void AddBufferCases(std::vector<BadModelCase>& c) {
  c.push_back({"b1_offset_misaligned", "B1", SC::kInvalidArgument,
               {"buffer 1", "offset=", "multiple of 64"},
               "buffer offset not a multiple of 64",
               AfterLayout(Mlp, [](ModelT& m) { m.buffers[1]->offset += 4; })});
  c.push_back({"b2_offset_in_flatbuffer", "B2", SC::kOutOfRange,
               {"buffer 0", "offset=0", "inside the FlatBuffer"},
               "buffer placed over the FlatBuffer",
               AfterLayout(Mlp, [](ModelT& m) { m.buffers[0]->offset = 0; })});
  c.push_back({"b3_buffer_past_end", "B3", SC::kDataLoss,
               {"buffer 3", "past the end of the file"},
               "last buffer's size runs past the end of the file",
               AfterLayout(Mlp, [](ModelT& m) { m.buffers[3]->size += 1; })});
  c.push_back({"b4_unknown_layout", "B4", SC::kInvalidArgument,
               {"buffer 0", "layout=7"}, "buffer layout 7",
               WithModel(Mlp, [](ModelT& m) {
                 m.buffers[0]->layout = static_cast<schema::BufferLayout>(7);
               })});
  c.push_back({"b5_dense_with_sparse_table", "B5", SC::kInvalidArgument,
               {"buffer 0", "layout=Dense", "sparse table"},
               "dense buffer carrying a sparse layout table",
               WithModel(Mlp, [](ModelT& m) {
                 m.buffers[0]->sparse =
                     std::make_unique<schema::BlockSparse16x1LayoutT>();
               })});
  c.push_back({"b5_sparse_without_table", "B5", SC::kInvalidArgument,
               {"buffer 0", "sparse is missing"},
               "block-sparse buffer without its layout table",
               WithModel(SparseFc,
                         [](ModelT& m) { m.buffers[0]->sparse.reset(); })});
  c.push_back({"b6_sparse_int8", "B6", SC::kUnimplemented,
               {"buffer 0", "sparse.dtype=int8", "reserved"},
               "int8 sparse blocks (reserved)",
               WithModel(SparseFc, [](ModelT& m) {
                 m.buffers[0]->sparse->dtype = DType::INT8;
               })});
  c.push_back({"b6_sparse_i32", "B6", SC::kInvalidArgument,
               {"buffer 0", "sparse.dtype=i32"}, "i32 sparse blocks",
               WithModel(SparseFc, [](ModelT& m) {
                 m.buffers[0]->sparse->dtype = DType::I32;
               })});
  c.push_back({"b7_col_indices_misaligned", "B7", SC::kInvalidArgument,
               {"buffer 0", "sparse.col_indices_offset=26", "multiple of 4"},
               "col_indices section at a 2-byte offset",
               WithModel(SparseFc, [](ModelT& m) {
                 m.buffers[0]->sparse->col_indices_offset += 2;
               })});
  c.push_back({"b7_data_misaligned", "B7", SC::kInvalidArgument,
               {"buffer 0", "sparse.data_offset=68", "multiple of 64"},
               "block stream not 64-byte aligned",
               WithModel(SparseFc, [](ModelT& m) {
                 m.buffers[0]->sparse->data_offset += 4;
               })});
  c.push_back({"b8_sections_overlap", "B8", SC::kInvalidArgument,
               {"buffer 0", "sparse.data_offsets_offset=0", "overlaps"},
               "data_offsets section on top of block_offsets",
               WithModel(SparseFc, [](ModelT& m) {
                 m.buffers[0]->sparse->data_offsets_offset = 0;
               })});
  c.push_back({"b8_section_past_buffer", "B8", SC::kOutOfRange,
               {"buffer 0", "sparse.data_offset=64", "ends past the buffer"},
               "block stream longer than the buffer",
               WithModel(SparseFc, [](ModelT& m) {
                 m.buffers[0]->sparse->data_size += 64;
               })});
  c.push_back({"b8_data_not_last", "B8", SC::kInvalidArgument,
               {"buffer 0", "ends at 320", "size=384"},
               "block stream does not end the buffer",
               WithModel(SparseFc, [](ModelT& m) {
                 m.buffers[0]->sparse->data_size -= 64;
               })});
  c.push_back({"b9_col_index_out_of_range", "B9", SC::kOutOfRange,
               {"buffer 0 (block-sparse f32 [32,16])", "col_indices[0]=16",
                "cols=16"},
               "a column index beyond cols (block_sparse.h rule 4)",
               WithBuilder(SparseFc, [](ModelBuilder& b) {
                 const size_t at = b.model().buffers[0]->sparse->col_indices_offset;
                 PutU32(b.buffer_bytes(0), at, 16);
               })});
  c.push_back({"b9_data_offsets", "B9", SC::kInvalidArgument,
               {"buffer 0 (block-sparse", "data_offsets[1]=2"},
               "data_offsets disagree with the block counts (rule 5)",
               WithBuilder(SparseFc, [](ModelBuilder& b) {
                 const size_t at = b.model().buffers[0]->sparse->data_offsets_offset;
                 PutU32(b.buffer_bytes(0), at + 4, 2);
               })});
  c.push_back({"b10_data_slack", "B10", SC::kInvalidArgument,
               {"buffer 0", "sparse.data_size=384", "hold 320 bytes"},
               "block stream with an unused line at the end",
               WithBuilder(SparseFc, [](ModelBuilder& b) {
                 b.buffer_bytes(0).resize(b.buffer_bytes(0).size() + 64, 0);
                 b.model().buffers[0]->sparse->data_size += 64;
               })});
}

void AddTensorCases(std::vector<BadModelCase>& c) {
  c.push_back({"t1_unknown_dtype", "T1", SC::kInvalidArgument,
               {"tensor 3 'fc1.out'", "dtype=9"}, "dtype 9",
               WithModel(Mlp, [](ModelT& m) {
                 m.tensors[3]->dtype = static_cast<DType>(9);
               })});
  c.push_back({"t1_int4_reserved", "T1", SC::kUnimplemented,
               {"tensor 3 'fc1.out'", "dtype=int4", "reserved"},
               "int4 (reserved for quantization)",
               WithModel(Mlp, [](ModelT& m) { m.tensors[3]->dtype = DType::INT4; })});
  c.push_back({"t2_rank_too_large", "T2", SC::kOutOfRange,
               {"tensor 3 'fc1.out'", "rank=9", "exceeds 8"}, "rank 9",
               WithModel(Mlp, [](ModelT& m) {
                 m.tensors[3]->shape.assign(9, 1);
               })});
  c.push_back({"t3_negative_dim", "T3", SC::kInvalidArgument,
               {"tensor 3 'fc1.out'", "[1,-16]", "axis 1"}, "a dim of -16",
               WithModel(Mlp, [](ModelT& m) { m.tensors[3]->shape = {1, -16}; })});
  c.push_back({"t4_too_many_elements", "T4", SC::kOutOfRange,
               {"tensor 3 'fc1.out'", "[65536,65536,65536]", "2^48"},
               "2^48 elements (2^50 bytes)",
               WithModel(Mlp, [](ModelT& m) {
                 m.tensors[3]->shape = {65536, 65536, 65536};
               })});
  c.push_back({"t5_buffer_out_of_range", "T5", SC::kOutOfRange,
               {"tensor 1 'fc1.weight'", "buffer=99"}, "buffer index 99",
               WithModel(Mlp, [](ModelT& m) { m.tensors[1]->buffer = 99; })});
  c.push_back({"t5_buffer_negative", "T5", SC::kOutOfRange,
               {"tensor 1 'fc1.weight'", "buffer=-2"}, "buffer index -2",
               WithModel(Mlp, [](ModelT& m) { m.tensors[1]->buffer = -2; })});
  c.push_back({"t6_buffer_size", "T6", SC::kInvalidArgument,
               {"tensor 1 'fc1.weight'", "buffer 0 has 512 bytes", "[16,9]",
                "needs 576"},
               "shape [16, 9] f32 on a 512-byte buffer",
               WithModel(Mlp, [](ModelT& m) { m.tensors[1]->shape = {16, 9}; })});
  c.push_back({"t7_sparse_shape", "T7", SC::kInvalidArgument,
               {"tensor 1 'w'", "[32,17]", "block-sparse buffer 0 [32,16]"},
               "tensor shape differs from its sparse buffer's",
               WithModel(SparseFc, [](ModelT& m) { m.tensors[1]->shape = {32, 17}; })});
  c.push_back({"t7_sparse_dtype", "T7", SC::kInvalidArgument,
               {"tensor 1 'w'", "dtype=bf16", "holds f32"},
               "bf16 tensor on f32 blocks",
               WithModel(SparseFc, [](ModelT& m) { m.tensors[1]->dtype = DType::BF16; })});
  c.push_back({"t7_sparse_state", "T7", SC::kInvalidArgument,
               {"tensor 1 'w'", "is_variable"}, "a block-sparse state",
               WithModel(SparseFc, [](ModelT& m) { m.tensors[1]->is_variable = true; })});
  c.push_back({"t8_duplicate_name", "T8", SC::kInvalidArgument,
               {"tensor 6", "name 'fc1.out'", "used by tensor 3"},
               "two tensors named fc1.out",
               WithModel(Mlp, [](ModelT& m) { m.tensors[6]->name = "fc1.out"; })});
}

void AddQuantizationCases(std::vector<BadModelCase>& c) {
  // Misc's tensor 11 'q.weight' is int8 [4, 3], per-channel on axis 0.
  c.push_back({"q1_int8_without_scale", "Q1", SC::kInvalidArgument,
               {"tensor 11 'q.weight'", "needs quantization.scale"},
               "int8 tensor without scales",
               WithModel(Misc, [](ModelT& m) {
                 Quant(m, 11).scale.clear();
                 Quant(m, 11).zero_point.clear();
               })});
  c.push_back({"q1_float_with_scale", "Q1", SC::kInvalidArgument,
               {"tensor 1 'fc1.weight'", "dtype=f32 cannot have quantization"},
               "f32 tensor with a scale",
               WithModel(Mlp, [](ModelT& m) {
                 m.tensors[1]->quantization =
                     std::make_unique<schema::QuantizationT>();
                 m.tensors[1]->quantization->scale = {0.5f};
               })});
  c.push_back({"q2_axis", "Q2", SC::kOutOfRange,
               {"tensor 11 'q.weight'", "quantization.axis=2"},
               "per-channel axis beyond the rank",
               WithModel(Misc, [](ModelT& m) { Quant(m, 11).axis = 2; })});
  c.push_back({"q3_scale_count", "Q3", SC::kInvalidArgument,
               {"tensor 11 'q.weight'", "quantization.scale has 3 entries",
                "shape[0]=4"},
               "3 scales for 4 channels",
               WithModel(Misc, [](ModelT& m) { Quant(m, 11).scale.pop_back(); })});
  c.push_back({"q3_zero_point_count", "Q3", SC::kInvalidArgument,
               {"tensor 11 'q.weight'", "zero_point has 2 entries"},
               "2 zero points for 4 scales",
               WithModel(Misc, [](ModelT& m) { Quant(m, 11).zero_point.resize(2); })});
  c.push_back({"q3_bit_width_count", "Q3", SC::kInvalidArgument,
               {"tensor 11 'q.weight'", "bit_width has 3 entries"},
               "3 bit widths for 4 channels",
               WithModel(Misc, [](ModelT& m) { Quant(m, 11).bit_width.resize(3); })});
  c.push_back({"q4_scale_zero", "Q4", SC::kInvalidArgument,
               {"tensor 11 'q.weight'", "quantization.scale[1]=0"},
               "a zero scale",
               WithModel(Misc, [](ModelT& m) { Quant(m, 11).scale[1] = 0.0f; })});
  c.push_back({"q4_scale_nan", "Q4", SC::kInvalidArgument,
               {"tensor 11 'q.weight'", "quantization.scale[2]=nan"},
               "a NaN scale",
               WithModel(Misc, [](ModelT& m) { Quant(m, 11).scale[2] = NAN; })});
  c.push_back({"q5_zero_point_range", "Q5", SC::kOutOfRange,
               {"tensor 11 'q.weight'", "quantization.zero_point[2]=200"},
               "int8 zero point 200",
               WithModel(Misc, [](ModelT& m) { Quant(m, 11).zero_point[2] = 200; })});
  c.push_back({"q6_bit_width_value", "Q6", SC::kInvalidArgument,
               {"tensor 11 'q.weight'", "quantization.bit_width[1]=3"},
               "a 3-bit channel",
               WithModel(Misc, [](ModelT& m) { Quant(m, 11).bit_width[1] = 3; })});
  c.push_back({"q6_bit_width_above_dtype", "Q6", SC::kInvalidArgument,
               {"tensor 11 'q.weight'", "bit_width[0]=16", "at most 8 for int8"},
               "16 bits on int8 storage",
               WithModel(Misc, [](ModelT& m) { Quant(m, 11).bit_width[0] = 16; })});
}

void AddInputOutputCases(std::vector<BadModelCase>& c) {
  c.push_back({"i1_input_out_of_range", "I1", SC::kOutOfRange,
               {"model input 1", "tensor index 42"}, "model input 42",
               WithModel(Mlp, [](ModelT& m) { m.inputs = {0, 42}; })});
  c.push_back({"i2_input_constant", "I2", SC::kInvalidArgument,
               {"model input 1", "tensor 1 'fc1.weight'", "constant"},
               "a weight listed as a model input",
               WithModel(Mlp, [](ModelT& m) { m.inputs = {0, 1}; })});
  c.push_back({"i2_input_state", "I2", SC::kInvalidArgument,
               {"model input 1", "tensor 5 'gru.h'", "state"},
               "a state listed as a model input",
               WithModel(SparseGru, [](ModelT& m) { m.inputs = {0, 5}; })});
  c.push_back({"i3_input_twice", "I3", SC::kInvalidArgument,
               {"model input 1", "tensor 0 'x'", "listed twice"},
               "x listed twice as an input",
               WithModel(Mlp, [](ModelT& m) { m.inputs = {0, 0}; })});
  c.push_back({"i4_no_outputs", "I4", SC::kInvalidArgument, {"no outputs"},
               "no model outputs",
               WithModel(Mlp, [](ModelT& m) { m.outputs.clear(); })});
  c.push_back({"i5_output_out_of_range", "I5", SC::kOutOfRange,
               {"model output 1", "tensor index 99"}, "model output 99",
               WithModel(Mlp, [](ModelT& m) { m.outputs = {7, 99}; })});
  c.push_back({"i5_output_twice", "I5", SC::kInvalidArgument,
               {"model output 1", "tensor 7 'probs'", "listed twice"},
               "probs listed twice as an output",
               WithModel(Mlp, [](ModelT& m) { m.outputs = {7, 7}; })});
  c.push_back({"i6_output_not_produced", "I6", SC::kInvalidArgument,
               {"model output 0", "tensor 8 'orphan'", "neither produced"},
               "an output no op writes",
               WithBuilder(Mlp, [](ModelBuilder& b) {
                 b.SetOutputs({b.AddTensor("orphan", {1, 4})});
               })});
}

void AddGraphCases(std::vector<BadModelCase>& c) {
  c.push_back({"g1_out_of_order", "G1", SC::kInvalidArgument,
               {"op 0 (FullyConnected)", "input 0 tensor 3 'fc1.out'",
                "before any op produces it"},
               "ops not in execution order",
               WithModel(Mlp, [](ModelT& m) { std::swap(m.ops[0], m.ops[1]); })});
  c.push_back({"g1_cycle", "G1", SC::kInvalidArgument,
               {"op 4 (Reshape)", "tensor 10 'y'", "before any op produces it"},
               "reshape reads the activation that reads the reshape",
               WithModel(Misc, [](ModelT& m) { m.ops[4]->inputs = {10}; })});
  c.push_back({"g2_writes_constant", "G2", SC::kInvalidArgument,
               {"op 2 (Softmax)", "output 0 tensor 8 'c'", "constant"},
               "softmax writes a constant",
               WithBuilder(Mlp, [](ModelBuilder& b) {
                 const float zeros[4] = {0, 0, 0, 0};
                 const int t = b.AddConstant("c", {1, 4}, zeros);
                 b.model().ops[2]->outputs = {t};
                 b.SetOutputs({6});
               })});
  c.push_back({"g2_writes_input", "G2", SC::kInvalidArgument,
               {"op 2 (Softmax)", "output 0 tensor 8 'x2'", "model input"},
               "softmax writes a model input",
               WithBuilder(Mlp, [](ModelBuilder& b) {
                 const int t = b.AddTensor("x2", {1, 4});
                 b.model().ops[2]->outputs = {t};
                 b.SetInputs({0, t});
               })});
  c.push_back({"g2_writes_state", "G2", SC::kInvalidArgument,
               {"op 2 (Softmax)", "output 0 tensor 8 's'", "state"},
               "softmax writes a state",
               WithBuilder(Mlp, [](ModelBuilder& b) {
                 const int t = b.AddState("s", {1, 4});
                 b.model().ops[2]->outputs = {t};
                 b.SetOutputs({6});
               })});
  c.push_back({"g3_produced_twice", "G3", SC::kInvalidArgument,
               {"op 3 (Softmax)", "output 0 tensor 7 'probs'",
                "already produced by op 2"},
               "two ops write probs",
               WithBuilder(Mlp, [](ModelBuilder& b) {
                 b.AddOp(OpType::Softmax, {6}, {7},
                         MakeOptions(schema::SoftmaxOptionsT()));
               })});
  c.push_back({"g4_state_outside_gru", "G4", SC::kInvalidArgument,
               {"op 1 (FullyConnected)", "input 0 is state tensor 5 'gru.h'",
                "only a Gru's state input"},
               "the head reads the GRU state directly",
               WithModel(SparseGru, [](ModelT& m) { m.ops[1]->inputs[0] = 5; })});
  c.push_back({"g4_state_shared", "G4", SC::kInvalidArgument,
               {"op 2 (Gru)", "state tensor 5 'gru.h'", "already used by op 0"},
               "two GRUs share one state",
               WithBuilder(SparseGru, [](ModelBuilder& b) {
                 const int out = b.AddTensor("gru2.out", {1, 32});
                 b.AddOp(OpType::Gru, {0, 1, 2, 3, 4, 5}, {out},
                         MakeOptions(GruOptions(32, schema::GruMode::Step)));
               })});
}

}  // namespace

std::vector<BadModelCase> BadModelCasesFile() {
  std::vector<BadModelCase> c;
  AddHeaderCases(c);
  AddBufferCases(c);
  AddTensorCases(c);
  AddQuantizationCases(c);
  AddInputOutputCases(c);
  AddGraphCases(c);
  return c;
}

std::vector<BadModelCase> BadModelCases() {
  std::vector<BadModelCase> c = BadModelCasesFile();
  for (BadModelCase& op_case : BadModelCasesOps()) c.push_back(std::move(op_case));
  return c;
}

}  // namespace sparrow
