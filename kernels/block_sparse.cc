#include "kernels/block_sparse.h"

#include <math.h>
#include <string.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace sparrow {
namespace {

constexpr size_t kMaxDim = size_t{1} << 31;  // rows, cols (index arithmetic)

template <typename T>
hwy::AlignedFreeUniquePtr<T[]> AllocZeroed(size_t n) {
  // Never size 0, so every array of a valid matrix is a real pointer.
  auto p = hwy::AllocateAligned<T>(n == 0 ? 1 : n);
  HWY_ASSERT(p);
  memset(p.get(), 0, (n == 0 ? 1 : n) * sizeof(T));
  return p;
}

// Weight r of block k of block-row i, as stored bits widened to float.
inline float LoadWeight(BlockDType t, const uint8_t* line_base, size_t k,
                        size_t r) {
  if (t == BlockDType::kF32) {
    float f;
    memcpy(&f, line_base + k * kSparseLineBytes + r * sizeof(float),
           sizeof(f));
    return f;
  }
  // kBf16: line k/2, lane r, low half for even k and high half for odd k.
  uint16_t b;
  memcpy(&b, line_base + (k / 2) * kSparseLineBytes + r * 4 + (k % 2) * 2,
         sizeof(b));
  return Bf16BitsToF32(b);
}

inline void StoreWeight(BlockDType t, uint8_t* line_base, size_t k, size_t r,
                        float f) {
  if (t == BlockDType::kF32) {
    memcpy(line_base + k * kSparseLineBytes + r * sizeof(float), &f,
           sizeof(f));
    return;
  }
  const uint16_t b = F32ToBf16Bits(f);
  memcpy(line_base + (k / 2) * kSparseLineBytes + r * 4 + (k % 2) * 2, &b,
         sizeof(b));
}

bool SupportedDType(BlockDType t) {
  return t == BlockDType::kF32 || t == BlockDType::kBf16;
}

}  // namespace

const char* BlockDTypeName(BlockDType t) {
  switch (t) {
    case BlockDType::kF32:
      return "f32";
    case BlockDType::kBf16:
      return "bf16";
    case BlockDType::kInt8:
      return "int8";
  }
  return "unknown";
}

size_t LinesForBlocks(BlockDType t, size_t blocks) {
  switch (t) {
    case BlockDType::kF32:
      return blocks;
    case BlockDType::kBf16:
      return (blocks + 1) / 2;
    default:
      return 0;
  }
}

float BlockWeight(const BlockSparseView& v, size_t block_row, size_t k,
                  size_t r) {
  const uint8_t* base = static_cast<const uint8_t*>(v.data) +
                        size_t{v.data_offsets[block_row]} * kSparseLineBytes;
  return LoadWeight(v.dtype, base, k, r);
}

