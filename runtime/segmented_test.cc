#include "runtime/segmented.h"

#include <string.h>

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace sparrow {
namespace {

std::vector<float> Random(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

BlockSparse16x1 Pruned(size_t rows, size_t cols, float density, bool balanced,
                       BlockDType dtype = BlockDType::kF32) {
  const std::vector<float> w = Random(rows * cols, rows * 7 + cols);
  PruneOptions o;
  o.balanced = balanced;
  o.dtype = dtype;
  auto m = BlockSparse16x1::PruneToDensity(w.data(), rows, cols, density, o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(m).value();
}

std::unique_ptr<ThreadPool> Pool(size_t threads) {
  ThreadPool::Options o;
  o.threads = threads;
  o.pin = false;  // Tests run more threads than this machine has cores.
  auto pool = ThreadPool::Create(o);
  EXPECT_TRUE(pool.ok()) << pool.status().ToString();
  return std::move(pool).value();
}

TEST(PartitionTest, CoversEveryBlockRowOnceInOrder) {
  const BlockSparse16x1 m = Pruned(1000, 300, 0.1f, /*balanced=*/false);
  for (size_t parts : {1, 2, 3, 5, 16, 100}) {
    const RowPartition p = PartitionBlockRows(m.view(), parts);
    ASSERT_EQ(p.parts(), parts);
    EXPECT_EQ(p.bounds.front(), 0u);
    EXPECT_EQ(p.bounds.back(), m.view().BlockRows());
    for (size_t i = 0; i < parts; ++i) EXPECT_LE(p.bounds[i], p.bounds[i + 1]);
  }
}

TEST(PartitionTest, BalancesNonzeroBlocksNotRows) {
  // Skewed: the first block-rows are dense, the rest nearly empty. Splitting
  // by rows would give thread 0 almost all the work.
  const size_t rows = 64 * 16, cols = 256;
  std::vector<float> w = Random(rows * cols, 1);
  std::vector<uint8_t> mask(64 * cols, 0);
  for (size_t br = 0; br < 64; ++br) {
    const size_t keep = br < 8 ? cols : 4;
    for (size_t c = 0; c < keep; ++c) mask[br * cols + c] = 1;
  }
  auto m = BlockSparse16x1::FromDense(w.data(), rows, cols, mask.data());
  ASSERT_TRUE(m.ok());
  const RowPartition p = PartitionBlockRows(m->view(), 2);
  EXPECT_LE(p.bounds[1], 8u);  // The split lands inside the dense rows.
  // A dense block-row costs 257 of the 2336 total, so no split at row
  // granularity can beat 1 + 0.5 * 257 / 1168 = 1.11.
  EXPECT_LT(PartitionImbalance(m->view(), p), 1.12);
  RowPartition by_rows;
  by_rows.bounds = {0, 32, 64};
  EXPECT_GT(PartitionImbalance(m->view(), by_rows), 1.5);
}

TEST(PartitionTest, BalancedPruningGivesEvenParts) {
  const BlockSparse16x1 m = Pruned(3072, 1024, 0.0625f, /*balanced=*/true);
  for (size_t parts : {2, 4, 8, 16}) {
    const RowPartition p = PartitionBlockRows(m.view(), parts);
    EXPECT_LT(PartitionImbalance(m.view(), p), 1.05) << parts << " parts";
  }
}

void ExpectIdenticalForAnyThreadCount(BlockDType dtype, size_t batch) {
  const size_t rows = 1152 + 5, cols = 384;  // Not a multiple of 16.
  const BlockSparse16x1 m = Pruned(rows, cols, 0.1f, false, dtype);
  const std::vector<float> x = Random(batch * cols, 3);
  const std::vector<float> bias = Random(rows, 4);
  std::vector<float> want(batch * rows, -7.0f);
  Spmm(m.view(), x.data(), cols, bias.data(), want.data(), rows, batch,
       Activation::kTanh);
  for (size_t threads : {1, 2, 3, 4, 8}) {
    auto pool = Pool(threads);
    const RowPartition p = PartitionBlockRows(m.view(), threads);
    std::vector<float> got(batch * rows, -7.0f);
    if (batch == 1) {
      SegmentedSpmv(*pool, m.view(), p, x.data(), bias.data(), got.data(),
                    Activation::kTanh);
    } else {
      SegmentedSpmm(*pool, m.view(), p, x.data(), cols, bias.data(),
                    got.data(), rows, batch, Activation::kTanh);
    }
    EXPECT_EQ(memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
        << threads << " threads, batch " << batch;
  }
}

TEST(SegmentedTest, SpmvIdenticalForAnyThreadCount) {
  ExpectIdenticalForAnyThreadCount(BlockDType::kF32, 1);
  ExpectIdenticalForAnyThreadCount(BlockDType::kBf16, 1);
}

TEST(SegmentedTest, SpmmIdenticalForAnyThreadCount) {
  ExpectIdenticalForAnyThreadCount(BlockDType::kF32, 4);
  ExpectIdenticalForAnyThreadCount(BlockDType::kBf16, 16);
}

TEST(SegmentedTest, ManyStepsLikeAnRnn) {
  // Output of step t is the input of step t+1: any race shows as a mismatch
  // with the single-threaded run (and as a report under tsan).
  const size_t n = 512;
  const BlockSparse16x1 m = Pruned(n, n, 0.1f, true);
  auto pool = Pool(3);
  const RowPartition p = PartitionBlockRows(m.view(), 3);
  std::vector<float> a = Random(n, 9), b(n), ref_a = a, ref_b(n);
  for (int step = 0; step < 200; ++step) {
    SegmentedSpmv(*pool, m.view(), p, a.data(), nullptr, b.data(),
                  Activation::kTanh);
    Spmv(m.view(), ref_a.data(), nullptr, ref_b.data(), Activation::kTanh);
    std::swap(a, b);
    std::swap(ref_a, ref_b);
  }
  EXPECT_EQ(memcmp(a.data(), ref_a.data(), n * sizeof(float)), 0);
}

}  // namespace
}  // namespace sparrow
