#include "trainer/optim/byte_io.h"

#include <string.h>

namespace sparrow {
namespace train {
namespace {

constexpr bool kLittleEndianHost =
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    false;
#else
    true;
#endif

uint32_t LoadU32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
         uint32_t{p[3]} << 24;
}

uint64_t LoadU64(const uint8_t* p) {
  return uint64_t{LoadU32(p)} | uint64_t{LoadU32(p + 4)} << 32;
}

uint32_t FloatBits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof(u));
  return u;
}

float BitsFloat(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof(f));
  return f;
}

}  // namespace

void ByteWriter::U32(uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out_->push_back(v >> shift);
}

void ByteWriter::U64(uint64_t v) {
  U32(static_cast<uint32_t>(v));
  U32(static_cast<uint32_t>(v >> 32));
}

void ByteWriter::F32(float v) { U32(FloatBits(v)); }

void ByteWriter::Bytes(const uint8_t* data, size_t size) {
  out_->insert(out_->end(), data, data + size);
}

void ByteWriter::String(const std::string& s) {
  HWY_ASSERT(s.size() <= UINT32_MAX);
  U32(static_cast<uint32_t>(s.size()));
  Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

void ByteWriter::Floats(const float* data, size_t count) {
  if (kLittleEndianHost) {
    Bytes(reinterpret_cast<const uint8_t*>(data), count * sizeof(float));
    return;
  }
  for (size_t i = 0; i < count; ++i) F32(data[i]);
}

Status ByteReader::Need(const char* field, size_t bytes) const {
  if (bytes <= remaining()) return OkStatus();
  return DataLoss("%s: truncated: %s needs %zu bytes at offset %zu, %zu left",
                  context_.c_str(), field, bytes, pos_, remaining());
}

Status ByteReader::U8(const char* field, uint8_t* v) {
  SPARROW_RETURN_IF_ERROR(Need(field, 1));
  *v = data_[pos_++];
  return OkStatus();
}

Status ByteReader::U32(const char* field, uint32_t* v) {
  SPARROW_RETURN_IF_ERROR(Need(field, 4));
  *v = LoadU32(data_ + pos_);
  pos_ += 4;
  return OkStatus();
}

Status ByteReader::U64(const char* field, uint64_t* v) {
  SPARROW_RETURN_IF_ERROR(Need(field, 8));
  *v = LoadU64(data_ + pos_);
  pos_ += 8;
  return OkStatus();
}

Status ByteReader::I64(const char* field, int64_t* v) {
  uint64_t u;
  SPARROW_RETURN_IF_ERROR(U64(field, &u));
  *v = static_cast<int64_t>(u);
  return OkStatus();
}

Status ByteReader::F32(const char* field, float* v) {
  uint32_t u;
  SPARROW_RETURN_IF_ERROR(U32(field, &u));
  *v = BitsFloat(u);
  return OkStatus();
}

Status ByteReader::Bytes(const char* field, size_t size, const uint8_t** data) {
  SPARROW_RETURN_IF_ERROR(Need(field, size));
  *data = data_ + pos_;
  pos_ += size;
  return OkStatus();
}

Status ByteReader::String(const char* field, size_t max_bytes, std::string* s) {
  uint32_t n;
  SPARROW_RETURN_IF_ERROR(U32(field, &n));
  if (n > max_bytes) {
    return InvalidArgument("%s: %s is %u bytes long at offset %zu, at most %zu",
                           context_.c_str(), field, n, pos_ - 4, max_bytes);
  }
  const uint8_t* p;
  SPARROW_RETURN_IF_ERROR(Bytes(field, n, &p));
  s->assign(reinterpret_cast<const char*>(p), n);
  return OkStatus();
}

Status ByteReader::Floats(const char* field, size_t count, float* dst) {
  // Checked before multiplying, so a huge count cannot wrap around.
  if (count > remaining() / sizeof(float)) {
    return DataLoss(
        "%s: truncated: %s needs %zu floats at offset %zu, %zu bytes left",
        context_.c_str(), field, count, pos_, remaining());
  }
  const uint8_t* p = data_ + pos_;
  if (kLittleEndianHost) {
    if (count != 0) memcpy(dst, p, count * sizeof(float));
  } else {
    for (size_t i = 0; i < count; ++i) dst[i] = BitsFloat(LoadU32(p + 4 * i));
  }
  pos_ += count * sizeof(float);
  return OkStatus();
}

Status ByteReader::ExpectEnd() const {
  if (remaining() == 0) return OkStatus();
  return DataLoss("%s: %zu unexpected bytes after the end, at offset %zu",
                  context_.c_str(), remaining(), pos_);
}

}  // namespace train
}  // namespace sparrow
