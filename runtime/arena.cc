#include "runtime/arena.h"

#include <new>
#include <utility>

namespace sparrow {

StatusOr<Arena> Arena::Wrap(uint8_t* base, size_t bytes) {
  if (base == nullptr) {
    if (bytes != 0) {
      return InvalidArgument("arena base is null but bytes=%zu", bytes);
    }
    return Arena();
  }
  const uintptr_t start = reinterpret_cast<uintptr_t>(base);
  uintptr_t limit;  // One past the last byte.
  if (__builtin_add_overflow(start, bytes, &limit)) {
    return InvalidArgument("arena base %p + bytes=%zu wraps the address space",
                           static_cast<void*>(base), bytes);
  }
  uintptr_t aligned_start;
  if (__builtin_add_overflow(start, kArenaAlignment - 1, &aligned_start)) {
    return InvalidArgument("arena base %p cannot be aligned to %zu bytes",
                           static_cast<void*>(base), kArenaAlignment);
  }
  aligned_start &= ~static_cast<uintptr_t>(kArenaAlignment - 1);
  const uintptr_t aligned_limit =
      limit & ~static_cast<uintptr_t>(kArenaAlignment - 1);

  Arena arena;
  arena.given_bytes_ = bytes;
  arena.front_padding_ = static_cast<size_t>(aligned_start - start);
  // A block shorter than its own alignment padding has no usable bytes and
  // no aligned address inside it: begin_ stays null.
  if (aligned_limit > aligned_start) {
    arena.begin_ = base + arena.front_padding_;
    arena.capacity_ = static_cast<size_t>(aligned_limit - aligned_start);
  }
  return arena;
}

StatusOr<Arena> Arena::Allocate(size_t bytes) {
  size_t aligned;
  if (!AlignArenaSize(bytes, &aligned)) {
    return ResourceExhausted("arena bytes=%zu overflows when rounded to %zu",
                             bytes, kArenaAlignment);
  }
  Arena arena;
  if (aligned == 0) return arena;
  void* p = ::operator new(aligned, std::align_val_t(kArenaAlignment),
                           std::nothrow);
  if (p == nullptr) {
    return ResourceExhausted("cannot allocate an arena of %zu bytes", aligned);
  }
  arena.owned_ = static_cast<uint8_t*>(p);
  arena.begin_ = arena.owned_;
  arena.given_bytes_ = aligned;
  arena.capacity_ = aligned;
  return arena;
}

Arena::Arena(Arena&& other) noexcept { *this = std::move(other); }

Arena& Arena::operator=(Arena&& other) noexcept {
  if (this != &other) {
    Free();
    owned_ = std::exchange(other.owned_, nullptr);
    begin_ = std::exchange(other.begin_, nullptr);
    front_padding_ = std::exchange(other.front_padding_, 0);
    given_bytes_ = std::exchange(other.given_bytes_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    head_bytes_ = std::exchange(other.head_bytes_, 0);
    tail_bytes_ = std::exchange(other.tail_bytes_, 0);
  }
  return *this;
}

Arena::~Arena() { Free(); }

void Arena::Free() {
  if (owned_ != nullptr) {
    ::operator delete(owned_, std::align_val_t(kArenaAlignment));
    owned_ = nullptr;
  }
}

Status Arena::CheckFits(size_t head, size_t tail) const {
  size_t used;
  if (!__builtin_add_overflow(head, tail, &used) && used <= capacity_) {
    return OkStatus();
  }
  size_t need;
  if (__builtin_add_overflow(head, tail, &need) ||
      __builtin_add_overflow(need, front_padding_, &need)) {
    return ResourceExhausted(
        "arena too small: need more than SIZE_MAX bytes (head %zu + tail "
        "%zu), have %zu",
        head, tail, given_bytes_);
  }
  return ResourceExhausted("arena too small: need %zu bytes, have %zu", need,
                           given_bytes_);
}

StatusOr<uint8_t*> Arena::AllocatePersistent(size_t bytes) {
  size_t aligned;
  if (!AlignArenaSize(bytes, &aligned)) {
    return ResourceExhausted(
        "arena too small: persistent request of %zu bytes overflows when "
        "rounded to %zu, have %zu",
        bytes, kArenaAlignment, given_bytes_);
  }
  size_t new_tail;
  if (__builtin_add_overflow(tail_bytes_, aligned, &new_tail)) {
    return ResourceExhausted(
        "arena too small: need more than SIZE_MAX bytes (tail %zu + %zu), "
        "have %zu",
        tail_bytes_, aligned, given_bytes_);
  }
  SPARROW_RETURN_IF_ERROR(CheckFits(head_bytes_, new_tail));
  tail_bytes_ = new_tail;
  return begin_ + (capacity_ - tail_bytes_);
}

Status Arena::SetHeadBytes(size_t bytes) {
  size_t aligned;
  if (!AlignArenaSize(bytes, &aligned)) {
    return ResourceExhausted(
        "arena too small: head of %zu bytes overflows when rounded to %zu, "
        "have %zu",
        bytes, kArenaAlignment, given_bytes_);
  }
  SPARROW_RETURN_IF_ERROR(CheckFits(aligned, tail_bytes_));
  head_bytes_ = aligned;
  return OkStatus();
}

}  // namespace sparrow
