// Writes Sparrow model files (.spw, docs/FORMAT.md): tests build models with
// it now, the trainer's export later.
//
//   sparrow::ModelBuilder b;
//   b.set_description("tiny MLP");
//   const int x = b.AddTensor("x", {1, 4});
//   const int w = b.AddConstant("fc.weight", {3, 4}, weights);   // f32 [3, 4]
//   const int bias = b.AddConstant("fc.bias", {3}, biases);
//   const int y = b.AddTensor("y", {1, 3});
//   b.AddOp(sparrow::schema::OpType::FullyConnected, {x, w, bias}, {y},
//           sparrow::MakeOptions(sparrow::FullyConnectedOptions(
//               sparrow::schema::ActivationType::Relu)));
//   b.SetInputs({x});
//   b.SetOutputs({y});
//   SPARROW_RETURN_IF_ERROR(b.WriteFile("mlp.spw"));   // atomic
//
// Contract:
// - The builder writes what it is told: it does not validate (tests use it to
//   write malformed models). Load the result with Model::FromBuffer to check
//   it. Weight bytes are copied in when added.
// - Finish() lays the file out: the size-prefixed FlatBuffer, zero padding to
//   a multiple of 64, then every buffer at the next multiple of 64 in the
//   order they were added (zero padding between them), the last one ending
//   the file. Buffer offsets and sizes are filled in by Finish(); every other
//   field is as set. Output is deterministic: the same calls give the same
//   bytes.
// - No exceptions; not thread-safe (one builder per thread).
#ifndef SPARROW_RUNTIME_MODEL_BUILDER_H_
#define SPARROW_RUNTIME_MODEL_BUILDER_H_

#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kernels/block_sparse.h"
#include "kernels/status.h"
#include "runtime/schema/model_generated.h"

namespace sparrow {

// Wraps one options table (e.g. schema::Conv2DOptionsT) into the op union.
template <typename T>
schema::OpOptionsUnion MakeOptions(T options) {
  schema::OpOptionsUnion u;
  u.Set(std::move(options));
  return u;
}

// Options tables with the fields most ops set.
schema::FullyConnectedOptionsT FullyConnectedOptions(
    schema::ActivationType activation = schema::ActivationType::Identity);
schema::GruOptionsT GruOptions(int32_t hidden_size,
                               schema::GruMode mode = schema::GruMode::FullSequence);
schema::ActivationOptionsT ActivationOptions(schema::ActivationType activation);
schema::ElementwiseOptionsT ElementwiseOptions(
    schema::ActivationType activation = schema::ActivationType::Identity);

class ModelBuilder {
 public:
  ModelBuilder();  // version = kModelFormatVersion, no tensors

  void set_description(std::string description);

  // Buffers (the bytes are copied). Return the buffer index.
  int AddBuffer(const void* bytes, size_t size);
  // The four sections of a 16x1 block-sparse matrix (docs/FORMAT.md); the
  // view is copied as is.
  int AddSparseBuffer(const BlockSparseView& v);

  // Tensors. Return the tensor index.
  int AddTensor(std::string name, std::vector<int32_t> shape,
                schema::DType dtype = schema::DType::F32, int buffer = -1);
  // A constant with its own buffer: f32, bf16 (rounded to nearest even from
  // the given floats), i32, and a block-sparse matrix [rows, cols] in its
  // own dtype. `values` holds the product of `shape` elements.
  int AddConstant(std::string name, std::vector<int32_t> shape,
                  const float* values);
  int AddConstantBf16(std::string name, std::vector<int32_t> shape,
                      const float* values);
  int AddConstantI32(std::string name, std::vector<int32_t> shape,
                     const int32_t* values);
  int AddSparseConstant(std::string name, const BlockSparse16x1& matrix);
  // A state tensor (is_variable): zero at start, or `initial` (f32) if given.
  int AddState(std::string name, std::vector<int32_t> shape,
               const float* initial = nullptr);

  // Ops, in execution order. Returns the op index.
  int AddOp(schema::OpType type, std::vector<int32_t> inputs,
            std::vector<int32_t> outputs,
            schema::OpOptionsUnion options = schema::OpOptionsUnion());

  void SetInputs(std::vector<int32_t> tensors);
  void SetOutputs(std::vector<int32_t> tensors);

  // The model being built, for changes the methods above do not offer (tests
  // use it to break rules). Buffer offset and size are overwritten by Finish.
  schema::ModelT& model() { return model_; }
  const schema::ModelT& model() const { return model_; }
  // The bytes of buffer i, as they will be written.
  std::vector<uint8_t>& buffer_bytes(size_t i) { return data_[i]; }
  const std::vector<uint8_t>& buffer_bytes(size_t i) const { return data_[i]; }

  // Called by Finish after it has filled in buffer offsets and sizes and
  // before it serializes: a test can then set any field to a wrong value
  // (the bytes stay where the layout put them).
  using LayoutHook = std::function<void(schema::ModelT*)>;

  std::vector<uint8_t> Finish(const LayoutHook& hook = nullptr) const;
  // Finish() written to `path` atomically (a temporary file in the same
  // directory, fsync, rename).
  Status WriteFile(const char* path, const LayoutHook& hook = nullptr) const;

 private:
  int AddDenseConstant(std::string name, std::vector<int32_t> shape,
                       schema::DType dtype, const void* bytes, size_t size);

  schema::ModelT model_;
  std::vector<std::vector<uint8_t>> data_;  // per buffer
};

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_MODEL_BUILDER_H_
