// IDX files (the MNIST format), plain or gzip-compressed.
//
//   sparrow::StatusOr<sparrow::IdxArray> a =
//       sparrow::ReadIdxFile("/usr/share/datasets/fashion-mnist/"
//                            "t10k-labels-idx1-ubyte.gz");
//   if (!a.ok()) { fprintf(stderr, "%s\n", a.status().message()); return 1; }
//   // a->type == IdxType::kU8, a->dims == {10000}, a->data.size() == 10000
//
// Layout: two zero bytes, a dtype byte, a rank byte, `rank` big-endian uint32
// dims, then the elements, row-major and big-endian. A file that starts with
// the gzip magic (1f 8b) is inflated first; concatenated gzip members are read
// as one stream, as gunzip does.
//
// Contract: every byte of the file is distrusted. Wrong magic, an unknown
// dtype, rank 0 or > 4, dims whose data exceeds kMaxIdxDataBytes, truncated
// data, bytes after the data and a corrupt gzip stream are a Status whose
// message names the file, the field and the value; nothing aborts. Memory
// grows with the bytes actually read (at most twice them), never with what a
// header claims, and never past kMaxIdxDataBytes. The functions are
// thread-safe (no shared state); IdxArray owns its bytes.
#ifndef SPARROW_TRAINER_DATA_IDX_H_
#define SPARROW_TRAINER_DATA_IDX_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "kernels/status.h"

namespace sparrow {

// The dtype byte. Values are the format's own.
enum class IdxType : uint8_t {
  kU8 = 0x08,
  kI8 = 0x09,
  kI16 = 0x0B,
  kI32 = 0x0C,
  kF32 = 0x0D,
  kF64 = 0x0E,
};

// Bytes per element (1, 2, 4 or 8); 0 for a value outside the enum.
size_t IdxTypeSize(IdxType type);
// "u8", "i8", "i16", "i32", "f32", "f64"; "?" for a value outside the enum.
const char* IdxTypeName(IdxType type);

inline constexpr int kMaxIdxRank = 4;
// The largest data section accepted, in bytes (2 GiB).
inline constexpr uint64_t kMaxIdxDataBytes = uint64_t{1} << 31;

struct IdxArray {
  IdxType type = IdxType::kU8;
  std::vector<uint32_t> dims;  // [d0, ..., d(rank-1)], 1 <= rank <= 4
  // NumElements() * IdxTypeSize(type) bytes, row-major, in host byte order
  // (the reader swaps multi-byte elements; the writer swaps them back).
  std::vector<uint8_t> data;

  size_t NumElements() const;  // product of dims (1 for rank 0)
};

// Reads `path`, gzipped or not. Errors: NOT_FOUND (cannot open), DATA_LOSS
// (truncated, trailing bytes, corrupt gzip, read error), INVALID_ARGUMENT
// (magic, dtype, rank), OUT_OF_RANGE (data larger than kMaxIdxDataBytes).
StatusOr<IdxArray> ReadIdxFile(const std::string& path);

// The same for bytes in memory; `name` stands for the file in messages.
StatusOr<IdxArray> ParseIdx(const uint8_t* bytes, size_t size,
                            const std::string& name);

// The file's bytes for `array`, gzipped (deflate level 9, no file name, mtime
// 0: the output depends only on the array and zlib) or plain. INVALID_ARGUMENT
// for an unknown type, a rank outside 1..4, data whose size does not match the
// dims, or data larger than kMaxIdxDataBytes.
StatusOr<std::vector<uint8_t>> EncodeIdx(const IdxArray& array, bool gzip);

// EncodeIdx, then writes the bytes to `path` (replacing it).
Status WriteIdxFile(const std::string& path, const IdxArray& array, bool gzip);

// "[60000, 28, 28]", for messages.
std::string IdxDimsString(const std::vector<uint32_t>& dims);

}  // namespace sparrow

#endif  // SPARROW_TRAINER_DATA_IDX_H_
