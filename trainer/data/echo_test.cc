// trainer/data/echo.h: echo counts (floor/ceil with the right probability,
// deterministic per seed) and the shuffle buffer (never over capacity,
// nothing lost or duplicated, deterministic, actually mixing).
#include "trainer/data/echo.h"

#include <math.h>

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"

namespace sparrow {
namespace data {
namespace {

TEST(EchoCountsTest, IntegerEchoIsExact) {
  for (int e : {1, 2, 3, 7}) {
    EchoCounts counts(123);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(counts.Next(e), e) << e;
  }
}

TEST(EchoCountsTest, FractionalEchoIsFloorOrCeilWithTheRightMean) {
  // 100k draws: the mean's standard error is below 0.0016 for any e, so
  // 0.01 is over 6 sigma.
  const int kDraws = 100000;
  for (double e : {1.25, 1.5, 2.25, 3.9}) {
    EchoCounts counts(7);
    const int lo = static_cast<int>(floor(e)), hi = lo + 1;
    double sum = 0.0;
    for (int i = 0; i < kDraws; ++i) {
      const int c = counts.Next(e);
      ASSERT_TRUE(c == lo || c == hi) << e << " gave " << c;
      sum += c;
    }
    EXPECT_NEAR(sum / kDraws, e, 0.01) << e;
  }
}

TEST(EchoCountsTest, DeterministicPerSeed) {
  EchoCounts a(5), b(5), c(6);
  std::vector<int> va, vb, vc;
  for (int i = 0; i < 256; ++i) {
    va.push_back(a.Next(1.5));
    vb.push_back(b.Next(1.5));
    vc.push_back(c.Next(1.5));
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  a.Reseed(6);
  std::vector<int> again;
  for (int i = 0; i < 256; ++i) again.push_back(a.Next(1.5));
  EXPECT_EQ(again, vc);
}

TEST(StreamSeedTest, DistinctInputsGiveDistinctSeeds) {
  std::vector<uint64_t> seeds;
  for (uint64_t stream : {kEchoStream, kShuffleStream, kAugmentStream}) {
    for (uint64_t a = 0; a < 8; ++a) {
      for (uint64_t b = 0; b < 8; ++b) seeds.push_back(StreamSeed(1, stream, a, b));
    }
  }
  seeds.push_back(StreamSeed(2, kEchoStream, 0, 0));
  std::sort(seeds.begin(), seeds.end());
  EXPECT_EQ(std::adjacent_find(seeds.begin(), seeds.end()), seeds.end());
}

// Pushes 0..n-1 through a buffer, checking its size after every step.
std::vector<int> RunShuffle(size_t capacity, uint64_t seed, int n,
                            size_t* high_water = nullptr) {
  ShuffleBuffer<int> buffer(capacity, seed);
  std::vector<int> out;
  int leaving;
  for (int i = 0; i < n; ++i) {
    if (buffer.Insert(int(i), &leaving)) out.push_back(leaving);
    EXPECT_LE(buffer.size(), capacity);
  }
  EXPECT_TRUE(buffer.Flush([&](int&& x) {
    out.push_back(x);
    EXPECT_LE(buffer.size(), capacity);
    return true;
  }));
  EXPECT_EQ(buffer.size(), 0u);
  if (high_water != nullptr) *high_water = buffer.high_water();
  return out;
}

TEST(ShuffleBufferTest, NeverOverCapacityNothingLostNothingExtra) {
  for (size_t capacity : {2, 3, 16, 100}) {
    for (int n : {0, 1, 5, 99, 1000}) {
      size_t high_water;
      std::vector<int> out = RunShuffle(capacity, 3, n, &high_water);
      EXPECT_LE(high_water, capacity);
      EXPECT_EQ(high_water, std::min<size_t>(capacity, n));
      ASSERT_EQ(out.size(), static_cast<size_t>(n));
      std::sort(out.begin(), out.end());
      for (int i = 0; i < n; ++i) ASSERT_EQ(out[i], i);
    }
  }
}

TEST(ShuffleBufferTest, CapacityZeroOrOnePassesThrough) {
  for (size_t capacity : {0, 1}) {
    size_t high_water;
    std::vector<int> out = RunShuffle(capacity, 3, 50, &high_water);
    EXPECT_EQ(high_water, 0u);
    for (int i = 0; i < 50; ++i) ASSERT_EQ(out[i], i);
  }
}

TEST(ShuffleBufferTest, DeterministicPerSeedAndMixes) {
  const std::vector<int> a = RunShuffle(16, 9, 500);
  EXPECT_EQ(a, RunShuffle(16, 9, 500));
  EXPECT_NE(a, RunShuffle(16, 10, 500));
  std::vector<int> sorted(500);
  for (int i = 0; i < 500; ++i) sorted[i] = i;
  EXPECT_NE(a, sorted);
  // The k-th item out leaves while item k + capacity (at the latest) goes in.
  for (int k = 0; k < 500; ++k) EXPECT_LE(a[k], k + 16) << k;
}

TEST(ShuffleBufferTest, FlushOrderIsRandom) {
  // Fill without emitting, then flush: the order is a permutation, and
  // differs between seeds.
  std::vector<std::vector<int>> orders;
  for (uint64_t seed : {1, 2}) {
    ShuffleBuffer<int> buffer(64, seed);
    int leaving;
    for (int i = 0; i < 64; ++i) ASSERT_FALSE(buffer.Insert(int(i), &leaving));
    std::vector<int> out;
    ASSERT_TRUE(buffer.Flush([&](int&& x) {
      out.push_back(x);
      return true;
    }));
    orders.push_back(out);
  }
  EXPECT_NE(orders[0], orders[1]);
  std::vector<int> sorted = orders[0];
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 64; ++i) EXPECT_EQ(sorted[i], i);
}

TEST(ShuffleBufferTest, FlushStopsWhenEmitFails) {
  ShuffleBuffer<int> buffer(8, 1);
  int leaving;
  for (int i = 0; i < 8; ++i) ASSERT_FALSE(buffer.Insert(int(i), &leaving));
  int calls = 0;
  EXPECT_FALSE(buffer.Flush([&](int&&) { return ++calls < 3; }));
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(buffer.size(), 5u);
}

TEST(ShuffleBufferTest, FirstOutputIsRoughlyUniform) {
  // With capacity c, the first item out is uniform over the first c + 1
  // inserted. 20000 trials over 5 values: each count is 4000 +- 57 (1
  // sigma); 400 is 7 sigma.
  const int kTrials = 20000;
  std::vector<int> hits(5, 0);
  for (int t = 0; t < kTrials; ++t) {
    ShuffleBuffer<int> buffer(4, 1000 + t);
    int leaving = -1;
    for (int i = 0; i < 5; ++i) {
      if (buffer.Insert(int(i), &leaving)) break;
    }
    ASSERT_GE(leaving, 0);
    ++hits[leaving];
  }
  for (int h : hits) EXPECT_NEAR(h, kTrials / 5, 400);
}

TEST(ShuffleBufferTest, HoldsBuffers) {
  ShuffleBuffer<std::vector<float>> buffer(3, 1);
  std::vector<float> leaving;
  size_t out = 0;
  for (int i = 0; i < 10; ++i) {
    out += buffer.Insert(std::vector<float>(100, i), &leaving);
    if (out > 0) {
      ASSERT_EQ(leaving.size(), 100u);
    }
  }
  EXPECT_EQ(out, 7u);
  EXPECT_EQ(buffer.high_water(), 3u);
}

}  // namespace
}  // namespace data
}  // namespace sparrow
