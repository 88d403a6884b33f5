// Exported nets against the trainer: the runtime running ExportNetBytes'
// model gives what Net::Forward(training=false) gives, example by example and
// in batches of 4, for nets trained on the committed Fashion-MNIST subset and
// for GRU nets; every way an export can fail is a Status.
//
// Tolerance, for every logit and probability:
//   |runtime - trainer| <= 1e-5 * max(1, |trainer|)
// i.e. 1e-5 absolute for values up to 1 in magnitude (probabilities, tanh
// and sigmoid outputs) and 1e-5 relative for larger logits. The two share
// the kernels but not the summation order: at batch 1 the runtime's
// FullyConnected runs the GEMV where the trainer runs the GEMM, and its
// AvgPool multiplies by 1/count where the trainer divides. Its Gru steps use
// the precise-tier sigmoid/tanh (<= 4 ulp) where the trainer's use
// SigmoidRef and std::tanh. Each of these is a few ulp per value, so float
// rounding of sums over K <= 784 terms stays far below 1e-5 of their size.
// The maximum errors seen are printed ("parity ..." lines in the test log).
#include "trainer/export.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hwy/aligned_allocator.h"
#include "kernels/bf16.h"
#include "runtime/interpreter.h"
#include "runtime/model.h"
#include "trainer/data/mnist.h"
#include "trainer/data/test_subset.h"
#include "trainer/loss.h"
#include "trainer/train.h"

namespace sparrow {
namespace train {
namespace {

constexpr double kTol = 1e-5;

// `spec` after one epoch (5 steps of 20) on `n` examples of `input`.
Net TrainOneEpoch(const std::string& spec, const float* x, const uint8_t* y,
                  size_t n, const Shape& input) {
  TrainOptions o;
  o.model = spec;
  o.batch = 20;
  o.optimizer = "adam:lr=0.003";
  StatusOr<std::unique_ptr<Trainer>> t = Trainer::Create(o, x, y, n, input);
  HWY_ASSERT(t.ok());
  HWY_ASSERT((*t)->TrainEpoch().ok());
  return (*t)->net();
}

Net TrainOnImages(const std::string& spec) {
  const Dataset& d = FashionMnistSubset(Split::kTrain);
  return TrainOneEpoch(spec, d.images.data(), d.labels.data(), d.size(),
                       {28, 28, 1});
}

Net Untrained(const std::string& spec, const Shape& input, uint64_t seed = 3) {
  StatusOr<Net> net = Net::FromSpec(spec, input, seed);
  HWY_ASSERT(net.ok());
  return std::move(net).value();
}

// n examples of `size` floats, uniform in [-2, 2], the same on every run.
std::vector<float> RandomInputs(size_t n, size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::vector<float> x(n * size);
  for (float& v : x) v = u(rng);
  return x;
}

struct LoadedModel {
  hwy::AlignedFreeUniquePtr<uint8_t[]> bytes;
  size_t size = 0;
  Model model;
};

// The exported bytes in a 64-byte aligned copy, loaded zero-copy.
std::unique_ptr<LoadedModel> Load(const std::vector<uint8_t>& bytes) {
  auto copy = hwy::AllocateAligned<uint8_t>(bytes.size());
  HWY_ASSERT(copy);
  memcpy(copy.get(), bytes.data(), bytes.size());
  StatusOr<Model> m = Model::FromBuffer(copy.get(), bytes.size());
  HWY_ASSERT(m.ok());
  HWY_ASSERT(m->storage() == Model::Storage::kBorrowed);
  return std::unique_ptr<LoadedModel>(
      new LoadedModel{std::move(copy), bytes.size(), std::move(m).value()});
}

std::unique_ptr<LoadedModel> ExportAndLoad(const Net& net,
                                           const ExportOptions& o) {
  StatusOr<std::vector<uint8_t>> bytes = ExportNetBytes(net, o);
  if (!bytes.ok()) {
    ADD_FAILURE() << bytes.status().ToString();
    return nullptr;
  }
  return Load(*bytes);
}

std::vector<int32_t> ShapeOf(const TensorView& v) {
  return {v.shape.begin(), v.shape.end()};
}

struct Parity {
  double max_abs = 0.0;     // max |runtime - trainer|
  double max_scaled = 0.0;  // max |runtime - trainer| / max(1, |trainer|)
  size_t values = 0;
  size_t failures = 0;
  std::string first_failure;

