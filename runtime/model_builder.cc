#include "runtime/model_builder.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "flatbuffers/flatbuffers.h"
#include "kernels/bf16.h"
#include "runtime/model.h"

namespace sparrow {
namespace {

uint64_t AlignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

size_t Elements(const std::vector<int32_t>& shape) {
  size_t n = 1;
  for (int32_t d : shape) n *= static_cast<size_t>(d < 0 ? 0 : d);
  return n;
}

void Append(std::vector<uint8_t>* out, const void* p, size_t bytes) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  out->insert(out->end(), b, b + bytes);
}

void PadTo(std::vector<uint8_t>* out, size_t alignment) {
  out->resize(AlignUp(out->size(), alignment), 0);
}

// Serializes `m` size-prefixed. ForceDefaults writes every scalar, so the
// size does not depend on the values of the buffer offsets Finish fills in.
flatbuffers::DetachedBuffer Pack(const schema::ModelT& m) {
  flatbuffers::FlatBufferBuilder fbb(4096);
  fbb.ForceDefaults(true);
  fbb.FinishSizePrefixed(schema::Model::Pack(fbb, &m), schema::ModelIdentifier());
  return fbb.Release();
}

}  // namespace

schema::FullyConnectedOptionsT FullyConnectedOptions(
    schema::ActivationType activation) {
  schema::FullyConnectedOptionsT o;
  o.activation = activation;
  return o;
}

schema::GruOptionsT GruOptions(int32_t hidden_size, schema::GruMode mode) {
  schema::GruOptionsT o;
  o.hidden_size = hidden_size;
  o.mode = mode;
  return o;
}

schema::ActivationOptionsT ActivationOptions(schema::ActivationType activation) {
  schema::ActivationOptionsT o;
  o.activation = activation;
  return o;
}

schema::ElementwiseOptionsT ElementwiseOptions(
    schema::ActivationType activation) {
  schema::ElementwiseOptionsT o;
  o.activation = activation;
  return o;
}

ModelBuilder::ModelBuilder() { model_.version = kModelFormatVersion; }

void ModelBuilder::set_description(std::string description) {
  model_.description = std::move(description);
}

int ModelBuilder::AddBuffer(const void* bytes, size_t size) {
  auto b = std::make_unique<schema::BufferT>();
  b->layout = schema::BufferLayout::Dense;
  b->size = size;
  model_.buffers.push_back(std::move(b));
  std::vector<uint8_t> copy;
  Append(&copy, bytes, size);
  data_.push_back(std::move(copy));
  return static_cast<int>(model_.buffers.size() - 1);
}

int ModelBuilder::AddSparseBuffer(const BlockSparseView& v) {
  auto layout = std::make_unique<schema::BlockSparse16x1LayoutT>();
  layout->rows = static_cast<uint32_t>(v.rows);
  layout->cols = static_cast<uint32_t>(v.cols);
  layout->dtype = v.dtype == BlockDType::kBf16   ? schema::DType::BF16
                  : v.dtype == BlockDType::kInt8 ? schema::DType::INT8
                                                 : schema::DType::F32;
  layout->num_blocks = static_cast<uint32_t>(v.num_blocks);
  std::vector<uint8_t> bytes;
  layout->block_offsets_offset = bytes.size();
  Append(&bytes, v.block_offsets, v.num_offsets * sizeof(uint32_t));
  layout->data_offsets_offset = bytes.size();
  Append(&bytes, v.data_offsets, v.num_offsets * sizeof(uint32_t));
  layout->col_indices_offset = bytes.size();
  Append(&bytes, v.col_indices, v.num_blocks * sizeof(uint32_t));
  PadTo(&bytes, kSparseLineBytes);
  layout->data_offset = bytes.size();
  layout->data_size = v.data_bytes;
  Append(&bytes, v.data, v.data_bytes);

  auto b = std::make_unique<schema::BufferT>();
  b->layout = schema::BufferLayout::BlockSparse16x1;
  b->size = bytes.size();
  b->sparse = std::move(layout);
  model_.buffers.push_back(std::move(b));
  data_.push_back(std::move(bytes));
  return static_cast<int>(model_.buffers.size() - 1);
}

int ModelBuilder::AddTensor(std::string name, std::vector<int32_t> shape,
                            schema::DType dtype, int buffer) {
  auto t = std::make_unique<schema::TensorT>();
  t->name = std::move(name);
  t->shape = std::move(shape);
  t->dtype = dtype;
  t->buffer = buffer;
  model_.tensors.push_back(std::move(t));
  return static_cast<int>(model_.tensors.size() - 1);
}

int ModelBuilder::AddDenseConstant(std::string name, std::vector<int32_t> shape,
                                   schema::DType dtype, const void* bytes,
                                   size_t size) {
  const int b = AddBuffer(bytes, size);
  return AddTensor(std::move(name), std::move(shape), dtype, b);
}

int ModelBuilder::AddConstant(std::string name, std::vector<int32_t> shape,
                              const float* values) {
  const size_t n = Elements(shape);
  return AddDenseConstant(std::move(name), std::move(shape),
                          schema::DType::F32, values, n * sizeof(float));
}

