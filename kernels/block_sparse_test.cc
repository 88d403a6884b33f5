// Tests for kernels/block_sparse.h: conversion round trips, pruning, stats,
// and one test per validation rule (each breaks exactly one field of a valid
// matrix and checks the message names it).
#include "kernels/block_sparse.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hwy/aligned_allocator.h"
#include "kernels/status.h"

namespace sparrow {
namespace {

std::vector<float> RandomDense(size_t rows, size_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> w(rows * cols + 1);
  for (float& f : w) f = dist(rng);
  return w;
}

std::vector<uint8_t> RandomMask(size_t block_rows, size_t cols, double p,
                                uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution keep(p);
  std::vector<uint8_t> m(block_rows * cols + 1);
  for (uint8_t& b : m) b = keep(rng) ? 1 : 0;
  return m;
}

uint32_t Bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

TEST(BlockSparseTest, FromDenseToDenseIsExact) {
  for (size_t rows : {1, 15, 16, 17, 40}) {
    for (size_t cols : {1, 7, 33}) {
      const size_t br = (rows + 15) / 16;
      std::vector<float> w = RandomDense(rows, cols, rows * 100 + cols);
      w[0] = -0.0f;  // signed zero inside a kept block must survive
      std::vector<uint8_t> mask = RandomMask(br, cols, 0.4, rows + cols);
      mask[0] = 1;
      auto m = BlockSparse16x1::FromDense(w.data(), rows, cols, mask.data());
      ASSERT_TRUE(m.ok()) << m.status().message();
      ASSERT_TRUE(Validate(m->view()).ok()) << Validate(m->view()).message();
      std::vector<float> back(rows * cols);
      m->ToDense(back.data());
      size_t blocks = 0;
      for (size_t i = 0; i < br * cols; ++i) blocks += mask[i];
      EXPECT_EQ(blocks, m->nonzero_blocks());
      for (size_t r = 0; r < rows; ++r) {
        for (size_t c = 0; c < cols; ++c) {
          const float want = mask[(r / 16) * cols + c] ? w[r * cols + c] : 0.0f;
          ASSERT_EQ(Bits(want), Bits(back[r * cols + c]))
              << "rows=" << rows << " cols=" << cols << " r=" << r << " c=" << c;
        }
      }
    }
  }
}

TEST(BlockSparseTest, Bf16RoundsAndConvertsBack) {
  EXPECT_EQ(0x3F80u, F32ToBf16Bits(1.0f));
  // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: to even (1.0).
  EXPECT_EQ(0x3F80u, F32ToBf16Bits(1.00390625f));
  // 1 + 3 * 2^-8 ties between 1 + 2^-7 (odd) and 1 + 2^-6: to even.
  EXPECT_EQ(0x3F82u, F32ToBf16Bits(1.01171875f));
  EXPECT_EQ(0x7F80u, F32ToBf16Bits(std::numeric_limits<float>::infinity()));
  EXPECT_EQ(0x7F80u, F32ToBf16Bits(std::numeric_limits<float>::max()));
  EXPECT_TRUE(std::isnan(
      Bf16BitsToF32(F32ToBf16Bits(std::numeric_limits<float>::quiet_NaN()))));

  const size_t rows = 37, cols = 21, br = 3;
  std::vector<float> w = RandomDense(rows, cols, 5);
  std::vector<uint8_t> mask = RandomMask(br, cols, 0.5, 6);
  auto m16 = BlockSparse16x1::FromDense(w.data(), rows, cols, mask.data(),
                                        BlockDType::kBf16);
  ASSERT_TRUE(m16.ok());
  ASSERT_TRUE(Validate(m16->view()).ok()) << Validate(m16->view()).message();
  std::vector<float> back(rows * cols);
  m16->ToDense(back.data());
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      const float want = mask[(r / 16) * cols + c]
                             ? Bf16BitsToF32(F32ToBf16Bits(w[r * cols + c]))
                             : 0.0f;
      ASSERT_EQ(Bits(want), Bits(back[r * cols + c]));
    }
  }
  // bf16 -> f32 is exact, f32 -> bf16 matches direct construction.
  auto m32 = m16->ConvertTo(BlockDType::kF32);
  ASSERT_TRUE(m32.ok());
  std::vector<float> back32(rows * cols);
  m32->ToDense(back32.data());
  EXPECT_EQ(0, memcmp(back.data(), back32.data(), back.size() * 4));
  EXPECT_EQ(m16->nonzero_blocks(), m32->nonzero_blocks());
  // Two blocks per line: bf16 uses ceil(count / 2) lines per block-row.
  size_t lines = 0;
  const BlockSparseView v = m16->view();
  for (size_t i = 0; i < br; ++i) lines += (v.Count(i) + 1) / 2;
  EXPECT_EQ(lines * 64, v.data_bytes);
}