Status Validate(const BlockSparseView& v) {
  // Rule 1.
  if (v.dtype == BlockDType::kInt8) {
    return Status(StatusCode::kUnimplemented,
                  "dtype=int8 is reserved; kernels support f32 and bf16");
  }
  if (!SupportedDType(v.dtype)) {
    return InvalidArgument("dtype=%u is not a BlockDType",
                           static_cast<unsigned>(v.dtype));
  }
  // Rule 2.
  if (v.rows >= kMaxDim) return OutOfRange("rows=%zu must be < 2^31", v.rows);
  if (v.cols >= kMaxDim) return OutOfRange("cols=%zu must be < 2^31", v.cols);
  const size_t block_rows = v.BlockRows();
  if (v.num_offsets != block_rows + 1) {
    return InvalidArgument(
        "num_offsets=%zu, want block_rows + 1 = %zu for rows=%zu",
        v.num_offsets, block_rows + 1, v.rows);
  }
  if (v.block_offsets == nullptr) {
    return InvalidArgument("block_offsets is null (num_offsets=%zu)",
                           v.num_offsets);
  }
  if (v.data_offsets == nullptr) {
    return InvalidArgument("data_offsets is null (num_offsets=%zu)",
                           v.num_offsets);
  }
  if (v.num_blocks != 0 && v.col_indices == nullptr) {
    return InvalidArgument("col_indices is null but num_blocks=%zu",
                           v.num_blocks);
  }
  if (v.data_bytes != 0 && v.data == nullptr) {
    return InvalidArgument("data is null but data_bytes=%zu", v.data_bytes);
  }
  // Rule 6.
  if (reinterpret_cast<uintptr_t>(v.data) % kSparseLineBytes != 0) {
    return InvalidArgument("data=%p is not 64-byte aligned", v.data);
  }
  // Rules 3 and 5: offsets, walked once, each step checked before use.
  if (v.block_offsets[0] != 0) {
    return InvalidArgument("block_offsets[0]=%u, want 0", v.block_offsets[0]);
  }
  if (v.data_offsets[0] != 0) {
    return InvalidArgument("data_offsets[0]=%u, want 0", v.data_offsets[0]);
  }
  for (size_t i = 0; i < block_rows; ++i) {
    const uint32_t b0 = v.block_offsets[i], b1 = v.block_offsets[i + 1];
    if (b1 < b0) {
      return InvalidArgument(
          "block-row %zu: block_offsets[%zu]=%u < block_offsets[%zu]=%u "
          "(must be non-decreasing)",
          i, i + 1, b1, i, b0);
    }
    const size_t count = b1 - b0;
    if (count > v.cols) {
      return InvalidArgument("block-row %zu: count=%zu exceeds cols=%zu", i,
                             count, v.cols);
    }
    if (b1 > v.num_blocks) {
      return OutOfRange(
          "block-row %zu: block_offsets[%zu]=%u exceeds num_blocks=%zu", i,
          i + 1, b1, v.num_blocks);
    }
    const uint64_t d0 = v.data_offsets[i], d1 = v.data_offsets[i + 1];
    const size_t want = LinesForBlocks(v.dtype, count);
    if (d1 < d0 || d1 - d0 != want) {
      return InvalidArgument(
          "block-row %zu: data_offsets[%zu]=%llu - data_offsets[%zu]=%llu "
          "must be %zu lines for %zu %s blocks",
          i, i + 1, static_cast<unsigned long long>(d1), i,
          static_cast<unsigned long long>(d0), want, count,
          BlockDTypeName(v.dtype));
    }
  }
  if (v.block_offsets[block_rows] != v.num_blocks) {
    return InvalidArgument("block_offsets[%zu]=%u, want num_blocks=%zu",
                           block_rows, v.block_offsets[block_rows],
                           v.num_blocks);
  }
  const uint64_t need_bytes =
      uint64_t{v.data_offsets[block_rows]} * kSparseLineBytes;
  if (need_bytes > v.data_bytes) {
    return OutOfRange("data_offsets[%zu]=%u lines need %llu bytes, data_bytes=%zu",
                      block_rows, v.data_offsets[block_rows],
                      static_cast<unsigned long long>(need_bytes),
                      v.data_bytes);
  }
  // Rule 4.
  for (size_t i = 0; i < block_rows; ++i) {
    const uint32_t b0 = v.block_offsets[i], b1 = v.block_offsets[i + 1];
    for (uint32_t k = b0; k < b1; ++k) {
      const uint32_t c = v.col_indices[k];
      if (c >= v.cols) {
        return OutOfRange("block-row %zu: col_indices[%u]=%u >= cols=%zu", i,
                          k, c, v.cols);
      }
      if (k > b0 && c <= v.col_indices[k - 1]) {
        return InvalidArgument(
            "block-row %zu: col_indices[%u]=%u <= col_indices[%u]=%u (must be "
            "strictly increasing)",
            i, k, c, k - 1, v.col_indices[k - 1]);
      }
    }
  }
  // Rule 7: padding is zero. Kernels never write padded rows, but ToDense and
  // any future kernel that reduces across rows must be able to rely on it.
  const size_t valid_last = v.rows - (block_rows == 0 ? 0 : (block_rows - 1) * 16);
  for (size_t i = 0; i < block_rows; ++i) {
    const size_t count = v.Count(i);
    const size_t first_pad_row = (i + 1 == block_rows) ? valid_last : 16;
    const size_t slots =
        v.dtype == BlockDType::kBf16 ? LinesForBlocks(v.dtype, count) * 2
                                     : count;
    for (size_t k = 0; k < slots; ++k) {
      const size_t r0 = k < count ? first_pad_row : 0;
      for (size_t r = r0; r < 16; ++r) {
        const float f = BlockWeight(v, i, k, r);
        if (f != 0.0f || signbit(f)) {
          if (k >= count) {
            return InvalidArgument(
                "block-row %zu: bf16 pad half of line %zu row %zu holds %g, "
                "want +0",
                i, k / 2, r, static_cast<double>(f));
          }
          return InvalidArgument(
              "block-row %zu: block %zu padding row %zu (rows=%zu) holds %g, "
              "want +0",
              i, k, i * 16 + r, v.rows, static_cast<double>(f));
        }
      }
    }
  }
  return OkStatus();
}

