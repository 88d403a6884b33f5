// trainer/optim/optimizer.h, the boundaries: Create by options and by spec
// with every kind of bad hyper-parameter, ToString round trips, and
// SaveState/LoadState (resuming is exact; every kind of bad state is refused
// and leaves the optimizer unchanged).
#include <math.h>
#include <string.h>

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "trainer/optim/optimizer.h"
#include "trainer/param.h"

namespace sparrow {
namespace train {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Optimizer> MustCreate(const std::string& spec) {
  StatusOr<std::unique_ptr<Optimizer>> opt = Optimizer::Create(spec);
  EXPECT_TRUE(opt.ok()) << spec << ": " << opt.status().message();
  if (!opt.ok()) return nullptr;
  return std::move(opt).value();
}

std::string CreateError(const std::string& spec) {
  StatusOr<std::unique_ptr<Optimizer>> opt = Optimizer::Create(spec);
  EXPECT_FALSE(opt.ok()) << spec;
  if (opt.ok()) return "";
  EXPECT_EQ(opt.status().code(), StatusCode::kInvalidArgument) << spec;
  return opt.status().message();
}

TEST(OptimizerCreateTest, Defaults) {
  EXPECT_EQ(MustCreate("sgd")->ToString(),
            "sgd:lr=0.01,momentum=0,wd=0,nesterov=0");
  EXPECT_EQ(MustCreate("adam")->ToString(),
            "adam:lr=0.001,beta1=0.9,beta2=0.999,eps=1e-08,wd=0");
  EXPECT_EQ(MustCreate("adamw")->ToString(),
            "adamw:lr=0.001,beta1=0.9,beta2=0.999,eps=1e-08,wd=0.01");
  EXPECT_STREQ(MustCreate("adamw")->kind(), "adamw");
  EXPECT_FLOAT_EQ(MustCreate("adam:lr=0.5")->lr(), 0.5f);
}

TEST(OptimizerCreateTest, ToStringRoundTrips) {
  for (const char* spec : {"sgd:lr=0.1,momentum=0.9,wd=0.001,nesterov=1",
                           "adam:lr=3e-4,beta1=0.5,beta2=0.9,eps=1e-6,wd=0.1",
                           "adamw:lr=1e-3,wd=0", "adamw:beta1=0"}) {
    const std::string canonical = MustCreate(spec)->ToString();
    EXPECT_EQ(MustCreate(canonical)->ToString(), canonical) << spec;
  }
}

TEST(OptimizerCreateTest, TypedOptions) {
  SgdOptions sgd;
  sgd.momentum = 0.9f;
  sgd.nesterov = true;
  StatusOr<std::unique_ptr<Optimizer>> opt = Optimizer::Create(sgd);
  ASSERT_TRUE(opt.ok()) << opt.status().message();
  EXPECT_STREQ((*opt)->kind(), "sgd");
  StatusOr<std::unique_ptr<Optimizer>> w = Optimizer::Create(AdamWOptions());
  ASSERT_TRUE(w.ok());
  EXPECT_STREQ((*w)->kind(), "adamw");
  StatusOr<std::unique_ptr<Optimizer>> a = Optimizer::Create(AdamOptions());
  ASSERT_TRUE(a.ok());
  EXPECT_STREQ((*a)->kind(), "adam");
}

TEST(OptimizerCreateTest, BadTypedOptions) {
  struct {
    SgdOptions o;
    const char* error;
  } sgd_cases[] = {
      {{-0.1f}, "lr=-0.1"},
      {{NAN}, "lr=nan"},
      {{INFINITY}, "lr=inf"},
      {{0.1f, -0.5f}, "momentum=-0.5"},
      {{0.1f, 1.0f}, "momentum=1"},
      {{0.1f, NAN}, "momentum=nan"},
      {{0.1f, 0.0f, -1.0f}, "weight_decay=-1"},
      {{0.1f, 0.0f, 0.0f, true}, "nesterov needs momentum > 0"},
  };
  for (const auto& c : sgd_cases) {
    const Status s = Validate(c.o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.error;
    EXPECT_THAT(s.message(), HasSubstr(c.error));
    EXPECT_FALSE(Optimizer::Create(c.o).ok()) << c.error;
  }
  struct {
    AdamWOptions o;
    const char* error;
  } adam_cases[] = {
      {{-1e-3f}, "lr=-0.001"},
      {{1e-3f, 1.0f}, "beta1=1"},
      {{1e-3f, -0.1f}, "beta1=-0.1"},
      {{1e-3f, NAN}, "beta1=nan"},
      {{1e-3f, 0.9f, 1.0f}, "beta2=1"},
      {{1e-3f, 0.9f, 1.5f}, "beta2=1.5"},
      {{1e-3f, 0.9f, 0.999f, 0.0f}, "eps=0"},
      {{1e-3f, 0.9f, 0.999f, -1e-8f}, "eps=-1e-08"},
      {{1e-3f, 0.9f, 0.999f, NAN}, "eps=nan"},
      {{1e-3f, 0.9f, 0.999f, 1e-8f, -0.01f}, "weight_decay=-0.01"},
      {{1e-3f, 0.9f, 0.999f, 1e-8f, NAN}, "weight_decay=nan"},
  };
  for (const auto& c : adam_cases) {
    const Status w = Validate(c.o);
    EXPECT_THAT(w.message(), HasSubstr(c.error));
    EXPECT_THAT(w.message(), HasSubstr("adamw"));
    const AdamOptions a{c.o.lr, c.o.beta1, c.o.beta2, c.o.eps,
                        c.o.weight_decay};
    EXPECT_THAT(Validate(a).message(), HasSubstr(c.error));
    EXPECT_FALSE(Optimizer::Create(a).ok()) << c.error;
    EXPECT_FALSE(Optimizer::Create(c.o).ok()) << c.error;
  }
}

TEST(OptimizerCreateTest, BadSpecs) {
  EXPECT_THAT(CreateError("rmsprop"),
              HasSubstr("unknown optimizer \"rmsprop\""));
  EXPECT_THAT(CreateError("SGD"), HasSubstr("\"SGD\""));
  EXPECT_THAT(CreateError(""), HasSubstr("optimizer \"\""));
  EXPECT_THAT(CreateError("sgd:"), HasSubstr("nothing after ':'"));
  EXPECT_THAT(CreateError("sgd:lr"), HasSubstr("\"lr\" is not key=value"));
  EXPECT_THAT(CreateError("sgd:lr="), HasSubstr("\"lr=\" is not key=value"));
  EXPECT_THAT(CreateError("sgd:=1"), HasSubstr("is not key=value"));
  EXPECT_THAT(CreateError("sgd:lr=0.1,"), HasSubstr("\"\" is not key=value"));
  EXPECT_THAT(CreateError("sgd:lr=0.1, momentum=0.9"), HasSubstr("no spaces"));
  EXPECT_THAT(CreateError("sgd:lr=0.1,lr=0.2"),
              HasSubstr("\"lr\" given twice"));
  EXPECT_THAT(CreateError("sgd:lr=fast"), HasSubstr("lr=fast is not a finite"));
  EXPECT_THAT(CreateError("sgd:lr=0.1x"), HasSubstr("lr=0.1x"));
  EXPECT_THAT(CreateError("sgd:lr=nan"), HasSubstr("lr=nan"));
  EXPECT_THAT(CreateError("sgd:lr=1e50"), HasSubstr("lr=1e50"));
  EXPECT_THAT(CreateError("sgd:nesterov=yes"), HasSubstr("nesterov=yes"));
  EXPECT_THAT(CreateError("sgd:beta1=0.9"),
              HasSubstr("unknown key \"beta1\": sgd takes lr, momentum, wd, "
                        "nesterov"));
  EXPECT_THAT(CreateError("adamw:momentum=0.9"),
              HasSubstr("unknown key \"momentum\""));
  // Validate's errors come back quoting the spec.
  const std::string e = CreateError("adamw:beta2=1");
  EXPECT_THAT(e, HasSubstr("optimizer \"adamw:beta2=1\""));
  EXPECT_THAT(e, HasSubstr("beta2=1 must be finite and in [0, 1)"));
  EXPECT_THAT(CreateError("sgd:lr=-1"), HasSubstr("lr=-1"));
  EXPECT_THAT(CreateError("sgd:nesterov=1"), HasSubstr("nesterov needs"));
}

// Two params, trained on a fixed quadratic.
struct Model {
  Model() : w("w", {3}), b("b", {2}, false) {
    w.value = {0.5f, -1.0f, 2.0f};
    b.value = {0.25f, 0.0f};
  }
  void Grad() {
    for (size_t i = 0; i < 3; ++i) w.grad[i] = (i + 1) * (w.value[i] - 1.0f);
    for (size_t i = 0; i < 2; ++i) b.grad[i] = b.value[i] + 0.5f;
  }
  void Steps(Optimizer& opt, int n) {
    for (int i = 0; i < n; ++i) {
      Grad();
      opt.Step(Params(), 0.05f);
    }
  }
  std::vector<Param*> Params() { return {&w, &b}; }
  std::vector<float> Values() const {
    std::vector<float> v = w.value;
    v.insert(v.end(), b.value.begin(), b.value.end());
    return v;
  }
  Param w, b;
};

std::vector<uint8_t> Save(const Optimizer& opt) {
  std::vector<uint8_t> bytes = {0xAA};  // SaveState appends
  opt.SaveState(&bytes);
  EXPECT_EQ(bytes.size(), 1 + opt.StateBytes());
  return std::vector<uint8_t>(bytes.begin() + 1, bytes.end());
}

TEST(OptimizerStateTest, ResumeIsExact) {
  for (const char* spec : {"sgd:lr=0.1", "sgd:momentum=0.9,nesterov=1,wd=0.1",
                           "adam:wd=0.1", "adamw:wd=0.3"}) {
    Model whole;
    std::unique_ptr<Optimizer> opt = MustCreate(spec);
    whole.Steps(*opt, 7);

    Model first;
    std::unique_ptr<Optimizer> a = MustCreate(spec);
    first.Steps(*a, 3);
    const std::vector<uint8_t> state = Save(*a);
    std::unique_ptr<Optimizer> b = MustCreate(spec);
    const Status s = b->LoadState(state.data(), state.size(), first.Params());
    ASSERT_TRUE(s.ok()) << spec << ": " << s.message();
    EXPECT_EQ(b->steps(), 3);
    first.Steps(*b, 4);
    EXPECT_EQ(first.Values(), whole.Values()) << spec;
    EXPECT_EQ(Save(*b), Save(*opt)) << spec;
  }
}

TEST(OptimizerStateTest, LosingTheStateChangesTheResult) {
  // So ResumeIsExact can fail: momentum and moments matter after a resume.
  for (const char* spec : {"sgd:momentum=0.9", "adam", "adamw"}) {
    Model whole;
    whole.Steps(*MustCreate(spec), 7);
    Model restarted;
    restarted.Steps(*MustCreate(spec), 3);
    restarted.Steps(*MustCreate(spec), 4);
    EXPECT_NE(restarted.Values(), whole.Values()) << spec;
  }
}

TEST(OptimizerStateTest, UnboundStateHasNoParams) {
  std::unique_ptr<Optimizer> a = MustCreate("adam");
  const std::vector<uint8_t> state = Save(*a);
  EXPECT_TRUE(
      MustCreate("adam")->LoadState(state.data(), state.size(), {}).ok());
  Model m;
  const Status s =
      MustCreate("adam")->LoadState(state.data(), state.size(), m.Params());
  EXPECT_THAT(s.message(), HasSubstr("num_params=0, the model has 2"));
}

// LoadState that must fail with `error`, leaving `opt` as it was.
void ExpectLoadFails(Optimizer& opt, const std::vector<uint8_t>& bytes,
                     const std::vector<Param*>& params, const char* error) {
  const std::vector<uint8_t> before = Save(opt);
  const Status s = opt.LoadState(bytes.data(), bytes.size(), params);
  EXPECT_FALSE(s.ok()) << error;
  EXPECT_THAT(s.message(), HasSubstr(error));
  EXPECT_EQ(Save(opt), before) << error << ": the state changed";
}

TEST(OptimizerStateTest, MismatchesAreRefused) {
  Model m;
  std::unique_ptr<Optimizer> adam = MustCreate("adam");
  m.Steps(*adam, 2);
  const std::vector<uint8_t> state = Save(*adam);
  Model other;
  std::unique_ptr<Optimizer> target = MustCreate("adam");
  other.Steps(*target, 1);

  ExpectLoadFails(*MustCreate("adamw"), state, m.Params(),
                  "kind=\"adam\", but this optimizer is \"adamw\"");
  std::unique_ptr<Optimizer> sgd = MustCreate("sgd:momentum=0.9");
  m.Steps(*sgd, 1);
  const std::vector<uint8_t> sgd_state = Save(*sgd);
  ExpectLoadFails(*MustCreate("sgd"), sgd_state, m.Params(), "buffers=1");
  ExpectLoadFails(*target, state, {&other.w}, "num_params=2, the model has 1");
  Param renamed("v", {3});
  ExpectLoadFails(*target, state, {&renamed, &other.b},
                  "param 0 is \"w\", the model's is \"v\"");
  Param resized("w", {4});
  ExpectLoadFails(*target, state, {&resized, &other.b},
                  "param \"w\" has size=3, the model's has 4");
}

TEST(OptimizerStateTest, CorruptBytesAreRefused) {
  Model m;
  std::unique_ptr<Optimizer> adam = MustCreate("adam");
  m.Steps(*adam, 2);
  const std::vector<uint8_t> state = Save(*adam);
  std::unique_ptr<Optimizer> target = MustCreate("adam");
  // Every truncation.
  for (size_t n = 0; n < state.size(); ++n) {
    const std::vector<uint8_t> cut(state.begin(), state.begin() + n);
    ExpectLoadFails(*target, cut, m.Params(), "truncated");
  }
  std::vector<uint8_t> longer = state;
  longer.push_back(0);
  ExpectLoadFails(*target, longer, m.Params(), "1 unexpected bytes");

  std::vector<uint8_t> bad = state;
  bad[0] = 2;  // version
  ExpectLoadFails(*target, bad, m.Params(), "version=2, expected 1");
  // version, "adam", buffers, steps: the steps' top byte makes it negative.
  const size_t steps_at = 4 + 4 + 4 + 4;
  bad = state;
  bad[steps_at + 7] = 0x80;
  ExpectLoadFails(*target, bad, m.Params(), "steps=");
  // A huge name length.
  const size_t name_at = steps_at + 8 + 4;
  bad = state;
  bad[name_at + 3] = 0x7f;
  ExpectLoadFails(*target, bad, m.Params(), "param name is 2130706433 bytes");
  // NaN in the first moment of w; a negative second moment.
  const size_t w_state_at = name_at + 4 + 1 + 8;
  bad = state;
  const float nan = NAN;
  memcpy(&bad[w_state_at], &nan, 4);
  ExpectLoadFails(*target, bad, m.Params(),
                  "param \"w\" buffer 0 element 0 is nan");
  bad = state;
  const float negative = -1.0f;
  memcpy(&bad[w_state_at + 3 * 4 + 4], &negative, 4);
  ExpectLoadFails(*target, bad, m.Params(),
                  "param \"w\" buffer 1 element 1 is -1");
}

}  // namespace
}  // namespace train
}  // namespace sparrow
