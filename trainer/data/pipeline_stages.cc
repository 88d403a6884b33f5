// The stage loops of the pipeline (pipeline.cc has the design).
#include <algorithm>
#include <chrono>
#include <utility>

#include "hwy/base.h"
#include "trainer/data/augment.h"
#include "trainer/data/echo.h"
#include "trainer/data/pipeline_impl.h"

namespace sparrow {
namespace data {

using internal::kRetuneSeconds;
using internal::kSmoothing;
using internal::kMinActiveSeconds;

bool Pipeline::Impl::SleepUntil(Clock::time_point t) {
  std::unique_lock<std::mutex> lock(mu);
  return !stop_cv.wait_until(lock, t, [this] { return cancelled; });
}

bool Pipeline::Impl::WaitWhilePaused(Clock::time_point* deadline) {
  const Clock::time_point t0 = Clock::now();
  std::unique_lock<std::mutex> lock(mu);
  stop_cv.wait(lock, [this] { return cancelled || !paused.load(); });
  *deadline += Clock::now() - t0;
  return !cancelled;
}

double Pipeline::Impl::PausedSeconds() const {
  // Under mu, so a pause that is just ending is counted once.
  std::lock_guard<std::mutex> lock(mu);
  double s = paused_total.load();
  if (paused.load()) {
    s += std::chrono::duration<double>(Clock::now() - pause_start).count();
  }
  return s;
}

// The simulated upstream cost, on top of the read and decode since t0.
// Sleeping follows an accumulated schedule, so each sleep's overshoot is
// paid back by the next ones and sub-millisecond costs are right on average.
bool Pipeline::Impl::PayCost(Clock::time_point t0, Clock::duration cost,
                             Clock::time_point* deadline) {
  const Clock::time_point now = Clock::now();
  if (options.cost_mode == CostMode::kSpin) {
    const Clock::time_point until = now + cost;
    while (Clock::now() < until) {
      if (cancel_flag.load(std::memory_order_relaxed)) return false;
    }
    return true;
  }
  // Never owe more than 2 ms (after a preemption, say): no long bursts.
  const Clock::time_point floor = t0 - std::chrono::milliseconds(2);
  if (*deadline < floor) *deadline = floor;
  *deadline += (now - t0) + cost;
  return *deadline <= now || SleepUntil(*deadline);
}

void Pipeline::Impl::SourceStage(ExampleQueue* out) {
  const Clock::duration cost = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::micro>(options.upstream_cost_us));
  Clock::time_point deadline = Clock::now();
  for (int64_t epoch = options.first_epoch;
       options.epochs == 0 || epoch < options.first_epoch + options.epochs;
       ++epoch) {
    const std::vector<size_t> order =
        EpochPermutation(data.n, options.seed, epoch);
    for (size_t index : order) {
      if (paused.load(std::memory_order_acquire) &&
          !WaitWhilePaused(&deadline)) {
        return;
      }
      const Clock::time_point t0 = Clock::now();
      if (data.read_hook) {
        Status s = data.read_hook(epoch, index);
        if (!s.ok()) return Fail(std::move(s));
      }
      Example x;
      x.image = image_pool.Get();
      const float* src = data.images + index * example_size;
      x.image.assign(src, src + example_size);  // "decode"
      x.label = data.labels[index];
      x.epoch = epoch;
      x.index = index;
      x.id = static_cast<uint64_t>(epoch) * data.n + index;
      if (cost > Clock::duration::zero() && !PayCost(t0, cost, &deadline)) {
        return;
      }
      fresh.fetch_add(1, std::memory_order_relaxed);
      const Clock::time_point p0 = Clock::now();
      if (!out->Push(std::move(x))) return;
      deadline += Clock::now() - p0;  // blocked downstream: not upstream cost
    }
    Example mark;
    mark.epoch = epoch;
    mark.end_of_epoch = true;
    if (!out->Push(std::move(mark))) return;
  }
  out->Close();
}

bool Pipeline::Impl::RetuneDue(const RateMark& mark) const {
  return Clock::now() - mark.t >= std::chrono::duration<double>(kRetuneSeconds);
}

void Pipeline::Impl::Retune(RateMark* mark, uint64_t in, double in_wait) {
  const Clock::time_point now = Clock::now();
  const double paused_now = PausedSeconds();
  const double dt = std::chrono::duration<double>(now - mark->t).count() -
                    (paused_now - mark->paused);
  const uint64_t used = consumed.load(std::memory_order_relaxed);
  const double next_wait = out_queue->pop_wait_seconds();
  if (used == mark->consumed || in == mark->in) return;  // widen the window
  const double step_active = dt - (next_wait - mark->next_wait);
  const double up_active = dt - (in_wait - mark->in_wait);
  double target;
  if (up_active < kMinActiveSeconds) {
    target = 1.0;  // upstream blocked throughout: it is not the bottleneck
  } else if (step_active < kMinActiveSeconds) {
    target = options.echo_max;  // the step waited throughout
  } else {
    const double step_rate = (used - mark->consumed) / step_active;
    const double up_rate = (in - mark->in) / up_active;
    target = step_rate / up_rate;
  }
  double e = echo.load(std::memory_order_relaxed);
  e += kSmoothing * (target - e);
  echo.store(std::min(std::max(e, 1.0), options.echo_max));
  *mark = RateMark{now, used, in, next_wait, in_wait, paused_now};
}

void Pipeline::Impl::ExampleEchoStage(ExampleQueue* in, ExampleQueue* out) {
  EchoCounts counts;
  ShuffleBuffer<Example> shuffle(options.shuffle_buffer);
  int64_t seeded = -1;
  RateMark mark{Clock::now()};
  uint64_t taken = 0;
  auto push = [out](Example&& e) { return out->Push(std::move(e)); };
  Example x, leaving;
  while (in->Pop(&x)) {
    if (x.end_of_epoch) {
      if (!shuffle.Flush(push) || !out->Push(std::move(x))) return;
      continue;
    }
    if (x.epoch != seeded) {  // per-epoch streams: resuming repeats them
      seeded = x.epoch;
      const uint64_t e = static_cast<uint64_t>(seeded);
      counts.Reseed(StreamSeed(options.seed, kEchoStream, e));
      shuffle.Reseed(StreamSeed(options.seed, kShuffleStream, e));
    }
    ++taken;
    if (options.echo_auto && RetuneDue(mark)) {
      Retune(&mark, taken, in->push_wait_seconds());
    }
    const int copies = counts.Next(echo.load(std::memory_order_relaxed));
    for (int k = 0; k < copies; ++k) {
      Example c;
      if (k + 1 < copies) {
        c = Example{image_pool.Get(), x.id, x.epoch, x.index, 0, x.label};
        c.image.assign(x.image.begin(), x.image.end());
      } else {
        c = std::move(x);
      }
      c.copy = static_cast<uint32_t>(k);
      if (shuffle.Insert(std::move(c), &leaving) &&
          !out->Push(std::move(leaving))) {
        return;
      }
    }
    if (shuffle.high_water() > shuffle_high_water.load()) {
      shuffle_high_water.store(shuffle.high_water());
    }
  }
  out->Close();
}

void Pipeline::Impl::AugmentStage(ExampleQueue* in, ExampleQueue* out) {
  const AugmentOptions& a = options.augment;
  Example x;
  while (in->Pop(&x)) {
    if (!x.end_of_epoch && a.enabled) {
      std::vector<float> image = image_pool.Get();
      image.resize(example_size);
      AugmentExample(x.image.data(), data.height, data.width, data.channels, a,
                     options.seed, x.epoch, x.index, x.copy, image.data());
      image_pool.Put(std::move(x.image));
      x.image = std::move(image);
    }
    if (!out->Push(std::move(x))) return;
  }
  out->Close();
}

Batch Pipeline::Impl::NewBatch() {
  Batch b = batch_pool.Get();
  b.images.clear();
  b.labels.clear();
  b.ids.clear();
  b.epoch = 0;
  b.last_of_epoch = false;
  return b;
}

void Pipeline::Impl::BatchStage(ExampleQueue* in, BatchQueue* out) {
  Batch cur = NewBatch();
  Example x;
  while (in->Pop(&x)) {
    if (x.end_of_epoch) {
      if (cur.size() > 0) {  // always, as every epoch has examples
        cur.last_of_epoch = true;
        if (!out->Push(std::move(cur))) return;
        cur = NewBatch();
      }
      continue;
    }
    if (cur.size() == options.batch) {  // not the epoch's last: send it
      if (!out->Push(std::move(cur))) return;
      cur = NewBatch();
    }
    if (cur.size() == 0) cur.epoch = x.epoch;
    HWY_DASSERT(cur.epoch == x.epoch);
    cur.images.insert(cur.images.end(), x.image.begin(), x.image.end());
    cur.labels.push_back(x.label);
    cur.ids.push_back(x.id);
    image_pool.Put(std::move(x.image));
  }
  out->Close();
}

void Pipeline::Impl::BatchEchoStage(BatchQueue* in, BatchQueue* out) {
  EchoCounts counts;
  ShuffleBuffer<Batch> shuffle(options.shuffle_buffer);
  int64_t seeded = -1;
  RateMark mark{Clock::now()};
  uint64_t taken = 0;
  // One batch is held back, so the epoch's last can be flagged.
  Batch pending;
  bool has_pending = false;
  auto emit = [&](Batch&& b) {
    if (has_pending && !out->Push(std::move(pending))) return false;
    pending = std::move(b);
    has_pending = true;
    return true;
  };
  Batch b, leaving;
  while (in->Pop(&b)) {
    if (b.epoch != seeded) {
      seeded = b.epoch;
      const uint64_t e = static_cast<uint64_t>(seeded);
      counts.Reseed(StreamSeed(options.seed, kEchoStream, e));
      shuffle.Reseed(StreamSeed(options.seed, kShuffleStream, e));
    }
    taken += b.size();
    if (options.echo_auto && RetuneDue(mark)) {
      Retune(&mark, taken, in->push_wait_seconds());
    }
    const bool last = b.last_of_epoch;
    b.last_of_epoch = false;
    const int copies = counts.Next(echo.load(std::memory_order_relaxed));
    for (int k = 0; k < copies; ++k) {
      Batch c;
      if (k + 1 < copies) {
        c = NewBatch();
        c.images.assign(b.images.begin(), b.images.end());
        c.labels.assign(b.labels.begin(), b.labels.end());
        c.ids.assign(b.ids.begin(), b.ids.end());
        c.epoch = b.epoch;
      } else {
        c = std::move(b);
      }
      if (shuffle.Insert(std::move(c), &leaving) && !emit(std::move(leaving))) {
        return;
      }
    }
    if (shuffle.high_water() > shuffle_high_water.load()) {
      shuffle_high_water.store(shuffle.high_water());
    }
    if (last) {
      if (!shuffle.Flush(emit)) return;
      HWY_DASSERT(has_pending);
      pending.last_of_epoch = true;
      has_pending = false;
      if (!out->Push(std::move(pending))) return;
    }
  }
  out->Close();
}

}  // namespace data
}  // namespace sparrow
