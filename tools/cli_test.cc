// The model commands (tools/cli.h) as functions: what they print, their
// errors for bad input, and the helpers bench and inspect rely on. The
// command line as a user sees it is tools/sparrow_cli_test.sh.
#include "tools/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/block_sparse.h"
#include "runtime/model_test_models.h"
#include "tools/npy.h"

namespace sparrow {
namespace {

std::string Runfile(const std::string& path) {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* workspace = getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return path;  // run by hand
  return std::string(srcdir) + "/" + workspace + "/" + path;
}

std::string TempPath(const std::string& name) {
  const char* tmp = getenv("TEST_TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
}

// Misc (runtime/model_test_models.h): tokens i32 [3] -> Embedding [20, 8],
// feats f32 [3, 4] -> ... -> y [36]. The only test model with an i32 input.
std::string MiscModel() {
  const std::string path = TempPath("misc.spw");
  Status s = test_models::Misc().WriteFile(path.c_str());
  EXPECT_TRUE(s.ok()) << s.ToString();
  return path;
}

// What `fn` printed to a stream, and its Status.
template <typename Fn>
std::string Capture(Fn fn, Status* status) {
  char* buf = nullptr;
  size_t size = 0;
  FILE* f = open_memstream(&buf, &size);
  *status = fn(f);
  fclose(f);
  std::string s(buf, size);
  free(buf);
  return s;
}

bool Contains(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

TEST(CliTest, IndexBoundIsTheEmbeddingVocab) {
  StatusOr<Model> m = LoadModel(MiscModel());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(IndexBound(*m, m->FindTensor("tokens")), 20);
  EXPECT_EQ(IndexBound(*m, m->FindTensor("feats")), 1);  // no Embedding
}

TEST(CliTest, RandomInputsAreValidAndReproducible) {
  StatusOr<Model> m = LoadModel(MiscModel());
  ASSERT_TRUE(m.ok());
  StatusOr<std::vector<NpyArray>> a = RandomInputs(*m, 7);
  StatusOr<std::vector<NpyArray>> b = RandomInputs(*m, 7);
  StatusOr<std::vector<NpyArray>> c = RandomInputs(*m, 8);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  ASSERT_EQ(a->size(), 2u);
  const NpyArray& tokens = (*a)[0];
  EXPECT_EQ(tokens.dtype, NpyDType::kI32);
  EXPECT_EQ(tokens.shape, std::vector<size_t>{3});
  for (int32_t t : tokens.i32) {
    EXPECT_GE(t, 0);
    EXPECT_LT(t, 20);
  }
  const NpyArray& feats = (*a)[1];
  EXPECT_EQ(feats.dtype, NpyDType::kF32);
  EXPECT_EQ(feats.shape, (std::vector<size_t>{3, 4}));
  for (float v : feats.f32) {
    EXPECT_GE(v, -1.0f);
    EXPECT_LE(v, 1.0f);
  }
  EXPECT_EQ((*b)[1].f32, feats.f32);
  EXPECT_EQ((*b)[0].i32, tokens.i32);
  EXPECT_NE((*c)[1].f32, feats.f32);
}

TEST(CliTest, PercentileIsNearestRank) {
  std::vector<uint64_t> v;
  for (uint64_t i = 1; i <= 100; ++i) v.push_back(i);
  EXPECT_EQ(Percentile(v, 0), 1u);
  EXPECT_EQ(Percentile(v, 50), 50u);
  EXPECT_EQ(Percentile(v, 90), 90u);
  EXPECT_EQ(Percentile(v, 99), 99u);
  EXPECT_EQ(Percentile(v, 100), 100u);
  EXPECT_EQ(Percentile({5}, 99), 5u);
  EXPECT_EQ(Percentile({1, 2, 3}, 50), 2u);
}

TEST(CliTest, InspectPrintsSparseStatsAndPlan) {
  InspectOptions o;
  o.model = Runfile("testdata/models/tiny_sparse_gru.spw");
  Status s;
  const std::string out = Capture([&](FILE* f) { return Inspect(o, f); }, &s);
  ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << out;
  EXPECT_TRUE(Contains(out, "storage: mapped")) << out;
  EXPECT_TRUE(Contains(out, "#0 Gru  hidden_size=32 mode=Step")) << out;
  // w_ih [96, 16] bf16 at 50%: 48 of 6 block-rows x 16 columns.
  EXPECT_TRUE(Contains(out,
                       "block-sparse 16x1 bf16: density 0.500, 48 of 96 "
                       "blocks nonzero, per block-row min/mean/max "))
      << out;
  EXPECT_TRUE(Contains(out, "/8.0/")) << out;  // mean 48 / 6
  EXPECT_TRUE(Contains(out, "gru.h [1, 32] f32, starts at zero")) << out;
  EXPECT_TRUE(Contains(out, "arena: head ")) << out;
  EXPECT_TRUE(Contains(out, "ArenaBytesNeeded")) << out;
  EXPECT_TRUE(Contains(out, "step 0: #0 Gru")) << out;
}

TEST(CliTest, InspectShowsQuantizationAndOptions) {
  InspectOptions o;
  o.model = MiscModel();
  o.fuse = false;
  Status s;
  const std::string out = Capture([&](FILE* f) { return Inspect(o, f); }, &s);
  ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << out;
  EXPECT_TRUE(Contains(out, "#1 Concat  axis=-1")) << out;
  EXPECT_TRUE(Contains(out, "#3 Add  activation=Relu")) << out;
  EXPECT_TRUE(Contains(out, "q.weight [4, 3] int8")) << out;
  EXPECT_TRUE(Contains(out,
                       "quantized: 4 scales (per channel, axis 0), 4 "
                       "zero points, bit widths 8,4,2,0"))
      << out;
  EXPECT_TRUE(Contains(out, "fusion off")) << out;
}

TEST(CliTest, InspectReportsMissingModel) {
  InspectOptions o;
  o.model = TempPath("no_such_model.spw");
  Status s;
  const std::string out = Capture([&](FILE* f) { return Inspect(o, f); }, &s);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(s.message(), "no_such_model.spw")) << s.message();
  EXPECT_TRUE(out.empty());
}

// Writes the Misc model's inputs: tokens (i32) and feats (f32).
RunOptions MiscRun(const std::vector<int32_t>& tokens) {
  RunOptions o;
  o.model.model = MiscModel();
  const std::vector<float> feats(12, 0.5f);
  EXPECT_TRUE(
      WriteNpy(TempPath("tokens.npy"), NpyDType::kI32, {3}, tokens.data())
          .ok());
  EXPECT_TRUE(
      WriteNpy(TempPath("feats.npy"), NpyDType::kF32, {3, 4}, feats.data())
          .ok());
  o.inputs = {TempPath("tokens.npy"), TempPath("feats.npy")};
  o.outputs = {TempPath("misc_y.npy")};
  return o;
}

TEST(CliTest, RunReadsI32InputsAndWritesOutputs) {
  RunOptions o = MiscRun({0, 19, 5});
  Status s;
  const std::string out = Capture([&](FILE* f) { return RunModel(o, f); }, &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(Contains(out, "output 0: y [36] f32 ->")) << out;
  StatusOr<NpyArray> y = ReadNpy(o.outputs[0]);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->shape, std::vector<size_t>{36});
  for (float v : y->f32) {  // tanh of a relu: [0, 1)
    EXPECT_GE(v, 0.0f);
    EXPECT_LT(v, 1.0f);
  }
}

TEST(CliTest, RunReportsBadIndexAndBadInputs) {
  Status s;
  RunOptions bad_index = MiscRun({0, 20, 5});
  Capture([&](FILE* f) { return RunModel(bad_index, f); }, &s);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "20")) << s.message();

