#include "runtime/model.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "runtime/model_validate.h"

namespace sparrow {

static_assert(FLATBUFFERS_LITTLEENDIAN,
              "the model format is read in place: little-endian hosts only");

const char* DTypeName(schema::DType t) {
  switch (t) {
    case schema::DType::F32:
      return "f32";
    case schema::DType::BF16:
      return "bf16";
    case schema::DType::INT8:
      return "int8";
    case schema::DType::INT4:
      return "int4";
    case schema::DType::INT2:
      return "int2";
    case schema::DType::I32:
      return "i32";
  }
  return "?";
}

const char* OpTypeName(schema::OpType t) {
  if (t > schema::OpType::MAX) return "?";
  return schema::EnumNameOpType(t);
}

Activation ToActivation(schema::ActivationType a) {
  switch (a) {
    case schema::ActivationType::Relu:
      return Activation::kRelu;
    case schema::ActivationType::Sigmoid:
      return Activation::kSigmoid;
    case schema::ActivationType::Tanh:
      return Activation::kTanh;
    case schema::ActivationType::Gelu:
      return Activation::kGelu;
    case schema::ActivationType::Identity:
      break;
  }
  return Activation::kIdentity;
}

schema::ActivationType ToSchemaActivation(Activation a) {
  switch (a) {
    case Activation::kRelu:
      return schema::ActivationType::Relu;
    case Activation::kSigmoid:
      return schema::ActivationType::Sigmoid;
    case Activation::kTanh:
      return schema::ActivationType::Tanh;
    case Activation::kGelu:
      return schema::ActivationType::Gelu;
    case Activation::kIdentity:
      break;
  }
  return schema::ActivationType::Identity;
}

size_t DTypeSize(schema::DType t) {
  switch (t) {
    case schema::DType::F32:
    case schema::DType::I32:
      return 4;
    case schema::DType::BF16:
      return 2;
    case schema::DType::INT8:
      return 1;
    case schema::DType::INT4:
    case schema::DType::INT2:
      return 0;
  }
  return 0;
}

StatusOr<Model> Model::FromBuffer(const uint8_t* data, size_t size) {
  if (data == nullptr && size != 0) {
    return InvalidArgument("data is null but size=%zu", size);
  }
  Model model;
  model.size_ = size;
  if (data != nullptr &&
      reinterpret_cast<uintptr_t>(data) % kModelAlignment == 0) {
    model.storage_ = Storage::kBorrowed;
    model.data_ = data;
  } else {
    // Weights must be 64-byte aligned for the kernels, and FlatBuffers reads
    // scalars in place: copy once into aligned memory.
    model.storage_ = Storage::kCopied;
    model.copy_ = hwy::AllocateAligned<uint8_t>(size == 0 ? 1 : size);
    if (!model.copy_) {
      return ResourceExhausted("cannot allocate %zu bytes for an aligned copy",
                               size);
    }
    if (size != 0) memcpy(model.copy_.get(), data, size);
    model.data_ = model.copy_.get();
  }
  return Load(std::move(model));
}

StatusOr<Model> Model::FromFile(const char* path) {
  if (path == nullptr) return InvalidArgument("path is null");
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFound("cannot open '%s': %s", path, strerror(err));
    return InvalidArgument("cannot open '%s': %s", path, strerror(err));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return InvalidArgument("cannot stat '%s': %s", path, strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return InvalidArgument("'%s' is not a regular file", path);
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {  // mmap cannot map nothing; the header rule (H1) applies
    close(fd);
    StatusOr<Model> empty = FromBuffer(nullptr, 0);
    return Status(empty.status().code(),
                  std::string(path) + ": " + empty.status().message());
  }
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  close(fd);  // the mapping keeps the file
  if (map == MAP_FAILED) {
    return InvalidArgument("cannot map '%s' (%zu bytes): %s", path, size,
                           strerror(err));
  }
  Model model;
  model.storage_ = Storage::kMapped;
  model.map_ = map;
  model.map_size_ = size;
  model.data_ = static_cast<const uint8_t*>(map);  // page-aligned
  model.size_ = size;
  StatusOr<Model> loaded = Load(std::move(model));
  if (!loaded.ok()) {
    return Status(loaded.status().code(),
                  std::string(path) + ": " + loaded.status().message());
  }
  return loaded;
}

StatusOr<Model> Model::Load(Model model) {
  model_internal::ParsedModel parsed;
  SPARROW_RETURN_IF_ERROR(
      model_internal::ParseModel(model.data_, model.size_, &parsed));
  model.root_ = parsed.root;
  model.tensors_ = std::move(parsed.tensors);
  model.buffers_ = std::move(parsed.buffers);
  model.ops_ = std::move(parsed.ops);
  model.inputs_ = parsed.inputs;
  model.outputs_ = parsed.outputs;
  return StatusOr<Model>(std::move(model));
}

Model::Model(Model&& other) noexcept { *this = std::move(other); }

Model& Model::operator=(Model&& other) noexcept {
  if (this != &other) {
    Release();
    storage_ = other.storage_;
    data_ = other.data_;
    size_ = other.size_;
    copy_ = std::move(other.copy_);
    map_ = other.map_;
    map_size_ = other.map_size_;
    root_ = other.root_;
    tensors_ = std::move(other.tensors_);
    buffers_ = std::move(other.buffers_);
    ops_ = std::move(other.ops_);
    inputs_ = other.inputs_;
    outputs_ = other.outputs_;
    other.map_ = nullptr;
    other.map_size_ = 0;
    other.data_ = nullptr;
    other.size_ = 0;
    other.root_ = nullptr;
    other.inputs_ = other.outputs_ = Span<const int32_t>();
  }
  return *this;
}

Model::~Model() { Release(); }

void Model::Release() {
  if (map_ != nullptr) {
    munmap(map_, map_size_);
    map_ = nullptr;
    map_size_ = 0;
  }
  copy_.reset();
}

const char* Model::description() const {
  const flatbuffers::String* d = root_->description();
  return d ? d->c_str() : "";
}

const void* Model::TensorData(size_t i) const {
  const TensorInfo& t = tensor(i);
  if (t.buffer < 0) return nullptr;
  const BufferInfo& b = buffers_[t.buffer];
  return b.layout == schema::BufferLayout::Dense ? b.data : nullptr;
}

const BlockSparseView* Model::SparseWeights(size_t i) const {
  const TensorInfo& t = tensor(i);
  if (t.buffer < 0) return nullptr;
  const BufferInfo& b = buffers_[t.buffer];
  return b.layout == schema::BufferLayout::BlockSparse16x1 ? &b.sparse
                                                           : nullptr;
}

int32_t Model::FindTensor(const char* name) const {
  if (name == nullptr || name[0] == '\0') return -1;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (strcmp(tensors_[i].name, name) == 0) return static_cast<int32_t>(i);
  }
  return -1;
}

}  // namespace sparrow
