// Private to the pipeline library: the state its stages share
// (pipeline.cc has the design; pipeline_stages.cc the stage loops).
#ifndef SPARROW_TRAINER_DATA_PIPELINE_IMPL_H_
#define SPARROW_TRAINER_DATA_PIPELINE_IMPL_H_

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "kernels/status.h"
#include "trainer/data/bounded_queue.h"
#include "trainer/data/pipeline.h"

namespace sparrow {
namespace data {
namespace internal {

using Clock = std::chrono::steady_clock;

constexpr double kMaxEcho = 1000.0;       // a bound against typos
constexpr double kRetuneSeconds = 0.05;   // echo_auto's shortest window
constexpr double kSmoothing = 0.3;        // echo_auto's EMA weight
constexpr double kMinActiveSeconds = 1e-4;

struct Example {
  std::vector<float> image;  // [h, w, c]; empty in an end-of-epoch mark
  uint64_t id = 0;           // epoch * n + index
  int64_t epoch = 0;
  uint64_t index = 0;        // in the dataset
  uint32_t copy = 0;         // which echo copy (0 before the echo stage)
  uint8_t label = 0;
  bool end_of_epoch = false;
};

using ExampleQueue = BoundedQueue<Example>;
using BatchQueue = BoundedQueue<Batch>;

// Recycled buffers, so the steady state allocates nothing.
template <typename T>
class Pool {
 public:
  explicit Pool(size_t limit) : limit_(limit) {}
  T Get() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return T();
    T t = std::move(free_.back());
    free_.pop_back();
    return t;
  }
  void Put(T&& t) {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < limit_) free_.push_back(std::move(t));
  }

 private:
  std::mutex mu_;
  std::vector<T> free_;
  size_t limit_;
};

// The echo_auto window's start.
struct RateMark {
  Clock::time_point t;
  uint64_t consumed = 0, in = 0;
  double next_wait = 0.0, in_wait = 0.0;  // s
  double paused = 0.0;                    // s
};

}  // namespace internal

struct Pipeline::Impl {
  using Clock = internal::Clock;
  using Example = internal::Example;
  using ExampleQueue = internal::ExampleQueue;
  using BatchQueue = internal::BatchQueue;
  using RateMark = internal::RateMark;

  Impl(const PipelineOptions& o, const SourceData& d)
      : options(o),
        data(d),
        example_size(static_cast<size_t>(d.height) * d.width * d.channels),
        image_pool(4 * o.queue_examples + o.shuffle_buffer + 16),
        batch_pool(3 * o.queue_batches + o.shuffle_buffer + 4),
        echo(o.echo_auto ? std::min(std::max(o.echo, 1.0), o.echo_max)
                         : o.echo) {}

  void Launch();
  void Fail(Status s);
  void CancelAll();
  bool SleepUntil(Clock::time_point t);  // false when cancelled
  // Blocks while paused; false when cancelled. Adds the time it held the
  // source to *deadline (the cost schedule does not owe it).
  bool WaitWhilePaused(Clock::time_point* deadline);
  double PausedSeconds() const;  // in total so far, the current pause too
  bool PayCost(Clock::time_point t0, Clock::duration cost,
               Clock::time_point* deadline);
  double Now() const {  // s since start
    return std::chrono::duration<double>(Clock::now() - start).count();
  }
  // echo_auto: at most every kRetuneSeconds, from the echo stage.
  bool RetuneDue(const RateMark& mark) const;
  void Retune(RateMark* mark, uint64_t in, double in_wait);  // in: examples
  Batch NewBatch();
  Status EndStatus();

  void SourceStage(ExampleQueue* out);
  void ExampleEchoStage(ExampleQueue* in, ExampleQueue* out);
  void AugmentStage(ExampleQueue* in, ExampleQueue* out);
  void BatchStage(ExampleQueue* in, BatchQueue* out);
  void BatchEchoStage(BatchQueue* in, BatchQueue* out);

  const PipelineOptions options;
  const SourceData data;
  const size_t example_size;  // floats
  Clock::time_point start;
  std::vector<std::unique_ptr<ExampleQueue>> example_queues;
  std::vector<std::unique_ptr<BatchQueue>> batch_queues;
  BatchQueue* out_queue = nullptr;
  internal::Pool<std::vector<float>> image_pool;
  internal::Pool<Batch> batch_pool;

  mutable std::mutex mu;  // guards the next three, and the cost sleep
  std::condition_variable stop_cv;
  bool cancelled = false, stopped = false;
  Status error;
  std::atomic<bool> cancel_flag{false};  // `cancelled`, for the cost spin
  std::atomic<bool> paused{false};       // written under mu
  Clock::time_point pause_start;         // under mu
  std::atomic<double> paused_total{0.0};  // s of ended pauses; under mu
  std::mutex join_mu;
  std::vector<std::thread> threads;

  std::atomic<uint64_t> fresh{0}, consumed{0}, batches{0}, duplicates{0};
  std::atomic<double> echo;
  std::atomic<size_t> shuffle_high_water{0};
  std::atomic<double> source_end{-1.0}, consumer_end{-1.0};  // s; -1 running

  Batch incoming;                 // Next() only
  std::vector<uint64_t> scratch;  // Next() only
};

}  // namespace data
}  // namespace sparrow

#endif  // SPARROW_TRAINER_DATA_PIPELINE_IMPL_H_
