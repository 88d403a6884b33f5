#include "runtime/segmented.h"

#include <string.h>

#include <algorithm>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/sparse_gru.h"

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

// ------------------------------ Sparse GRU step

// Owns a sparse GRU's weights: W_ih [3H, I], W_hh [3H, H] pruned to density.
struct SparseGru {
  BlockSparse16x1 w_ih, w_hh;
  std::vector<float> b_ih, b_hh;
  SparseGruWeights weights;

  SparseGru(size_t input, size_t hidden, float density, BlockDType dtype)
      : w_ih(Pruned(3 * hidden, input, density, false, dtype)),
        w_hh(Pruned(3 * hidden, hidden, density, false, dtype)),
        b_ih(Random(3 * hidden, 11)),
        b_hh(Random(3 * hidden, 12)),
        weights{w_ih.view(), w_hh.view(), b_ih.data(), b_hh.data(), input,
                hidden} {
    EXPECT_TRUE(ValidateSparseGru(weights).ok());
  }
};

void ExpectGruIdenticalForAnyThreadCount(size_t input, size_t hidden,
                                         BlockDType dtype, Accuracy acc) {
  const SparseGru g(input, hidden, 0.1f, dtype);
  const size_t steps = 10;
  const std::vector<float> xs = Random(steps * input, 13);
  const std::vector<float> h0 = Random(hidden, 14);
  // Single call per step, no pool: the reference sequence.
  std::vector<float> want[2] = {h0, std::vector<float>(hidden)};
  for (size_t t = 0; t < steps; ++t) {
    SparseGruStep(g.weights, xs.data() + t * input, want[t % 2].data(),
                  want[(t + 1) % 2].data(), acc);
  }
  for (size_t threads : {1, 2, 3, 4}) {
    auto pool = Pool(threads);
    const RowPartition p = PartitionGruUnits(g.weights, threads);
    ASSERT_EQ(p.parts(), threads);
    EXPECT_EQ(p.bounds.back(), hidden / 16);
    std::vector<float> got[2] = {h0, std::vector<float>(hidden, -7.0f)};
    for (size_t t = 0; t < steps; ++t) {
      SegmentedSparseGruStep(*pool, g.weights, p, xs.data() + t * input,
                             got[t % 2].data(), got[(t + 1) % 2].data(), acc);
    }
    EXPECT_EQ(memcmp(got[steps % 2].data(), want[steps % 2].data(),
                     hidden * sizeof(float)),
              0)
        << threads << " threads, hidden " << hidden << " "
        << BlockDTypeName(dtype);
  }
}

TEST(SegmentedGruTest, IdenticalForAnyThreadCount) {
  ExpectGruIdenticalForAnyThreadCount(384, 384, BlockDType::kF32,
                                      Accuracy::kPrecise);
  ExpectGruIdenticalForAnyThreadCount(130, 384, BlockDType::kBf16,
                                      Accuracy::kFast);
  // Fewer chunks than threads: some parts are empty.
  ExpectGruIdenticalForAnyThreadCount(20, 32, BlockDType::kF32,
                                      Accuracy::kPrecise);
}

// Cost of GRU chunk c as the header defines it, computed independently.
double ChunkCost(const SparseGruWeights& w, size_t c) {
  const size_t g = w.hidden / 16;
  double blocks = 0.0;
  for (size_t gate = 0; gate < 3; ++gate) {
    blocks += static_cast<double>(w.w_ih.Count(gate * g + c) +
                                  w.w_hh.Count(gate * g + c));
  }
  return blocks + kGruChunkOverheadBlocks;
}

TEST(SegmentedGruTest, PartitionBalancesNonzeroBlocks) {
  // Skewed: the z rows of W_hh are dense for the first 4 of 24 chunks and
  // 5% elsewhere, so equal unit counts per thread would be far off.
  const size_t I = 256, H = 384, G = H / 16;
  const std::vector<float> dense_ih = Random(3 * H * I, 21);
  const std::vector<float> dense_hh = Random(3 * H * H, 22);
  std::mt19937_64 rng(23);
  std::bernoulli_distribution keep(0.05);
  std::vector<uint8_t> mask_ih(3 * G * I), mask_hh(3 * G * H);
  for (auto& m : mask_ih) m = keep(rng);
  for (size_t br = 0; br < 3 * G; ++br) {
    const bool dense = br >= G && br < G + 4;
    for (size_t c = 0; c < H; ++c) mask_hh[br * H + c] = dense || keep(rng);
  }
  auto w_ih =
      BlockSparse16x1::FromDense(dense_ih.data(), 3 * H, I, mask_ih.data());
  auto w_hh =
      BlockSparse16x1::FromDense(dense_hh.data(), 3 * H, H, mask_hh.data());
  ASSERT_TRUE(w_ih.ok() && w_hh.ok());
  const SparseGruWeights w{w_ih->view(), w_hh->view(), nullptr, nullptr, I, H};
  ASSERT_TRUE(ValidateSparseGru(w).ok());
  double total = 0.0, max_chunk = 0.0;
  for (size_t c = 0; c < G; ++c) {
    total += ChunkCost(w, c);
    max_chunk = std::max(max_chunk, ChunkCost(w, c));
  }
  for (size_t parts : {1, 2, 3, 4, 5, 30}) {
    const RowPartition p = PartitionGruUnits(w, parts);
    ASSERT_EQ(p.parts(), parts);
    EXPECT_EQ(p.bounds.front(), 0u);
    EXPECT_EQ(p.bounds.back(), G);
    double largest = 0.0;
    for (size_t i = 0; i < parts; ++i) {
      ASSERT_LE(p.bounds[i], p.bounds[i + 1]);
      double cost = 0.0;
      for (size_t c = p.bounds[i]; c < p.bounds[i + 1]; ++c) {
        cost += ChunkCost(w, c);
      }
      largest = std::max(largest, cost);
    }
    const double mean = total / static_cast<double>(parts);
    EXPECT_DOUBLE_EQ(GruPartitionImbalance(w, p), largest / mean);
    if (parts > G) continue;  // Some parts are necessarily empty.
    // Each split lands within half a chunk of its target, so a part exceeds
    // the mean by at most one chunk (half of one with a single split).
    const double slack = parts == 2 ? 0.5 : 1.0;
    EXPECT_LE(largest / mean, 1.0 + slack * max_chunk / mean + 1e-9)
        << parts << " parts";
  }
  // Two parts: nearly even, where splitting by units is not.
  EXPECT_LT(GruPartitionImbalance(w, PartitionGruUnits(w, 2)), 1.1);
  RowPartition by_units;
  by_units.bounds = {0, G / 2, G};
  EXPECT_GT(GruPartitionImbalance(w, by_units), 1.3);
}

}  // namespace
}  // namespace sparrow
