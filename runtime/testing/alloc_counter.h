// Test-only: counts heap allocations made while a scope object is alive, for
// tests such as "Invoke() performs zero heap allocations".
//
//   sparrow::AllocationCounter counter;  // starts counting
//   interpreter.Invoke();
//   counter.Stop();                      // gtest's own allocations after
//                                        // this are not counted
//   EXPECT_EQ(counter.Allocations(), 0u);
//
// Contract:
// - Linking //runtime/testing:alloc_counter replaces the global operator
//   new and delete, every variant (array, nothrow, aligned, sized), for the
//   whole test binary. They count, then call malloc/free (posix_memalign for
//   the aligned ones), and keep the standard semantics: new_handler retries,
//   std::bad_alloc from the throwing forms, nullptr from the nothrow forms.
// - Where MallocCountingEnabled() is true, malloc, calloc, realloc, free,
//   posix_memalign, aligned_alloc, memalign, valloc and pvalloc are replaced
//   too (forwarding to glibc's __libc_* entry points), so C allocations such
//   as hwy::AllocateAligned are caught. Under AddressSanitizer,
//   ThreadSanitizer and MemorySanitizer it is false: the sanitizer owns those
//   symbols, and replacing them would hide every allocation from it. Only
//   operator new/delete are counted there.
// - Counting is process-wide: calls from every thread are counted while at
//   least one counter is running (so worker threads of a pool are caught,
//   and so is anything else the test runs concurrently). Each counter reports
//   the calls between its construction and Stop() (or now, if still running).
// - Thread-safe: relaxed atomics on the allocation path; no locks.
#ifndef SPARROW_RUNTIME_TESTING_ALLOC_COUNTER_H_
#define SPARROW_RUNTIME_TESTING_ALLOC_COUNTER_H_

#include <stdint.h>

namespace sparrow {

class AllocationCounter {
 public:
  AllocationCounter();   // Starts counting.
  ~AllocationCounter();  // Stops, if Stop() was not called.
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;

  // Freezes the counts. Idempotent.
  void Stop();

  uint64_t NewCalls() const;     // operator new and new[], all variants
  uint64_t DeleteCalls() const;  // operator delete and delete[] of non-null
  uint64_t MallocCalls() const;  // malloc, calloc, realloc, *memalign, ...
  uint64_t FreeCalls() const;    // free of non-null
  // Everything that can take memory from the heap: NewCalls + MallocCalls.
  uint64_t Allocations() const { return NewCalls() + MallocCalls(); }

 private:
  struct Counts {
    uint64_t new_calls, delete_calls, malloc_calls, free_calls;
  };
  static Counts Now();
  Counts Since() const;

  Counts start_;
  Counts stop_;
  bool running_ = true;
};

// Whether the C allocation functions are counted in this build.
bool MallocCountingEnabled();

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_TESTING_ALLOC_COUNTER_H_
