#include "runtime/testing/alloc_counter.h"

#include <stdint.h>
#include <stdlib.h>

#include <atomic>
#include <new>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// The sanitizers abort on an impossible allocation instead of failing it.
#define SPARROW_SANITIZED 1
#else
#define SPARROW_SANITIZED 0
#endif

namespace sparrow {
namespace {

// Keeps the compiler from dropping an allocation whose result is unused.
void Escape(void* p) { asm volatile("" : : "g"(p) : "memory"); }

TEST(AllocCounterTest, VectorPushBackIsCounted) {
  AllocationCounter counter;
  {
    std::vector<int> v;
    v.push_back(1);
    Escape(v.data());
  }
  counter.Stop();
  EXPECT_EQ(counter.NewCalls(), 1u);
  EXPECT_EQ(counter.DeleteCalls(), 1u);
  EXPECT_EQ(counter.Allocations(), 1u);  // new does not count as malloc too.
}

TEST(AllocCounterTest, ArithmeticLoopIsZero) {
  volatile uint64_t seed = 12345;
  AllocationCounter counter;
  uint64_t x = seed;
  for (int i = 0; i < 100000; ++i) x = x * 6364136223846793005u + 1442695040888963407u;
  seed = x;
  counter.Stop();
  EXPECT_EQ(counter.Allocations(), 0u);
  EXPECT_EQ(counter.DeleteCalls(), 0u);
  EXPECT_EQ(counter.FreeCalls(), 0u);
}

TEST(AllocCounterTest, EveryNewAndDeleteVariantIsCounted) {
  AllocationCounter counter;
  void* p[12];
  p[0] = ::operator new(8);
  p[1] = ::operator new[](8);
  p[2] = ::operator new(8, std::nothrow);
  p[3] = ::operator new[](8, std::nothrow);
  p[4] = ::operator new(8, std::align_val_t(64));
  p[5] = ::operator new[](8, std::align_val_t(64));
  p[6] = ::operator new(8, std::align_val_t(4096), std::nothrow);
  p[7] = ::operator new[](8, std::align_val_t(4096), std::nothrow);
  p[8] = ::operator new(8);
  p[9] = ::operator new[](8);
  p[10] = ::operator new(8, std::align_val_t(64));
  p[11] = ::operator new[](8, std::align_val_t(64));
  for (void* q : p) {
    ASSERT_NE(q, nullptr);
    Escape(q);
  }
  for (int i = 4; i < 8; ++i) {
    const size_t alignment = i < 6 ? 64 : 4096;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p[i]) % alignment, 0u) << i;
  }
  ::operator delete(p[0]);
  ::operator delete[](p[1]);
  ::operator delete(p[2], std::nothrow);
  ::operator delete[](p[3], std::nothrow);
  ::operator delete(p[4], std::align_val_t(64));
  ::operator delete[](p[5], std::align_val_t(64));
  ::operator delete(p[6], std::align_val_t(4096), std::nothrow);
  ::operator delete[](p[7], std::align_val_t(4096), std::nothrow);
  ::operator delete(p[8], size_t{8});
  ::operator delete[](p[9], size_t{8});
  ::operator delete(p[10], size_t{8}, std::align_val_t(64));
  ::operator delete[](p[11], size_t{8}, std::align_val_t(64));
  ::operator delete(nullptr);  // Not a release; not counted.
  counter.Stop();
  EXPECT_EQ(counter.NewCalls(), 12u);
  EXPECT_EQ(counter.DeleteCalls(), 12u);
  EXPECT_EQ(counter.MallocCalls(), 0u);
}

TEST(AllocCounterTest, CAllocationsAreCounted) {
  if (!MallocCountingEnabled()) {
    GTEST_SKIP() << "malloc belongs to the sanitizer in this build; only "
                    "operator new/delete are counted";
  }
  // Through volatile pointers, so the compiler cannot pair and drop them.
  void* (*volatile do_malloc)(size_t) = malloc;
  void* (*volatile do_calloc)(size_t, size_t) = calloc;
  void* (*volatile do_realloc)(void*, size_t) = realloc;
  void* (*volatile do_aligned_alloc)(size_t, size_t) = aligned_alloc;
  int (*volatile do_posix_memalign)(void**, size_t, size_t) = posix_memalign;
  void (*volatile do_free)(void*) = free;

  AllocationCounter counter;
  void* a = do_malloc(100);
  void* b = do_calloc(10, 10);
  a = do_realloc(a, 1000);
  void* c = do_aligned_alloc(64, 128);
  void* d = nullptr;
  const int rc = do_posix_memalign(&d, 256, 100);
  do_free(a);
  do_free(b);
  do_free(c);
  do_free(d);
  do_free(nullptr);
  counter.Stop();
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(c) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(d) % 256, 0u);
  EXPECT_EQ(counter.MallocCalls(), 5u);
  EXPECT_EQ(counter.FreeCalls(), 4u);
  EXPECT_EQ(counter.NewCalls(), 0u);
}

TEST(AllocCounterTest, NothingCountedAfterStop) {
  AllocationCounter counter;
  counter.Stop();
  int* p = new int(3);
  Escape(p);
  delete p;
  EXPECT_EQ(counter.Allocations(), 0u);
  EXPECT_EQ(counter.DeleteCalls(), 0u);
}

TEST(AllocCounterTest, NestedCountersEachSeeTheirOwnSpan) {
  AllocationCounter outer;
  int* a = new int(1);
  Escape(a);
  uint64_t inner_news;
  {
    AllocationCounter inner;
    int* b = new int(2);
    Escape(b);
    delete b;
    inner.Stop();
    inner_news = inner.NewCalls();
  }
  delete a;
  outer.Stop();
  EXPECT_EQ(inner_news, 1u);
  EXPECT_EQ(outer.NewCalls(), 2u);
  EXPECT_EQ(outer.DeleteCalls(), 2u);
}

TEST(AllocCounterTest, OtherThreadsAreCounted) {
  std::atomic<bool> go{false};
  std::thread worker([&go] {
    while (!go.load()) std::this_thread::yield();
    int* p = new int(7);
    Escape(p);
    delete p;
  });
  AllocationCounter counter;
  go.store(true);
  worker.join();
  counter.Stop();
  // The worker's own new; std::thread's bookkeeping was allocated before the
  // counter started (its release on the worker may add to DeleteCalls).
  EXPECT_EQ(counter.NewCalls(), 1u);
  EXPECT_GE(counter.DeleteCalls(), 1u);
}

#if !SPARROW_SANITIZED
int g_handler_calls = 0;
void UninstallingHandler() {
  ++g_handler_calls;
  std::set_new_handler(nullptr);
}

TEST(AllocCounterTest, FailedNewFollowsTheStandard) {
  volatile size_t huge = SIZE_MAX / 4;  // Fits no address space we run in.
  std::set_new_handler(UninstallingHandler);
  EXPECT_EQ(::operator new(huge, std::nothrow), nullptr);
  EXPECT_EQ(g_handler_calls, 1);
  EXPECT_EQ(::operator new(huge, std::align_val_t(64), std::nothrow), nullptr);
  bool threw = false;
  try {
    Escape(::operator new(huge));
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  EXPECT_TRUE(threw);
}
#endif

}  // namespace
}  // namespace sparrow