  RunOptions swapped = MiscRun({0, 1, 2});
  std::swap(swapped.inputs[0], swapped.inputs[1]);
  Capture([&](FILE* f) { return RunModel(swapped, f); }, &s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "input 0 'tokens': expected shape [3] i32"))
      << s.message();
  EXPECT_TRUE(Contains(s.message(), "has shape [3, 4] f32")) << s.message();

  RunOptions one_input = MiscRun({0, 1, 2});
  one_input.inputs.pop_back();
  Capture([&](FILE* f) { return RunModel(one_input, f); }, &s);
  EXPECT_TRUE(Contains(s.message(), "the model has 2 inputs")) << s.message();
  EXPECT_TRUE(Contains(s.message(), "1 --input path given")) << s.message();

  RunOptions no_output = MiscRun({0, 1, 2});
  no_output.outputs.clear();
  Capture([&](FILE* f) { return RunModel(no_output, f); }, &s);
  EXPECT_TRUE(Contains(s.message(), "the model has 1 output (y [36] f32)"))
      << s.message();
}

TEST(CliTest, RunRepeatCarriesGruState) {
  RunOptions o;
  o.model.model = Runfile("testdata/models/tiny_sparse_gru.spw");
  o.inputs = {Runfile("testdata/npy/tiny_sparse_gru_x.npy")};
  std::vector<std::vector<float>> outs;
  for (size_t repeat : {1, 2, 2}) {
    o.repeat = repeat;
    o.outputs = {TempPath("gru_y.npy")};
    Status s;
    Capture([&](FILE* f) { return RunModel(o, f); }, &s);
    ASSERT_TRUE(s.ok()) << s.ToString();
    StatusOr<NpyArray> y = ReadNpy(o.outputs[0]);
    ASSERT_TRUE(y.ok());
    outs.push_back(y->f32);
  }
  EXPECT_NE(outs[0], outs[1]) << "the second step saw the same state";
  EXPECT_EQ(outs[1], outs[2]) << "each run starts from the initial state";
}

TEST(CliTest, BenchRunsIterationsAndReportsSteps) {
  BenchOptions o;
  o.model.model = MiscModel();
  o.iterations = 5;
  o.warmup = 1;
  Status s;
  const std::string out =
      Capture([&](FILE* f) { return Bench(o, f, nullptr); }, &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(Contains(out, "1 warm-up + 5 timed invokes")) << out;
  EXPECT_TRUE(Contains(out, "latency (us): p50 ")) << out;
  EXPECT_TRUE(Contains(out, "step 0: ")) << out;
  EXPECT_TRUE(Contains(out, "%")) << out;
}

}  // namespace
}  // namespace sparrow