  void Compare(const char* what, size_t group, const float* got,
               const float* want, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const double d = fabs(double{got[i]} - double{want[i]});
      const double scaled = d / std::max(1.0, fabs(double{want[i]}));
      max_abs = std::max(max_abs, d);
      max_scaled = std::max(max_scaled, scaled);
      ++values;
      if (!(scaled <= kTol)) {  // NaN fails too
        if (failures++ == 0) {
          char buf[160];
          snprintf(buf, sizeof(buf),
                   "%s group %zu [%zu]: runtime %.9g, trainer %.9g", what,
                   group, i, got[i], want[i]);
          first_failure = buf;
        }
      }
    }
  }
};

// Runs `count` examples of x through the exported model, o.batch at a time,
// and through net.Forward(training=false) on the same groups; compares the
// logits and (with softmax) the probabilities.
Parity CheckParity(const char* label, const Net& net, const ExportOptions& o,
                   const float* x, size_t count,
                   const InterpreterOptions& io = {}) {
  Parity p;
  std::unique_ptr<LoadedModel> m = ExportAndLoad(net, o);
  if (!m) return p;
  StatusOr<Interpreter> it = Interpreter::Create(m->model, io);
  if (!it.ok()) {
    ADD_FAILURE() << label << ": " << it.status().ToString();
    return p;
  }
  const size_t N = static_cast<size_t>(o.batch);
  const size_t in_size = NumElements(net.input_shape());
  const size_t out_size = NumElements(net.output_shape());
  const size_t classes = static_cast<size_t>(net.output_shape().back());
  EXPECT_EQ(count % N, 0u);
  std::vector<int32_t> in_shape = {o.batch}, out_shape = {o.batch};
  in_shape.insert(in_shape.end(), net.input_shape().begin(),
                  net.input_shape().end());
  out_shape.insert(out_shape.end(), net.output_shape().begin(),
                   net.output_shape().end());
  EXPECT_EQ(it->num_inputs(), 1u);
  EXPECT_EQ(it->num_outputs(), o.softmax ? 2u : 1u);
  EXPECT_EQ(ShapeOf(it->input(0)), in_shape);
  for (size_t i = 0; i < it->num_outputs(); ++i) {
    EXPECT_EQ(ShapeOf(it->output(i)), out_shape) << label << " output " << i;
  }
  const size_t logits_out = o.softmax ? 1 : 0;
  NetWorkspace ws;
  std::vector<float> probs(N * out_size);
  for (size_t g = 0; g + N <= count; g += N) {
    const float* xg = x + g * in_size;
    memcpy(it->input(0).data, xg, N * in_size * sizeof(float));
    const Status s = it->Invoke();
    if (!s.ok()) {
      ADD_FAILURE() << label << ": " << s.ToString();
      return p;
    }
    net.Forward(xg, N, &ws, /*training=*/false, /*step=*/0);
    p.Compare("logits", g / N, it->output(logits_out).f32(), ws.output(),
              N * out_size);
    if (o.softmax) {
      for (size_t r = 0; r < N * out_size / classes; ++r) {
        SoftmaxRow(probs.data() + r * classes, ws.output() + r * classes,
                   classes);
      }
      p.Compare("probs", g / N, it->output(0).f32(), probs.data(),
                N * out_size);
    }
  }
  EXPECT_EQ(p.failures, 0u)
      << label << " batch=" << o.batch << ": " << p.failures << " of "
      << p.values
      << " values beyond 1e-5 * max(1, |trainer|); first: " << p.first_failure;
  EXPECT_GT(p.values, 0u);
  printf(
      "parity %-28s batch=%d%s%s: max |err| %.3g, max scaled %.3g over %zu "
      "values\n",
      label, o.batch, o.softmax ? " softmax" : "", o.bf16 ? " bf16" : "",
      p.max_abs, p.max_scaled, p.values);
  return p;
}

void CheckImages(const char* label, const Net& net, bool softmax,
                 const InterpreterOptions& io = {}) {
  const Dataset& test = FashionMnistSubset(Split::kTest);
  ASSERT_EQ(test.size(), 100u);
  for (int batch : {1, 4}) {
    ExportOptions o;
    o.batch = batch;
    o.softmax = softmax;
    CheckParity(label, net, o, test.images.data(), test.size(), io);
  }
}

// Plan steps that run more than one op (the fusion pass at work).
size_t FusedSteps(const Model& model) {
  StatusOr<Interpreter> it = Interpreter::Create(model);
  HWY_ASSERT(it.ok());
  size_t fused = 0;
  for (const PlanStep& s : it->steps()) fused += s.ops.size() > 1;
  return fused;
}

// ------------------------------ Parity

TEST(ExportParity, Lenet5TrainedOneEpoch) {
  const Net net = TrainOnImages("lenet5");
  CheckImages("lenet5", net, /*softmax=*/true);
  CheckImages("lenet5", net, /*softmax=*/false);

  ExportOptions o;
  std::unique_ptr<LoadedModel> m = ExportAndLoad(net, o);
  ASSERT_TRUE(m);
  const Model& model = m->model;
  // One op per layer, plus Softmax: conv relu pool conv relu pool flatten
  // fc relu fc relu fc softmax.
  EXPECT_EQ(model.num_ops(), 13u);
  for (const char* name :
       {"input", "conv1.weight", "conv1.bias", "conv1.out", "relu1.out",
        "maxpool1.out", "conv2.weight", "flatten1.out", "fc1.weight",
        "fc3.bias", "fc3.out", "probs"}) {
    EXPECT_GE(model.FindTensor(name), 0) << name;
  }
  EXPECT_EQ(model.outputs()[0], model.FindTensor("probs"));
  EXPECT_EQ(model.outputs()[1], model.FindTensor("fc3.out"));
  // conv1, conv2, fc1, fc2 each fused with their ReLU, although the logits
  // are a graph output.
  EXPECT_EQ(FusedSteps(model), 4u);
}

TEST(ExportParity, MlpTrainedOneEpoch) {
  const Net net = TrainOnImages("mlp");
  CheckImages("mlp", net, /*softmax=*/true);
  CheckImages("mlp", net, /*softmax=*/false);
}

// Strided, dilated and padded convolutions, both average-pool divisors,
// bias-free layers, Linear on a [H, W, C] map, GELU, sigmoid, tanh and a
// dropout that was active in training.
constexpr char kMixedSpec[] =
    "conv(4,3,stride=2,pad=1) gelu "                   // [14, 14, 4]
    "avgpool(3,stride=2,pad=1,include_pad=1) "         // [7, 7, 4]
    "conv(8,3,dilation=2,pad=2,bias=0) sigmoid "       // [7, 7, 8]
    "maxpool(2,stride=1,pad=1) "                       // [8, 8, 8]
    "linear(6,bias=0) tanh "                           // [8, 8, 6]
    "avgpool(3,stride=2,pad=1) flatten dropout(0.3) "  // [96]
    "linear(10)";

TEST(ExportParity, MixedLayersTrainedOneEpoch) {
  const Net net = TrainOnImages(kMixedSpec);
  ASSERT_EQ(net.layers()[6].out, (Shape{8, 8, 6}));
  CheckImages("mixed", net, /*softmax=*/true);
  InterpreterOptions unfused;
  unfused.fuse = false;
  CheckImages("mixed (fuse=false)", net, /*softmax=*/false, unfused);
}

constexpr size_t kSequences = 100;

TEST(ExportParity, GruOnTimeSteps) {
  // The runtime's FullyConnected after the Gru acts on its [T, H] rows.
  const Net net = Untrained("gru(16) tanh linear(4)", {8, 5});
  const std::vector<float> x = RandomInputs(kSequences, 40, 1);
  ExportOptions o;
  CheckParity("gru tanh linear", net, o, x.data(), kSequences);
  o.softmax = false;
  CheckParity("gru tanh linear", net, o, x.data(), kSequences);

  std::unique_ptr<LoadedModel> m = ExportAndLoad(net, ExportOptions());
  ASSERT_TRUE(m);
  const Model& model = m->model;
  const int32_t in = model.FindTensor("gru1.in");
  ASSERT_GE(in, 0);  // [1, 8, 5] -> [8, 5]
  EXPECT_EQ(model.tensor(in).rank(), 2u);
  EXPECT_EQ(model.tensor(model.FindTensor("fc1.out")).rank(), 2u);  // [8, 4]
  EXPECT_EQ(model.outputs()[1], model.FindTensor("logits"));        // [1, 8, 4]
  EXPECT_GE(model.FindTensor("gru1.w_hh"), 0);
  EXPECT_GE(model.FindTensor("gru1.b_ih"), 0);
}

TEST(ExportParity, TrainedGruAfterLinearWithoutBiasThenFlatten) {
  // Labels from the sign pattern of the first features, so there is
  // something to learn; Flatten(axis=0) gives the Gru's [T, H] back its
  // batch axis.
  const std::vector<float> x = RandomInputs(kSequences, 40, 2);
  std::vector<uint8_t> y(kSequences);
  for (size_t i = 0; i < kSequences; ++i) {
    y[i] = static_cast<uint8_t>((x[i * 40] > 0) + (x[i * 40 + 1] > 0));
  }
  const Net net =
      TrainOneEpoch("linear(6) gru(12,bias=0) flatten dropout(0.2) linear(3)",
                    x.data(), y.data(), kSequences, {8, 5});
  const std::vector<float> test = RandomInputs(kSequences, 40, 3);
  CheckParity("linear gru(bias=0) flatten", net, ExportOptions(), test.data(),
              kSequences);
}

TEST(ExportParity, StackedGrus) {
  const Net net = Untrained("gru(8) gru(8) relu linear(3)", {6, 3});
  const std::vector<float> x = RandomInputs(kSequences, 18, 4);
  CheckParity("gru gru relu linear", net, ExportOptions(), x.data(),
              kSequences);
}

// bf16 weights: the runtime equals the trainer run with its weight matrices
// rounded to bf16 (biases stay f32).
Net RoundWeightsToBf16(Net net) {
  for (const Layer& l : net.layers()) {
    for (int i : {l.weight, l.w_hh}) {
      if (i < 0) continue;
      for (float& v : net.params()[i].value)
        v = Bf16BitsToF32(F32ToBf16Bits(v));
    }
  }
  return net;
}

TEST(ExportParity, Bf16Weights) {
  const Net net = TrainOnImages("lenet5");
  const Net rounded = RoundWeightsToBf16(net);
  ASSERT_NE(rounded.params()[0].value, net.params()[0].value);
  ExportOptions o;
  o.bf16 = true;
  // The export rounds as RoundWeightsToBf16 does: the same file.
  StatusOr<std::vector<uint8_t>> a = ExportNetBytes(net, o);
  StatusOr<std::vector<uint8_t>> b = ExportNetBytes(rounded, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(*a == *b);
  const Dataset& test = FashionMnistSubset(Split::kTest);
  for (int batch : {1, 4}) {
    o.batch = batch;
    CheckParity("lenet5", rounded, o, test.images.data(), test.size());
  }
  o.batch = 1;
  std::unique_ptr<LoadedModel> m = ExportAndLoad(net, o);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->model.tensor(m->model.FindTensor("conv1.weight")).dtype,
            schema::DType::BF16);
  EXPECT_EQ(m->model.tensor(m->model.FindTensor("fc1.weight")).dtype,
            schema::DType::BF16);
  EXPECT_EQ(m->model.tensor(m->model.FindTensor("fc1.bias")).dtype,
            schema::DType::F32);
  std::unique_ptr<LoadedModel> f32 = ExportAndLoad(net, ExportOptions());
  ASSERT_TRUE(f32);
  EXPECT_LT(m->size, f32->size * 6 / 10);

  const Net gru = Untrained("gru(16) tanh linear(4)", {8, 5});
  const std::vector<float> x = RandomInputs(kSequences, 40, 5);
  ExportOptions g;
  g.bf16 = true;
  CheckParity("gru tanh linear", RoundWeightsToBf16(gru), g, x.data(),
              kSequences);
}

TEST(ExportParity, DropoutOnlyNetIsTheIdentity) {
  const Net net = Untrained("dropout(0.5)", {3, 4});
  const std::vector<float> x = RandomInputs(8, 12, 6);
  ExportOptions o;
  o.batch = 2;
  o.softmax = false;
  CheckParity("dropout only", net, o, x.data(), 8);
  o.softmax = true;
  CheckParity("dropout only", net, o, x.data(), 8);
}

// ------------------------------ Files

std::string TempPath(const std::string& name) {
  const char* dir = getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Entries of `dir` other than . and ..
std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ExportFile, WritesTheBytesAtomicallyAndDeterministically) {
  const Net net = Untrained("lenet5", {28, 28, 1});
  ExportOptions o;
  StatusOr<std::vector<uint8_t>> bytes = ExportNetBytes(net, o);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  StatusOr<std::vector<uint8_t>> again = ExportNetBytes(net, o);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*bytes == *again);

