// Helpers for the model tests (tests only): exactly sized aligned copies of
// model bytes (so AddressSanitizer sees any read past the end), files and
// runfiles.
#ifndef SPARROW_RUNTIME_MODEL_TEST_UTIL_H_
#define SPARROW_RUNTIME_MODEL_TEST_UTIL_H_

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "hwy/base.h"

namespace sparrow {

// `size` bytes at a 64-byte aligned address plus `misalign`. The allocation
// is exactly misalign + size bytes.
class AlignedBuffer {
 public:
  AlignedBuffer(const uint8_t* bytes, size_t size, size_t misalign = 0)
      : size_(size) {
    void* p = nullptr;
    const size_t total = misalign + size;
    HWY_ASSERT(posix_memalign(&p, 64, total == 0 ? 1 : total) == 0);
    base_ = static_cast<uint8_t*>(p);
    if (size != 0) memcpy(base_ + misalign, bytes, size);
    data_ = base_ + misalign;
  }
  explicit AlignedBuffer(const std::vector<uint8_t>& v, size_t misalign = 0)
      : AlignedBuffer(v.data(), v.size(), misalign) {}
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { free(base_); }

  const uint8_t* data() const { return data_; }
  uint8_t* data() { return data_; }
  size_t size() const { return size_; }
  bool Contains(const void* p) const {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    return b >= data_ && b < data_ + size_;
  }

 private:
  uint8_t* base_ = nullptr;
  uint8_t* data_ = nullptr;
  size_t size_;
};

inline bool ReadFileBytes(const std::string& path, std::vector<uint8_t>* out) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  out->clear();
  uint8_t buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out->insert(out->end(), buf, buf + n);
  fclose(f);
  return true;
}

// A data file of the test, e.g. Runfile("testdata/models/tiny_mlp.spw").
inline std::string Runfile(const std::string& path) {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* workspace = getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return path;  // run by hand
  return std::string(srcdir) + "/" + workspace + "/" + path;
}

inline std::string TempPath(const std::string& name) {
  const char* tmp = getenv("TEST_TMPDIR");
  return std::string(tmp ? tmp : "/tmp") + "/" + name;
}

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_MODEL_TEST_UTIL_H_
