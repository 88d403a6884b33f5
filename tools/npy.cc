#include "tools/npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <limits>
#include <string>
#include <utility>

namespace sparrow {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;
constexpr size_t kElementBytes = 4;  // both dtypes
constexpr size_t kHeaderAlignment = 64;

// A short, printable rendering of untrusted header text for messages.
std::string Quote(const char* p, size_t n) {
  constexpr size_t kMaxShown = 40;
  std::string s;
  for (size_t i = 0; i < n && i < kMaxShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if (c >= 0x20 && c < 0x7f) {
      s += static_cast<char>(c);
    } else {
      char hex[8];
      snprintf(hex, sizeof(hex), "\\x%02x", c);
      s += hex;
    }
  }
  if (n > kMaxShown) s += "...";
  return s;
}

// Recursive-descent parser for the header: a Python dict literal with string
// keys and string / bool / tuple-of-int values, as numpy.save writes it.
class HeaderParser {
 public:
  HeaderParser(const char* p, size_t n) : p_(p), end_(p + n) {}

  Status Parse(NpyArray* out) {
    bool have_descr = false, have_order = false, have_shape = false;
    SkipSpace();
    if (!Consume('{')) return Malformed("header does not start with '{'");
    for (;;) {
      SkipSpace();
      if (Consume('}')) break;
      std::string key;
      SPARROW_RETURN_IF_ERROR(ParseString("a key", &key));
      SkipSpace();
      if (!Consume(':')) return Malformed("expected ':' after key");
      SkipSpace();
      if (key == "descr") {
        if (have_descr) return Duplicate(key);
        have_descr = true;
        std::string descr;
        SPARROW_RETURN_IF_ERROR(ParseString("descr's value", &descr));
        SPARROW_RETURN_IF_ERROR(ParseDescr(descr, &out->dtype));
      } else if (key == "fortran_order") {
        if (have_order) return Duplicate(key);
        have_order = true;
        bool fortran = false;
        SPARROW_RETURN_IF_ERROR(ParseBool(&fortran));
        if (fortran) {
          return InvalidArgument(
              "fortran_order is True: only C-order arrays are supported "
              "(save numpy.ascontiguousarray(a))");
        }
      } else if (key == "shape") {
        if (have_shape) return Duplicate(key);
        have_shape = true;
        SPARROW_RETURN_IF_ERROR(ParseShape(&out->shape));
      } else {
        return InvalidArgument(
            "header has key '%s'; a .npy header has exactly descr, "
            "fortran_order and shape",
            Quote(key.data(), key.size()).c_str());
      }
      SkipSpace();
      if (Consume(',')) continue;
      if (Consume('}')) break;
      return Malformed("expected ',' or '}' after a value");
    }
    SkipSpace();
    if (p_ != end_) return Malformed("text after the closing '}'");
    if (!have_descr) return Missing("descr");
    if (!have_order) return Missing("fortran_order");
    if (!have_shape) return Missing("shape");
    return OkStatus();
  }

