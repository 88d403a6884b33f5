// The training loop on the committed Fashion-MNIST subset: it learns, it is
// deterministic (same seed and threads: bit-identical parameters), and bad
// options are errors.
#include "trainer/train.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "trainer/data/mnist.h"
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
