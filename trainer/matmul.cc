#include "trainer/matmul.h"

#include "hwy/base.h"

namespace sparrow {
namespace train {

void* GemmWorkspace(size_t bytes) {
  thread_local hwy::AlignedFreeUniquePtr<uint8_t[]> buffer;
  thread_local size_t capacity = 0;
  if (bytes > capacity) {
    buffer = hwy::AllocateAligned<uint8_t>(bytes);
    HWY_ASSERT(buffer);
    capacity = bytes;
  }
  return buffer.get();
}

}  // namespace train
}  // namespace sparrow
