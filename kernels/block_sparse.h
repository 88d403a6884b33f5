// BlockSparse16x1: a weight matrix pruned in blocks of 16 consecutive rows x 1
// column, the layout of the sparse RNNs in WaveRNN, LPCNet and Facebook's TTS.
// docs/SPARSE.md has the picture of the layout and the measured figures.
//
//   // Keep the 10% of 16x1 blocks with the largest L2 norm, store as bf16.
//   sparrow::PruneOptions opt;
//   opt.dtype = sparrow::BlockDType::kBf16;
//   sparrow::StatusOr<sparrow::BlockSparse16x1> m =
//       sparrow::BlockSparse16x1::PruneToDensity(w, rows, cols, 0.10f, opt);
//   if (!m.ok()) return m.status();
//   sparrow::Spmv(m->view(), x, bias, y);          // kernels/spmv.h
//
//   // A matrix read from a model file: point a view at the mapped bytes and
//   // validate it once, before any kernel sees it.
//   sparrow::BlockSparseView v = ...;               // zero-copy
//   SPARROW_RETURN_IF_ERROR(sparrow::Validate(v));
//
// Layout (for each block-row i = 0 .. BlockRows()-1, covering rows
// 16i .. 16i+15; rows past `rows` are padding, zero, never written by kernels):
//   block_offsets[i] .. block_offsets[i+1]: its nonzero blocks, an index into
//     col_indices (so block_offsets is a prefix sum of the per-row counts).
//   col_indices[k]: the column of block k, strictly increasing per block-row.
//   data_offsets[i]: the first 64-byte line of block-row i in `data`.
//   data: the block stream, 64-byte aligned, each block-row starting on a line.
//     kF32:  one block per line, weight r of the block at float r.
//     kBf16: two blocks per line, interleaved: the line is 16 uint32 lanes and
//            lane r holds weight r of block 2j in its low half and weight r of
//            block 2j+1 in its high half, so a kernel widens each block with
//            one shift (low) or one AND (high) instead of a shuffle. A block-row
//            with an odd count pads its last line's high halves with zero.
//     kInt8: reserved for the quantization issue (Validate says Unimplemented);
//            it will add a per-block scale stream and a lines-per-count rule.
//
// Contract:
// - BlockSparse16x1 owns its arrays (hwy::AlignedFreeUniquePtr); it is movable,
//   not copyable, and immutable after construction, so concurrent reads (any
//   number of kernels on any threads) are safe. It allocates only in the
//   factory functions.
// - BlockSparseView owns nothing; the memory it points at must outlive it.
//   Kernels trust a view: call Validate() once on any view that did not come
//   from BlockSparse16x1::view().
#ifndef SPARROW_KERNELS_BLOCK_SPARSE_H_
#define SPARROW_KERNELS_BLOCK_SPARSE_H_

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "hwy/aligned_allocator.h"
#include "hwy/base.h"
#include "kernels/bf16.h"  // F32ToBf16Bits, Bf16BitsToF32
#include "kernels/status.h"

namespace sparrow {

constexpr size_t kSparseBlockRows = 16;  // rows per block
constexpr size_t kSparseLineBytes = 64;  // alignment and unit of data_offsets

enum class BlockDType : uint32_t { kF32 = 0, kBf16 = 1, kInt8 = 2 };

const char* BlockDTypeName(BlockDType t);

// 64-byte lines that `blocks` blocks of one block-row occupy (kF32: blocks,
// kBf16: ceil(blocks / 2)). 0 for an unsupported dtype.
size_t LinesForBlocks(BlockDType t, size_t blocks);

// A non-owning view of a BlockSparse16x1: what every kernel takes.
struct BlockSparseView {
  BlockDType dtype = BlockDType::kF32;
  size_t rows = 0;  // logical rows; BlockRows() = ceil(rows / 16)
  size_t cols = 0;
  const uint32_t* block_offsets = nullptr;  // [num_offsets]
  const uint32_t* data_offsets = nullptr;   // [num_offsets], in 64-byte lines
  size_t num_offsets = 0;                   // must be BlockRows() + 1
  const uint32_t* col_indices = nullptr;    // [num_blocks]
  size_t num_blocks = 0;
  const void* data = nullptr;  // [data_bytes], 64-byte aligned
  size_t data_bytes = 0;