 private:
  void SkipSpace() {
    while (p_ != end_ &&
           (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) {
      ++p_;
    }
  }
  bool Consume(char c) {
    if (p_ != end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool ConsumeWord(const char* word) {
    const size_t n = strlen(word);
    if (static_cast<size_t>(end_ - p_) < n || memcmp(p_, word, n) != 0) {
      return false;
    }
    p_ += n;
    return true;
  }
  Status Malformed(const char* what) const {
    return InvalidArgument("malformed header dict: %s at '%s'", what,
                           Quote(p_, end_ - p_).c_str());
  }
  static Status Duplicate(const std::string& key) {
    return InvalidArgument("header has key '%s' twice", key.c_str());
  }
  static Status Missing(const char* key) {
    return InvalidArgument("header has no key '%s'", key);
  }

  // 'text' or "text", without escapes (numpy never writes any).
  Status ParseString(const char* what, std::string* out) {
    if (p_ == end_ || (*p_ != '\'' && *p_ != '"')) {
      char msg[64];
      snprintf(msg, sizeof(msg), "expected a quoted string as %s", what);
      return Malformed(msg);
    }
    const char quote = *p_++;
    const char* begin = p_;
    while (p_ != end_ && *p_ != quote) {
      if (*p_ == '\\') return Malformed("escape in a string");
      ++p_;
    }
    if (p_ == end_) return Malformed("unterminated string");
    out->assign(begin, p_);
    ++p_;
    return OkStatus();
  }

  Status ParseBool(bool* out) {
    if (ConsumeWord("True")) {
      *out = true;
    } else if (ConsumeWord("False")) {
      *out = false;
    } else {
      return Malformed("fortran_order must be True or False");
    }
    return OkStatus();
  }

  static Status ParseDescr(const std::string& descr, NpyDType* out) {
    // Byte order '<' is little-endian; '=' (native) and '|' (not applicable)
    // mean the same on the little-endian hosts this library supports.
    if (descr.size() == 3 &&
        (descr[0] == '<' || descr[0] == '=' || descr[0] == '|')) {
      if (descr.compare(1, 2, "f4") == 0) {
        *out = NpyDType::kF32;
        return OkStatus();
      }
      if (descr.compare(1, 2, "i4") == 0) {
        *out = NpyDType::kI32;
        return OkStatus();
      }
    }
    const std::string shown = Quote(descr.data(), descr.size());
    if (!descr.empty() && descr[0] == '>') {
      return InvalidArgument(
          "descr '%s' is big-endian; only little-endian '<f4' and '<i4' "
          "are supported (save a.astype('<f4'))",
          shown.c_str());
    }
    if (descr.size() >= 2 && descr[1] == 'O') {
      return InvalidArgument(
          "descr '%s' is an object array; only '<f4' and '<i4' are supported",
          shown.c_str());
    }
    return InvalidArgument(
        "descr '%s' is not supported; only '<f4' (float32) and '<i4' (int32) "
        "are (convert with a.astype(numpy.float32))",
        shown.c_str());
  }

  // (), (3,), (2, 3) or (2, 3,); Python 2's 3L is accepted as 3.
  Status ParseShape(std::vector<size_t>* shape) {
    if (!Consume('(')) return Malformed("shape must be a tuple");
    shape->clear();
    for (;;) {
      SkipSpace();
      if (Consume(')')) {
        if (shape->size() == 1 && !trailing_comma_) {
          return Malformed("(n) is not a tuple; a 1-element shape is (n,)");
        }
        return OkStatus();
      }
      if (shape->size() == kMaxNpyRank) {
        return InvalidArgument("shape has more than %zu dimensions",
                               kMaxNpyRank);
      }
      if (p_ != end_ && *p_ == '-') {
        const char* begin = p_++;
        while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
        return InvalidArgument("shape dim %zu is %s; dims must be >= 0",
                               shape->size(), Quote(begin, p_ - begin).c_str());
      }
      if (p_ == end_ || *p_ < '0' || *p_ > '9') {
        return Malformed("expected a dimension in shape");
      }
      const char* begin = p_;
      uint64_t dim = 0;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
        const uint64_t digit = static_cast<uint64_t>(*p_ - '0');
        if (dim > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
          while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
          return OutOfRange("shape dim %zu is %s, which overflows",
                            shape->size(), Quote(begin, p_ - begin).c_str());
        }
        dim = dim * 10 + digit;
        ++p_;
      }
      Consume('L');
      if (dim > std::numeric_limits<size_t>::max()) {
        return OutOfRange("shape dim %zu is %s, which overflows", shape->size(),
                          Quote(begin, p_ - begin).c_str());
      }
      shape->push_back(static_cast<size_t>(dim));
      SkipSpace();
      trailing_comma_ = Consume(',');
      if (!trailing_comma_) {
        SkipSpace();
        if (p_ == end_ || *p_ != ')') {
          return Malformed("expected ',' or ')' in shape");
        }
      }
    }
  }

  const char* p_;
  const char* const end_;
  bool trailing_comma_ = false;
};

// num_elements * kElementBytes, or an error when it overflows size_t.
Status DataBytes(const std::vector<size_t>& shape, size_t* bytes) {
  size_t n = kElementBytes;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != 0 && n > std::numeric_limits<size_t>::max() / shape[i]) {
      // Later dims may be 0 and make the array empty.
      bool empty = false;
      for (size_t d : shape) empty |= (d == 0);
      if (empty) {
        *bytes = 0;
        return OkStatus();
      }
      return OutOfRange("shape %s has more bytes than fit in memory",
                        ShapeString(shape).c_str());
    }
    n *= shape[i];
  }
  *bytes = n;
  return OkStatus();
}

uint32_t LoadLE(const uint8_t* p, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

Status WithPath(const std::string& path, const Status& s) {
  return Status(s.code(), path + ": " + s.message());
}

}  // namespace

const char* NpyDTypeName(NpyDType t) {
  return t == NpyDType::kF32 ? "f32" : "i32";
}

size_t NpyArray::num_elements() const {
  size_t n = 1;
  for (size_t d : shape) n *= d;
  return n;
}

const void* NpyArray::data() const {
  return dtype == NpyDType::kF32 ? static_cast<const void*>(f32.data())
                                 : static_cast<const void*>(i32.data());
}

std::string ShapeString(const std::vector<size_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

StatusOr<NpyArray> ParseNpy(const uint8_t* bytes, size_t size) {
  if (size < kMagicBytes + 2 || memcmp(bytes, kMagic, kMagicBytes) != 0) {
    if (size >= kMagicBytes && memcmp(bytes, kMagic, kMagicBytes) != 0) {
      return InvalidArgument(
          "not a .npy file: magic is '%s', want '\\x93NUMPY'",
          Quote(reinterpret_cast<const char*>(bytes), kMagicBytes).c_str());
    }
    return DataLoss("truncated: %zu bytes, shorter than the .npy preamble",
                    size);
  }
  const uint8_t major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3 || minor != 0) {
    return Status(StatusCode::kUnimplemented,
                  "format version " + std::to_string(major) + "." +
                      std::to_string(minor) +
                      " is not supported (1.0, 2.0 and 3.0 are)");
  }
  const size_t len_bytes = major == 1 ? 2 : 4;
  const size_t preamble = kMagicBytes + 2 + len_bytes;
  if (size < preamble) {
    return DataLoss(
        "truncated: %zu bytes, shorter than the version %u.0 "
        "preamble of %zu bytes",
        size, major, preamble);
  }
  const size_t header_len = LoadLE(bytes + kMagicBytes + 2, len_bytes);
  if (header_len > size - preamble) {
    return DataLoss(
        "header length %zu runs past the end of the file "
        "(%zu bytes after the preamble)",
        header_len, size - preamble);
  }
  // Versions 1 and 2 are latin-1 and 3 is UTF-8; either way every byte the
  // grammar accepts is ASCII, so other bytes fail in the parser.
  NpyArray array;
  HeaderParser parser(reinterpret_cast<const char*>(bytes + preamble),
                      header_len);
  SPARROW_RETURN_IF_ERROR(parser.Parse(&array));

  size_t data_bytes = 0;
  SPARROW_RETURN_IF_ERROR(DataBytes(array.shape, &data_bytes));
  const size_t have = size - preamble - header_len;
  if (have != data_bytes) {
    return DataLoss("data section is %zu bytes; shape %s of %s needs %zu", have,
                    ShapeString(array.shape).c_str(), NpyDTypeName(array.dtype),
                    data_bytes);
  }
  const uint8_t* data = bytes + preamble + header_len;
  const size_t n = data_bytes / kElementBytes;
  if (array.dtype == NpyDType::kF32) {
    array.f32.resize(n);
    if (n != 0) memcpy(array.f32.data(), data, data_bytes);
  } else {
    array.i32.resize(n);
    if (n != 0) memcpy(array.i32.data(), data, data_bytes);
  }
  return array;
}

StatusOr<NpyArray> ReadNpy(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFound("%s: no such file", path.c_str());
    return InvalidArgument("%s: cannot open: %s", path.c_str(), strerror(err));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return InvalidArgument("%s: not a regular file", path.c_str());
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t r = read(fd, &bytes[got], bytes.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  close(fd);
  if (got != bytes.size()) {
    return DataLoss("%s: read %zu of %zu bytes", path.c_str(), got,
                    bytes.size());
  }
  StatusOr<NpyArray> array =
      ParseNpy(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!array.ok()) return WithPath(path, array.status());
  return array;
}

StatusOr<std::string> EncodeNpy(NpyDType dtype,
                                const std::vector<size_t>& shape,
                                const void* data) {
  if (shape.size() > kMaxNpyRank) {
    return InvalidArgument("rank %zu exceeds %zu", shape.size(), kMaxNpyRank);
  }
  size_t data_bytes = 0;
  SPARROW_RETURN_IF_ERROR(DataBytes(shape, &data_bytes));
  if (data_bytes != 0 && data == nullptr) {
    return InvalidArgument("data is null for shape %s",
                           ShapeString(shape).c_str());
  }
  // numpy.save's dict text (numpy pads a little more, for appending).
  std::string dict = "{'descr': '";
  dict += dtype == NpyDType::kF32 ? "<f4" : "<i4";
  dict += "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) dict += ", ";
    dict += std::to_string(shape[i]);
  }
  dict += shape.size() == 1 ? ",), }" : "), }";
  const size_t preamble = kMagicBytes + 4;
  // Pad with spaces so that preamble + header ends on a 64-byte boundary,
  // the header ending in '\n'.
  const size_t unpadded = preamble + dict.size() + 1;
  const size_t padded =
      (unpadded + kHeaderAlignment - 1) / kHeaderAlignment * kHeaderAlignment;
  dict.append(padded - unpadded, ' ');
  dict += '\n';
  // Rank <= 32 keeps the header far below version 1.0's 65535 bytes.
  std::string out(kMagic, kMagicBytes);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  out += dict;
  out.append(static_cast<const char*>(data), data_bytes);
  return out;
}

Status WriteNpy(const std::string& path, NpyDType dtype,
                const std::vector<size_t>& shape, const void* data) {
  StatusOr<std::string> bytes = EncodeNpy(dtype, shape, data);
  if (!bytes.ok()) return WithPath(path, bytes.status());
  // A unique name beside `path`, so rename() stays within one file system.
  static std::atomic<unsigned> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." +
                          std::to_string(counter++);
  const int fd =
      open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int err = errno;
    return Status(
        err == ENOENT ? StatusCode::kNotFound : StatusCode::kInvalidArgument,
        path + ": cannot create: " + strerror(err));
  }
  const std::string& b = *bytes;
  size_t done = 0;
  int err = 0;
  while (done < b.size()) {
    const ssize_t w = write(fd, b.data() + done, b.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      err = w < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(w);
  }
  // Durable before it becomes visible under `path`.
  if (err == 0 && fsync(fd) != 0) err = errno;
  if (close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    unlink(tmp.c_str());
    return Status(StatusCode::kInvalidArgument,
                  path + ": cannot write: " + strerror(err));
  }
  return OkStatus();
}

Status WriteNpy(const std::string& path, const NpyArray& array) {
  const size_t want = array.num_elements();
  const size_t have =
      array.dtype == NpyDType::kF32 ? array.f32.size() : array.i32.size();
  if (have != want) {
    return InvalidArgument("%s: array holds %zu elements, shape %s needs %zu",
                           path.c_str(), have, ShapeString(array.shape).c_str(),
                           want);
  }
  return WriteNpy(path, array.dtype, array.shape, array.data());
}

}  // namespace sparrow
