// trainer/data/pipeline.h: what reaches Next(). For integer e every fresh
// example arrives exactly e times per epoch at each placement; fractional e
// gives floor/ceil counts with the right mean; no batch mixes epochs; the
// shuffle buffer stays within its size; the order is a function of the seed
// alone. Shutdown and timing are in pipeline_shutdown_test.cc.
#include "trainer/data/pipeline.h"

#include <math.h>

#include <algorithm>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "trainer/data/pipeline_test_util.h"

namespace sparrow {
namespace data {
namespace {

using test_util::Collect;
using test_util::Delivered;
using test_util::TestData;

// Structure every run must have; returns how often each id arrived.
std::map<uint64_t, int> CheckRun(const Delivered& run, const PipelineOptions& o,
                                 const TestData& d, bool pixels_exact) {
  std::map<uint64_t, int> counts;
  EXPECT_EQ(run.end.code(), StatusCode::kOutOfRange) << run.end.ToString();
  int64_t epoch = o.first_epoch;
  std::vector<int64_t> last_flags;
  for (size_t b = 0; b < run.batches.size(); ++b) {
    const Batch& batch = run.batches[b];
    EXPECT_GE(batch.size(), 1u);
    EXPECT_LE(batch.size(), o.batch);
    EXPECT_EQ(batch.ids.size(), batch.size());
    EXPECT_EQ(batch.images.size(), batch.size() * d.example_size());
    EXPECT_GE(batch.epoch, epoch) << "batch " << b << ": epochs go backwards";
    epoch = batch.epoch;
    if (batch.last_of_epoch) last_flags.push_back(batch.epoch);
    const bool next_is_new = b + 1 == run.batches.size() ||
                             run.batches[b + 1].epoch != batch.epoch;
    EXPECT_EQ(batch.last_of_epoch, next_is_new) << "batch " << b;
    for (size_t j = 0; j < batch.size(); ++j) {
      const uint64_t id = batch.ids[j];
      ++counts[id];
      EXPECT_EQ(static_cast<int64_t>(id / d.n), batch.epoch)
          << "batch " << b << " mixes epochs";
      const size_t index = id % d.n;
      EXPECT_EQ(batch.labels[j], d.labels[index]);
      if (pixels_exact) {
        const float* got = batch.images.data() + j * d.example_size();
        const float* want = d.images.data() + index * d.example_size();
        EXPECT_TRUE(std::equal(want, want + d.example_size(), got))
            << "batch " << b << " example " << j;
      }
    }
  }
  std::vector<int64_t> want_flags;
  for (int64_t e = o.first_epoch; e < o.first_epoch + o.epochs; ++e) {
    want_flags.push_back(e);
  }
  EXPECT_EQ(last_flags, want_flags);
  uint64_t consumed = 0;
  for (const Batch& batch : run.batches) consumed += batch.size();
  EXPECT_EQ(run.metrics.fresh_examples, d.n * o.epochs);
  EXPECT_EQ(run.metrics.consumed_examples, consumed);
  EXPECT_EQ(run.metrics.batches, run.batches.size());
  return counts;
}

const EchoPlacement kPlacements[] = {EchoPlacement::kBeforeAugment,
                                     EchoPlacement::kAfterAugment,
                                     EchoPlacement::kAfterBatch};

class IntegerEchoTest
    : public ::testing::TestWithParam<std::tuple<EchoPlacement, int>> {};

TEST_P(IntegerEchoTest, EveryExampleExactlyETimesPerEpoch) {
  const TestData d(37);
  PipelineOptions o;
  o.placement = std::get<0>(GetParam());
  o.echo = std::get<1>(GetParam());
  o.batch = 8;
  o.epochs = 2;
  o.first_epoch = 1;  // a resumed run: ids start at n
  o.shuffle_buffer = 16;
  o.augment.enabled = false;  // so every pixel can be checked
  o.queue_examples = 5;
  const Delivered run = Collect(o, d);
  const std::map<uint64_t, int> counts = CheckRun(run, o, d, true);
  ASSERT_EQ(counts.size(), 2 * d.n);  // nothing lost
  for (const auto& c : counts) {
    EXPECT_GE(c.first, d.n);
    EXPECT_LT(c.first, 3 * d.n);
    EXPECT_EQ(c.second, o.echo) << "id " << c.first;  // nothing extra
  }
  EXPECT_EQ(run.metrics.consumed_examples, 2 * d.n * std::get<1>(GetParam()));
  EXPECT_EQ(run.metrics.echo_factor, o.echo);
  EXPECT_LE(run.metrics.shuffle_high_water, o.shuffle_buffer);
}

INSTANTIATE_TEST_SUITE_P(
    Placements, IntegerEchoTest,
    ::testing::Combine(::testing::ValuesIn(kPlacements),
                       ::testing::Values(1, 2, 3)),
    [](const ::testing::TestParamInfo<std::tuple<EchoPlacement, int>>& info) {
      return std::string(EchoPlacementName(std::get<0>(info.param))) + "_e" +
             std::to_string(std::get<1>(info.param));
    });

class FractionalEchoTest
    : public ::testing::TestWithParam<std::tuple<EchoPlacement, double>> {};

TEST_P(FractionalEchoTest, CountsAreFloorOrCeilWithTheRightMean) {
  const TestData d(300);
  PipelineOptions o;
  o.placement = std::get<0>(GetParam());
  o.echo = std::get<1>(GetParam());
  o.batch = 4;
  o.epochs = 2;
  o.shuffle_buffer = 8;
  const Delivered run = Collect(o, d);
  const std::map<uint64_t, int> counts = CheckRun(run, o, d, false);
  ASSERT_EQ(counts.size(), 2 * d.n);
  const int lo = static_cast<int>(floor(o.echo));
  double sum = 0.0;
  for (const auto& c : counts) {
    EXPECT_TRUE(c.second == lo || c.second == lo + 1)
        << "id " << c.first << " arrived " << c.second << " times";
    sum += c.second;
  }
  // Example-level: 600 draws, standard error at most 0.5/sqrt(600) = 0.02;
  // batch-level: 150 draws (one per batch), at most 0.041. 0.15 is 3.6
  // sigma for the latter; the seed is fixed, so this cannot flake.
  EXPECT_NEAR(sum / counts.size(), o.echo, 0.15);
}

INSTANTIATE_TEST_SUITE_P(
    Placements, FractionalEchoTest,
    ::testing::Combine(::testing::ValuesIn(kPlacements),
                       ::testing::Values(1.5, 2.25)),
    [](const ::testing::TestParamInfo<std::tuple<EchoPlacement, double>>& info) {
      return std::string(EchoPlacementName(std::get<0>(info.param))) + "_" +
             std::to_string(static_cast<int>(std::get<1>(info.param) * 100));
    });

TEST(PipelineTest, FullLastBatchIsFlagged) {
  const TestData d(16);
  PipelineOptions o;
  o.batch = 8;
  o.epochs = 3;
  o.augment.enabled = false;
  const Delivered run = Collect(o, d);
  ASSERT_EQ(run.batches.size(), 6u);
  for (size_t b = 0; b < 6; ++b) {
    EXPECT_EQ(run.batches[b].size(), 8u);
    EXPECT_EQ(run.batches[b].last_of_epoch, b % 2 == 1);
    EXPECT_EQ(run.batches[b].epoch, static_cast<int64_t>(b / 2));
  }
  CheckRun(run, o, d, true);
  // Without echo or shuffle, an epoch is EpochPermutation's order.
  const std::vector<size_t> order = EpochPermutation(d.n, o.seed, 1);
  for (size_t i = 0; i < d.n; ++i) {
    EXPECT_EQ(run.batches[2 + i / 8].ids[i % 8], d.n + order[i]);
  }
}

TEST(PipelineTest, ShuffleBufferStaysWithinItsSize) {
  const TestData d(37);
  for (EchoPlacement p : kPlacements) {
    for (size_t size : {2, 5, 64}) {
      PipelineOptions o;
      o.placement = p;
      o.echo = 2;
      o.batch = 4;
      o.epochs = 2;
      o.shuffle_buffer = size;
      const Delivered run = Collect(o, d);
      CheckRun(run, o, d, false);
      EXPECT_LE(run.metrics.shuffle_high_water, size) << EchoPlacementName(p);
      EXPECT_GE(run.metrics.shuffle_high_water, std::min<size_t>(size, 2));
    }
  }
}

bool SameBatches(const Delivered& a, const Delivered& b) {
  if (a.batches.size() != b.batches.size()) return false;
  for (size_t i = 0; i < a.batches.size(); ++i) {
    const Batch &x = a.batches[i], &y = b.batches[i];
    if (x.ids != y.ids || x.labels != y.labels || x.images != y.images ||
        x.epoch != y.epoch || x.last_of_epoch != y.last_of_epoch) {
      return false;
    }
  }
  return true;
}

TEST(PipelineTest, DeterministicForASeedWhateverTheTiming) {
  const TestData d(53);
  for (EchoPlacement p : kPlacements) {
    PipelineOptions o;
    o.placement = p;
    o.echo = 2.5;
    o.shuffle_buffer = 16;
    o.batch = 8;
    o.epochs = 2;
    o.seed = 7;  // augmentation on: crop, flip and noise
    const Delivered a = Collect(o, d);
    const Delivered b = Collect(o, d);
    EXPECT_TRUE(SameBatches(a, b)) << EchoPlacementName(p);
    // Tiny queues change every stage's timing, not the result.
    PipelineOptions tiny = o;
    tiny.queue_examples = 1;
    tiny.queue_batches = 1;
    EXPECT_TRUE(SameBatches(a, Collect(tiny, d))) << EchoPlacementName(p);
    PipelineOptions other = o;
    other.seed = 8;
    const Delivered c = Collect(other, d);
    EXPECT_FALSE(SameBatches(a, c)) << EchoPlacementName(p);
    std::vector<uint64_t> ids_a, ids_c;
    for (const Batch& x : a.batches) ids_a.insert(ids_a.end(), x.ids.begin(), x.ids.end());
    for (const Batch& x : c.batches) ids_c.insert(ids_c.end(), x.ids.begin(), x.ids.end());
    EXPECT_NE(ids_a, ids_c) << EchoPlacementName(p);
  }
}

// The images of every copy of each id in one epoch.
std::map<uint64_t, std::vector<std::vector<float>>> Copies(const Delivered& run,
                                                           size_t size) {
  std::map<uint64_t, std::vector<std::vector<float>>> copies;
  for (const Batch& b : run.batches) {
    for (size_t j = 0; j < b.size(); ++j) {
      const float* p = b.images.data() + j * size;
      copies[b.ids[j]].emplace_back(p, p + size);
    }
  }
  return copies;
}

TEST(PipelineTest, PlacementDecidesWhetherCopiesAreAugmentedAfresh) {
  const TestData d(20);
  PipelineOptions o;
  o.echo = 2;
  o.batch = 4;
  o.shuffle_buffer = 0;
  o.placement = EchoPlacement::kBeforeAugment;
  for (const auto& c : Copies(Collect(o, d), d.example_size())) {
    ASSERT_EQ(c.second.size(), 2u);
    EXPECT_NE(c.second[0], c.second[1]) << "id " << c.first;  // the noise
  }
  o.placement = EchoPlacement::kAfterAugment;
  for (const auto& c : Copies(Collect(o, d), d.example_size())) {
    ASSERT_EQ(c.second.size(), 2u);
    EXPECT_EQ(c.second[0], c.second[1]) << "id " << c.first;
  }
  // Batch-level without shuffling: each batch arrives twice in a row.
  o.placement = EchoPlacement::kAfterBatch;
  const Delivered run = Collect(o, d);
  ASSERT_EQ(run.batches.size() % 2, 0u);
  for (size_t b = 0; b < run.batches.size(); b += 2) {
    EXPECT_EQ(run.batches[b].ids, run.batches[b + 1].ids);
    EXPECT_EQ(run.batches[b].images, run.batches[b + 1].images);
  }
  EXPECT_EQ(run.metrics.duplicate_rate, 0.0);
}

TEST(PipelineTest, DuplicateRateCountsRepeatsWithinBatches) {
  const TestData d(37);
  for (size_t shuffle : {0, 8, 200}) {
    PipelineOptions o;
    o.placement = EchoPlacement::kAfterAugment;
    o.echo = 2;
    o.batch = 8;
    o.epochs = 2;
    o.shuffle_buffer = shuffle;
    const Delivered run = Collect(o, d);
    uint64_t repeats = 0, total = 0;
    for (const Batch& b : run.batches) {
      std::vector<uint64_t> ids = b.ids;
      std::sort(ids.begin(), ids.end());
      for (size_t i = 1; i < ids.size(); ++i) repeats += ids[i] == ids[i - 1];
      total += ids.size();
    }
    EXPECT_DOUBLE_EQ(run.metrics.duplicate_rate,
                     static_cast<double>(repeats) / total);
    // Unshuffled copies are adjacent and the batch is even: every second
    // example repeats the one before. Shuffling spreads them out.
    if (shuffle == 0) {
      EXPECT_DOUBLE_EQ(run.metrics.duplicate_rate, 0.5);
    } else if (shuffle == 200) {
      EXPECT_LT(run.metrics.duplicate_rate, 0.3);
    }
  }
}

TEST(PipelineTest, StressWithTinyQueues) {
  const TestData d(50);
  for (EchoPlacement p : kPlacements) {
    PipelineOptions o;
    o.placement = p;
    o.echo = 2;
    o.batch = 3;
    o.epochs = 3;
    o.shuffle_buffer = 3;
    o.queue_examples = 1;
    o.queue_batches = 1;
    o.augment.enabled = false;
    const Delivered run = Collect(o, d, /*jitter=*/true);
    const std::map<uint64_t, int> counts = CheckRun(run, o, d, true);
    ASSERT_EQ(counts.size(), 3 * d.n);
    for (const auto& c : counts) EXPECT_EQ(c.second, 2);
  }
}

TEST(PipelineTest, EpochPermutationIsTheTrainersOrder) {
  // From the algorithm as Trainer had it (a Python transcription).
  EXPECT_EQ(EpochPermutation(10, 1, 0),
            (std::vector<size_t>{7, 6, 4, 1, 0, 2, 5, 8, 3, 9}));
  EXPECT_EQ(EpochPermutation(7, 42, 3),
            (std::vector<size_t>{2, 3, 4, 0, 6, 5, 1}));
  EXPECT_TRUE(EpochPermutation(0, 1, 0).empty());
  EXPECT_EQ(EpochPermutation(1, 1, 0), std::vector<size_t>{0});
  std::vector<size_t> p = EpochPermutation(1000, 5, 2);
  EXPECT_NE(p, EpochPermutation(1000, 5, 3));
  std::sort(p.begin(), p.end());
  for (size_t i = 0; i < p.size(); ++i) ASSERT_EQ(p[i], i);
}

TEST(PipelineTest, PlacementNamesRoundTrip) {
  for (EchoPlacement p : kPlacements) {
    StatusOr<EchoPlacement> parsed = ParseEchoPlacement(EchoPlacementName(p));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_STREQ(EchoPlacementName(EchoPlacement::kAfterBatch), "batch");
  StatusOr<EchoPlacement> bad = ParseEchoPlacement("sideways");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad.status().message()).find("sideways"),
            std::string::npos);
}

TEST(PipelineTest, BadOptionsAreInvalidArgument) {
  const TestData d(8);
  std::vector<PipelineOptions> bad(9);
  bad[0].batch = 0;
  bad[1].echo = 0.5;
  bad[2].echo_max = 0.9;
  bad[3].augment.pad = -1;
  bad[4].queue_examples = 0;
  bad[5].queue_batches = 0;
  bad[6].upstream_cost_us = -1.0;
  bad[7].echo = NAN;
  bad[8].epochs = -1;
  for (size_t i = 0; i < bad.size(); ++i) {
    StatusOr<std::unique_ptr<Pipeline>> p = Pipeline::Start(bad[i], d.source());
    ASSERT_FALSE(p.ok()) << i;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << i;
  }
  SourceData empty = d.source();
  empty.n = 0;
  StatusOr<std::unique_ptr<Pipeline>> p = Pipeline::Start(PipelineOptions(), empty);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  SourceData shapeless = d.source();
  shapeless.channels = 0;
  EXPECT_FALSE(Pipeline::Start(PipelineOptions(), shapeless).ok());
}

}  // namespace
}  // namespace data
}  // namespace sparrow