StatusOr<BlockSparse16x1> BlockSparse16x1::Build(const float* w, size_t rows,
                                                 size_t cols,
                                                 const uint8_t* mask,
                                                 BlockDType dtype) {
  if (dtype == BlockDType::kInt8) {
    return Status(StatusCode::kUnimplemented,
                  "dtype=int8 is reserved; use f32 or bf16");
  }
  if (!SupportedDType(dtype)) {
    return InvalidArgument("dtype=%u is not a BlockDType",
                           static_cast<unsigned>(dtype));
  }
  if (rows >= kMaxDim) return OutOfRange("rows=%zu must be < 2^31", rows);
  if (cols >= kMaxDim) return OutOfRange("cols=%zu must be < 2^31", cols);
  const size_t block_rows = (rows + 15) / 16;
  if (rows != 0 && cols != 0) {
    if (w == nullptr) return InvalidArgument("w is null (rows=%zu cols=%zu)", rows, cols);
    if (mask == nullptr) return InvalidArgument("block_mask is null");
  }
  BlockSparse16x1 m;
  m.dtype_ = dtype;
  m.rows_ = rows;
  m.cols_ = cols;
  m.block_offsets_ = AllocZeroed<uint32_t>(block_rows + 1);
  m.data_offsets_ = AllocZeroed<uint32_t>(block_rows + 1);
  uint64_t blocks = 0, lines = 0;
  for (size_t i = 0; i < block_rows; ++i) {
    size_t count = 0;
    for (size_t c = 0; c < cols; ++c) count += mask[i * cols + c] != 0;
    blocks += count;
    lines += LinesForBlocks(dtype, count);
    if (blocks > UINT32_MAX || lines > UINT32_MAX) {
      return OutOfRange("block-row %zu: more than 2^32 blocks or lines", i);
    }
    m.block_offsets_[i + 1] = static_cast<uint32_t>(blocks);
    m.data_offsets_[i + 1] = static_cast<uint32_t>(lines);
  }
  m.num_blocks_ = blocks;
  m.data_bytes_ = lines * kSparseLineBytes;
  m.col_indices_ = AllocZeroed<uint32_t>(blocks);
  m.data_ = AllocZeroed<uint8_t>(m.data_bytes_);
  for (size_t i = 0; i < block_rows; ++i) {
    uint8_t* base = m.data_.get() + size_t{m.data_offsets_[i]} * kSparseLineBytes;
    size_t k = 0;
    const size_t r_end = std::min<size_t>(16, rows - i * 16);
    for (size_t c = 0; c < cols; ++c) {
      if (!mask[i * cols + c]) continue;
      m.col_indices_[m.block_offsets_[i] + k] = static_cast<uint32_t>(c);
      for (size_t r = 0; r < r_end; ++r) {
        StoreWeight(dtype, base, k, r, w[(i * 16 + r) * cols + c]);
      }
      ++k;
    }
  }
  return m;
}

