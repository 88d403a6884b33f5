#include "runtime/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace sparrow {
namespace {

uintptr_t Addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// The N of "arena too small: need N bytes, have M"; 0 when absent.
size_t NeededBytes(const Status& status) {
  size_t need = 0, have = 0;
  if (sscanf(status.message(), "arena too small: need %zu bytes, have %zu",
             &need, &have) != 2) {
    return 0;
  }
  return need;
}

TEST(ArenaTest, AlignArenaSizeRoundsUpAndDetectsOverflow) {
  size_t a = 7;
  ASSERT_TRUE(AlignArenaSize(0, &a));
  EXPECT_EQ(a, 0u);
  ASSERT_TRUE(AlignArenaSize(1, &a));
  EXPECT_EQ(a, 64u);
  ASSERT_TRUE(AlignArenaSize(64, &a));
  EXPECT_EQ(a, 64u);
  ASSERT_TRUE(AlignArenaSize(65, &a));
  EXPECT_EQ(a, 128u);
  ASSERT_TRUE(AlignArenaSize(SIZE_MAX - 63, &a));  // Already a multiple.
  EXPECT_EQ(a, SIZE_MAX - 63);
  a = 7;
  EXPECT_FALSE(AlignArenaSize(SIZE_MAX - 62, &a));
  EXPECT_FALSE(AlignArenaSize(SIZE_MAX, &a));
  EXPECT_EQ(a, 7u);  // Untouched on overflow.
}

TEST(ArenaTest, TailGrowsDownHeadGrowsUp) {
  alignas(64) static uint8_t buffer[1024];
  StatusOr<Arena> arena = Arena::Wrap(buffer, sizeof(buffer));
  ASSERT_TRUE(arena.ok()) << arena.status().ToString();
  EXPECT_EQ(arena->Capacity(), 1024u);
  EXPECT_EQ(arena->head(), buffer);
  EXPECT_FALSE(arena->OwnsMemory());

  StatusOr<uint8_t*> a = arena->AllocatePersistent(100);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, buffer + 1024 - 128);
  StatusOr<uint8_t*> b = arena->AllocatePersistent(64);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, buffer + 1024 - 192);
  EXPECT_EQ(arena->TailBytes(), 192u);

  ASSERT_TRUE(arena->SetHeadBytes(10).ok());
  EXPECT_EQ(arena->HeadBytes(), 64u);
  EXPECT_EQ(arena->BytesUsed(), 256u);
  EXPECT_EQ(arena->BytesAvailable(), 768u);

  // Re-planning replaces the head and keeps the tail.
  ASSERT_TRUE(arena->SetHeadBytes(1024 - 192).ok());
  EXPECT_EQ(arena->BytesAvailable(), 0u);
  ASSERT_TRUE(arena->SetHeadBytes(0).ok());
  EXPECT_EQ(arena->TailBytes(), 192u);

  // A zero-byte persistent request succeeds and takes nothing.
  StatusOr<uint8_t*> z = arena->AllocatePersistent(0);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(*z, *b);
  EXPECT_EQ(arena->TailBytes(), 192u);

  arena->Reset();
  EXPECT_EQ(arena->BytesUsed(), 0u);
  StatusOr<uint8_t*> c = arena->AllocatePersistent(1024);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, buffer);
}

TEST(ArenaTest, UnalignedBlocksAreTrimmedToAlignedEnds) {
  alignas(64) static uint8_t buffer[2048];
  for (size_t misalign = 0; misalign < 64; ++misalign) {
    StatusOr<Arena> arena = Arena::Wrap(buffer + misalign, 1000);
    ASSERT_TRUE(arena.ok());
    const uintptr_t begin = Addr(buffer) + (misalign == 0 ? 0 : 64);
    const uintptr_t end = (Addr(buffer) + misalign + 1000) & ~uintptr_t{63};
    EXPECT_EQ(Addr(arena->head()), begin) << misalign;
    EXPECT_EQ(arena->Capacity(), end - begin) << misalign;
    StatusOr<uint8_t*> p = arena->AllocatePersistent(1);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(Addr(*p), end - 64);
    EXPECT_EQ(Addr(*p) % 64, 0u);
    EXPECT_GE(Addr(*p), Addr(buffer + misalign));
    EXPECT_LE(Addr(*p) + 64, Addr(buffer + misalign + 1000));
  }
}