  const std::string path = TempPath("lenet5.spw");
  ASSERT_TRUE(ExportNet(net, o, path).ok());
  EXPECT_TRUE(ReadAll(path) == *bytes);
  StatusOr<Model> m = Model::FromFile(path.c_str());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(std::string(m->description()), "sparrow trainer: " + net.spec());

  o.description = "lenet5, untrained";
  ASSERT_TRUE(ExportNet(net, o, path).ok());  // replaces the file
  StatusOr<Model> m2 = Model::FromFile(path.c_str());
  ASSERT_TRUE(m2.ok());
  EXPECT_STREQ(m2->description(), "lenet5, untrained");
}

TEST(ExportFile, UnwritablePathsAreErrorsAndLeaveNothingBehind) {
  const Net net = Untrained("mlp", {28, 28, 1});
  const ExportOptions o;
  const Status missing = ExportNet(net, o, "/nonexistent-sparrow-dir/m.spw");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(
      std::string(missing.message()).find("/nonexistent-sparrow-dir/m.spw"),
      std::string::npos)
      << missing.message();

  const Status empty = ExportNet(net, o, "");
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(empty.message()).find("path"), std::string::npos);

  // A directory where the file should go: the rename fails, and the
  // temporary file is removed.
  const std::string dir = TempPath("export_dir");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  const std::string target = dir + "/m.spw";
  ASSERT_EQ(mkdir(target.c_str(), 0755), 0);
  const Status onto_dir = ExportNet(net, o, target);
  EXPECT_FALSE(onto_dir.ok());
  EXPECT_NE(std::string(onto_dir.message()).find(target), std::string::npos)
      << onto_dir.message();
  EXPECT_EQ(List(dir), std::vector<std::string>{"m.spw"});