StatusOr<BlockSparse16x1> BlockSparse16x1::FromDense(const float* w,
                                                     size_t rows, size_t cols,
                                                     const uint8_t* block_mask,
                                                     BlockDType dtype) {
  return Build(w, rows, cols, block_mask, dtype);
}

StatusOr<BlockSparse16x1> BlockSparse16x1::PruneToDensity(
    const float* w, size_t rows, size_t cols, float density,
    const PruneOptions& options) {
  if (!(density >= 0.0f && density <= 1.0f)) {  // also rejects NaN
    return InvalidArgument("density=%g must be in [0, 1]",
                           static_cast<double>(density));
  }
  if (rows >= kMaxDim) return OutOfRange("rows=%zu must be < 2^31", rows);
  if (cols >= kMaxDim) return OutOfRange("cols=%zu must be < 2^31", cols);
  if (rows != 0 && cols != 0 && w == nullptr) {
    return InvalidArgument("w is null (rows=%zu cols=%zu)", rows, cols);
  }
  const size_t block_rows = (rows + 15) / 16;
  const size_t total = block_rows * cols;
  // Squared L2 norm of every block, in double (order-independent enough that
  // ties are real ties, not rounding noise).
  std::vector<double> norm(total, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      const float f = w[r * cols + c];
      if (!std::isfinite(f)) {
        return InvalidArgument("w[%zu, %zu]=%g is not finite", r, c,
                               static_cast<double>(f));
      }
      norm[(r / 16) * cols + c] += static_cast<double>(f) * f;
    }
  }
  std::vector<uint8_t> mask(total == 0 ? 1 : total, 0);
  // Larger norm first; equal norms keep the lower flat index (deterministic).
  auto by_norm = [&norm](uint32_t a, uint32_t b) {
    return norm[a] > norm[b] || (norm[a] == norm[b] && a < b);
  };
  std::vector<uint32_t> order;
  if (options.balanced) {
    const size_t keep = std::min<size_t>(
        cols, static_cast<size_t>(std::lround(double{density} * cols)));
    order.resize(cols);
    for (size_t i = 0; i < block_rows; ++i) {
      for (size_t c = 0; c < cols; ++c) {
        order[c] = static_cast<uint32_t>(i * cols + c);
      }
      std::partial_sort(order.begin(), order.begin() + keep, order.end(),
                        by_norm);
      for (size_t k = 0; k < keep; ++k) mask[order[k]] = 1;
    }
  } else {
    const size_t keep = std::min<size_t>(
        total, static_cast<size_t>(std::llround(double{density} * total)));
    order.resize(total);
    for (size_t k = 0; k < total; ++k) order[k] = static_cast<uint32_t>(k);
    std::partial_sort(order.begin(), order.begin() + keep, order.end(),
                      by_norm);
    for (size_t k = 0; k < keep; ++k) mask[order[k]] = 1;
  }
  return Build(w, rows, cols, mask.data(), options.dtype);
}

void ToDense(const BlockSparseView& v, float* HWY_RESTRICT out) {
  if (v.rows * v.cols == 0) return;
  memset(out, 0, v.rows * v.cols * sizeof(float));
  for (size_t i = 0; i < v.BlockRows(); ++i) {
    const size_t r_end = std::min<size_t>(16, v.rows - i * 16);
    for (size_t k = 0; k < v.Count(i); ++k) {
      const size_t c = v.col_indices[v.block_offsets[i] + k];
      for (size_t r = 0; r < r_end; ++r) {
        out[(i * 16 + r) * v.cols + c] = BlockWeight(v, i, k, r);
      }
    }
  }
}

void BlockSparse16x1::ToDense(float* out) const { sparrow::ToDense(view(), out); }

