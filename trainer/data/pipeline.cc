// Design. Every stage is one std::thread looping over its input queue
// (bounded_queue.h): the single thread per stage is what makes the order
// deterministic, whatever the timing. Examples travel as `Example` values
// whose image buffers are moved, never copied, from stage to stage and come
// back through a pool; batches likewise (Next() swaps its caller's buffers
// into the pool for the batcher to refill). The end of an epoch is an
// `Example` mark on the example queues and the `last_of_epoch` flag on the
// batch queues; the batcher holds each full batch until the next example
// shows it is not the last, so the flag needs no lookahead downstream.
//
// Shutdown: Stop() and a failing stage both cancel every queue (waking every
// blocked Push and Pop) and the source's cost sleep; the stages then return.
// The first failure's Status is kept and returned by Next() from then on.
//
// echo_auto: the echo stage re-estimates e at most every 50 ms from the rates
// over the window since its last estimate: the consumer's examples per
// second of not waiting in Next(), over the examples per second the stage
// before the echo sustains when not blocked on the echo's input queue; the
// ratio, clamped to [1, echo_max], is smoothed by an EMA.
//
// Files: this one wires the stages and serves the API; pipeline_stages.cc
// holds the stage loops; pipeline_impl.h the state they share.
#include "trainer/data/pipeline.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <utility>

#include "hwy/base.h"
#include "trainer/data/pipeline_impl.h"

namespace sparrow {
namespace data {

const char* EchoPlacementName(EchoPlacement p) {
  switch (p) {
    case EchoPlacement::kBeforeAugment:
      return "before_augment";
    case EchoPlacement::kAfterAugment:
      return "after_augment";
    case EchoPlacement::kAfterBatch:
      return "batch";
  }
  return "unknown";
}

StatusOr<EchoPlacement> ParseEchoPlacement(const std::string& name) {
  for (EchoPlacement p :
       {EchoPlacement::kBeforeAugment, EchoPlacement::kAfterAugment,
        EchoPlacement::kAfterBatch}) {
    if (name == EchoPlacementName(p)) return p;
  }
  return InvalidArgument(
      "echo placement '%s', want before_augment, after_augment or batch",
      name.c_str());
}

std::vector<size_t> EpochPermutation(size_t n, uint64_t seed, int64_t epoch) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) + 1;
  for (size_t i = n; i > 1; --i) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::swap(order[i - 1], order[z % i]);
  }
  return order;
}

using internal::kMaxEcho;

namespace {

// kernels/status.h has no CANCELLED code; the message carries the name.
Status Cancelled() {
  return FailedPrecondition("CANCELLED: the pipeline was stopped");
}

}  // namespace

// An example stage that ran dry sleeps until this many are queued, so stages
// sharing a core hand over runs of examples, not single ones.
constexpr size_t kWakeBatch = 32;

void Pipeline::Impl::Launch() {
  start = Clock::now();
  const bool echoing =
      options.echo_auto || options.echo != 1.0 || options.shuffle_buffer > 1;
  const EchoPlacement at = options.placement;
  auto example_queue = [this] {
    example_queues.push_back(
        std::make_unique<ExampleQueue>(options.queue_examples, kWakeBatch));
    return example_queues.back().get();
  };
  auto batch_queue = [this] {
    batch_queues.push_back(std::make_unique<BatchQueue>(options.queue_batches));
    return batch_queues.back().get();
  };
  // Every queue exists before any thread runs (a failing stage cancels all).
  ExampleQueue* read = example_queue();
  ExampleQueue* echoed_raw = read;
  if (echoing && at == EchoPlacement::kBeforeAugment) echoed_raw = example_queue();
  ExampleQueue* augmented = example_queue();
  ExampleQueue* echoed = augmented;
  if (echoing && at == EchoPlacement::kAfterAugment) echoed = example_queue();
  BatchQueue* batched = batch_queue();
  out_queue = batched;
  if (echoing && at == EchoPlacement::kAfterBatch) out_queue = batch_queue();

  threads.emplace_back([this, read] {
    SourceStage(read);
    source_end.store(Now());
  });
  if (echoed_raw != read) {
    threads.emplace_back(
        [this, read, echoed_raw] { ExampleEchoStage(read, echoed_raw); });
  }
  threads.emplace_back(
      [this, echoed_raw, augmented] { AugmentStage(echoed_raw, augmented); });
  if (echoed != augmented) {
    threads.emplace_back(
        [this, augmented, echoed] { ExampleEchoStage(augmented, echoed); });
  }
  threads.emplace_back([this, echoed, batched] { BatchStage(echoed, batched); });
  if (out_queue != batched) {
    threads.emplace_back([this, batched] { BatchEchoStage(batched, out_queue); });
  }
}

void Pipeline::Impl::CancelAll() {
  cancel_flag.store(true);
  stop_cv.notify_all();
  for (auto& q : example_queues) q->Cancel();
  for (auto& q : batch_queues) q->Cancel();
}

void Pipeline::Impl::Fail(Status s) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (cancelled) return;  // stopped, or failed already
    cancelled = true;
    error = std::move(s);
  }
  CancelAll();
}

Status Pipeline::Impl::EndStatus() {
  std::lock_guard<std::mutex> lock(mu);
  if (!error.ok()) return error;
  if (stopped) return Cancelled();
  double running = -1.0;
  consumer_end.compare_exchange_strong(running, Now());
  return OutOfRange("all %lld epochs delivered",
                    static_cast<long long>(options.epochs));
}

