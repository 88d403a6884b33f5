// Net: spec parsing and its errors, shapes and parameter counts, the whole
// network's gradient against finite differences, batch splitting, and
// determinism.
#include "trainer/net.h"

#include <math.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "trainer/loss.h"

namespace sparrow {
namespace train {
namespace {

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = uni(rng);
  return v;
}

TEST(NetSpec, BuiltInsHaveTheirShapesAndParameterCounts) {
  StatusOr<Net> lenet = Net::FromSpec("lenet5", {28, 28, 1}, 1);
  ASSERT_TRUE(lenet.ok()) << lenet.status().ToString();
  EXPECT_EQ(lenet->output_shape(), (Shape{10}));
  // conv 156 + conv 2416 + fc 48120 + fc 10164 + fc 850 (as torch's LeNet-5).
  EXPECT_EQ(lenet->NumParameters(), 61706u);
  EXPECT_EQ(lenet->layers()[2].out, (Shape{14, 14, 6}));
  EXPECT_EQ(lenet->layers()[5].out, (Shape{5, 5, 16}));
  StatusOr<Net> mlp = Net::FromSpec("mlp", {28, 28, 1}, 1);
  ASSERT_TRUE(mlp.ok());
  EXPECT_EQ(mlp->NumParameters(), 784u * 256 + 256 + 256 * 128 + 128 + 1290);
  EXPECT_NE(lenet->Summary().find("conv1"), std::string::npos);
}

TEST(NetBuilder, BuildsWhatTheSpecBuilds) {
  NetBuilder b({28, 28, 1});
  b.Conv(6, 5, {.pad = 2}).Relu().MaxPool(2).Conv(16, 5).Relu().MaxPool(2)
      .Flatten().Linear(120).Relu().Linear(84).Relu().Linear(10);
  StatusOr<Net> built = b.Build(3);
  StatusOr<Net> parsed = Net::FromSpec("lenet5", {28, 28, 1}, 3);
  ASSERT_TRUE(built.ok() && parsed.ok()) << built.status().ToString();
  ASSERT_EQ(built->params().size(), parsed->params().size());
  for (size_t i = 0; i < built->params().size(); ++i) {
    EXPECT_EQ(built->params()[i].value, parsed->params()[i].value);
  }
  StatusOr<Net> more = NetBuilder({8, 8, 2})
                           .AvgPool(2, {.stride = 1, .pad = 1, .include_pad = true})
                           .Conv(3, 3, {.stride = 2, .dilation = 1, .bias = false})
                           .Gelu().Flatten().Dropout(0.25f).Linear(4, false)
                           .Build(1);
  ASSERT_TRUE(more.ok()) << more.status().ToString();
  EXPECT_FALSE(more->layers()[1].bias);
  EXPECT_TRUE(more->layers()[0].include_pad);
  EXPECT_FLOAT_EQ(more->layers()[4].p, 0.25f);
  // Errors come from the one parser.
  StatusOr<Net> bad = NetBuilder({4}).Conv(2, 3).Build(1);
  EXPECT_NE(std::string(bad.status().message()).find("needs an [H, W, C] input"),
            std::string::npos);
}

TEST(NetSpec, MalformedSpecsNameTheLayer) {
  struct Bad {
    const char* spec;
    Shape input;
    const char* message;
  };
  const Bad bad[] = {
      {"", {4}, "no layers"},
      {"linear", {4}, "missing out"},
      {"linear(0)", {4}, "out=0"},
      {"linear(3.5)", {4}, "out=3.5"},
      {"linear(4, bias=2)", {4}, "bias=2"},
      {"linear(4, color=1)", {4}, "unknown argument 'color'"},
      {"linear(4", {4}, "no ')'"},
      {"linear(x)", {4}, "'x' is not a number"},
      {"conv(4,3)", {8}, "needs an [H, W, C] input"},
      {"conv(4,9)", {5, 5, 1}, "smaller than the kernel"},
      {"conv(4,3,pad=3)", {5, 5, 1}, "pad=3 exceeds"},
      {"maxpool(2,pad=2)", {4, 4, 1}, "pad=2"},
      {"dropout(1.5)", {4}, "p=1.5"},
      {"gru(8)", {4}, "needs a [T, I] input"},
      {"softmax", {4}, "unknown layer 'softmax'"},
      {"linear(4) @", {4}, "unexpected '@'"},
  };
  for (const Bad& b : bad) {
    StatusOr<Net> n = Net::FromSpec(b.spec, b.input, 1);
    ASSERT_FALSE(n.ok()) << b.spec;
    EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(n.status().message()).find(b.message), std::string::npos)
        << b.spec << ": " << n.status().message();
  }
}

TEST(NetSpec, InitIsDeterministicAndSeeded) {
  StatusOr<Net> a = Net::FromSpec("mlp", {28, 28, 1}, 7);
  StatusOr<Net> b = Net::FromSpec("mlp", {28, 28, 1}, 7);
  StatusOr<Net> c = Net::FromSpec("mlp", {28, 28, 1}, 8);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->params()[0].value, b->params()[0].value);
  EXPECT_NE(a->params()[0].value, c->params()[0].value);
  const float bound = 1.0f / sqrtf(784.0f);
  for (float v : a->params()[0].value) ASSERT_LE(fabsf(v), bound);
}

