#include "trainer/data/idx.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "zlib.h"

namespace sparrow {
namespace {

constexpr size_t kChunk = size_t{64} << 10;  // bytes of compressed input
constexpr uint64_t kFirstAlloc = uint64_t{1} << 20;  // bytes

bool ValidType(uint8_t t) {
  return t == 0x08 || t == 0x09 || t == 0x0B || t == 0x0C || t == 0x0D ||
         t == 0x0E;
}

// Big-endian file order <-> host order, in place.
void SwapToFromHost(uint8_t* data, size_t bytes, size_t elem) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  (void)data, (void)bytes, (void)elem;
#else
  if (elem == 1) return;
  for (size_t i = 0; i + elem <= bytes; i += elem) {
    std::reverse(data + i, data + i + elem);
  }
#endif
}

// The file's raw bytes, from a FILE or from memory.
class Input {
 public:
  virtual ~Input() = default;
  // Reads up to n bytes; *got < n only at the end of the input.
  virtual Status Read(uint8_t* dst, size_t n, size_t* got) = 0;
};

class FileInput : public Input {
 public:
  FileInput(FILE* f, const std::string& name) : f_(f), name_(name) {}
  ~FileInput() override { fclose(f_); }
  Status Read(uint8_t* dst, size_t n, size_t* got) override {
    *got = fread(dst, 1, n, f_);
    if (*got < n && ferror(f_)) {
      return DataLoss("%s: read error: %s", name_.c_str(), strerror(errno));
    }
    return OkStatus();
  }

 private:
  FILE* f_;
  const std::string& name_;
};

class MemoryInput : public Input {
 public:
  MemoryInput(const uint8_t* bytes, size_t size) : p_(bytes), left_(size) {}
  Status Read(uint8_t* dst, size_t n, size_t* got) override {
    *got = std::min(n, left_);
    if (*got != 0) memcpy(dst, p_, *got);
    p_ += *got;
    left_ -= *got;
    return OkStatus();
  }

 private:
  const uint8_t* p_;
  size_t left_;
};

// The IDX bytes: the input itself, or the input inflated when it starts with
// the gzip magic.
class Stream {
 public:
  Stream(Input* in, const std::string& name) : in_(in), name_(name) {}
  ~Stream() {
    if (gzip_) inflateEnd(&z_);
  }

  Status Init() {
    SPARROW_RETURN_IF_ERROR(Refill(2));
    gzip_ = have_ >= 2 && buf_[0] == 0x1f && buf_[1] == 0x8b;
    if (!gzip_) return OkStatus();
    memset(&z_, 0, sizeof(z_));
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) {
      gzip_ = false;
      return Internal("%s: inflateInit2 failed", name_.c_str());
    }
    return OkStatus();
  }

  // Reads up to n bytes; *got < n only at the end of the data.
  Status Read(uint8_t* dst, size_t n, size_t* got) {
    return gzip_ ? ReadGzip(dst, n, got) : ReadPlain(dst, n, got);
  }

 private:
  // Tops the buffer up to at least `want` unread bytes (fewer at the end).
  Status Refill(size_t want) {
    if (have_ >= want || eof_) return OkStatus();
    memmove(buf_.get(), buf_.get() + pos_, have_);
    pos_ = 0;
    while (have_ < want && !eof_) {
      size_t got = 0;
      SPARROW_RETURN_IF_ERROR(
          in_->Read(buf_.get() + have_, kChunk - have_, &got));
      if (got < kChunk - have_) eof_ = true;
      have_ += got;
    }
    return OkStatus();
  }

  Status ReadPlain(uint8_t* dst, size_t n, size_t* got) {
    const size_t from_buf = std::min(n, have_);
    if (from_buf != 0) memcpy(dst, buf_.get() + pos_, from_buf);
    pos_ += from_buf;
    have_ -= from_buf;
    *got = from_buf;
    if (*got == n || eof_) return OkStatus();
    size_t more = 0;
    SPARROW_RETURN_IF_ERROR(in_->Read(dst + *got, n - *got, &more));
    *got += more;
    return OkStatus();
  }

  uint64_t CompressedOffset() const { return member_start_ + z_.total_in; }

