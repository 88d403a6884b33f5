// trainer/data/bounded_queue.h: FIFO order, capacity and back-pressure,
// Close (drain) versus Cancel (drop, wake), wait-time accounting, and many
// producers and consumers at once (run it under --config=tsan too).
#include "trainer/data/bounded_queue.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace sparrow {
namespace data {
namespace {

using std::chrono::milliseconds;

// Returns once a thread is blocked in the queue: its wait, counted while in
// progress, has become positive.
template <class WaitSeconds>
void WaitUntilWaiting(WaitSeconds wait_seconds) {
  while (wait_seconds() == 0.0) std::this_thread::sleep_for(milliseconds(1));
}

TEST(BoundedQueueTest, FifoAndDrainAfterClose) {
  BoundedQueue<int> q(4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(q.Push(int(i)));
  EXPECT_EQ(q.size(), 4u);
  q.Close();
  EXPECT_FALSE(q.Push(9));
  int x;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(q.Pop(&x));
    EXPECT_EQ(x, i);
  }
  EXPECT_FALSE(q.Pop(&x));
  EXPECT_EQ(q.pushed(), 4u);
  EXPECT_EQ(q.popped(), 4u);
  EXPECT_EQ(q.high_water(), 4u);
}

TEST(BoundedQueueTest, WrapsAround) {
  BoundedQueue<int> q(3);
  int x;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(q.Push(int(i)));
    if (i % 3 == 2) {
      for (int k = 2; k >= 0; --k) {
        ASSERT_TRUE(q.Pop(&x));
        ASSERT_EQ(x, i - k);
      }
    }
  }
  EXPECT_EQ(q.high_water(), 3u);
}

TEST(BoundedQueueTest, PushBlocksWhileFullAndCountsTheWait) {
  BoundedQueue<int> q(1);
  ASSERT_TRUE(q.Push(1));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    EXPECT_TRUE(q.Push(2));
    pushed = true;
  });
  WaitUntilWaiting([&] { return q.push_wait_seconds(); });
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_FALSE(pushed.load());
  EXPECT_EQ(q.size(), 1u);
  // The wait in progress already counts.
  EXPECT_GE(q.push_wait_seconds(), 0.045);
  int x;
  ASSERT_TRUE(q.Pop(&x));
  EXPECT_EQ(x, 1);
  producer.join();
  EXPECT_TRUE(pushed.load());
  ASSERT_TRUE(q.Pop(&x));
  EXPECT_EQ(x, 2);
  EXPECT_GE(q.push_wait_seconds(), 0.04);
  EXPECT_LT(q.pop_wait_seconds(), 0.04);
}

TEST(BoundedQueueTest, PopWaitsForData) {
  BoundedQueue<int> q(2);
  int x = 0;
  std::thread consumer([&] { EXPECT_TRUE(q.Pop(&x)); });
  WaitUntilWaiting([&] { return q.pop_wait_seconds(); });
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_TRUE(q.Push(7));
  consumer.join();
  EXPECT_EQ(x, 7);
  EXPECT_GE(q.pop_wait_seconds(), 0.045);
  EXPECT_EQ(q.push_wait_seconds(), 0.0);
}

TEST(BoundedQueueTest, CloseWakesABlockedConsumer) {
  BoundedQueue<int> q(2);
  std::thread consumer([&] {
    int x;
    EXPECT_FALSE(q.Pop(&x));
  });
  std::this_thread::sleep_for(milliseconds(20));
  q.Close();
  consumer.join();
}

TEST(BoundedQueueTest, CancelWakesEveryoneAndDrops) {
  BoundedQueue<std::unique_ptr<int>> full(1), empty(1);
  ASSERT_TRUE(full.Push(std::make_unique<int>(1)));
  std::thread producer(
      [&] { EXPECT_FALSE(full.Push(std::make_unique<int>(2))); });
  std::thread consumer([&] {
    std::unique_ptr<int> x;
    EXPECT_FALSE(empty.Pop(&x));
  });
  std::this_thread::sleep_for(milliseconds(20));
  full.Cancel();
  empty.Cancel();
  producer.join();
  consumer.join();
  EXPECT_TRUE(full.cancelled());
  EXPECT_EQ(full.size(), 0u);
  std::unique_ptr<int> x;
  EXPECT_FALSE(full.Pop(&x));  // dropped, not drained
  EXPECT_FALSE(full.Push(std::make_unique<int>(3)));
  full.Cancel();  // idempotent
  full.Close();
}

TEST(BoundedQueueTest, ManyProducersAndConsumersLoseNothing) {
  const int kProducers = 3, kConsumers = 3, kEach = 5000;
  BoundedQueue<int> q(2);
  std::vector<std::atomic<int>> seen(kProducers * kEach);
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) ASSERT_TRUE(q.Push(p * kEach + i));
    });
  }
  std::atomic<int> popped{0};
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      int x;
      while (q.Pop(&x)) {
        seen[x].fetch_add(1);
        popped.fetch_add(1);
      }
    });
  }
  for (int p = 0; p < kProducers; ++p) threads[p].join();
  q.Close();
  for (size_t t = kProducers; t < threads.size(); ++t) threads[t].join();
  EXPECT_EQ(popped.load(), kProducers * kEach);
  for (auto& s : seen) ASSERT_EQ(s.load(), 1);
  EXPECT_LE(q.high_water(), 2u);
}

}  // namespace
}  // namespace data
}  // namespace sparrow
