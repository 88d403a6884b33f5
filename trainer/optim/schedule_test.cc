// trainer/optim/schedule.h: each schedule at its boundary steps and against
// its formula in double, ToString round trips, and bad parameters and specs.
#include "trainer/optim/schedule.h"

#include <math.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sparrow {
namespace train {
namespace {

using ::testing::HasSubstr;

Schedule MustParse(const std::string& spec, float lr) {
  StatusOr<Schedule> s = Schedule::Parse(spec, lr);
  EXPECT_TRUE(s.ok()) << spec << ": " << s.status().message();
  if (!s.ok()) return std::move(Schedule::Constant(0.0f)).value();
  return std::move(s).value();
}

std::string ParseError(const std::string& spec, float lr = 0.1f) {
  StatusOr<Schedule> s = Schedule::Parse(spec, lr);
  EXPECT_FALSE(s.ok()) << spec;
  if (s.ok()) return "";
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  return s.status().message();
}

TEST(ScheduleTest, Constant) {
  const Schedule s = MustParse("constant", 0.25f);
  EXPECT_EQ(s.kind(), Schedule::Kind::kConstant);
  for (int64_t step :
       {int64_t{0}, int64_t{1}, int64_t{1000}, int64_t{1} << 40}) {
    EXPECT_EQ(s.LearningRate(step), 0.25f);
  }
  EXPECT_EQ(s.ToString(), "constant");
}

TEST(ScheduleTest, StepDecay) {
  const Schedule s = MustParse("step:every=1000,gamma=0.5", 0.1f);
  EXPECT_EQ(s.kind(), Schedule::Kind::kStep);
  EXPECT_EQ(s.LearningRate(0), 0.1f);
  EXPECT_EQ(s.LearningRate(999), 0.1f);
  EXPECT_EQ(s.LearningRate(1000), 0.05f);
  EXPECT_EQ(s.LearningRate(1999), 0.05f);
  EXPECT_EQ(s.LearningRate(2000), 0.025f);
  EXPECT_EQ(s.LearningRate(10000), static_cast<float>(0.1f * pow(0.5, 10)));
  // Far out it underflows to 0, never to NaN.
  EXPECT_EQ(s.LearningRate(int64_t{1} << 40), 0.0f);
  // gamma defaults to 0.1 (torch's StepLR), every=1 decays every step.
  const Schedule d = MustParse("step:every=1", 1.0f);
  EXPECT_EQ(d.LearningRate(0), 1.0f);
  EXPECT_EQ(d.LearningRate(2), static_cast<float>(0.1f * double{0.1f}));
  EXPECT_EQ(MustParse("step:every=3,gamma=1", 0.5f).LearningRate(100), 0.5f);
}

TEST(ScheduleTest, CosineWithWarmup) {
  const float lr = 1e-3f, min_lr = 1e-5f;
  const Schedule s = MustParse("cosine:warmup=100,total=5000,min=1e-5", lr);
  EXPECT_EQ(s.kind(), Schedule::Kind::kCosine);
  // Linear warm-up from lr/warmup, reaching lr at the last warm-up step.
  EXPECT_FLOAT_EQ(s.LearningRate(0), lr / 100);
  EXPECT_FLOAT_EQ(s.LearningRate(49), lr / 2);
  EXPECT_EQ(s.LearningRate(99), lr);
  EXPECT_EQ(s.LearningRate(100), lr);  // the decay starts at the peak
  // Half-way through the decay: the mean of lr and min.
  EXPECT_FLOAT_EQ(s.LearningRate(100 + 2450), (lr + min_lr) / 2);
  EXPECT_FLOAT_EQ(s.LearningRate(4999),
                  min_lr + (lr - min_lr) * 0.5 * (1 + cos(M_PI * 4899 / 4900)));
  EXPECT_EQ(s.LearningRate(5000), min_lr);
  EXPECT_EQ(s.LearningRate(1000000), min_lr);
  // Against the formula at every step, and monotone after the warm-up.
  float prev = lr;
  for (int64_t t = 100; t < 5000; ++t) {
    const double want =
        double{min_lr} +
        (double{lr} - min_lr) * 0.5 * (1 + cos(M_PI * (t - 100) / 4900.0));
    ASSERT_EQ(s.LearningRate(t), static_cast<float>(want)) << t;
    ASSERT_LE(s.LearningRate(t), prev) << t;
    prev = s.LearningRate(t);
  }
}

TEST(ScheduleTest, CosineDefaults) {
  // No warm-up, min 0: starts at lr, ends at 0.
  const Schedule s = MustParse("cosine:total=10", 2.0f);
  EXPECT_EQ(s.LearningRate(0), 2.0f);
  EXPECT_FLOAT_EQ(s.LearningRate(5), 1.0f);
  EXPECT_EQ(s.LearningRate(10), 0.0f);
  // The shortest: one warm-up step, then one step of decay.
  const Schedule t = MustParse("cosine:warmup=1,total=2,min=0.5", 1.0f);
  EXPECT_EQ(t.LearningRate(0), 1.0f);
  EXPECT_EQ(t.LearningRate(1), 1.0f);
  EXPECT_EQ(t.LearningRate(2), 0.5f);
}

TEST(ScheduleTest, ToStringRoundTrips) {
  for (const char* spec :
       {"constant", "step:every=7,gamma=0.3",
        "cosine:warmup=3,total=40,min=1e-4", "cosine:total=9"}) {
    const std::string canonical = MustParse(spec, 0.1f).ToString();
    EXPECT_EQ(MustParse(canonical, 0.1f).ToString(), canonical) << spec;
  }
  EXPECT_EQ(MustParse("cosine:total=9", 1.0f).ToString(),
            "cosine:warmup=0,total=9,min=0");
}

TEST(ScheduleTest, Factories) {
  StatusOr<Schedule> c = Schedule::Cosine(0.1f, 10, 100, 0.01f);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->base_lr(), 0.1f);
  EXPECT_EQ(c->LearningRate(9), 0.1f);
  EXPECT_THAT(Schedule::Constant(-1.0f).status().message(),
              HasSubstr("lr=-1 must be finite and >= 0"));
  EXPECT_THAT(Schedule::Constant(NAN).status().message(), HasSubstr("lr=nan"));
  EXPECT_THAT(Schedule::StepDecay(0.1f, 0, 0.5f).status().message(),
              HasSubstr("every=0 must be >= 1"));
  EXPECT_THAT(Schedule::StepDecay(0.1f, 5, 0.0f).status().message(),
              HasSubstr("gamma=0 must be in (0, 1]"));
  EXPECT_THAT(Schedule::StepDecay(0.1f, 5, 1.5f).status().message(),
              HasSubstr("gamma=1.5"));
  EXPECT_THAT(Schedule::Cosine(0.1f, -1, 10, 0).status().message(),
              HasSubstr("warmup=-1 must be >= 0"));
  EXPECT_THAT(Schedule::Cosine(0.1f, 10, 10, 0).status().message(),
              HasSubstr("total=10 must be greater than warmup=10"));
  EXPECT_THAT(Schedule::Cosine(0.1f, 0, 10, 0.2f).status().message(),
              HasSubstr("min=0.2 must be in [0, lr=0.1]"));
  EXPECT_THAT(Schedule::Cosine(0.1f, 0, 10, -0.1f).status().message(),
              HasSubstr("min=-0.1"));
  EXPECT_THAT(Schedule::Cosine(INFINITY, 0, 10, 0).status().message(),
              HasSubstr("lr=inf"));
}

TEST(ScheduleTest, BadSpecs) {
  EXPECT_THAT(ParseError("cosin:total=5"),
              HasSubstr("unknown schedule \"cosin\": expected constant, step "
                        "or cosine"));
  EXPECT_THAT(ParseError(""), HasSubstr("schedule \"\""));
  EXPECT_THAT(ParseError("constant:lr=1"),
              HasSubstr("unknown key \"lr\": constant takes none"));
  EXPECT_THAT(ParseError("step"), HasSubstr("step needs every=<value>"));
  EXPECT_THAT(ParseError("step:gamma=0.5"), HasSubstr("step needs every"));
  EXPECT_THAT(ParseError("step:every=10,gama=0.5"),
              HasSubstr("unknown key \"gama\": step takes every, gamma"));
  EXPECT_THAT(ParseError("step:every=1.5"),
              HasSubstr("every=1.5 is not a decimal integer"));
  EXPECT_THAT(ParseError("step:every=99999999999999999999"),
              HasSubstr("is not a decimal integer"));
  EXPECT_THAT(ParseError("step:every=0"), HasSubstr("every=0 must be >= 1"));
  EXPECT_THAT(ParseError("step:every=10,gamma=inf"), HasSubstr("gamma=inf"));
  EXPECT_THAT(ParseError("cosine"), HasSubstr("cosine needs total=<value>"));
  EXPECT_THAT(ParseError("cosine:warmup=100"), HasSubstr("needs total"));
  EXPECT_THAT(ParseError("cosine:warmup=100,total=100"),
              HasSubstr("total=100 must be greater than warmup=100"));
  EXPECT_THAT(ParseError("cosine:warmup=-5,total=100"),
              HasSubstr("warmup=-5 must be >= 0"));
  EXPECT_THAT(ParseError("cosine:total=100,min=1", 0.1f),
              HasSubstr("min=1 must be in [0, lr=0.1]"));
  EXPECT_THAT(ParseError("cosine:total=100,min=1e-5e"), HasSubstr("min=1e-5e"));
  EXPECT_THAT(ParseError("cosine:total=100,,min=0"),
              HasSubstr("\"\" is not key=value"));
  EXPECT_THAT(ParseError("cosine:total=10=20"), HasSubstr("no spaces"));
  EXPECT_THAT(ParseError("cosine:total=10,total=20"),
              HasSubstr("\"total\" given twice"));
  // The whole spec is quoted, so a long command line still points at it.
  EXPECT_THAT(ParseError("cosine:warmup=9,total=3"),
              HasSubstr("schedule \"cosine:warmup=9,total=3\": "));
  EXPECT_THAT(ParseError("constant", -1.0f), HasSubstr("lr=-1"));
}

TEST(ScheduleDeathTest, NegativeStepAborts) {
  const Schedule s = MustParse("constant", 0.1f);
  EXPECT_DEATH(s.LearningRate(-1), "");
}

}  // namespace
}  // namespace train
}  // namespace sparrow
