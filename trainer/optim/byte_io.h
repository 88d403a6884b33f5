// Little-endian byte encoding for the trainer's binary state (optimizer state,
// checkpoints): a growing writer and a bounds-checked reader.
//
//   std::vector<uint8_t> bytes;
//   sparrow::train::ByteWriter w(&bytes);
//   w.U32(7);
//   w.String("fc1.weight");
//   w.Floats(values.data(), values.size());
//
//   sparrow::train::ByteReader r(bytes.data(), bytes.size(), "ckpt.bin");
//   uint32_t n;
//   SPARROW_RETURN_IF_ERROR(r.U32("num_params", &n));
//
// Contract: integers and floats are little-endian in the bytes whatever the
// host; floats keep their exact bits (NaN payloads included). The reader
// distrusts its input: every read checks the bytes left and fails with
// DATA_LOSS naming the context, the field, the offset and what was missing; it
// never reads out of bounds or allocates more than the bytes it was given.
// The writer appends to a vector the caller owns; the reader borrows its bytes,
// which must outlive it. Neither is thread-safe.
#ifndef SPARROW_TRAINER_OPTIM_BYTE_IO_H_
#define SPARROW_TRAINER_OPTIM_BYTE_IO_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <utility>
#include <vector>

#include "kernels/status.h"

namespace sparrow {
namespace train {

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>* out) : out_(out) {}

  void U8(uint8_t v) { out_->push_back(v); }
  void U32(uint32_t v);
  void U64(uint64_t v);
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void F32(float v);
  void Bytes(const uint8_t* data, size_t size);
  // u32 byte count, then the bytes (no terminator).
  void String(const std::string& s);
  void Floats(const float* data, size_t count);

 private:
  std::vector<uint8_t>* out_;
};

class ByteReader {
 public:
  // `context` (a file name, "optimizer state") starts every error message.
  ByteReader(const uint8_t* data, size_t size, std::string context)
      : data_(data), size_(size), context_(std::move(context)) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& context() const { return context_; }

  Status U8(const char* field, uint8_t* v);
  Status U32(const char* field, uint32_t* v);
  Status U64(const char* field, uint64_t* v);
  Status I64(const char* field, int64_t* v);
  Status F32(const char* field, float* v);
  // Points *data at the next `size` bytes (inside the reader's buffer).
  Status Bytes(const char* field, size_t size, const uint8_t** data);
  // A String() written by ByteWriter; one longer than max_bytes is
  // INVALID_ARGUMENT.
  Status String(const char* field, size_t max_bytes, std::string* s);
  Status Floats(const char* field, size_t count, float* dst);
  // DATA_LOSS unless every byte was read.
  Status ExpectEnd() const;

 private:
  Status Need(const char* field, size_t bytes) const;

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string context_;
};

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_OPTIM_BYTE_IO_H_