  size_t BlockRows() const {
    return (rows + kSparseBlockRows - 1) / kSparseBlockRows;
  }
  size_t Count(size_t block_row) const {
    return block_offsets[block_row + 1] - block_offsets[block_row];
  }
};

// Checks everything a kernel relies on; the message names the block-row (or
// block) and field and the offending value. Never reads out of bounds of the
// sizes the view declares. Rules (docs/SPARSE.md):
//  1 dtype is kF32 or kBf16 (kInt8: Unimplemented).
//  2 rows, cols < 2^31; num_offsets == BlockRows() + 1; arrays non-null when
//    their size is non-zero.
//  3 block_offsets[0] == 0, non-decreasing, each count <= cols, and
//    block_offsets[BlockRows()] == num_blocks.
//  4 col_indices < cols and strictly increasing within each block-row.
//  5 data_offsets[0] == 0 and data_offsets[i+1] - data_offsets[i] ==
//    LinesForBlocks(dtype, count_i); data_offsets[BlockRows()] * 64 <=
//    data_bytes.
//  6 data is 64-byte aligned.
//  7 the padding rows of the last block-row hold zero weights (also the
//    bf16 pad half of an odd block-row's last line).
Status Validate(const BlockSparseView& v);

// The stored values of a valid view written densely (zeros elsewhere).
void ToDense(const BlockSparseView& v, float* HWY_RESTRICT out);  // [rows, cols]

struct PruneOptions {
  BlockDType dtype = BlockDType::kF32;
  // Same number of nonzero blocks in every block-row: round(density * cols)
  // each, the top ones of that row by L2 norm (Facebook TTS / WaveRNN's even
  // spread, which keeps the per-row work and thus thread partitions equal).
  // Otherwise the top round(density * BlockRows() * cols) blocks of the whole
  // matrix. Ties in norm keep the lower (block-row, column) first.
  bool balanced = false;
};

// Spread of nonzero blocks (the work per block-row) overall and per column
// segment.
struct BlockSparseStats {
  size_t block_rows = 0;
  size_t nonzero_blocks = 0;
  double density = 0.0;     // nonzero_blocks / (block_rows * cols)
  size_t bytes = 0;         // data + col_indices + both offset arrays
  size_t data_bytes = 0;    // the block stream alone
  size_t min_per_block_row = 0, max_per_block_row = 0;
  double mean_per_block_row = 0.0;
  struct Segment {
    size_t col_begin = 0, col_end = 0;
    size_t nonzero_blocks = 0;
    double density = 0.0;
    size_t min_per_block_row = 0, max_per_block_row = 0;
  };
  std::vector<Segment> segments;
};

// Density, bytes and the spread of nonzero blocks of a valid view.
BlockSparseStats Stats(const BlockSparseView& v, size_t col_segments = 4);

class BlockSparse16x1 {
 public:
  BlockSparse16x1() = default;  // an empty 0 x 0 matrix
  BlockSparse16x1(BlockSparse16x1&&) = default;
  BlockSparse16x1& operator=(BlockSparse16x1&&) = default;

  // Keeps block (i, c) iff block_mask[i * cols + c] != 0 (i < ceil(rows/16)).
  // Weights are copied (rounded to nearest-even for kBf16); zeros inside a
  // kept block stay. block_mask may be nullptr only if rows or cols is 0.
  static StatusOr<BlockSparse16x1> FromDense(
      const float* HWY_RESTRICT w,           // [rows, cols]
      size_t rows, size_t cols,
      const uint8_t* HWY_RESTRICT block_mask,  // [ceil(rows/16), cols]
      BlockDType dtype = BlockDType::kF32);

  // Keeps the blocks of largest L2 norm (see PruneOptions). density in [0, 1];
  // weights must be finite.
  static StatusOr<BlockSparse16x1> PruneToDensity(
      const float* HWY_RESTRICT w,  // [rows, cols]
      size_t rows, size_t cols, float density,
      const PruneOptions& options = PruneOptions());

  // Writes the stored values densely (zeros elsewhere). Exact: FromDense of
  // f32 weights round-trips bit for bit; bf16 gives the rounded values.
  void ToDense(float* HWY_RESTRICT out) const;  // [rows, cols]

  // The same pattern in another dtype (f32 -> bf16 rounds; bf16 -> f32 exact).
  StatusOr<BlockSparse16x1> ConvertTo(BlockDType dtype) const;

  BlockSparseStats Stats(size_t col_segments = 4) const;

  BlockSparseView view() const;
  BlockDType dtype() const { return dtype_; }
  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  size_t nonzero_blocks() const { return num_blocks_; }

 private:
  static StatusOr<BlockSparse16x1> Build(const float* w, size_t rows,
                                         size_t cols, const uint8_t* mask,
                                         BlockDType dtype);

  BlockDType dtype_ = BlockDType::kF32;
  size_t rows_ = 0, cols_ = 0, num_blocks_ = 0, data_bytes_ = 0;
  hwy::AlignedFreeUniquePtr<uint32_t[]> block_offsets_;
  hwy::AlignedFreeUniquePtr<uint32_t[]> data_offsets_;
  hwy::AlignedFreeUniquePtr<uint32_t[]> col_indices_;
  hwy::AlignedFreeUniquePtr<uint8_t[]> data_;
};

// Reads weight r (0..15) of the k-th nonzero block of block-row i, as float.
// For references and conversions, not hot loops. The view must be valid.
float BlockWeight(const BlockSparseView& v, size_t block_row, size_t k,
                  size_t r);


}  // namespace sparrow

#endif  // SPARROW_KERNELS_BLOCK_SPARSE_H_
