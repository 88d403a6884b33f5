#include "bench/compare_table.h"

#include "gtest/gtest.h"

namespace sparrow {
namespace bench {
namespace {

TEST(CompareTableTest, ParsesCaseNames) {
  std::string op, impl;
  ASSERT_TRUE(ParseCaseName("BM_Gemv_sparrow_bf16", &op, &impl));
  EXPECT_EQ(op, "Gemv");
  EXPECT_EQ(impl, "sparrow_bf16");
  EXPECT_FALSE(ParseCaseName("Gemv_eigen", &op, &impl));
  EXPECT_FALSE(ParseCaseName("BM_Gemv", &op, &impl));
  EXPECT_FALSE(ParseCaseName("BM_Gemv_", &op, &impl));
}

CaseResult Case(const char* fn, const char* args, double rate) {
  CaseResult r;
  r.function_name = fn;
  r.args = args;
  r.rate = rate;
  return r;
}

TEST(CompareTableTest, RatioIsAgainstBestPeerOfSameShape) {
  const std::vector<CaseResult> results = {
      Case("BM_Gemv_sparrow_f32", "8/8", 30.0),
      Case("BM_Gemv_eigen", "8/8", 10.0),
      Case("BM_Gemv_openblas", "8/8", 20.0),
      Case("BM_Gemv_sparrow_f32", "16/16", 10.0),
      Case("BM_Gemv_eigen", "16/16", 40.0),
  };
  const std::vector<TableRow> rows = BuildTable(results, DefaultGoals());
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].group, "Gemv/8/8");
  EXPECT_TRUE(rows[0].ours);
  EXPECT_DOUBLE_EQ(rows[0].ratio_to_best_peer, 1.5);
  EXPECT_EQ(rows[0].best_peer, "openblas");
  EXPECT_TRUE(rows[0].goal_met);  // 1.5 >= 1.2
  EXPECT_DOUBLE_EQ(rows[3].ratio_to_best_peer, 0.25);
  EXPECT_FALSE(rows[3].goal_met);
  EXPECT_NE(rows[3].goal.find("MISSED"), std::string::npos);
}

TEST(CompareTableTest, GoalAgainstNamedPeer) {
  const std::vector<CaseResult> results = {
      Case("BM_Tanh_sparrow_fast", "4096", 5.0),
      Case("BM_Tanh_lpcnet", "4096", 4.0),
      Case("BM_Tanh_eigen", "4096", 1.0),
  };
  const std::vector<TableRow> rows = BuildTable(results, DefaultGoals());
  ASSERT_EQ(rows.size(), 3u);
  // 5/4 = 1.25 < 1.5 against lpcnet, although far ahead of eigen.
  EXPECT_FALSE(rows[0].goal_met);
  EXPECT_NE(rows[0].goal.find("lpcnet"), std::string::npos);
  FILE* devnull = fopen("/dev/null", "w");
  ASSERT_NE(devnull, nullptr);
  EXPECT_EQ(PrintTable(rows, devnull), 1);
  fclose(devnull);
}

TEST(CompareTableTest, NoPeerMeansNoRatio) {
  const std::vector<TableRow> rows =
      BuildTable({Case("BM_Gemv_sparrow_f32", "4/4", 1.0)}, DefaultGoals());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].best_peer.empty());
  EXPECT_TRUE(rows[0].goal.empty());
}

CaseResult Timed(const char* fn, const char* args, double time_us) {
  CaseResult r = Case(fn, args, 1e9 / time_us);
  r.time_us = time_us;
  return r;
}

TEST(CompareTableTest, ExternalPeerGoalIsATimeRatioForItsShapeOnly) {
  const std::vector<Goal> goals = {
      {"SparseGruStep", "sparrow_f32", "torch 400us", 10.0, "384/384/100",
       400.0}};
  const std::vector<CaseResult> results = {
      Timed("BM_SparseGruStep_sparrow_f32", "384/384/100", 32.0),
      Timed("BM_SparseGruStep_sparrow_dense_f32", "384/384/100", 80.0),
      Timed("BM_SparseGruStep_sparrow_f32", "384/384/50", 50.0),
  };
  std::vector<TableRow> rows = BuildTable(results, goals);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(rows[0].goal_met);  // 400 / 32 = 12.5
  EXPECT_NE(rows[0].goal.find("torch 400us: 12.50x met"), std::string::npos)
      << rows[0].goal;
  EXPECT_TRUE(rows[1].goal.empty());  // Another impl.
  EXPECT_TRUE(rows[2].goal.empty());  // Another shape.
  rows = BuildTable({Timed("BM_SparseGruStep_sparrow_f32", "384/384/100",
                           50.0)},
                    goals);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].goal_met);  // 400 / 50 = 8
  EXPECT_NE(rows[0].goal.find("8.00x MISSED"), std::string::npos)
      << rows[0].goal;
}

TEST(CompareTableTest, DefaultGoalsCoverTheSparseGruStep) {
  const std::vector<TableRow> rows = BuildTable(
      {Timed("BM_SparseGruStep_sparrow_f32", "384/384/100", 1000.0)},
      DefaultGoals());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].goal_met);  // 1 ms per step is not 10x torch.
  EXPECT_NE(rows[0].goal.find(">=10.00x torch.nn.GRUCell"), std::string::npos)
      << rows[0].goal;
}

}  // namespace
}  // namespace bench
}  // namespace sparrow
