// The training loop on the committed Fashion-MNIST subset: it learns, it is
// deterministic (same seed and threads: bit-identical parameters), and bad
// options are errors.
#include "trainer/train.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "trainer/data/mnist.h"
#include "trainer/data/pipeline.h"
#include "trainer/data/test_subset.h"

namespace sparrow {
namespace train {
namespace {

std::unique_ptr<Trainer> Make(const TrainOptions& o) {
  const Dataset& d = FashionMnistSubset(Split::kTrain);
  StatusOr<std::unique_ptr<Trainer>> t =
      Trainer::Create(o, d.images.data(), d.labels.data(), d.size(), {28, 28, 1});
  HWY_ASSERT(t.ok());
  return std::move(t).value();
}

TEST(Trainer, LearnsTheSubset) {
  TrainOptions o;
  o.model = "mlp";
  o.batch = 20;
  o.optimizer = "adam:lr=0.002";
  auto t = Make(o);
  const Dataset& d = FashionMnistSubset(Split::kTrain);
  const Metrics before = t->Evaluate(d.images.data(), d.labels.data(), d.size());
  double first = 0, last = 0;
  for (int e = 0; e < 15; ++e) {
    StatusOr<EpochStats> s = t->TrainEpoch();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    if (e == 0) first = s->loss;
    last = s->loss;
  }
  const Metrics after = t->Evaluate(d.images.data(), d.labels.data(), d.size());
  EXPECT_LT(last, first * 0.5);
  EXPECT_GT(after.accuracy, 0.9) << "train accuracy after 15 epochs";
  EXPECT_LT(before.accuracy, 0.3);
  EXPECT_EQ(t->step(), 15 * 5);
  const Dataset& test = FashionMnistSubset(Split::kTest);
  const Metrics held_out = t->Evaluate(test.images.data(), test.labels.data(), test.size());
  EXPECT_GT(held_out.accuracy, 0.5) << "100 unseen test images";
}

std::vector<float> TrainedParams(size_t threads, uint64_t seed, const char* model) {
  TrainOptions o;
  o.model = model;
  o.batch = 16;
  o.threads = threads;
  o.seed = seed;
  o.optimizer = "adamw:lr=0.003";
  auto t = Make(o);
  for (int e = 0; e < 2; ++e) HWY_ASSERT(t->TrainEpoch().ok());
  std::vector<float> all;
  for (const Param& p : t->net().params()) {
    all.insert(all.end(), p.value.begin(), p.value.end());
  }
  return all;
}

TEST(Trainer, DeterministicForASeedAndThreadCount) {
  const char* model = "conv(4,5,stride=2) relu maxpool(2) flatten dropout(0.2) linear(10)";
  for (size_t threads : {1, 2, 3}) {
    const std::vector<float> a = TrainedParams(threads, 4, model);
    const std::vector<float> b = TrainedParams(threads, 4, model);
    EXPECT_TRUE(a == b) << threads << " threads: two runs differ";
  }
  EXPECT_FALSE(TrainedParams(1, 4, model) == TrainedParams(1, 5, model));
  // Thread counts change only the float summation order.
  const std::vector<float> one = TrainedParams(1, 4, model);
  const std::vector<float> two = TrainedParams(2, 4, model);
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) ASSERT_NEAR(one[i], two[i], 1e-3f) << i;
}

std::vector<float> Params(const Trainer& t) {
  std::vector<float> all;
  for (const Param& p : t.net().params()) {
    all.insert(all.end(), p.value.begin(), p.value.end());
  }
  return all;
}

// TrainBatch on the batches TrainEpoch would cut, in its order (a short last
// batch included: 100 = 6 x 16 + 4), takes the same steps bit for bit, with
// dropout and a split across threads.
TEST(Trainer, TrainBatchEqualsTrainEpoch) {
  const Dataset& d = FashionMnistSubset(Split::kTrain);
  for (size_t threads : {1, 2}) {
    TrainOptions o;
    o.model = "conv(4,5,stride=2) relu maxpool(2) flatten dropout(0.2) linear(10)";
    o.batch = 16;
    o.threads = threads;
    o.seed = 7;
    o.optimizer = "adamw:lr=0.003";
    auto by_epoch = Make(o);
    auto by_batch = Make(o);
    double epoch_loss = 0.0, batch_loss = 0.0;
    size_t batch_correct = 0;
    double epoch_accuracy = 0.0;
    for (int64_t e = 0; e < 2; ++e) {
      StatusOr<EpochStats> s = by_epoch->TrainEpoch();
      ASSERT_TRUE(s.ok());
      epoch_loss = s->loss;
      epoch_accuracy = s->accuracy;
      const std::vector<size_t> order = data::EpochPermutation(d.size(), o.seed, e);
      std::vector<float> x;
      std::vector<uint8_t> y;
      batch_loss = 0.0;
      batch_correct = 0;
      for (size_t b = 0; b < d.size(); b += o.batch) {
        const size_t count = std::min(o.batch, d.size() - b);
        x.clear();
        y.clear();
        for (size_t i = 0; i < count; ++i) {
          x.insert(x.end(), d.image(order[b + i]), d.image(order[b + i]) + 784);
          y.push_back(d.labels[order[b + i]]);
        }
        StatusOr<BatchStats> bs = by_batch->TrainBatch(x.data(), y.data(), count);
        ASSERT_TRUE(bs.ok()) << bs.status().ToString();
        batch_loss += bs->loss * count;
        batch_correct += bs->correct;
      }
      EXPECT_EQ(by_batch->epoch(), 0) << "TrainBatch does not count epochs";
    }
    EXPECT_EQ(by_batch->step(), by_epoch->step());
    EXPECT_EQ(by_batch->step(), 2 * 7);
    EXPECT_TRUE(Params(*by_batch) == Params(*by_epoch)) << threads << " threads";
    EXPECT_NEAR(batch_loss / d.size(), epoch_loss, 1e-9);
    EXPECT_EQ(static_cast<double>(batch_correct) / d.size(), epoch_accuracy);
  }
}

TEST(Trainer, TrainBatchRejectsBadInput) {
  TrainOptions o;
  o.model = "flatten linear(10)";
  auto t = Make(o);
  const Dataset& d = FashionMnistSubset(Split::kTrain);
  Status s = t->TrainBatch(d.images.data(), d.labels.data(), 0).status();
  EXPECT_NE(std::string(s.message()).find("count=0"), std::string::npos);
  std::vector<uint8_t> labels(d.labels.begin(), d.labels.begin() + 4);
  labels[2] = 10;
  s = t->TrainBatch(d.images.data(), labels.data(), 4).status();
  EXPECT_NE(std::string(s.message()).find("label[2]=10"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(t->step(), 0) << "a rejected batch takes no step";
  TrainOptions wild = o;
  wild.optimizer = "sgd:lr=1e30";
  wild.model = "mlp";
  auto w = Make(wild);
  s = OkStatus();
  for (int i = 0; i < 20 && s.ok(); ++i) {
    s = w->TrainBatch(d.images.data(), d.labels.data(), 50).status();
  }
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(s.message()).find("diverged"), std::string::npos);
}

TEST(Trainer, BadOptionsAndDataAreErrors) {
  const Dataset& d = FashionMnistSubset(Split::kTrain);
  auto create = [&](const TrainOptions& o, size_t n = 0) {
    return Trainer::Create(o, d.images.data(), d.labels.data(), n ? n : d.size(),
                           {28, 28, 1})
        .status();
  };
  TrainOptions o;
  o.batch = 0;
  EXPECT_NE(std::string(create(o).message()).find("batch=0"), std::string::npos);
  o = TrainOptions();
  o.model = "linear(10) softmax";
  EXPECT_NE(std::string(create(o).message()).find("softmax"), std::string::npos);
  o = TrainOptions();
  o.optimizer = "adam:lr=-1";
  EXPECT_EQ(create(o).code(), StatusCode::kInvalidArgument);
  o = TrainOptions();
  o.schedule = "cosine:total=0";
  EXPECT_EQ(create(o).code(), StatusCode::kInvalidArgument);
  o = TrainOptions();
  o.model = "flatten linear(3)";  // 3 classes, labels up to 9
  EXPECT_NE(std::string(create(o).message()).find("3 classes"), std::string::npos);
  o = TrainOptions();
  o.model = "conv(2,3)";
  EXPECT_NE(std::string(create(o).message()).find("needs [classes]"),
            std::string::npos);
}

TEST(Trainer, DivergenceIsReported) {
  TrainOptions o;
  o.model = "mlp";
  o.optimizer = "sgd:lr=1e30";
  auto t = Make(o);
  Status s = OkStatus();
  for (int e = 0; e < 3 && s.ok(); ++e) s = t->TrainEpoch().status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(s.message()).find("diverged"), std::string::npos);
}

}  // namespace
}  // namespace train
}  // namespace sparrow