TEST(BlockSparseTest, EmptyShapesAreValid) {
  BlockSparse16x1 empty;
  EXPECT_TRUE(Validate(empty.view()).ok());
  for (auto shape : {std::pair<size_t, size_t>{0, 5}, {5, 0}, {0, 0}}) {
    auto m = BlockSparse16x1::FromDense(nullptr, shape.first, shape.second,
                                        nullptr);
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_TRUE(Validate(m->view()).ok()) << Validate(m->view()).message();
    EXPECT_EQ(0u, m->nonzero_blocks());
    EXPECT_EQ(0.0, m->Stats().density);
  }
}

TEST(BlockSparseTest, FactoryRejectsBadArguments) {
  std::vector<float> w(64, 1.0f);
  std::vector<uint8_t> mask(4, 1);
  EXPECT_EQ(StatusCode::kInvalidArgument,
            BlockSparse16x1::FromDense(nullptr, 16, 4, mask.data())
                .status()
                .code());
  EXPECT_EQ(StatusCode::kInvalidArgument,
            BlockSparse16x1::FromDense(w.data(), 16, 4, nullptr).status().code());
  EXPECT_EQ(StatusCode::kUnimplemented,
            BlockSparse16x1::FromDense(w.data(), 16, 4, mask.data(),
                                       BlockDType::kInt8)
                .status()
                .code());
  EXPECT_EQ(StatusCode::kOutOfRange,
            BlockSparse16x1::FromDense(w.data(), size_t{1} << 31, 4,
                                       mask.data())
                .status()
                .code());
  for (float d : {-0.1f, 1.5f, std::numeric_limits<float>::quiet_NaN()}) {
    auto m = BlockSparse16x1::PruneToDensity(w.data(), 16, 4, d);
    EXPECT_EQ(StatusCode::kInvalidArgument, m.status().code()) << d;
    EXPECT_NE(nullptr, strstr(m.status().message(), "density"));
  }
  w[9] = std::numeric_limits<float>::infinity();
  auto m = BlockSparse16x1::PruneToDensity(w.data(), 16, 4, 0.5f);
  EXPECT_EQ(StatusCode::kInvalidArgument, m.status().code());
  EXPECT_NE(nullptr, strstr(m.status().message(), "w[2, 1]"))
      << m.status().message();
}

// Squared L2 norms of every block, as the pruner sees them.
std::vector<double> BlockNorms(const std::vector<float>& w, size_t rows,
                               size_t cols) {
  std::vector<double> n(((rows + 15) / 16) * cols, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      n[(r / 16) * cols + c] += double{w[r * cols + c]} * w[r * cols + c];
    }
  }
  return n;
}

std::vector<uint8_t> KeptMask(const BlockSparse16x1& m) {
  const BlockSparseView v = m.view();
  std::vector<uint8_t> kept(v.BlockRows() * v.cols, 0);
  for (size_t i = 0; i < v.BlockRows(); ++i) {
    for (uint32_t k = v.block_offsets[i]; k < v.block_offsets[i + 1]; ++k) {
      kept[i * v.cols + v.col_indices[k]] = 1;
    }
  }
  return kept;
}