int ModelBuilder::AddConstantBf16(std::string name, std::vector<int32_t> shape,
                                  const float* values) {
  const size_t n = Elements(shape);
  std::vector<uint16_t> bits(n);
  for (size_t i = 0; i < n; ++i) bits[i] = F32ToBf16Bits(values[i]);
  return AddDenseConstant(std::move(name), std::move(shape),
                          schema::DType::BF16, bits.data(),
                          n * sizeof(uint16_t));
}

int ModelBuilder::AddConstantI32(std::string name, std::vector<int32_t> shape,
                                 const int32_t* values) {
  const size_t n = Elements(shape);
  return AddDenseConstant(std::move(name), std::move(shape),
                          schema::DType::I32, values, n * sizeof(int32_t));
}

int ModelBuilder::AddSparseConstant(std::string name,
                                    const BlockSparse16x1& matrix) {
  const int b = AddSparseBuffer(matrix.view());
  return AddTensor(std::move(name),
                   {static_cast<int32_t>(matrix.rows()),
                    static_cast<int32_t>(matrix.cols())},
                   matrix.dtype() == BlockDType::kBf16 ? schema::DType::BF16
                                                       : schema::DType::F32,
                   b);
}

int ModelBuilder::AddState(std::string name, std::vector<int32_t> shape,
                           const float* initial) {
  const int t = initial != nullptr
                    ? AddConstant(std::move(name), std::move(shape), initial)
                    : AddTensor(std::move(name), std::move(shape));
  model_.tensors[t]->is_variable = true;
  return t;
}

int ModelBuilder::AddOp(schema::OpType type, std::vector<int32_t> inputs,
                        std::vector<int32_t> outputs,
                        schema::OpOptionsUnion options) {
  auto op = std::make_unique<schema::OpT>();
  op->type = type;
  op->inputs = std::move(inputs);
  op->outputs = std::move(outputs);
  op->options = std::move(options);
  model_.ops.push_back(std::move(op));
  return static_cast<int>(model_.ops.size() - 1);
}

void ModelBuilder::SetInputs(std::vector<int32_t> tensors) {
  model_.inputs = std::move(tensors);
}

void ModelBuilder::SetOutputs(std::vector<int32_t> tensors) {
  model_.outputs = std::move(tensors);
}

std::vector<uint8_t> ModelBuilder::Finish(const LayoutHook& hook) const {
  // The data section starts after the FlatBuffer, whose size does not depend
  // on the offsets (ForceDefaults): pack, place the buffers, pack again. The
  // loop stops at the first pass whose size matches the assumed one.
  uint64_t data_start = 0;
  std::vector<uint64_t> offsets(data_.size());
  for (int pass = 0;; ++pass) {
    HWY_ASSERT(pass < 4);  // the size is value-independent: 2 passes
    uint64_t end = data_start;
    for (size_t i = 0; i < data_.size(); ++i) {
      offsets[i] = AlignUp(end, kModelAlignment);
      end = offsets[i] + data_[i].size();
    }
    schema::ModelT m(model_);
    for (size_t i = 0; i < data_.size(); ++i) {
      m.buffers[i]->offset = offsets[i];
      m.buffers[i]->size = data_[i].size();
    }
    if (hook) hook(&m);
    flatbuffers::DetachedBuffer fb = Pack(m);
    const uint64_t start = AlignUp(fb.size(), kModelAlignment);
    if (start != data_start) {
      data_start = start;
      continue;
    }
    std::vector<uint8_t> out(fb.data(), fb.data() + fb.size());
    for (size_t i = 0; i < data_.size(); ++i) {
      out.resize(offsets[i], 0);
      Append(&out, data_[i].data(), data_[i].size());
    }
    return out;
  }
}

Status ModelBuilder::WriteFile(const char* path, const LayoutHook& hook) const {
  const std::vector<uint8_t> bytes = Finish(hook);
  std::string tmp = std::string(path) + ".tmp.XXXXXX";
  const int fd = mkstemp(&tmp[0]);
  if (fd < 0) {
    return InvalidArgument("cannot create a temporary file next to '%s': %s",
                           path, strerror(errno));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return ResourceExhausted("writing '%s' failed after %zu of %zu bytes: %s",
                               tmp.c_str(), done, bytes.size(), strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  // mkstemp creates 0600; a model file is an ordinary readable file.
  const bool ok = fchmod(fd, 0644) == 0 && fsync(fd) == 0;
  const int err = errno;
  if (close(fd) != 0 || !ok) {
    unlink(tmp.c_str());
    return Internal("finishing '%s' failed: %s", tmp.c_str(), strerror(err));
  }
  if (rename(tmp.c_str(), path) != 0) {
    const int rename_err = errno;
    unlink(tmp.c_str());
    return InvalidArgument("cannot rename '%s' to '%s': %s", tmp.c_str(), path,
                           strerror(rename_err));
  }
  return OkStatus();
}

}  // namespace sparrow