StatusOr<BlockSparse16x1> BlockSparse16x1::ConvertTo(BlockDType dtype) const {
  const size_t block_rows = (rows_ + 15) / 16;
  std::vector<float> dense(rows_ * cols_ + 1);
  ToDense(dense.data());
  std::vector<uint8_t> mask(block_rows * cols_ + 1, 0);
  for (size_t i = 0; i < block_rows; ++i) {
    for (uint32_t k = block_offsets_[i]; k < block_offsets_[i + 1]; ++k) {
      mask[i * cols_ + col_indices_[k]] = 1;
    }
  }
  return Build(dense.data(), rows_, cols_, mask.data(), dtype);
}

BlockSparseView BlockSparse16x1::view() const {
  BlockSparseView v;
  v.dtype = dtype_;
  v.rows = rows_;
  v.cols = cols_;
  if (!block_offsets_) {  // default-constructed: a valid 0 x 0 view
    static const uint32_t kZero[1] = {0};
    v.block_offsets = kZero;
    v.data_offsets = kZero;
    v.num_offsets = 1;
    return v;
  }
  v.block_offsets = block_offsets_.get();
  v.data_offsets = data_offsets_.get();
  v.num_offsets = v.BlockRows() + 1;
  v.col_indices = col_indices_.get();
  v.num_blocks = num_blocks_;
  v.data = data_.get();
  v.data_bytes = data_bytes_;
  return v;
}

BlockSparseStats Stats(const BlockSparseView& v, size_t col_segments) {
  BlockSparseStats s;
  const size_t cols = v.cols;
  s.block_rows = v.BlockRows();
  s.nonzero_blocks = v.num_blocks;
  s.data_bytes = v.data_bytes;
  s.bytes = v.data_bytes + v.num_blocks * sizeof(uint32_t) +
            2 * (s.block_rows + 1) * sizeof(uint32_t);
  const size_t cells = s.block_rows * cols;
  s.density = cells == 0 ? 0.0 : static_cast<double>(v.num_blocks) / cells;
  s.mean_per_block_row =
      s.block_rows == 0 ? 0.0 : static_cast<double>(v.num_blocks) / s.block_rows;
  if (col_segments == 0) col_segments = 1;
  col_segments = std::min(col_segments, std::max<size_t>(cols, 1));
  s.segments.resize(col_segments);
  for (size_t g = 0; g < col_segments; ++g) {
    s.segments[g].col_begin = cols * g / col_segments;
    s.segments[g].col_end = cols * (g + 1) / col_segments;
  }
  std::vector<size_t> per_segment(col_segments);
  for (size_t i = 0; i < s.block_rows; ++i) {
    const size_t count = v.Count(i);
    s.min_per_block_row = i == 0 ? count : std::min(s.min_per_block_row, count);
    s.max_per_block_row = std::max(s.max_per_block_row, count);
    std::fill(per_segment.begin(), per_segment.end(), 0);
    size_t g = 0;
    for (uint32_t k = v.block_offsets[i]; k < v.block_offsets[i + 1]; ++k) {
      while (v.col_indices[k] >= s.segments[g].col_end) ++g;  // sorted
      ++per_segment[g];
    }
    for (g = 0; g < col_segments; ++g) {
      BlockSparseStats::Segment& seg = s.segments[g];
      seg.nonzero_blocks += per_segment[g];
      seg.min_per_block_row = i == 0 ? per_segment[g]
                                     : std::min(seg.min_per_block_row,
                                                per_segment[g]);
      seg.max_per_block_row = std::max(seg.max_per_block_row, per_segment[g]);
    }
  }
  for (BlockSparseStats::Segment& seg : s.segments) {
    const size_t seg_cells = s.block_rows * (seg.col_end - seg.col_begin);
    seg.density =
        seg_cells == 0 ? 0.0 : static_cast<double>(seg.nonzero_blocks) / seg_cells;
  }
  return s;
}

BlockSparseStats BlockSparse16x1::Stats(size_t col_segments) const {
  return sparrow::Stats(view(), col_segments);
}

}  // namespace sparrow
