// A validated Sparrow model (.spw): the graph, its tensors and their weights,
// read from memory or a file. docs/FORMAT.md specifies the file and lists
// every validation rule.
//
//   sparrow::StatusOr<sparrow::Model> m = sparrow::Model::FromFile("mlp.spw");
//   if (!m.ok()) { fprintf(stderr, "%s\n", m.status().ToString().c_str()); }
//   const sparrow::Model& model = *m;
//   for (size_t i = 0; i < model.num_ops(); ++i) {
//     const sparrow::OpInfo& op = model.op(i);
//     const sparrow::TensorInfo& w = model.tensor(op.inputs[1]);
//     if (const sparrow::BlockSparseView* s = model.SparseWeights(op.inputs[1]))
//       ...;                              // a validated 16x1 block-sparse view
//     else
//       const float* wf = static_cast<const float*>(model.TensorData(...));
//   }
//
// Contract:
// - Loading distrusts every byte: a malformed model gives a Status naming the
//   op/tensor/buffer, the field and the wrong value; it never crashes or reads
//   outside [data, data + size). Once loaded, everything the accessors return
//   has been checked (indices in range, shapes consistent, weight sizes
//   matching, sparse views passing kernels' Validate()), so later code trusts
//   it without checking again.
// - Memory: FromBuffer does not take ownership. If `data` is 64-byte aligned
//   the Model points into it (storage() == kBorrowed, weights zero-copy): the
//   caller keeps the bytes alive and unchanged for the Model's lifetime.
//   Otherwise the Model copies all `size` bytes once into its own 64-byte
//   aligned allocation (storage() == kCopied) and the caller's bytes are no
//   longer needed; callers who want zero copy align their buffer. FromFile
//   maps the file read-only (storage() == kMapped), owned by the Model.
// - Every weight pointer (TensorData, BufferInfo::data, sparse views) is
//   64-byte aligned.
// - Model is movable, not copyable. Moving keeps every pointer and reference
//   handed out (they point into the file bytes or into heap arrays the Model
//   owns). A loaded Model is immutable: concurrent reads from any number of
//   threads are safe.
// - Allocation happens only in FromBuffer/FromFile.
// - Little-endian hosts only (as the file): shapes and index arrays are read
//   in place.
#ifndef SPARROW_RUNTIME_MODEL_H_
#define SPARROW_RUNTIME_MODEL_H_

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "hwy/aligned_allocator.h"
#include "kernels/activation_type.h"
#include "kernels/block_sparse.h"
#include "kernels/status.h"
#include "runtime/schema/model_generated.h"
#include "runtime/span.h"

namespace sparrow {

// The newest format version this reader understands (docs/FORMAT.md,
// "Versioning"); it reads versions 1 .. kModelFormatVersion.
constexpr uint32_t kModelFormatVersion = 1;
// File offset alignment of every weight buffer, and of the data section.
constexpr size_t kModelAlignment = 64;
constexpr size_t kMaxTensorRank = 8;

const char* DTypeName(schema::DType t);  // "f32", "bf16", ...; "?" if unknown
const char* OpTypeName(schema::OpType t);  // "FullyConnected", ...; "?"
// Bytes per element of a byte-addressable dtype; 0 for INT4/INT2 (packed,
// reserved) and unknown values.
size_t DTypeSize(schema::DType t);
// The file's activation enum and the kernels' (kernels/activation_type.h);
// values outside the enum (rejected by validation) map to kIdentity.
Activation ToActivation(schema::ActivationType a);
schema::ActivationType ToSchemaActivation(Activation a);

struct TensorInfo {
  const char* name = "";         // never null; "" when the file has none
  Span<const int32_t> shape;     // row-major; empty for a scalar
  schema::DType dtype = schema::DType::F32;
  int32_t buffer = -1;           // index into buffers, -1: no data
  bool is_variable = false;      // persistent state (e.g. a GRU hidden state)
  size_t num_elements = 1;       // product of shape (1 for a scalar)
  size_t bytes = 0;              // dense storage: num_elements * DTypeSize
  const schema::Quantization* quantization = nullptr;  // null: none

