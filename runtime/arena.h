// The one block of memory a prepared model runs in, split TFLite Micro's way:
// planned activations at the head, persistent allocations at the tail.
//
//   alignas(64) static uint8_t buffer[256 << 10];
//   sparrow::StatusOr<sparrow::Arena> arena =
//       sparrow::Arena::Wrap(buffer, sizeof(buffer));  // or Arena::Allocate(n)
//   if (!arena.ok()) return arena.status();
//   sparrow::StatusOr<uint8_t*> state = arena->AllocatePersistent(512);  // tail
//   if (!state.ok()) return state.status();  // "arena too small: need ..."
//   SPARROW_RETURN_IF_ERROR(arena->SetHeadBytes(plan.head_bytes));  // head
//   float* x = reinterpret_cast<float*>(arena->head() + plan.offsets[i]);
//
// Layout (addresses grow to the right):
//
//   base  begin                                                 end  base+bytes
//   |pad  |head: activations, planned ->|  free  |<- tail: persistent |pad|
//
// Contract:
// - Memory: Wrap() borrows the caller's block, which must outlive the Arena
//   and is not freed by it. Allocate() owns one block from the aligned
//   nothrow operator new, made once and freed by the destructor; the runtime
//   uses it when the caller passes no arena, after it knows the size it needs
//   (so once per prepare). Nothing else allocates: the head and tail are
//   offsets into the block. Arena is move-only.
// - Alignment: `begin` is base rounded up to kArenaAlignment (64 bytes) and
//   `end` is base+bytes rounded down, so any base works; every head and tail
//   allocation starts on a 64-byte boundary and its size is rounded up to 64.
//   All rounding and sums are overflow-checked.
// - Errors: a request that does not fit returns RESOURCE_EXHAUSTED
//   "arena too small: need N bytes, have M", where M is the `bytes` the caller
//   passed and N the `bytes` that would make this request fit with the same
//   base pointer. A failed call changes nothing.
// - Persistent allocations live until Reset() or destruction; they are never
//   freed one by one. SetHeadBytes() may be called again (re-planning) and
//   keeps the tail.
// - Not thread-safe: the runtime carves the arena at prepare time, from one
//   thread. The memory itself may then be used by any thread.
#ifndef SPARROW_RUNTIME_ARENA_H_
#define SPARROW_RUNTIME_ARENA_H_

#include <stddef.h>
#include <stdint.h>

#include "kernels/status.h"

namespace sparrow {

inline constexpr size_t kArenaAlignment = 64;  // bytes; a cache line, and
                                               // an AVX-512 vector.

// Rounds `bytes` up to a multiple of kArenaAlignment. Returns false (and
// leaves *aligned alone) when the result does not fit in size_t.
[[nodiscard]] inline bool AlignArenaSize(size_t bytes, size_t* aligned) {
  size_t sum;
  if (__builtin_add_overflow(bytes, kArenaAlignment - 1, &sum)) return false;
  *aligned = sum & ~(kArenaAlignment - 1);
  return true;
}

class Arena {
 public:
  Arena() = default;  // Empty: Capacity() 0, until a Wrap/Allocate result is moved in.
  // Borrows [base, base + bytes). base may be null only when bytes is 0.
  static StatusOr<Arena> Wrap(uint8_t* base, size_t bytes);
  // Owns a new 64-byte aligned block of `bytes` rounded up to 64.
  // RESOURCE_EXHAUSTED when the allocation fails.
  static StatusOr<Arena> Allocate(size_t bytes);

  Arena(Arena&& other) noexcept;
  Arena& operator=(Arena&& other) noexcept;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena();

  // Takes `bytes` (rounded up to 64) from the top of the free space. The
  // result is 64-byte aligned. A zero-byte request succeeds and returns the
  // current tail start, which must not be dereferenced.
  StatusOr<uint8_t*> AllocatePersistent(size_t bytes);

  // Sets the head (planned activations) to `bytes` rounded up to 64,
  // replacing any earlier head size.
  Status SetHeadBytes(size_t bytes);

  // Start of the head; 64-byte aligned. Valid for HeadBytes() bytes. Null
  // when Capacity() is 0.
  uint8_t* head() const { return begin_; }

  size_t HeadBytes() const { return head_bytes_; }  // bytes, multiple of 64
  size_t TailBytes() const { return tail_bytes_; }  // bytes, multiple of 64
  size_t BytesUsed() const { return head_bytes_ + tail_bytes_; }
  // The aligned usable size, end - begin; at most the `bytes` passed in.
  size_t Capacity() const { return capacity_; }
  size_t BytesAvailable() const { return capacity_ - BytesUsed(); }
  bool OwnsMemory() const { return owned_ != nullptr; }

  // Drops the head and every persistent allocation.
  void Reset() {
    head_bytes_ = 0;
    tail_bytes_ = 0;
  }

 private:
  // OK when `head` + `tail` bytes fit, else the "arena too small" error.
  Status CheckFits(size_t head, size_t tail) const;
  void Free();

  uint8_t* owned_ = nullptr;   // Non-null when Allocate() made the block.
  uint8_t* begin_ = nullptr;   // base rounded up to 64; null if no capacity.
  size_t front_padding_ = 0;   // base rounded up to 64, minus base; bytes.
  size_t given_bytes_ = 0;     // The `bytes` the caller passed.
  size_t capacity_ = 0;        // bytes from begin_ to the aligned end.
  size_t head_bytes_ = 0;
  size_t tail_bytes_ = 0;
};

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_ARENA_H_