TEST(BlockSparseTest, PruneKeepsLargestBlocks) {
  const size_t rows = 70, cols = 50, br = 5;
  const std::vector<float> w = RandomDense(rows, cols, 11);
  const std::vector<double> norm = BlockNorms(w, rows, cols);
  for (float density : {0.0f, 0.01f, 0.1f, 0.5f, 1.0f}) {
    auto m = BlockSparse16x1::PruneToDensity(w.data(), rows, cols, density);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(Validate(m->view()).ok());
    EXPECT_EQ(static_cast<size_t>(std::llround(double{density} * br * cols)),
              m->nonzero_blocks());
    const std::vector<uint8_t> kept = KeptMask(*m);
    double min_kept = 1e300, max_dropped = -1.0;
    for (size_t i = 0; i < kept.size(); ++i) {
      if (kept[i]) min_kept = std::min(min_kept, norm[i]);
      else max_dropped = std::max(max_dropped, norm[i]);
    }
    if (m->nonzero_blocks() > 0 && m->nonzero_blocks() < kept.size()) {
      EXPECT_GE(min_kept, max_dropped) << density;
    }
    // Pruned weights are the originals where kept.
    std::vector<float> back(rows * cols);
    m->ToDense(back.data());
    for (size_t r = 0; r < rows; ++r) {
      for (size_t c = 0; c < cols; ++c) {
        const bool k = kept[(r / 16) * cols + c];
        ASSERT_EQ(k ? w[r * cols + c] : 0.0f, back[r * cols + c]);
      }
    }
  }
}