  bool is_constant() const { return buffer >= 0; }
  int32_t dim(size_t i) const { return shape[i]; }
  size_t rank() const { return shape.size(); }
};

struct BufferInfo {
  schema::BufferLayout layout = schema::BufferLayout::Dense;
  const uint8_t* data = nullptr;  // [size], 64-byte aligned
  size_t size = 0;                // bytes
  // layout == BlockSparse16x1 only: points into `data`, passed Validate().
  BlockSparseView sparse;
};

struct OpInfo {
  schema::OpType type = schema::OpType::FullyConnected;
  Span<const int32_t> inputs;   // tensor indices; -1: an absent optional input
  Span<const int32_t> outputs;  // tensor indices
  // The op's table in the file. Its options are present whenever the op type
  // has an options table (e.g. table->options_as_Conv2DOptions()), and have
  // passed the attribute checks.
  const schema::Op* table = nullptr;

  // Input i, or -1 when i is past the end or the input is absent.
  int32_t input(size_t i) const { return i < inputs.size() ? inputs[i] : -1; }
};

class Model {
 public:
  enum class Storage { kBorrowed, kCopied, kMapped };

  // Validates `size` bytes at `data` (docs/FORMAT.md). See the contract above
  // for when the bytes are borrowed or copied.
  static StatusOr<Model> FromBuffer(const uint8_t* data, size_t size);
  // Maps the file read-only and validates it. NotFound if it does not exist.
  static StatusOr<Model> FromFile(const char* path);

  Model(Model&& other) noexcept;
  Model& operator=(Model&& other) noexcept;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model();

  uint32_t version() const { return root_->version(); }
  const char* description() const;  // never null

  size_t num_tensors() const { return tensors_.size(); }
  const TensorInfo& tensor(size_t i) const {
    HWY_ASSERT(i < tensors_.size());
    return tensors_[i];
  }
  size_t num_ops() const { return ops_.size(); }
  const OpInfo& op(size_t i) const {
    HWY_ASSERT(i < ops_.size());
    return ops_[i];
  }
  size_t num_buffers() const { return buffers_.size(); }
  const BufferInfo& buffer(size_t i) const {
    HWY_ASSERT(i < buffers_.size());
    return buffers_[i];
  }
  Span<const int32_t> inputs() const { return inputs_; }    // tensor indices
  Span<const int32_t> outputs() const { return outputs_; }  // tensor indices

  // Dense weights of a constant tensor: `tensor(i).bytes` bytes of
  // tensor(i).dtype, row-major, 64-byte aligned. nullptr when the tensor has
  // no buffer or its buffer is block-sparse.
  const void* TensorData(size_t i) const;
  // The validated block-sparse view of a constant tensor [rows, cols], or
  // nullptr when its buffer is dense or absent.
  const BlockSparseView* SparseWeights(size_t i) const;
  // Index of the tensor called `name`, or -1 (names are unique when
  // non-empty).
  int32_t FindTensor(const char* name) const;

  Storage storage() const { return storage_; }
  const uint8_t* data() const { return data_; }  // the whole file
  size_t size() const { return size_; }
  const schema::Model* root() const { return root_; }  // the verified table

 private:
  Model() = default;
  static StatusOr<Model> Load(Model model);
  void Release();

  Storage storage_ = Storage::kBorrowed;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  hwy::AlignedFreeUniquePtr<uint8_t[]> copy_;  // kCopied
  void* map_ = nullptr;                       // kMapped
  size_t map_size_ = 0;

  const schema::Model* root_ = nullptr;
  std::vector<TensorInfo> tensors_;
  std::vector<BufferInfo> buffers_;
  std::vector<OpInfo> ops_;
  Span<const int32_t> inputs_, outputs_;
};

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_MODEL_H_