StatusOr<std::unique_ptr<Pipeline>> Pipeline::Start(
    const PipelineOptions& o, const SourceData& d) {
  if (o.batch == 0) return InvalidArgument("batch=0 must be positive");
  if (!(o.echo >= 1.0 && o.echo <= kMaxEcho)) {
    return InvalidArgument("echo=%g, want 1..%g", o.echo, kMaxEcho);
  }
  if (!(o.echo_max >= 1.0 && o.echo_max <= kMaxEcho)) {
    return InvalidArgument("echo_max=%g, want 1..%g", o.echo_max, kMaxEcho);
  }
  if (o.epochs < 0 || o.first_epoch < 0) {
    return InvalidArgument("epochs=%lld and first_epoch=%lld must be >= 0",
                           static_cast<long long>(o.epochs),
                           static_cast<long long>(o.first_epoch));
  }
  if (o.queue_examples == 0 || o.queue_batches == 0) {
    return InvalidArgument(
        "queue_examples=%zu and queue_batches=%zu must be positive",
        o.queue_examples, o.queue_batches);
  }
  if (!(o.upstream_cost_us >= 0.0 && std::isfinite(o.upstream_cost_us))) {
    return InvalidArgument("upstream_cost_us=%g must be >= 0",
                           o.upstream_cost_us);
  }
  if (o.augment.pad < 0) {
    return InvalidArgument("augment.pad=%d must be >= 0", o.augment.pad);
  }
  if (!(o.augment.noise_stddev >= 0.0f &&
        std::isfinite(o.augment.noise_stddev))) {
    return InvalidArgument("augment.noise_stddev=%g must be >= 0",
                           o.augment.noise_stddev);
  }
  if (d.n == 0) return InvalidArgument("data.n=0: no examples");
  if (d.images == nullptr || d.labels == nullptr) {
    return InvalidArgument("data.images or data.labels is null");
  }
  if (d.height <= 0 || d.width <= 0 || d.channels <= 0) {
    return InvalidArgument("data shape %dx%dx%d must be positive", d.height,
                           d.width, d.channels);
  }
  auto impl = std::make_unique<Impl>(o, d);
  impl->Launch();
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(impl)));
}

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::Stop() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.stopped = true;
    m.cancelled = true;
  }
  m.CancelAll();
  std::lock_guard<std::mutex> lock(m.join_mu);
  for (std::thread& t : m.threads) {
    if (t.joinable()) t.join();
  }
  double running = -1.0;
  m.consumer_end.compare_exchange_strong(running, m.Now());
}

void Pipeline::Pause() {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  if (m.paused.load()) return;
  m.pause_start = internal::Clock::now();
  m.paused.store(true, std::memory_order_release);
}

void Pipeline::Resume() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (!m.paused.load()) return;
    m.paused_total.store(
        m.paused_total.load() +
        std::chrono::duration<double>(internal::Clock::now() - m.pause_start)
            .count());
    m.paused.store(false, std::memory_order_release);
  }
  m.stop_cv.notify_all();
}

Status Pipeline::Next(Batch* out) {
  HWY_ASSERT(out != nullptr);
  Impl& m = *impl_;
  if (!m.out_queue->Pop(&m.incoming)) return m.EndStatus();
  std::swap(*out, m.incoming);
  m.batch_pool.Put(std::move(m.incoming));  // the caller's old buffers
  m.scratch.assign(out->ids.begin(), out->ids.end());
  std::sort(m.scratch.begin(), m.scratch.end());
  uint64_t dups = 0;
  for (size_t i = 1; i < m.scratch.size(); ++i) {
    dups += m.scratch[i] == m.scratch[i - 1];
  }
  m.duplicates.fetch_add(dups, std::memory_order_relaxed);
  m.consumed.fetch_add(out->size(), std::memory_order_relaxed);
  m.batches.fetch_add(1, std::memory_order_relaxed);
  return OkStatus();
}

PipelineMetrics Pipeline::metrics() const {
  const Impl& m = *impl_;
  const double now = m.Now();
  PipelineMetrics r;
  r.fresh_examples = m.fresh.load();
  r.consumed_examples = m.consumed.load();
  r.batches = m.batches.load();
  r.echo_factor = m.echo.load();
  r.shuffle_high_water = m.shuffle_high_water.load();
  if (r.consumed_examples > 0) {
    r.duplicate_rate =
        static_cast<double>(m.duplicates.load()) / r.consumed_examples;
  }
  const double consumer_end = m.consumer_end.load();
  const double paused = m.PausedSeconds();
  const double elapsed = (consumer_end >= 0.0 ? consumer_end : now) - paused;
  const double wait = m.out_queue->pop_wait_seconds();
  if (elapsed > 0.0) r.wait_fraction = std::min(1.0, wait / elapsed);
  if (elapsed - wait > 0.0) r.step_rate = r.consumed_examples / (elapsed - wait);
  const double source_end = m.source_end.load();
  const double active = (source_end >= 0.0 ? source_end : now) - paused -
                        m.example_queues.front()->push_wait_seconds();
  if (active > 0.0) r.upstream_rate = r.fresh_examples / active;
  return r;
}

const PipelineOptions& Pipeline::options() const { return impl_->options; }

}  // namespace data
}  // namespace sparrow