TEST(ArenaTest, TooSmallSaysWhatWouldFitAndChangesNothing) {
  alignas(64) static uint8_t buffer[256];
  StatusOr<Arena> arena = Arena::Wrap(buffer, sizeof(buffer));
  ASSERT_TRUE(arena.ok());
  ASSERT_TRUE(arena->AllocatePersistent(200).ok());  // 256 of the tail.

  Status s = arena->SetHeadBytes(1);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_STREQ(s.message(), "arena too small: need 320 bytes, have 256");
  EXPECT_EQ(arena->HeadBytes(), 0u);

  StatusOr<uint8_t*> p = arena->AllocatePersistent(65);
  EXPECT_EQ(p.status().code(), StatusCode::kResourceExhausted);
  EXPECT_STREQ(p.status().message(),
               "arena too small: need 384 bytes, have 256");
  EXPECT_EQ(arena->TailBytes(), 256u);
}

// Runs `steps` (a head size when `head`, else a persistent request) on an
// arena over [base, base + bytes); returns the first failure, or OK, and
// truncates `steps` after the failed one.
struct Step {
  bool head;
  size_t bytes;
};
Status RunSteps(uint8_t* base, size_t bytes, std::vector<Step>* steps) {
  StatusOr<Arena> arena = Arena::Wrap(base, bytes);
  if (!arena.ok()) return arena.status();
  for (size_t i = 0; i < steps->size(); ++i) {
    const Step& step = (*steps)[i];
    Status s = step.head ? arena->SetHeadBytes(step.bytes)
                         : arena->AllocatePersistent(step.bytes).status();
    if (!s.ok()) {
      steps->resize(i + 1);
      return s;
    }
  }
  return OkStatus();
}

// The N in "need N bytes" is exact for the caller's base pointer: with N
// bytes the same calls succeed, with N - 1 they fail.
TEST(ArenaTest, ReportedNeedIsExactForAnyBase) {
  alignas(64) static uint8_t buffer[4096];
  const size_t sizes[] = {1, 64, 65, 700};
  int failures_seen = 0;
  for (size_t misalign : {0, 1, 17, 63}) {
    uint8_t* base = buffer + misalign;
    for (size_t tail : sizes) {
      for (size_t head : sizes) {
        for (bool head_first : {false, true}) {
          std::vector<Step> steps = {{false, tail}, {true, head}};
          if (head_first) std::swap(steps[0], steps[1]);
          const Status small = RunSteps(base, 100, &steps);
          if (small.ok()) continue;  // Fits in 100 bytes; nothing to report.
          ++failures_seen;
          const size_t need = NeededBytes(small);
          ASSERT_GT(need, 100u) << small.message();
          ASSERT_LE(need, sizeof(buffer) - misalign);
          // `steps` now ends with the call that failed.
          EXPECT_TRUE(RunSteps(base, need, &steps).ok())
              << "misalign=" << misalign << " tail=" << tail
              << " head=" << head << " need=" << need;
          EXPECT_FALSE(RunSteps(base, need - 1, &steps).ok())
              << "misalign=" << misalign << " tail=" << tail
              << " head=" << head << " need=" << need;
        }
      }
    }
  }
  EXPECT_GT(failures_seen, 50);
}