  Status ReadGzip(uint8_t* dst, size_t n, size_t* got) {
    *got = 0;
    while (*got < n) {
      if (member_done_) {
        // Either the end of the file or another gzip member.
        SPARROW_RETURN_IF_ERROR(Refill(2));
        if (have_ == 0) break;
        if (have_ < 2 || buf_[pos_] != 0x1f || buf_[pos_ + 1] != 0x8b) {
          return DataLoss(
              "%s: trailing garbage after the gzip stream at compressed byte "
              "%llu (byte 0x%02x is not the start of a gzip member)",
              name_.c_str(),
              static_cast<unsigned long long>(CompressedOffset()), buf_[pos_]);
        }
        member_start_ = CompressedOffset();
        inflateReset(&z_);
        member_done_ = false;
      }
      SPARROW_RETURN_IF_ERROR(Refill(1));
      if (have_ == 0) {
        return DataLoss(
            "%s: gzip stream is truncated: the file ends at compressed byte "
            "%llu, inside the stream",
            name_.c_str(), static_cast<unsigned long long>(CompressedOffset()));
      }
      const size_t out_left = std::min<size_t>(n - *got, UINT32_MAX);
      z_.next_in = buf_.get() + pos_;
      z_.avail_in = static_cast<uInt>(have_);
      z_.next_out = dst + *got;
      z_.avail_out = static_cast<uInt>(out_left);
      const int r = inflate(&z_, Z_NO_FLUSH);
      const size_t used = have_ - z_.avail_in;
      pos_ += used;
      have_ -= used;
      *got += out_left - z_.avail_out;
      if (r == Z_STREAM_END) {
        member_done_ = true;
      } else if (r != Z_OK && !(r == Z_BUF_ERROR && have_ == 0)) {
        return DataLoss("%s: corrupt gzip stream at compressed byte %llu: %s",
                        name_.c_str(),
                        static_cast<unsigned long long>(CompressedOffset()),
                        z_.msg != nullptr ? z_.msg : zError(r));
      }
    }
    return OkStatus();
  }

  Input* in_;
  const std::string& name_;
  std::unique_ptr<uint8_t[]> buf_{new uint8_t[kChunk]};
  size_t pos_ = 0;   // first unread byte in buf_
  size_t have_ = 0;  // unread bytes in buf_
  bool eof_ = false;
  bool gzip_ = false;
  bool member_done_ = false;
  uint64_t member_start_ = 0;  // compressed offset of the current member
  z_stream z_;
};

uint32_t LoadBigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

StatusOr<IdxArray> Parse(Input* in, const std::string& name) {
  Stream s(in, name);
  SPARROW_RETURN_IF_ERROR(s.Init());
  const char* n = name.c_str();

  uint8_t head[4 + 4 * kMaxIdxRank];
  size_t got = 0;
  SPARROW_RETURN_IF_ERROR(s.Read(head, 4, &got));
  if (got < 4) {
    return DataLoss(
        "%s: truncated header: %zu of the 4 bytes of magic, dtype "
        "and rank",
        n, got);
  }
  if (head[0] != 0 || head[1] != 0) {
    return InvalidArgument(
        "%s: magic=0x%02x%02x, want 0x0000 (not an IDX file)", n, head[0],
        head[1]);
  }
  if (!ValidType(head[2])) {
    return InvalidArgument(
        "%s: dtype=0x%02x, want 0x08 (u8), 0x09 (i8), 0x0b (i16), 0x0c (i32), "
        "0x0d (f32) or 0x0e (f64)",
        n, head[2]);
  }
  const int rank = head[3];
  if (rank < 1 || rank > kMaxIdxRank) {
    return InvalidArgument("%s: rank=%d, want 1..%d", n, rank, kMaxIdxRank);
  }
  IdxArray a;
  a.type = static_cast<IdxType>(head[2]);
  SPARROW_RETURN_IF_ERROR(s.Read(head + 4, 4 * rank, &got));
  if (got < 4u * rank) {
    return DataLoss(
        "%s: truncated header: %zu of the %d bytes of dims for "
        "rank=%d",
        n, got, 4 * rank, rank);
  }
  const size_t elem = IdxTypeSize(a.type);
  for (int i = 0; i < rank; ++i) {
    a.dims.push_back(LoadBigEndian32(head + 4 + 4 * i));
  }
  uint64_t bytes = elem;
  for (uint32_t d : a.dims) {
    // bytes <= 2^31 and d < 2^32 before each step, so it cannot wrap.
    bytes *= d;
    if (bytes > kMaxIdxDataBytes) {
      return OutOfRange("%s: dims=%s of %s need more than the %llu-byte limit",
                        n, IdxDimsString(a.dims).c_str(), IdxTypeName(a.type),
                        static_cast<unsigned long long>(kMaxIdxDataBytes));
    }
  }
  // Read in growing chunks: a header's claim alone allocates nothing.
  uint64_t have = 0;
  while (have < bytes) {
    const uint64_t next = std::min(bytes, std::max(2 * have, kFirstAlloc));
    a.data.resize(next);
    SPARROW_RETURN_IF_ERROR(s.Read(a.data.data() + have, next - have, &got));
    have += got;
    if (have < next) break;
  }
  if (have < bytes) {
    return DataLoss("%s: truncated data: %llu of the %llu bytes for dims=%s %s",
                    n, static_cast<unsigned long long>(have),
                    static_cast<unsigned long long>(bytes),
                    IdxDimsString(a.dims).c_str(), IdxTypeName(a.type));
  }
  uint8_t extra;
  SPARROW_RETURN_IF_ERROR(s.Read(&extra, 1, &got));
  if (got != 0) {
    return DataLoss(
        "%s: trailing bytes after the %llu bytes of data for "
        "dims=%s %s (a header that does not match the data?)",
        n, static_cast<unsigned long long>(bytes),
        IdxDimsString(a.dims).c_str(), IdxTypeName(a.type));
  }
  SwapToFromHost(a.data.data(), a.data.size(), elem);
  return a;
}

}  // namespace