// Mean softmax cross-entropy of the net on (x, labels).
double Loss(const Net& net, const std::vector<float>& x,
            const std::vector<int32_t>& labels, NetWorkspace* ws,
            std::vector<float>* probs) {
  const size_t B = labels.size();
  net.Forward(x.data(), B, ws, /*training=*/true, /*step=*/3);
  const size_t C = static_cast<size_t>(net.output_shape().back());
  probs->resize(B * C);
  return SoftmaxCrossEntropyForward(probs->data(), ws->output(), labels.data(), B, C);
}

// The whole network's backward, wiring included, against finite differences
// of its float forward: each layer is checked in double in layers_test; here
// float rounding limits the check to ~1e-2 relative.
TEST(Net, GradientMatchesFiniteDifferences) {
  const char* specs[] = {
      "conv(3,3,pad=1) tanh avgpool(2) conv(4,3,stride=2) gelu maxpool(2,stride=1) "
      "flatten dropout(0.25) linear(5) sigmoid linear(3)",
      "gru(6) tanh linear(4) flatten linear(3)"};
  const Shape inputs[] = {{12, 12, 2}, {5, 3}};
  for (int s = 0; s < 2; ++s) {
    SCOPED_TRACE(specs[s]);
    StatusOr<Net> net = Net::FromSpec(specs[s], inputs[s], 11);
    ASSERT_TRUE(net.ok()) << net.status().ToString();
    const size_t B = 3;
    std::vector<float> x = Random(B * NumElements(inputs[s]), 12);
    const std::vector<int32_t> labels = {0, 2, 1};
    NetWorkspace ws;
    std::vector<float> probs;
    Loss(*net, x, labels, &ws, &probs);
    SoftmaxCrossEntropyBackward(ws.output_grad(), probs.data(), labels.data(), B, 3);
    // The loss gradient must be zeroed before each use: Backward accumulates.
    net->Backward(B, &ws, true, 3);
    net->ZeroGrads();
    net->AccumulateGrads(&ws);
    for (Param& p : net->params()) {
      const size_t stride = p.Size() > 16 ? p.Size() / 16 : 1;
      for (size_t i = 0; i < p.Size(); i += stride) {
        const float keep = p.value[i];
        const float eps = 1e-2f;
        p.value[i] = keep + eps;
        const double up = Loss(*net, x, labels, &ws, &probs);
        p.value[i] = keep - eps;
        const double down = Loss(*net, x, labels, &ws, &probs);
        p.value[i] = keep;
        const double numeric = (up - down) / (2 * eps);
        EXPECT_NEAR(p.grad[i], numeric, 2e-3 + 2e-2 * fabs(numeric))
            << p.name << "[" << i << "]";
      }
    }
  }
}

// Splitting a batch in two (as threads do) gives the same gradient as the
// whole batch, up to the order of float sums.
TEST(Net, BatchSplitsSumToTheWholeBatch) {
  StatusOr<Net> net = Net::FromSpec("conv(4,3) relu maxpool(2) flatten dropout(0.5) linear(3)",
                                    {6, 6, 1}, 5);
  ASSERT_TRUE(net.ok());
  const size_t B = 4;
  const std::vector<float> x = Random(B * 36, 6);
  const std::vector<float> dy = Random(B * 3, 7);
  auto grads = [&](size_t begin, size_t end, NetWorkspace* ws) {
    net->Forward(x.data() + begin * 36, end - begin, ws, true, 9, begin);
    std::copy(dy.begin() + begin * 3, dy.begin() + end * 3, ws->output_grad());
    net->Backward(end - begin, ws, true, 9, begin);
  };
  NetWorkspace whole, first, second;
  grads(0, B, &whole);
  std::vector<float> out_whole(whole.output(), whole.output() + B * 3);
  grads(0, 1, &first);
  grads(1, B, &second);
  for (size_t p = 0; p < net->params().size(); ++p) {
    for (size_t k = 0; k < whole.grads[p].size(); ++k) {
      EXPECT_NEAR(whole.grads[p][k], first.grads[p][k] + second.grads[p][k],
                  1e-5f * (1 + fabsf(whole.grads[p][k])));
    }
  }
  // The dropout mask follows the example, not the slice.
  for (size_t k = 0; k < 3; ++k) EXPECT_FLOAT_EQ(first.output()[k], out_whole[k]);
}

// TakeGrads is ZeroGrads + AccumulateGrads: whatever Param::grad held is
// replaced by the workspace's gradients, which are left zero.
TEST(NetTest, TakeGradsReplacesAndClears) {
  auto net = Net::FromSpec("linear(4) relu linear(3)", {5}, 1);
  ASSERT_TRUE(net.ok()) << net.status().message();
  const std::vector<float> x = Random(2 * 5, 3);
  NetWorkspace ws;
  net->Forward(x.data(), 2, &ws, true, 0);
  const std::vector<float> dout = Random(2 * 3, 4);
  std::copy(dout.begin(), dout.end(), ws.output_grad());
  net->Backward(2, &ws, true, 0);
  const std::vector<std::vector<float>> want = ws.grads;
  for (Param& p : net->params()) std::fill(p.grad.begin(), p.grad.end(), 7.0f);
  net->TakeGrads(&ws);
  for (size_t p = 0; p < want.size(); ++p) {
    EXPECT_EQ(net->params()[p].grad, want[p]) << "param " << p;
    EXPECT_EQ(ws.grads[p], std::vector<float>(want[p].size(), 0.0f));
  }
}

}  // namespace
}  // namespace train
}  // namespace sparrow