TEST(ArenaTest, OverflowingRequestsAreErrorsNotWraparound) {
  alignas(64) static uint8_t buffer[256];
  StatusOr<Arena> arena = Arena::Wrap(buffer, sizeof(buffer));
  ASSERT_TRUE(arena.ok());
  for (size_t bytes : {SIZE_MAX, SIZE_MAX - 62, SIZE_MAX - 63}) {
    StatusOr<uint8_t*> p = arena->AllocatePersistent(bytes);
    EXPECT_EQ(p.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(strstr(p.status().message(), "arena too small"), nullptr)
        << p.status().message();
    Status s = arena->SetHeadBytes(bytes);
    EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
    EXPECT_NE(strstr(s.message(), "arena too small"), nullptr) << s.message();
  }
  // tail + request overflows size_t.
  ASSERT_TRUE(arena->AllocatePersistent(64).ok());
  StatusOr<uint8_t*> p = arena->AllocatePersistent(SIZE_MAX - 63);
  EXPECT_EQ(p.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(strstr(p.status().message(), "more than SIZE_MAX"), nullptr)
      << p.status().message();
  // head + tail overflows size_t.
  StatusOr<Arena> odd = Arena::Wrap(buffer + 1, 255);
  ASSERT_TRUE(odd.ok());
  ASSERT_TRUE(odd->AllocatePersistent(64).ok());
  Status s = odd->SetHeadBytes(SIZE_MAX - 63);
  EXPECT_NE(strstr(s.message(), "more than SIZE_MAX"), nullptr)
      << s.message();
  EXPECT_EQ(arena->TailBytes(), 64u);
  EXPECT_EQ(odd->HeadBytes(), 0u);
}

TEST(ArenaTest, BadBlocksAreRejected) {
  StatusOr<Arena> null_block = Arena::Wrap(nullptr, 64);
  EXPECT_EQ(null_block.status().code(), StatusCode::kInvalidArgument);

  // A block that would wrap around the address space; never dereferenced.
  uint8_t* high = reinterpret_cast<uint8_t*>(UINTPTR_MAX - 100);
  StatusOr<Arena> wrapping = Arena::Wrap(high, 1000);
  EXPECT_EQ(wrapping.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(strstr(wrapping.status().message(), "bytes=1000"), nullptr)
      << wrapping.status().message();
}

TEST(ArenaTest, EmptyAndTinyBlocksHaveNoCapacity) {
  StatusOr<Arena> empty = Arena::Wrap(nullptr, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->Capacity(), 0u);
  EXPECT_TRUE(empty->AllocatePersistent(0).ok());
  EXPECT_TRUE(empty->SetHeadBytes(0).ok());
  EXPECT_EQ(NeededBytes(empty->AllocatePersistent(1).status()), 64u);

  // 10 bytes starting just past a boundary hold no aligned 64-byte block.
  alignas(64) static uint8_t buffer[128];
  StatusOr<Arena> tiny = Arena::Wrap(buffer + 1, 10);
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->Capacity(), 0u);
  EXPECT_EQ(tiny->head(), nullptr);
  const Status s = tiny->SetHeadBytes(1);
  EXPECT_STREQ(s.message(), "arena too small: need 127 bytes, have 10");
}

TEST(ArenaTest, OwnedArenaIsAlignedUsableAndMoves) {
  StatusOr<Arena> owned = Arena::Allocate(1000);
  ASSERT_TRUE(owned.ok()) << owned.status().ToString();
  EXPECT_TRUE(owned->OwnsMemory());
  EXPECT_EQ(owned->Capacity(), 1024u);
  EXPECT_EQ(Addr(owned->head()) % 64, 0u);
  ASSERT_TRUE(owned->SetHeadBytes(512).ok());
  StatusOr<uint8_t*> tail = owned->AllocatePersistent(512);
  ASSERT_TRUE(tail.ok());
  // Every byte is writable (AddressSanitizer checks the bounds).
  memset(owned->head(), 0xAB, owned->HeadBytes());
  memset(*tail, 0xCD, 512);

  Arena moved = std::move(owned).value();
  EXPECT_TRUE(moved.OwnsMemory());
  EXPECT_EQ(moved.BytesUsed(), 1024u);
  EXPECT_EQ(moved.head()[0], 0xAB);
  EXPECT_EQ(moved.head()[1023], 0xCD);

  Arena other = std::move(moved);
  EXPECT_FALSE(moved.OwnsMemory());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.Capacity(), 0u);   // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(other.Capacity(), 1024u);

  // Assigning over an owning arena frees its block (LeakSanitizer checks).
  StatusOr<Arena> second = Arena::Allocate(64);
  ASSERT_TRUE(second.ok());
  other = std::move(second).value();
  EXPECT_EQ(other.Capacity(), 64u);
}

TEST(ArenaTest, OwnedArenaEdgeSizes) {
  StatusOr<Arena> zero = Arena::Allocate(0);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->Capacity(), 0u);
  EXPECT_FALSE(zero->OwnsMemory());
  StatusOr<Arena> huge = Arena::Allocate(SIZE_MAX);
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace sparrow
