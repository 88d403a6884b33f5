// A bounded blocking FIFO joining two pipeline stages (pipeline.h).
//
//   BoundedQueue<Item> q(64);
//   // producer thread:                 // consumer thread:
//   while (more) {                      Item x;
//     if (!q.Push(Make())) return;      while (q.Pop(&x)) Use(x);
//   }
//   q.Close();
//   // anyone, to shut down: q.Cancel();
//
// Contract:
// - Thread-safe: any number of producers and consumers.
// - Never holds more than `capacity` items; the storage (a ring of
//   `capacity` slots) is allocated once, so pushing and popping allocate
//   nothing (items are moved in and out).
// - Push blocks while full (once blocked, until the queue is half empty) and
//   returns false (leaving the item untouched) once the queue is closed or
//   cancelled. Pop blocks while empty (once blocked, until wake_consumer_at
//   items are in) and returns false when closed and drained, or at once after
//   Cancel() (whose call drops what is held). Close() and Cancel() are idempotent and wake every waiter.
// - The time producers spend blocked on a full queue and consumers on an
//   empty one is summed over waiters, including waits still in progress, so
//   rates can be read while a stage is stuck.
#ifndef SPARROW_TRAINER_DATA_BOUNDED_QUEUE_H_
#define SPARROW_TRAINER_DATA_BOUNDED_QUEUE_H_

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

#include "hwy/base.h"

namespace sparrow {
namespace data {

template <typename T>
class BoundedQueue {
 public:
  using Clock = std::chrono::steady_clock;

  // A consumer that finds the queue empty sleeps until `wake_consumer_at`
  // items are in (or it closes); a producer that finds it full sleeps until
  // it is half empty. The hysteresis keeps two stages sharing a core from
  // waking each other once per item (a context switch each).
  explicit BoundedQueue(size_t capacity, size_t wake_consumer_at = 1)
      : slots_(capacity),
        wake_consumer_at_(std::min(std::max<size_t>(wake_consumer_at, 1),
                                   capacity)),
        wake_producer_at_(capacity / 2) {
    HWY_ASSERT(capacity > 0);
  }
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  bool Push(T&& item) {
    std::unique_lock<std::mutex> lock(mu_);
    if (count_ == slots_.size() && !closed_ && !cancelled_) {
      push_wait_.Begin(Clock::now());
      not_full_.wait(lock, [this] {
        return count_ <= wake_producer_at_ || closed_ || cancelled_;
      });
      push_wait_.End(Clock::now());
    }
    if (closed_ || cancelled_) return false;
    slots_[(head_ + count_) % slots_.size()] = std::move(item);
    ++count_;
    ++pushed_;
    if (count_ > high_water_) high_water_ = count_;
    const bool wake = pop_wait_.waiters > 0 && count_ >= wake_consumer_at_;
    lock.unlock();
    if (wake) not_empty_.notify_one();
    return true;
  }

  bool Pop(T* out) {
    std::unique_lock<std::mutex> lock(mu_);
    if (count_ == 0 && !closed_ && !cancelled_) {
      pop_wait_.Begin(Clock::now());
      not_empty_.wait(lock, [this] {
        return count_ >= wake_consumer_at_ || closed_ || cancelled_;
      });
      pop_wait_.End(Clock::now());
    }
    if (cancelled_ || count_ == 0) return false;
    *out = std::move(slots_[head_]);
    head_ = (head_ + 1) % slots_.size();
    --count_;
    ++popped_;
    const bool wake = push_wait_.waiters > 0 && count_ <= wake_producer_at_;
    lock.unlock();
    if (wake) not_full_.notify_one();
    return true;
  }

  // No more pushes; consumers drain what is held.
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  // Wakes everyone; what is held is dropped.
  void Cancel() {
    std::vector<T> dropped;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
      dropped.reserve(count_);
      for (; count_ > 0; --count_) {
        dropped.push_back(std::move(slots_[head_]));
        head_ = (head_ + 1) % slots_.size();
      }
    }
    not_full_.notify_all();
    not_empty_.notify_all();
    // `dropped` is destroyed outside the lock.
  }

  bool cancelled() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }
  size_t capacity() const { return slots_.size(); }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }
  // The most items ever held at once.
  size_t high_water() const {
    std::lock_guard<std::mutex> lock(mu_);
    return high_water_;
  }
  uint64_t pushed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pushed_;
  }
  uint64_t popped() const {
    std::lock_guard<std::mutex> lock(mu_);
    return popped_;
  }
  // Seconds producers have spent blocked on a full queue (summed over them).
  double push_wait_seconds() const {
    std::lock_guard<std::mutex> lock(mu_);
    return push_wait_.Seconds(Clock::now());
  }
  // Seconds consumers have spent blocked on an empty queue.
  double pop_wait_seconds() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pop_wait_.Seconds(Clock::now());
  }

 private:
  // Blocked time summed over waiters: `total` up to `since`, plus `waiters`
  // times the time after it.
  struct WaitClock {
    int waiters = 0;
    Clock::time_point since;
    Clock::duration total = Clock::duration::zero();

    void Advance(Clock::time_point now) {
      if (waiters > 0) total += waiters * (now - since);
      since = now;
    }
    void Begin(Clock::time_point now) {
      Advance(now);
      ++waiters;
    }
    void End(Clock::time_point now) {
      Advance(now);
      --waiters;
    }
    double Seconds(Clock::time_point now) const {
      Clock::duration t = total;
      if (waiters > 0) t += waiters * (now - since);
      return std::chrono::duration<double>(t).count();
    }
  };

  mutable std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::vector<T> slots_;  // a ring: count_ items from head_
  const size_t wake_consumer_at_, wake_producer_at_;
  size_t head_ = 0, count_ = 0, high_water_ = 0;
  uint64_t pushed_ = 0, popped_ = 0;
  bool closed_ = false, cancelled_ = false;
  WaitClock push_wait_, pop_wait_;
};

}  // namespace data
}  // namespace sparrow

#endif  // SPARROW_TRAINER_DATA_BOUNDED_QUEUE_H_
