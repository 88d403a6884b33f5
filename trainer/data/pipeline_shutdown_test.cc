// trainer/data/pipeline.h: shutdown that never hangs (a failing stage, Stop()
// while every stage is blocked, Stop() from another thread, the destructor
// alone), and the timing side: the simulated upstream cost, echo_auto, the
// wait fraction. A hang shows as the test's timeout; run under tsan as well.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "trainer/data/pipeline.h"
#include "trainer/data/pipeline_test_util.h"

namespace sparrow {
namespace data {
namespace {

using std::chrono::milliseconds;
using test_util::Collect;
using test_util::Delivered;
using test_util::TestData;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;  // everything is several times slower
#else
constexpr bool kSanitized = false;
#endif

const EchoPlacement kPlacements[] = {EchoPlacement::kBeforeAugment,
                                     EchoPlacement::kAfterAugment,
                                     EchoPlacement::kAfterBatch};

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
      .count();
}

bool IsCancelled(const Status& s) {
  return !s.ok() && s.code() != StatusCode::kOutOfRange &&
         std::string(s.message()).find("CANCELLED") != std::string::npos;
}

std::unique_ptr<Pipeline> MustStart(const PipelineOptions& o,
                                    const SourceData& d) {
  StatusOr<std::unique_ptr<Pipeline>> p = Pipeline::Start(o, d);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : nullptr;
}

TEST(PipelineShutdownTest, ReadHookErrorReachesNext) {
  const TestData d(40);
  for (EchoPlacement p : kPlacements) {
    SourceData s = d.source();
    s.read_hook = [](int64_t epoch, size_t index) {
      if (epoch == 1 && index == 5) return DataLoss("record %zu is torn", index);
      return OkStatus();
    };
    PipelineOptions o;
    o.placement = p;
    o.echo = 2;
    o.shuffle_buffer = 4;
    o.batch = 4;
    o.epochs = 3;
    std::unique_ptr<Pipeline> pipe = MustStart(o, s);
    ASSERT_NE(pipe, nullptr);
    Batch b;
    Status st;
    size_t consumed = 0;
    while ((st = pipe->Next(&b)).ok()) {
      consumed += b.size();
      for (uint64_t id : b.ids) EXPECT_LT(id, 2 * d.n);  // nothing after
    }
    EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
    EXPECT_STREQ(st.message(), "record 5 is torn");
    EXPECT_LT(consumed, 2 * 2 * d.n);
    // From then on, the same Status; Stop() does not change it.
    EXPECT_EQ(pipe->Next(&b).code(), StatusCode::kDataLoss);
    pipe->Stop();
    EXPECT_EQ(pipe->Next(&b).code(), StatusCode::kDataLoss);
  }
}

TEST(PipelineShutdownTest, ErrorWhileTheConsumerIsAway) {
  // The source fails while nobody calls Next(): the failure must still shut
  // every stage down; Next() then reports it.
  const TestData d(64);
  SourceData s = d.source();
  std::atomic<int> reads{0};
  s.read_hook = [&reads](int64_t, size_t) {
    return ++reads > 5 ? Internal("disk gone") : OkStatus();
  };
  PipelineOptions o;
  o.epochs = 0;
  o.queue_examples = 2;
  o.queue_batches = 1;
  o.batch = 4;
  o.echo = 3;
  std::unique_ptr<Pipeline> pipe = MustStart(o, s);
  ASSERT_NE(pipe, nullptr);
  std::this_thread::sleep_for(milliseconds(50));
  Batch b;
  Status st;
  for (int i = 0; i < 1000 && (st = pipe->Next(&b)).ok(); ++i) {
  }
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
}

TEST(PipelineShutdownTest, StopWhileStagesAreBlockedOnFullQueues) {
  const TestData d(64);
  for (EchoPlacement p : kPlacements) {
    PipelineOptions o;
    o.placement = p;
    o.echo = 2;
    o.shuffle_buffer = 3;
    o.epochs = 0;  // forever
    o.queue_examples = 1;
    o.queue_batches = 1;
    o.batch = 4;
    std::unique_ptr<Pipeline> pipe = MustStart(o, d.source());
    ASSERT_NE(pipe, nullptr);
    // Until the source stops reading (every queue full), at most 2 s.
    uint64_t fresh = 0;
    for (int i = 0; i < 100; ++i) {
      std::this_thread::sleep_for(milliseconds(20));
      const uint64_t now = pipe->metrics().fresh_examples;
      if (now == fresh) break;
      fresh = now;
    }
    EXPECT_GT(fresh, 0u);
    EXPECT_LT(fresh, 40u);  // back-pressure: a few per queue and stage
    pipe->Stop();
    pipe->Stop();  // idempotent
    Batch b;
    EXPECT_TRUE(IsCancelled(pipe->Next(&b)));
    pipe->metrics();  // still readable
  }
}

TEST(PipelineShutdownTest, DestructorAloneShutsDown) {
  const TestData d(64);
  for (int consumed : {0, 1, 3}) {
    PipelineOptions o;
    o.epochs = 0;
    o.queue_examples = 2;
    o.queue_batches = 1;
    o.batch = 4;
    o.echo = 1.5;
    o.shuffle_buffer = 8;
    std::unique_ptr<Pipeline> pipe = MustStart(o, d.source());
    ASSERT_NE(pipe, nullptr);
    Batch b;
    for (int i = 0; i < consumed; ++i) ASSERT_TRUE(pipe->Next(&b).ok());
  }  // ~Pipeline, no Stop()
}

TEST(PipelineShutdownTest, StopFromAnotherThreadWakesNextAndTheCostSleep) {
  const TestData d(8);
  for (CostMode mode : {CostMode::kSleep, CostMode::kSpin}) {
    PipelineOptions o;
    o.upstream_cost_us = 5e6;  // 5 s per example: Next() blocks
    o.cost_mode = mode;
    o.batch = 4;
    std::unique_ptr<Pipeline> pipe = MustStart(o, d.source());
    ASSERT_NE(pipe, nullptr);
    const auto start = std::chrono::steady_clock::now();
    std::thread stopper([&] {
      std::this_thread::sleep_for(milliseconds(50));
      pipe->Stop();
    });
    Batch b;
    EXPECT_TRUE(IsCancelled(pipe->Next(&b)));
    stopper.join();
    EXPECT_LT(SecondsSince(start), 2.0);  // not the 5 s cost
  }
}

TEST(PipelineShutdownTest, RepeatedStartAndStopAtRandomPoints) {
  const TestData d(30);
  for (int i = 0; i < 60; ++i) {
    PipelineOptions o;
    o.placement = kPlacements[i % 3];
    o.echo = 1.0 + (i % 4) * 0.5;
    o.shuffle_buffer = i % 5;
    o.batch = 1 + i % 6;
    o.queue_examples = 1 + i % 3;
    o.queue_batches = 1 + i % 2;
    o.epochs = i % 2;  // 0: forever
    o.upstream_cost_us = (i % 7 == 0) ? 20.0 : 0.0;
    o.cost_mode = (i % 2) ? CostMode::kSpin : CostMode::kSleep;
    std::unique_ptr<Pipeline> pipe = MustStart(o, d.source());
    ASSERT_NE(pipe, nullptr);
    Batch b;
    for (int k = 0; k < i % 9 && pipe->Next(&b).ok(); ++k) {
    }
    if (i % 3 == 0) pipe->Stop();
  }
}

TEST(PipelineShutdownTest, SleepCostIsAccurateOnAverage) {
  // 300 us per example, well under the scheduler's resolution for single
  // sleeps: the accumulated schedule keeps the average right.
  const TestData d(200);
  PipelineOptions o;
  o.upstream_cost_us = 300.0;
  o.batch = 16;
  o.augment.enabled = false;
  const Delivered run = Collect(o, d);
  EXPECT_EQ(run.metrics.fresh_examples, 200u);
  const double want = 1e6 / o.upstream_cost_us;  // examples/s
  EXPECT_GT(run.metrics.upstream_rate, 0.6 * want);
  EXPECT_LT(run.metrics.upstream_rate, 1.1 * want);
}

TEST(PipelineShutdownTest, EchoAutoEchoesASlowSourceWithinTheBound) {
  const TestData d(64);
  for (EchoPlacement p : kPlacements) {
    PipelineOptions o;
    o.placement = p;
    o.echo_auto = true;
    o.echo_max = 4.0;
    o.upstream_cost_us = 500.0;  // 2000 fresh examples/s
    o.epochs = 0;
    o.batch = 8;
    o.shuffle_buffer = 16;
    std::unique_ptr<Pipeline> pipe = MustStart(o, d.source());
    ASSERT_NE(pipe, nullptr);
    EXPECT_EQ(pipe->metrics().echo_factor, 1.0);
    // The consumer does no work: it always waits, so e should climb.
    Batch b;
    const auto start = std::chrono::steady_clock::now();
    while (SecondsSince(start) < 0.8) ASSERT_TRUE(pipe->Next(&b).ok());
    const PipelineMetrics m = pipe->metrics();
    EXPECT_GT(m.echo_factor, 1.5) << EchoPlacementName(p);
    EXPECT_LE(m.echo_factor, o.echo_max);
    EXPECT_GT(m.consumed_examples, m.fresh_examples);
    EXPECT_NEAR(m.upstream_rate, 2000.0, 600.0);
    pipe->Stop();
  }
}

TEST(PipelineShutdownTest, EchoAutoStaysNearOneWhenTheStepIsTheBottleneck) {
  const TestData d(64);
  PipelineOptions o;
  o.echo_auto = true;
  o.echo_max = 4.0;
  o.epochs = 0;
  o.batch = 16;
  std::unique_ptr<Pipeline> pipe = MustStart(o, d.source());
  ASSERT_NE(pipe, nullptr);
  Batch b;
  const auto start = std::chrono::steady_clock::now();
  while (SecondsSince(start) < 0.5) {
    ASSERT_TRUE(pipe->Next(&b).ok());
    std::this_thread::sleep_for(milliseconds(2));  // a slow step: 8k ex/s
  }
  EXPECT_LT(pipe->metrics().echo_factor, 1.3);
}

TEST(PipelineShutdownTest, StepRarelyWaitsWhenUpstreamIsFast) {
  const TestData d(256, 8, 8, 1);
  PipelineOptions o;
  o.batch = 32;
  o.epochs = 0;
  std::unique_ptr<Pipeline> pipe = MustStart(o, d.source());
  ASSERT_NE(pipe, nullptr);
  // The step: 32 examples a millisecond (sanitized stages are several times
  // slower, so there it takes 5 ms).
  const int step_ms = kSanitized ? 5 : 1;
  Batch b;
  for (int i = 0; i < 150; ++i) {
    ASSERT_TRUE(pipe->Next(&b).ok());
    std::this_thread::sleep_for(milliseconds(step_ms));
  }
  const PipelineMetrics m = pipe->metrics();
  EXPECT_LT(m.wait_fraction, kSanitized ? 0.2 : 0.05);
  const double most = 32e3 / step_ms;  // each step sleeps at least step_ms
  EXPECT_GT(m.step_rate, 0.3 * most);
  EXPECT_LT(m.step_rate, 1.05 * most);
  EXPECT_GT(m.upstream_rate, m.step_rate);
  EXPECT_EQ(m.duplicate_rate, 0.0);
}

TEST(PipelineShutdownTest, PauseHoldsTheSourceAndLeavesItsTimeOut) {
  const TestData d(64);
  PipelineOptions o;
  o.epochs = 0;
  o.batch = 8;
  o.queue_examples = 16;
  o.queue_batches = 2;
  o.augment.enabled = false;
  std::unique_ptr<Pipeline> pipe = MustStart(o, d.source());
  ASSERT_NE(pipe, nullptr);
  Batch b;
  ASSERT_TRUE(pipe->Next(&b).ok());
  pipe->Pause();
  pipe->Pause();  // idempotent
  // While paused only what the queues hold can still come out: drain it.
  std::this_thread::sleep_for(milliseconds(50));
  const uint64_t fresh_at_pause = pipe->metrics().fresh_examples;
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_LE(pipe->metrics().fresh_examples, fresh_at_pause + 1);
  // The stages after the source hold at most their queues' capacity.
  EXPECT_LE(fresh_at_pause, 8u + 3 * 16u + 3 * 2 * 8u + 2 * 8u);
  const PipelineMetrics paused = pipe->metrics();
  // 250 ms paused with no Next() call: none of it counts as step time (it
  // would put step_rate below consumed / 0.25 s).
  EXPECT_GT(paused.step_rate, paused.consumed_examples / 0.1);
  pipe->Resume();
  pipe->Resume();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(pipe->Next(&b).ok());
  EXPECT_GT(pipe->metrics().fresh_examples, fresh_at_pause);
  // Stop while paused does not hang.
  pipe->Pause();
  pipe->Stop();
}

}  // namespace
}  // namespace data
}  // namespace sparrow