  // A failed export leaves an existing model untouched.
  const std::string good = dir + "/good.spw";
  ASSERT_TRUE(ExportNet(net, o, good).ok());
  const std::vector<uint8_t> before = ReadAll(good);
  ExportOptions bad = o;
  bad.batch = 0;
  EXPECT_FALSE(ExportNet(net, bad, good).ok());
  EXPECT_TRUE(ReadAll(good) == before);
}

// ------------------------------ Errors

TEST(ExportErrors, GruNeedsBatchOne) {
  const Net net = Untrained("linear(6) gru(16) linear(4)", {8, 5});
  ExportOptions o;
  o.batch = 4;
  StatusOr<std::vector<uint8_t>> r = ExportNetBytes(net, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  const std::string msg = r.status().message();
  EXPECT_NE(msg.find("'gru1'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("batch=4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("batch=1"), std::string::npos) << msg;
  const std::string path = TempPath("gru_batch4.spw");
  EXPECT_EQ(ExportNet(net, o, path).code(), StatusCode::kUnimplemented);
  struct stat st;
  EXPECT_NE(stat(path.c_str(), &st), 0) << "no file for a failed export";
}

TEST(ExportErrors, BatchBelowOne) {
  const Net net = Untrained("mlp", {28, 28, 1});
  for (int batch : {0, -3}) {
    ExportOptions o;
    o.batch = batch;
    const Status s = ExportNetBytes(net, o).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(s.message()).find("batch=" + std::to_string(batch)),
              std::string::npos)
        << s.message();
  }
}

TEST(ExportErrors, NonFiniteParamsAreNamed) {
  const Net net = Untrained("lenet5", {28, 28, 1});
  struct Case {
    const char* param;
    size_t index;
    float value;
  };
  for (const Case& c :
       {Case{"conv1.weight", 3, NAN}, Case{"fc1.bias", 7, INFINITY},
        Case{"fc3.weight", 0, -INFINITY}}) {
    Net broken = net;
    bool found = false;
    for (Param& p : broken.params()) {
      if (p.name == c.param) {
        p.value[c.index] = c.value;
        found = true;
      }
    }
    ASSERT_TRUE(found) << c.param;
    for (bool bf16 : {false, true}) {
      ExportOptions o;
      o.bf16 = bf16;
      const Status s = ExportNetBytes(broken, o).status();
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
      const std::string want = std::string("'") + c.param + "' value[" +
                               std::to_string(c.index) + "]";
      EXPECT_NE(std::string(s.message()).find(want), std::string::npos)
          << s.message();
    }
  }
}

TEST(ExportErrors, WeightBeyondBf16Range) {
  Net net = Untrained("flatten linear(10)", {28, 28, 1});
  net.params()[0].value[5] = 3.3999e38f;  // finite f32, rounds to bf16 inf
  ExportOptions o;
  EXPECT_TRUE(ExportNetBytes(net, o).ok());
  o.bf16 = true;
  const Status s = ExportNetBytes(net, o).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("'fc1.weight' value[5]"),
            std::string::npos)
      << s.message();
  EXPECT_NE(std::string(s.message()).find("bf16"), std::string::npos);
  // Biases stay f32, so a huge bias is fine.
  Net big_bias = Untrained("flatten linear(10)", {28, 28, 1});
  big_bias.params()[1].value[0] = 3.3999e38f;
  EXPECT_TRUE(ExportNetBytes(big_bias, o).ok());
}