size_t IdxTypeSize(IdxType type) {
  switch (type) {
    case IdxType::kU8:
    case IdxType::kI8:
      return 1;
    case IdxType::kI16:
      return 2;
    case IdxType::kI32:
    case IdxType::kF32:
      return 4;
    case IdxType::kF64:
      return 8;
  }
  return 0;
}

const char* IdxTypeName(IdxType type) {
  switch (type) {
    case IdxType::kU8:
      return "u8";
    case IdxType::kI8:
      return "i8";
    case IdxType::kI16:
      return "i16";
    case IdxType::kI32:
      return "i32";
    case IdxType::kF32:
      return "f32";
    case IdxType::kF64:
      return "f64";
  }
  return "?";
}

size_t IdxArray::NumElements() const {
  size_t n = 1;
  for (uint32_t d : dims) n *= d;
  return n;
}

std::string IdxDimsString(const std::vector<uint32_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i != 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

StatusOr<IdxArray> ReadIdxFile(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return NotFound("%s: cannot open: %s", path.c_str(), strerror(errno));
  }
  FileInput in(f, path);  // closes f
  return Parse(&in, path);
}

StatusOr<IdxArray> ParseIdx(const uint8_t* bytes, size_t size,
                            const std::string& name) {
  MemoryInput in(bytes, size);
  return Parse(&in, name);
}

StatusOr<std::vector<uint8_t>> EncodeIdx(const IdxArray& array, bool gzip) {
  const uint8_t t = static_cast<uint8_t>(array.type);
  if (!ValidType(t)) return InvalidArgument("EncodeIdx: type=0x%02x", t);
  const size_t rank = array.dims.size();
  if (rank < 1 || rank > kMaxIdxRank) {
    return InvalidArgument("EncodeIdx: rank=%zu, want 1..%d", rank,
                           kMaxIdxRank);
  }
  const size_t elem = IdxTypeSize(array.type);
  uint64_t bytes = elem;
  for (uint32_t d : array.dims) {
    bytes *= d;
    if (bytes > kMaxIdxDataBytes) {
      return InvalidArgument(
          "EncodeIdx: dims=%s of %s exceed the %llu-byte "
          "limit",
          IdxDimsString(array.dims).c_str(), IdxTypeName(array.type),
          static_cast<unsigned long long>(kMaxIdxDataBytes));
    }
  }
  if (array.data.size() != bytes) {
    return InvalidArgument(
        "EncodeIdx: data holds %zu bytes, dims=%s of %s "
        "need %llu",
        array.data.size(), IdxDimsString(array.dims).c_str(),
        IdxTypeName(array.type), static_cast<unsigned long long>(bytes));
  }
  std::vector<uint8_t> plain = {0, 0, t, static_cast<uint8_t>(rank)};
  for (uint32_t d : array.dims) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      plain.push_back(static_cast<uint8_t>(d >> shift));
    }
  }
  const size_t header = plain.size();
  plain.insert(plain.end(), array.data.begin(), array.data.end());
  SwapToFromHost(plain.data() + header, array.data.size(), elem);
  if (!gzip) return plain;

  z_stream z;
  memset(&z, 0, sizeof(z));
  // windowBits 16 + 15: a gzip wrapper with a blank header (mtime 0).
  if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return Internal("EncodeIdx: deflateInit2 failed");
  }
  std::vector<uint8_t> out(deflateBound(&z, plain.size()));
  z.next_in = plain.data();
  z.avail_in = static_cast<uInt>(plain.size());  // < 2^31 + 20
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int r = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (r != Z_STREAM_END) return Internal("EncodeIdx: deflate returned %d", r);
  return out;
}

Status WriteIdxFile(const std::string& path, const IdxArray& array, bool gzip) {
  StatusOr<std::vector<uint8_t>> bytes = EncodeIdx(array, gzip);
  if (!bytes.ok()) return bytes.status();
  FILE* f = fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return NotFound("%s: cannot open for writing: %s", path.c_str(),
                    strerror(errno));
  }
  const size_t wrote = fwrite(bytes->data(), 1, bytes->size(), f);
  const bool closed = fclose(f) == 0;
  if (wrote != bytes->size() || !closed) {
    return DataLoss("%s: write failed after %zu of %zu bytes: %s", path.c_str(),
                    wrote, bytes->size(), strerror(errno));
  }
  return OkStatus();
}

}  // namespace sparrow
