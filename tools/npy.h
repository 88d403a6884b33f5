// NumPy .npy files (format versions 1.0, 2.0 and 3.0) of float32 or int32
// arrays: what `sparrow run` reads its inputs from and writes its outputs to.
//
//   sparrow::StatusOr<sparrow::NpyArray> x = sparrow::ReadNpy("x.npy");
//   if (!x.ok()) { fprintf(stderr, "%s\n", x.status().message()); return 1; }
//   // x->shape == {1, 8}, x->dtype == NpyDType::kF32, x->f32.size() == 8
//   SPARROW_RETURN_IF_ERROR(sparrow::WriteNpy("y.npy", NpyDType::kF32,
//                                             {1, 4}, y));  // y: float[4]
//
//   >>> numpy.load("y.npy")            # reads what WriteNpy wrote
//   >>> numpy.save("x.npy", a.astype(numpy.float32))  # what ReadNpy reads
//
// Contract:
// - Reading distrusts every byte: a truncated file, a header length past the
//   end, a malformed header dict, a negative or overflowing dimension, or a
//   data section that is not exactly shape's elements gives a Status naming
//   the field and its value; it never crashes or reads past the bytes given.
// - Accepted: descr '<f4' or '<i4' ('=' and '|' as byte order too: this
//   library runs on little-endian hosts only, where both mean little-endian),
//   fortran_order False, any rank up to kMaxNpyRank, shape () for a scalar.
//   Rejected with a Status: big-endian ('>f4'), Fortran order, object and
//   structured arrays, every other dtype (float64 included: convert with
//   a.astype(numpy.float32)). The header dict needs exactly the keys descr,
//   fortran_order and shape, each once, as numpy.save writes it.
// - Writing produces version 1.0 files as numpy.save does (header padded to a
//   multiple of 64 bytes, ending in '\n'), little-endian, C order. WriteNpy is
//   atomic: it writes and fsyncs a temporary file beside `path` and renames
//   it over `path`, so readers see the old file or the whole new one, never a
//   part (a symlink at `path` is replaced, not written through).
// - Memory: reading allocates at most the file's size twice (the bytes, then
//   the elements); a header can never make it allocate more than the file.
// - Plain functions, no shared state: safe to call from any thread.
#ifndef SPARROW_TOOLS_NPY_H_
#define SPARROW_TOOLS_NPY_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "kernels/status.h"

namespace sparrow {

// numpy's own limit on dimensions (NPY_MAXDIMS in numpy 1.x).
constexpr size_t kMaxNpyRank = 32;

enum class NpyDType { kF32, kI32 };

const char* NpyDTypeName(NpyDType t);  // "f32", "i32"

// An array read from a .npy file. Exactly one of f32 / i32 holds the
// elements (the one dtype names), row-major.
struct NpyArray {
  NpyDType dtype = NpyDType::kF32;
  std::vector<size_t> shape;  // empty: a scalar (one element)
  std::vector<float> f32;
  std::vector<int32_t> i32;

  size_t num_elements() const;  // product of shape (1 for a scalar)
  const void* data() const;     // the elements of `dtype`
  size_t bytes() const { return num_elements() * 4; }
};

// "[2, 3]" ("[]" for a scalar), for messages.
std::string ShapeString(const std::vector<size_t>& shape);

// Parses a whole .npy file held in memory ([size] bytes at `bytes`).
StatusOr<NpyArray> ParseNpy(const uint8_t* bytes, size_t size);
// Reads and parses the file at `path`; messages start with the path.
// NotFound if it does not exist.
StatusOr<NpyArray> ReadNpy(const std::string& path);

// The bytes of a version 1.0 .npy file holding `shape`'s elements of `dtype`
// from `data` (num_elements * 4 bytes, little-endian). InvalidArgument when
// the rank exceeds kMaxNpyRank or the size overflows.
StatusOr<std::string> EncodeNpy(NpyDType dtype,
                                const std::vector<size_t>& shape,
                                const void* data);
// Encodes as above and writes `path` atomically (temporary file + rename).
Status WriteNpy(const std::string& path, NpyDType dtype,
                const std::vector<size_t>& shape, const void* data);
Status WriteNpy(const std::string& path, const NpyArray& array);

}  // namespace sparrow

#endif  // SPARROW_TOOLS_NPY_H_
