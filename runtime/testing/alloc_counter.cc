#include "runtime/testing/alloc_counter.h"

#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>

#include <atomic>
#include <cstddef>
#include <new>

// Sanitizers that intercept malloc themselves: with them, only operator
// new/delete are replaced (see the header).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SPARROW_COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SPARROW_COUNT_MALLOC 0
#endif
#endif
#ifndef SPARROW_COUNT_MALLOC
#define SPARROW_COUNT_MALLOC 1
#endif

namespace sparrow {
namespace {

// Constant-initialized, so they work for allocations made before main() and
// during static destruction.
std::atomic<int> g_running{0};
std::atomic<uint64_t> g_new{0};
std::atomic<uint64_t> g_delete{0};
std::atomic<uint64_t> g_malloc{0};
std::atomic<uint64_t> g_free{0};

inline void Count(std::atomic<uint64_t>& counter) {
  if (g_running.load(std::memory_order_relaxed) > 0) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace

AllocationCounter::AllocationCounter() {
  g_running.fetch_add(1, std::memory_order_seq_cst);
  start_ = Now();
}

AllocationCounter::~AllocationCounter() { Stop(); }

void AllocationCounter::Stop() {
  if (!running_) return;
  stop_ = Now();
  running_ = false;
  g_running.fetch_sub(1, std::memory_order_seq_cst);
}

AllocationCounter::Counts AllocationCounter::Now() {
  return {g_new.load(), g_delete.load(), g_malloc.load(), g_free.load()};
}

AllocationCounter::Counts AllocationCounter::Since() const {
  const Counts end = running_ ? Now() : stop_;
  return {end.new_calls - start_.new_calls,
          end.delete_calls - start_.delete_calls,
          end.malloc_calls - start_.malloc_calls,
          end.free_calls - start_.free_calls};
}

uint64_t AllocationCounter::NewCalls() const { return Since().new_calls; }
uint64_t AllocationCounter::DeleteCalls() const { return Since().delete_calls; }
uint64_t AllocationCounter::MallocCalls() const { return Since().malloc_calls; }
uint64_t AllocationCounter::FreeCalls() const { return Since().free_calls; }

bool MallocCountingEnabled() { return SPARROW_COUNT_MALLOC != 0; }

}  // namespace sparrow

using sparrow::Count;
using sparrow::g_delete;
using sparrow::g_free;
using sparrow::g_malloc;
using sparrow::g_new;

// ---------------------------------------------------------------------------
// The C allocation functions, forwarded to glibc's own entry points, which
// glibc exports for exactly this kind of wrapper.
#if SPARROW_COUNT_MALLOC
extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* p, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void* __libc_valloc(size_t size);
void* __libc_pvalloc(size_t size);
void __libc_free(void* p);

void* malloc(size_t size) noexcept {
  Count(g_malloc);
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) noexcept {
  Count(g_malloc);
  return __libc_calloc(count, size);
}
void* realloc(void* p, size_t size) noexcept {
  Count(g_malloc);
  return __libc_realloc(p, size);
}
void* reallocarray(void* p, size_t count, size_t size) noexcept {
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(p, bytes);
}
void free(void* p) noexcept {
  if (p != nullptr) Count(g_free);
  __libc_free(p);
}
void* memalign(size_t alignment, size_t size) noexcept {
  Count(g_malloc);
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(size_t alignment, size_t size) noexcept {
  Count(g_malloc);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) noexcept {
  Count(g_malloc);
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0 ||
      alignment == 0) {
    return EINVAL;
  }
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void* valloc(size_t size) noexcept {
  Count(g_malloc);
  return __libc_valloc(size);
}
void* pvalloc(size_t size) noexcept {
  Count(g_malloc);
  return __libc_pvalloc(size);
}
}  // extern "C"
#endif  // SPARROW_COUNT_MALLOC

// ---------------------------------------------------------------------------
// operator new/delete. Their own memory comes from the allocator without
// passing through the counted malloc, so one `new` counts once.
namespace {

void* RawAlloc(size_t size, size_t alignment) {
  if (alignment <= alignof(std::max_align_t)) {
#if SPARROW_COUNT_MALLOC
    return __libc_malloc(size);
#else
    return malloc(size);
#endif
  }
#if SPARROW_COUNT_MALLOC
  return __libc_memalign(alignment, size);
#else
  void* p = nullptr;
  return posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
#endif
}

void RawFree(void* p) {
#if SPARROW_COUNT_MALLOC
  __libc_free(p);
#else
  free(p);
#endif
}

// The nothrow forms return nullptr; the others throw std::bad_alloc. Both
// call the new_handler first, as the standard asks.
void* New(size_t size, size_t alignment, bool nothrow) {
  Count(g_new);
  if (size == 0) size = 1;
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  for (;;) {
    if (void* p = RawAlloc(size, alignment)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) {
      if (nothrow) return nullptr;
      throw std::bad_alloc();
    }
    if (nothrow) {
      try {
        handler();
      } catch (...) {
        return nullptr;
      }
    } else {
      handler();
    }
  }
}

void Delete(void* p) {
  if (p == nullptr) return;
  Count(g_delete);
  RawFree(p);
}

constexpr size_t kDefault = 0;  // Default alignment.

}  // namespace

void* operator new(size_t n) { return New(n, kDefault, false); }
void* operator new[](size_t n) { return New(n, kDefault, false); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  return New(n, kDefault, true);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return New(n, kDefault, true);
}
void* operator new(size_t n, std::align_val_t a) {
  return New(n, static_cast<size_t>(a), false);
}
void* operator new[](size_t n, std::align_val_t a) {
  return New(n, static_cast<size_t>(a), false);
}
void* operator new(size_t n, std::align_val_t a,
                   const std::nothrow_t&) noexcept {
  return New(n, static_cast<size_t>(a), true);
}
void* operator new[](size_t n, std::align_val_t a,
                     const std::nothrow_t&) noexcept {
  return New(n, static_cast<size_t>(a), true);
}

void operator delete(void* p) noexcept { Delete(p); }
void operator delete[](void* p) noexcept { Delete(p); }
void operator delete(void* p, size_t) noexcept { Delete(p); }
void operator delete[](void* p, size_t) noexcept { Delete(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { Delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { Delete(p); }
void operator delete(void* p, std::align_val_t) noexcept { Delete(p); }
void operator delete[](void* p, std::align_val_t) noexcept { Delete(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept {
  Delete(p);
}
void operator delete[](void* p, size_t, std::align_val_t) noexcept {
  Delete(p);
}
void operator delete(void* p, std::align_val_t,
                     const std::nothrow_t&) noexcept {
  Delete(p);
}
void operator delete[](void* p, std::align_val_t,
                       const std::nothrow_t&) noexcept {
  Delete(p);
}