TEST(ExportErrors, RankAboveTheFormatsLimit) {
  // Rank 8 per example is fine for the trainer; with the batch axis the
  // runtime would need rank 9.
  const Net net = Untrained("linear(3)", {1, 1, 1, 1, 1, 1, 1, 2});
  const Status s = ExportNetBytes(net, ExportOptions()).status();
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(std::string(s.message()).find("input"), std::string::npos)
      << s.message();
  EXPECT_NE(std::string(s.message()).find("rank 8"), std::string::npos)
      << s.message();
  // Rank 7 fits.
  EXPECT_TRUE(ExportNetBytes(Untrained("linear(3)", {1, 1, 1, 1, 1, 1, 2}),
                             ExportOptions())
                  .ok());
}

TEST(ExportErrors, ModelTheLoaderRejectsIsReported) {
  // 2^50 input elements: the trainer can describe it (nothing is allocated
  // until Forward), the format cannot (tensors hold at most 2^48 bytes).
  const Net net = Untrained("linear(1)", {1 << 20, 1 << 20, 1024});
  const Status s = ExportNetBytes(net, ExportOptions()).status();
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_NE(std::string(s.message()).find("does not validate"),
            std::string::npos)
      << s.message();
  EXPECT_NE(std::string(s.message()).find("'input'"), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace train
}  // namespace sparrow