TEST(BlockSparseTest, PruneTiesAreDeterministic) {
  // Every block has the same norm: the lowest (block-row, column) win.
  std::vector<float> w(32 * 8, 0.5f);
  auto m = BlockSparse16x1::PruneToDensity(w.data(), 32, 8, 0.25f);
  ASSERT_TRUE(m.ok());
  const std::vector<uint8_t> kept = KeptMask(*m);
  for (size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(i < 4 ? 1 : 0, kept[i]);
  PruneOptions balanced;
  balanced.balanced = true;
  auto b = BlockSparse16x1::PruneToDensity(w.data(), 32, 8, 0.25f, balanced);
  ASSERT_TRUE(b.ok());
  const std::vector<uint8_t> kb = KeptMask(*b);
  for (size_t i = 0; i < kb.size(); ++i) EXPECT_EQ(i % 8 < 2 ? 1 : 0, kb[i]);
}

TEST(BlockSparseTest, BalancedPruneSpreadsEvenly) {
  const size_t rows = 100, cols = 64;
  std::vector<float> w = RandomDense(rows, cols, 12);
  // Make block-row 0 much larger: unbalanced pruning would favour it.
  for (size_t c = 0; c < 16 * cols; ++c) w[c] *= 10.0f;
  PruneOptions opt;
  opt.balanced = true;
  opt.dtype = BlockDType::kBf16;
  auto m = BlockSparse16x1::PruneToDensity(w.data(), rows, cols, 0.1f, opt);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(Validate(m->view()).ok());
  const BlockSparseStats s = m->Stats();
  EXPECT_EQ(6u, s.min_per_block_row);  // round(0.1 * 64)
  EXPECT_EQ(6u, s.max_per_block_row);
  EXPECT_EQ(42u, s.nonzero_blocks);
  auto u = BlockSparse16x1::PruneToDensity(w.data(), rows, cols, 0.1f);
  ASSERT_TRUE(u.ok());
  // Unbalanced: round(0.1 * 7 * 64) = 45 blocks, all from block-row 0 (100x
  // the norm of the others).
  EXPECT_EQ(45u, u->Stats().max_per_block_row);
  EXPECT_EQ(0u, u->Stats().min_per_block_row);
}

TEST(BlockSparseTest, StatsReportSpread) {
  // 2 block-rows x 8 columns; row 0 keeps cols {0,1,2,7}, row 1 keeps {7}.
  std::vector<float> w(32 * 8, 1.0f);
  std::vector<uint8_t> mask = {1, 1, 1, 0, 0, 0, 0, 1,  //
                               0, 0, 0, 0, 0, 0, 0, 1};
  auto m = BlockSparse16x1::FromDense(w.data(), 20, 8, mask.data());
  ASSERT_TRUE(m.ok());
  const BlockSparseStats s = m->Stats(4);
  EXPECT_EQ(2u, s.block_rows);
  EXPECT_EQ(5u, s.nonzero_blocks);
  EXPECT_DOUBLE_EQ(5.0 / 16.0, s.density);
  EXPECT_EQ(1u, s.min_per_block_row);
  EXPECT_EQ(4u, s.max_per_block_row);
  EXPECT_DOUBLE_EQ(2.5, s.mean_per_block_row);
  EXPECT_EQ(5u * 64, s.data_bytes);
  EXPECT_EQ(5u * 64 + 5 * 4 + 2 * 3 * 4, s.bytes);
  ASSERT_EQ(4u, s.segments.size());
  const size_t want_blocks[4] = {2, 1, 0, 2};
  const size_t want_min[4] = {0, 0, 0, 1}, want_max[4] = {2, 1, 0, 1};
  for (size_t g = 0; g < 4; ++g) {
    EXPECT_EQ(2 * g, s.segments[g].col_begin);
    EXPECT_EQ(2 * g + 2, s.segments[g].col_end);
    EXPECT_EQ(want_blocks[g], s.segments[g].nonzero_blocks) << g;
    EXPECT_EQ(want_min[g], s.segments[g].min_per_block_row) << g;
    EXPECT_EQ(want_max[g], s.segments[g].max_per_block_row) << g;
  }
  EXPECT_DOUBLE_EQ(0.5, s.segments[0].density);
}

// ------------------------------ Validate: one broken field per test

// A mutable copy of a valid matrix's arrays.
struct Mutable {
  BlockSparseView v;
  std::vector<uint32_t> block_offsets, data_offsets, col_indices;
  hwy::AlignedFreeUniquePtr<uint8_t[]> data;

  explicit Mutable(const BlockSparse16x1& m) {
    v = m.view();
    block_offsets.assign(v.block_offsets, v.block_offsets + v.num_offsets);
    data_offsets.assign(v.data_offsets, v.data_offsets + v.num_offsets);
    col_indices.assign(v.col_indices, v.col_indices + v.num_blocks);
    data = hwy::AllocateAligned<uint8_t>(v.data_bytes + 64);
    memcpy(data.get(), v.data, v.data_bytes);
    Point();
  }
  void Point() {
    v.block_offsets = block_offsets.data();
    v.data_offsets = data_offsets.data();
    v.col_indices = col_indices.data();
    v.data = data.get();
  }
  float* F32() { return reinterpret_cast<float*>(data.get()); }
};

// 3 block-rows (rows = 40: 8 padding rows), 10 columns, counts {3, 0, 2}.
BlockSparse16x1 Sample(BlockDType t = BlockDType::kF32) {
  std::vector<float> w = RandomDense(40, 10, 3);
  std::vector<uint8_t> mask(30, 0);
  mask[1] = mask[4] = mask[9] = 1;  // row 0
  mask[20] = mask[25] = 1;           // row 2
  auto m = BlockSparse16x1::FromDense(w.data(), 40, 10, mask.data(), t);
  HWY_ASSERT(m.ok());
  return std::move(m).value();
}

void ExpectError(const BlockSparseView& v, StatusCode code,
                 const std::vector<std::string>& words) {
  const Status s = Validate(v);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(code, s.code()) << s.message();
  for (const std::string& word : words) {
    EXPECT_NE(nullptr, strstr(s.message(), word.c_str()))
        << "want '" << word << "' in: " << s.message();
  }
}

TEST(BlockSparseValidateTest, SampleIsValid) {
  BlockSparse16x1 m = Sample();
  Mutable mu(m);
  EXPECT_TRUE(Validate(mu.v).ok()) << Validate(mu.v).message();
  BlockSparse16x1 m16 = Sample(BlockDType::kBf16);
  Mutable mu16(m16);
  EXPECT_TRUE(Validate(mu16.v).ok()) << Validate(mu16.v).message();
}

TEST(BlockSparseValidateTest, Rule1DType) {
  BlockSparse16x1 m = Sample();
  Mutable mu(m);
  mu.v.dtype = BlockDType::kInt8;
  ExpectError(mu.v, StatusCode::kUnimplemented, {"int8"});
  mu.v.dtype = static_cast<BlockDType>(7);
  ExpectError(mu.v, StatusCode::kInvalidArgument, {"dtype=7"});
}

TEST(BlockSparseValidateTest, Rule2ShapesAndPointers) {
  BlockSparse16x1 m = Sample();
  {
    Mutable mu(m);
    mu.v.rows = size_t{1} << 31;
    ExpectError(mu.v, StatusCode::kOutOfRange, {"rows=2147483648"});
  }
  {
    Mutable mu(m);
    mu.v.cols = ~size_t{0};
    ExpectError(mu.v, StatusCode::kOutOfRange, {"cols="});
  }
  {
    Mutable mu(m);
    mu.v.rows = 49;  // 4 block-rows, but 4 offsets
    ExpectError(mu.v, StatusCode::kInvalidArgument,
                {"num_offsets=4", "rows=49"});
  }
  {
    Mutable mu(m);
    mu.v.block_offsets = nullptr;
    ExpectError(mu.v, StatusCode::kInvalidArgument, {"block_offsets is null"});
  }
  {
    Mutable mu(m);
    mu.v.data_offsets = nullptr;
    ExpectError(mu.v, StatusCode::kInvalidArgument, {"data_offsets is null"});
  }
  {
    Mutable mu(m);
    mu.v.col_indices = nullptr;
    ExpectError(mu.v, StatusCode::kInvalidArgument,
                {"col_indices is null", "num_blocks=5"});
  }
  {
    Mutable mu(m);
    mu.v.data = nullptr;
    ExpectError(mu.v, StatusCode::kInvalidArgument, {"data is null"});
  }
}

TEST(BlockSparseValidateTest, Rule3BlockOffsets) {
  BlockSparse16x1 m = Sample();
  {
    Mutable mu(m);
    mu.block_offsets[0] = 1;
    ExpectError(mu.v, StatusCode::kInvalidArgument, {"block_offsets[0]=1"});
  }
  {
    Mutable mu(m);
    mu.block_offsets[2] = 2;  // {0, 3, 2, 5}: row 1 goes backwards
    ExpectError(mu.v, StatusCode::kInvalidArgument,
                {"block-row 1", "block_offsets[2]=2", "non-decreasing"});
  }
  {
    Mutable mu(m);
    mu.v.cols = 2;  // row 0 has 3 blocks (its indices would also be >= 2)
    ExpectError(mu.v, StatusCode::kInvalidArgument,
                {"block-row 0", "count=3", "cols=2"});
  }
  {
    Mutable mu(m);
    mu.v.num_blocks = 4;  // arrays shorter than the offsets claim
    ExpectError(mu.v, StatusCode::kOutOfRange,
                {"block-row 2", "block_offsets[3]=5", "num_blocks=4"});
  }
  {
    Mutable mu(m);
    mu.v.num_blocks = 6;  // more indices than the offsets use
    ExpectError(mu.v, StatusCode::kInvalidArgument,
                {"block_offsets[3]=5", "num_blocks=6"});
  }
}

TEST(BlockSparseValidateTest, Rule4ColumnIndices) {
  BlockSparse16x1 m = Sample();
  {
    Mutable mu(m);
    mu.col_indices[4] = 10;
    ExpectError(mu.v, StatusCode::kOutOfRange,
                {"block-row 2", "col_indices[4]=10", "cols=10"});
  }
  {
    Mutable mu(m);
    mu.col_indices[1] = 1;  // equal to its predecessor
    ExpectError(mu.v, StatusCode::kInvalidArgument,
                {"block-row 0", "col_indices[1]=1", "strictly increasing"});
  }
  {
    Mutable mu(m);
    std::swap(mu.col_indices[3], mu.col_indices[4]);
    ExpectError(mu.v, StatusCode::kInvalidArgument,
                {"block-row 2", "col_indices[4]=0"});
  }
}

TEST(BlockSparseValidateTest, Rule5DataOffsetsAndSize) {
  BlockSparse16x1 m = Sample();
  {
    Mutable mu(m);
    mu.data_offsets[0] = 1;
    ExpectError(mu.v, StatusCode::kInvalidArgument, {"data_offsets[0]=1"});
  }
  {
    Mutable mu(m);
    mu.data_offsets[1] = 2;  // row 0 has 3 f32 blocks = 3 lines
    ExpectError(mu.v, StatusCode::kInvalidArgument,
                {"block-row 0", "data_offsets[1]=2", "3 lines"});
  }
  {
    Mutable mu(m);
    mu.v.data_bytes = 5 * 64 - 1;
    ExpectError(mu.v, StatusCode::kOutOfRange,
                {"data_offsets[3]=5", "320 bytes", "data_bytes=319"});
  }
  {
    // A bf16 matrix needs ceil(3/2) + 0 + 1 = 3 lines.
    BlockSparse16x1 m16 = Sample(BlockDType::kBf16);
    Mutable mu(m16);
    EXPECT_EQ(3u * 64, mu.v.data_bytes);
    mu.v.dtype = BlockDType::kF32;  // same offsets read as f32: wrong sizes
    ExpectError(mu.v, StatusCode::kInvalidArgument,
                {"block-row 0", "3 lines for 3 f32 blocks"});
  }
}

TEST(BlockSparseValidateTest, Rule6Alignment) {
  BlockSparse16x1 m = Sample();
  Mutable mu(m);
  memmove(mu.data.get() + 4, mu.data.get(), mu.v.data_bytes);
  mu.v.data = mu.data.get() + 4;
  ExpectError(mu.v, StatusCode::kInvalidArgument, {"64-byte aligned"});
}

TEST(BlockSparseValidateTest, Rule7Padding) {
  {
    BlockSparse16x1 m = Sample();
    Mutable mu(m);
    // Block-row 2's first block is line 3; rows 40..47 are its rows 8..15.
    mu.F32()[3 * 16 + 9] = 1.0f;
    ExpectError(mu.v, StatusCode::kInvalidArgument,
                {"block-row 2", "padding row 41", "rows=40"});
    mu.F32()[3 * 16 + 9] = -0.0f;  // the sign bit counts too
    ExpectError(mu.v, StatusCode::kInvalidArgument, {"padding row 41"});
  }
  {
    BlockSparse16x1 m16 = Sample(BlockDType::kBf16);
    Mutable mu(m16);
    // Block-row 0 has 3 blocks: its line 1's high halves are padding.
    uint16_t one = 0x3F80;
    memcpy(mu.data.get() + 64 + 5 * 4 + 2, &one, 2);
    ExpectError(mu.v, StatusCode::kInvalidArgument,
                {"block-row 0", "bf16 pad half", "row 5"});
  }
}

}  // namespace
}  // namespace sparrow
