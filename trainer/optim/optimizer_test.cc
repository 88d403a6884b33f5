// trainer/optim/optimizer.h, the arithmetic: each optimizer against a
// double-precision reference written from the update rules, against
// torch.optim's own numbers, and by hand; determinism; weight decay and the
// decay flag; the lr override; aborts on a changed model.
#include "trainer/optim/optimizer.h"

#include <math.h>
#include <string.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "trainer/param.h"

namespace sparrow {
namespace train {
namespace {

// A separable quadratic, loss = sum a/2 (p - c)^2, so grad = a (p - c) and
// every step feeds back into the next gradient. w decays, b does not.
const std::vector<double> kWa = {0.5, 2.0, 1.5, 0.25},
                          kWc = {1.0, -0.5, 0.25, 3.0};
const std::vector<double> kBa = {1.0, 3.0}, kBc = {-2.0, 0.5};
const std::vector<double> kW0 = {0.3, 0.7, -1.2, 2.0}, kB0 = {0.1, -0.4};

struct Model {
  Model() : w("w", {2, 2}), b("b", {2}, /*decay_=*/false) {
    for (size_t i = 0; i < 4; ++i) w.value[i] = static_cast<float>(kW0[i]);
    for (size_t i = 0; i < 2; ++i) b.value[i] = static_cast<float>(kB0[i]);
  }
  void Grad() {
    for (size_t i = 0; i < 4; ++i) {
      w.grad[i] = static_cast<float>(kWa[i]) *
                  (w.value[i] - static_cast<float>(kWc[i]));
    }
    for (size_t i = 0; i < 2; ++i) {
      b.grad[i] = static_cast<float>(kBa[i]) *
                  (b.value[i] - static_cast<float>(kBc[i]));
    }
  }
  std::vector<float> Values() const {
    std::vector<float> v = w.value;
    v.insert(v.end(), b.value.begin(), b.value.end());
    return v;
  }
  std::vector<Param*> Params() { return {&w, &b}; }
  Param w, b;
};

std::unique_ptr<Optimizer> MustCreate(const std::string& spec) {
  StatusOr<std::unique_ptr<Optimizer>> opt = Optimizer::Create(spec);
  EXPECT_TRUE(opt.ok()) << spec << ": " << opt.status().message();
  if (!opt.ok()) return nullptr;
  return std::move(opt).value();
}

// Runs `steps` steps with lr(t) = lrs[t] if given, else the options' lr.
std::vector<float> Train(Optimizer& opt, int steps,
                         const std::vector<float>& lrs = {}) {
  Model m;
  for (int t = 0; t < steps; ++t) {
    m.Grad();
    if (lrs.empty()) {
      opt.Step(m.Params());
    } else {
      opt.Step(m.Params(), lrs[t]);
    }
  }
  return m.Values();
}

// The reference: the update rules of optimizer.h in double, one element at a
// time. Hyper-parameters are the float values the optimizer holds.
struct RefOptions {
  std::string kind;  // "sgd", "adam", "adamw"
  double lr = 0, momentum = 0, wd = 0, beta1 = 0, beta2 = 0, eps = 0;
  bool nesterov = false;
};

std::vector<double> RunReference(const RefOptions& o, int steps,
                                 const std::vector<float>& lrs = {}) {
  std::vector<double> p = kW0, a = kWa, c = kWc;
  p.insert(p.end(), kB0.begin(), kB0.end());
  a.insert(a.end(), kBa.begin(), kBa.end());
  c.insert(c.end(), kBc.begin(), kBc.end());
  std::vector<double> buf(p.size(), 0.0), m1(p.size(), 0.0), m2(p.size(), 0.0);
  for (int t = 1; t <= steps; ++t) {
    const double lr = lrs.empty() ? o.lr : double{lrs[t - 1]};
    for (size_t i = 0; i < p.size(); ++i) {
      const double wd = i < 4 ? o.wd : 0.0;  // b has decay = false
      double g = a[i] * (p[i] - c[i]);
      if (o.kind == "sgd") {
        g += wd * p[i];
        if (o.momentum != 0) {
          buf[i] = t == 1 ? g : o.momentum * buf[i] + g;
          g = o.nesterov ? g + o.momentum * buf[i] : buf[i];
        }
        p[i] -= lr * g;
        continue;
      }
      if (o.kind == "adamw") {
        p[i] *= 1 - lr * wd;
      } else {
        g += wd * p[i];
      }
      m1[i] = o.beta1 * m1[i] + (1 - o.beta1) * g;
      m2[i] = o.beta2 * m2[i] + (1 - o.beta2) * g * g;
      const double m_hat = m1[i] / (1 - pow(o.beta1, t));
      const double v_hat = m2[i] / (1 - pow(o.beta2, t));
      p[i] -= lr * m_hat / (sqrt(v_hat) + o.eps);
    }
  }
  return p;
}

// Float against double: each step rounds ~10 operations per element to float
// (relative 6e-8 each) and the quadratic feeds errors back with a factor
// |1 - lr a| <= 1, so after 8 steps the error stays below ~1e-6 relative;
// measured max is 2.4e-7. 2e-6 relative (to max(1, |ref|)) leaves room but
// catches any wrong term (they change values by >= 1e-4).
void ExpectNearReference(const std::vector<float>& got,
                         const std::vector<double>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 2e-6 * fmax(1.0, fabs(want[i])))
        << what << " element " << i;
  }
}

TEST(OptimizerTest, SgdByHand) {
  // p = 0.3, g = 0.5 * (0.3 - 1) = -0.35, lr = 0.1: p = 0.3 + 0.035 = 0.335.
  std::unique_ptr<Optimizer> opt = MustCreate("sgd:lr=0.1");
  Model m;
  m.Grad();
  opt->Step(m.Params());
  EXPECT_FLOAT_EQ(m.w.value[0], 0.335f);
  // With momentum 0.9 the second step moves by lr (0.9 g1 + g2).
  opt = MustCreate("sgd:lr=0.1,momentum=0.9");
  Model n;
  n.Grad();
  opt->Step(n.Params());
  const float g1 = n.w.grad[0];
  n.Grad();
  const float g2 = n.w.grad[0];
  opt->Step(n.Params());
  EXPECT_FLOAT_EQ(n.w.value[0], 0.3f - 0.1f * g1 - 0.1f * (0.9f * g1 + g2));
}

TEST(OptimizerTest, AdamFirstStepIsLrTimesSign) {
  // At t = 1, m_hat = g and v_hat = g^2: the step is lr g / (|g| + eps).
  std::unique_ptr<Optimizer> opt = MustCreate("adam:lr=0.01,eps=1e-8");
  Model m;
  m.Grad();
  opt->Step(m.Params());
  for (size_t i = 0; i < 4; ++i) {
    const double g = kWa[i] * (kW0[i] - kWc[i]);
    EXPECT_NEAR(m.w.value[i], kW0[i] - 0.01 * g / (fabs(g) + 1e-8), 1e-7);
  }
}

TEST(OptimizerTest, SgdMatchesReference) {
  const float lr = 0.1f, mom = 0.9f, wd = 0.01f;
  struct Case {
    const char* spec;
    RefOptions ref;
  } cases[] = {
      {"sgd:lr=0.1", {"sgd", lr}},
      {"sgd:lr=0.1,wd=0.01", {"sgd", lr, 0, wd}},
      {"sgd:lr=0.1,momentum=0.9", {"sgd", lr, mom}},
      {"sgd:lr=0.1,momentum=0.9,wd=0.01", {"sgd", lr, mom, wd}},
      {"sgd:lr=0.1,momentum=0.9,nesterov=1",
       {"sgd", lr, mom, 0, 0, 0, 0, true}},
      {"sgd:lr=0.1,momentum=0.9,wd=0.01,nesterov=1",
       {"sgd", lr, mom, wd, 0, 0, 0, true}},
  };
  for (const Case& c : cases) {
    std::unique_ptr<Optimizer> opt = MustCreate(c.spec);
    ExpectNearReference(Train(*opt, 8), RunReference(c.ref, 8), c.spec);
  }
}

TEST(OptimizerTest, AdamAndAdamWMatchReference) {
  const float lr = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  struct Case {
    const char* spec;
    RefOptions ref;
  } cases[] = {
      {"adam:lr=0.01", {"adam", lr, 0, 0, b1, b2, eps}},
      {"adam:lr=0.01,wd=0.1", {"adam", lr, 0, 0.1f, b1, b2, eps}},
      {"adamw:lr=0.01,wd=0", {"adamw", lr, 0, 0, b1, b2, eps}},
      {"adamw:lr=0.01", {"adamw", lr, 0, 0.01f, b1, b2, eps}},
      {"adamw:lr=0.01,beta1=0.8,beta2=0.99,eps=1e-6,wd=0.25",
       {"adamw", lr, 0, 0.25f, 0.8f, 0.99f, 1e-6f}},
      {"adamw:lr=0.01,beta1=0,beta2=0,wd=0.1",
       {"adamw", lr, 0, 0.1f, 0, 0, eps}},
  };
  for (const Case& c : cases) {
    std::unique_ptr<Optimizer> opt = MustCreate(c.spec);
    ExpectNearReference(Train(*opt, 8), RunReference(c.ref, 8), c.spec);
  }
}

// torch 1.13 (Debian's python3-torch), CPU, one thread, float32, six steps of
// the quadratic above with hyper-parameters given as the same float values,
// w in a param group with the weight decay and b in one with 0. Made by
// running this Python and pasting its output:
//   f = lambda x: float(np.float32(x))
//   a = torch.tensor([0.5, 2.0, 1.5, 0.25])
//   c = torch.tensor([1.0, -0.5, 0.25, 3.0])
//   ab, cb = torch.tensor([1.0, 3.0]), torch.tensor([-2.0, 0.5])
//   w = torch.tensor([0.3, 0.7, -1.2, 2.0], requires_grad=True)
//   b = torch.tensor([0.1, -0.4], requires_grad=True)
//   opt = torch.optim.AdamW([{"params": [w], "weight_decay": f(0.25)},
//                            {"params": [b], "weight_decay": 0.0}],
//                           lr=f(0.01), betas=(f(0.8), f(0.99)), eps=f(1e-6))
//   for _ in range(6):
//     with torch.no_grad(): w.grad = a * (w - c); b.grad = ab * (b - cb)
//     opt.step()
//   print(["%.9g" % x for x in w.tolist() + b.tolist()])
// (torch.optim.SGD(..., lr=f(0.1), momentum=f(0.9)[, nesterov=True]) and
// torch.optim.Adam(..., betas=(f(0.9), f(0.999)), eps=f(1e-8)) likewise.)
TEST(OptimizerTest, MatchesTorch) {
  struct Case {
    const char* spec;
    std::vector<float> torch;
  } cases[] = {
      {"sgd:lr=0.1,momentum=0.9,wd=0.01,nesterov=0",
       {0.819668829f, -1.34840524f, 1.06874979f, 2.37556696f, -2.5388763f,
        1.1000551f}},
      {"sgd:lr=0.1,momentum=0.9,wd=0.01,nesterov=1",
       {0.876314223f, -0.972711384f, 0.837949872f, 2.43941426f, -2.53525591f,
        0.674572229f}},
      {"adam:lr=0.01,beta1=0.9,beta2=0.999,eps=1e-08,wd=0.1",
       {0.359843612f, 0.640066206f, -1.14005375f, 2.0591805f, 0.0400361754f,
        -0.340088069f}},
      {"adamw:lr=0.01,beta1=0.8,beta2=0.99,eps=1e-06,wd=0.25",
       {0.354949117f, 0.630088985f, -1.12262285f, 2.02973819f, 0.0400717333f,
        -0.340171993f}},
  };
  for (const Case& c : cases) {
    std::unique_ptr<Optimizer> opt = MustCreate(c.spec);
    const std::vector<float> got = Train(*opt, 6);
    ASSERT_EQ(got.size(), c.torch.size());
    for (size_t i = 0; i < got.size(); ++i) {
      // Measured: adam bit-identical, sgd and adamw within 1 ulp. torch's
      // AVX2 kernels fuse add_(x, alpha=a) into an FMA; we round a*x first
      // (-ffp-contract=off, the same bits on every machine).
      const float ulp =
          nextafterf(fabsf(c.torch[i]), INFINITY) - fabsf(c.torch[i]);
      EXPECT_LE(fabsf(got[i] - c.torch[i]), 2 * ulp)
          << c.spec << " element " << i;
    }
  }
}

TEST(OptimizerTest, LrArgumentOverridesOptions) {
  const std::vector<float> lrs = {0.01f, 0.02f, 0.005f, 0.0f, 0.03f, 0.01f};
  for (const char* spec : {"sgd:lr=0.5,momentum=0.9", "adam:lr=0.5,wd=0.1",
                           "adamw:lr=0.5,wd=0.25"}) {
    std::unique_ptr<Optimizer> opt = MustCreate(spec);
    RefOptions ref;
    ref.kind = opt->kind();
    ref.momentum = 0.9f;
    ref.wd = ref.kind == "sgd" ? 0.0 : ref.kind == "adam" ? 0.1f : 0.25f;
    ref.beta1 = 0.9f, ref.beta2 = 0.999f, ref.eps = 1e-8f;
    ExpectNearReference(Train(*opt, 6, lrs), RunReference(ref, 6, lrs), spec);
  }
}

TEST(OptimizerTest, DecayFlagOffMeansNoDecay) {
  // b has decay = false: heavy weight decay must not touch it.
  const char* specs[][2] = {
      {"sgd:lr=0.1,momentum=0.5", "sgd:lr=0.1,momentum=0.5,wd=0.5"},
      {"adam:lr=0.01", "adam:lr=0.01,wd=0.5"},
      {"adamw:lr=0.01,wd=0", "adamw:lr=0.01,wd=0.5"}};
  for (const auto& s : specs) {
    const std::vector<float> plain = Train(*MustCreate(s[0]), 5);
    const std::vector<float> decayed = Train(*MustCreate(s[1]), 5);
    EXPECT_EQ(memcmp(plain.data() + 4, decayed.data() + 4, 2 * sizeof(float)),
              0)
        << s[1];
    EXPECT_NE(plain[0], decayed[0]) << s[1] << ": w decays";
  }
}

TEST(OptimizerTest, BitIdenticalAcrossRuns) {
  for (const char* spec : {"sgd:lr=0.1,momentum=0.9,nesterov=1,wd=0.01",
                           "adam:lr=0.01,wd=0.1", "adamw:lr=0.01"}) {
    const std::vector<float> a = Train(*MustCreate(spec), 20);
    const std::vector<float> b = Train(*MustCreate(spec), 20);
    EXPECT_EQ(memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << spec;
  }
}

TEST(OptimizerTest, CountsSteps) {
  std::unique_ptr<Optimizer> opt = MustCreate("adamw");
  EXPECT_EQ(opt->steps(), 0);
  Train(*opt, 3);
  EXPECT_EQ(opt->steps(), 3);
}

TEST(OptimizerDeathTest, ChangedModelAborts) {
  std::unique_ptr<Optimizer> opt = MustCreate("adamw");
  Model m;
  opt->Step(m.Params());
  Param renamed("w2", {2, 2});
  Param resized("w", {4, 2});
  EXPECT_DEATH(opt->Step({&renamed, &m.b}), "");
  EXPECT_DEATH(opt->Step({&resized, &m.b}), "");
  EXPECT_DEATH(opt->Step({&m.w}), "");
  EXPECT_DEATH(opt->Step({&m.b, &m.w}), "");
  m.w.grad.resize(3);
  EXPECT_DEATH(opt->Step(m.Params()), "");
}

TEST(OptimizerDeathTest, BadLrAborts) {
  std::unique_ptr<Optimizer> opt = MustCreate("sgd");
  Model m;
  EXPECT_DEATH(opt->Step(m.Params(), -1.0f), "");
  EXPECT_DEATH(opt->Step(m.Params(), NAN), "");
  EXPECT_DEATH(opt->Step(m.Params(), INFINITY), "");
}

}  // namespace
}  // namespace train
}  // namespace sparrow
