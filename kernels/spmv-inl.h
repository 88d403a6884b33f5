// SIMD bodies of kernels/spmv.h for every Highway target. Listed in
// textual_hdrs so the sparse GRU and the trainer can inline them.
//
// Shape of the kernels. A 16x1 block is kV = 16 / N f32 vectors (AVX-512: 1,
// AVX2: 2, SSE4/EMU128: 4), so one block times one broadcast input is kV
// aligned loads and kV FMAs. SpMV keeps kU blocks in flight per block-row,
// each with its own accumulator (kU * kV chains hide the FMA latency), and
// prefetches the block stream kPrefetchLines ahead. SpMM (X [batch, cols])
// loads a block once and applies it to kB inputs (kB accumulators), with the
// block-row outermost so its blocks stay in L1 across the batch chunks. bf16
// lines hold two blocks interleaved (block_sparse.h); the low block is widened
// by a 16-bit shift and the high one by an AND, so bf16 costs one extra
// integer op per block and half the bytes. Bias and activation run once per
// block-row on the finished sums; the last block-row's padding is never
// stored.

// Non-SIMD includes.
#ifndef SPARROW_KERNELS_SPMV_INL_H_ONCE_
#define SPARROW_KERNELS_SPMV_INL_H_ONCE_
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hwy/base.h"
#include "kernels/activation_type.h"
#include "kernels/block_sparse.h"
#endif

#if defined(SPARROW_KERNELS_SPMV_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARROW_KERNELS_SPMV_INL_H_
#undef SPARROW_KERNELS_SPMV_INL_H_
#else
#define SPARROW_KERNELS_SPMV_INL_H_
#endif

#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "kernels/activations-inl.h"

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace spmv_detail {

// Fully unrolls the loops over accumulators so that they live in registers
// (GCC otherwise keeps arrays of vectors on the stack).
#ifndef SPARROW_SPMV_UNROLL
#if HWY_COMPILER_CLANG
#define SPARROW_SPMV_UNROLL _Pragma("unroll")
#elif HWY_COMPILER_GCC
#define SPARROW_SPMV_UNROLL _Pragma("GCC unroll 16")
#else
#define SPARROW_SPMV_UNROLL
#endif
#endif

// Software prefetch of the block stream: kPrefetchLines 64-byte lines ahead,
// one prefetch per kPrefetchEvery lines (each costs a load-port slot; 0 = none).
#ifndef SPARROW_SPMV_PREFETCH_EVERY
#define SPARROW_SPMV_PREFETCH_EVERY 1
#endif
constexpr size_t kPrefetchLines = 8;
constexpr size_t kPrefetchEvery = SPARROW_SPMV_PREFETCH_EVERY;

template <typename T>
HWY_INLINE void PrefetchLine(const T* base, size_t line) {
  if constexpr (kPrefetchEvery != 0) {
    if (line % (kPrefetchEvery ? kPrefetchEvery : 1) == 0) {
      hwy::Prefetch(reinterpret_cast<const uint8_t*>(base) +
                    (line + kPrefetchLines) * kSparseLineBytes);
    }
  }
}

// The vector type every kernel uses: at most 16 lanes, so a block is a whole
// number of vectors on every target (16 % N == 0 since N is a power of two).
using DF = hn::CappedTag<float, 16>;
using DU = hn::RebindToUnsigned<DF>;
using VF = hn::Vec<DF>;
using VU = hn::Vec<DU>;

#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
// Vectors per 16x1 block (AVX-512: 1, AVX2: 2, SSE4/EMU128: 4), and blocks in
// flight per block-row for one input: 8 chains on AVX-512 (2 FMA ports x 4
// cycles latency), 8 on AVX2 (4 blocks x 2 vectors), 8 on SSE4.
constexpr size_t kBlockVectors = 16 / hn::MaxLanes(DF());
constexpr size_t kBlocksInFlight =
    kBlockVectors == 1 ? 8 : kBlockVectors == 2 ? 4 : 2;
#endif

// bf16 line: u32 lane r = (weight r of the high block) << 16 | (low block).
HWY_INLINE VF WidenLow(VU u) { return hn::BitCast(DF(), hn::ShiftLeft<16>(u)); }
HWY_INLINE VF WidenHigh(VU u) {
  return hn::BitCast(DF(), hn::And(u, hn::Set(DU(), 0xFFFF0000u)));
}

// y[0, valid) = act(sum + bias) for one block-row of one output, sum in kV
// vectors. bias and y point at the block-row's first row. valid < 16 only for
// the last block-row: its padding goes through a stack buffer, never to y.
template <class Tag, size_t kV>
HWY_INLINE void StoreBlockRow(const VF (&sum)[kV],
                              const float* HWY_RESTRICT bias,
                              float* HWY_RESTRICT y, size_t valid) {
  const DF d;
  constexpr size_t N = 16 / kV;
  if (HWY_LIKELY(valid == 16)) {
    SPARROW_SPMV_UNROLL
    for (size_t v = 0; v < kV; ++v) {
      VF s = sum[v];
      if (bias != nullptr) s = hn::Add(s, hn::LoadU(d, bias + v * N));
      hn::StoreU(Activate<Tag::kAct, Tag::kAcc>(d, s), d, y + v * N);
    }
    return;
  }
  HWY_ALIGN float buf[16] = {0};
  if (bias != nullptr) memcpy(buf, bias, valid * sizeof(float));
  SPARROW_SPMV_UNROLL
  for (size_t v = 0; v < kV; ++v) {
    const VF s = hn::Add(sum[v], hn::Load(d, buf + v * N));
    hn::Store(Activate<Tag::kAct, Tag::kAcc>(d, s), d, buf + v * N);
  }
  memcpy(y, buf, valid * sizeof(float));
}

template <size_t kU, size_t kV>
HWY_INLINE void ReduceAccumulators(VF (&acc)[kU][kV], VF (&sum)[kV]) {
  SPARROW_SPMV_UNROLL
  for (size_t v = 0; v < kV; ++v) {
    if constexpr (kU == 1) {
      sum[v] = acc[0][v];
    } else if constexpr (kU == 2) {
      sum[v] = hn::Add(acc[0][v], acc[1][v]);
    } else {
      static_assert(kU % 4 == 0, "kU is 1, 2 or a multiple of 4");
      VF s = hn::Add(hn::Add(acc[0][v], acc[1][v]),
                     hn::Add(acc[2][v], acc[3][v]));
      SPARROW_SPMV_UNROLL
      for (size_t u = 4; u < kU; u += 4) {
        s = hn::Add(s, hn::Add(hn::Add(acc[u][v], acc[u + 1][v]),
                               hn::Add(acc[u + 2][v], acc[u + 3][v])));
      }
      sum[v] = s;
    }
  }
}

// ------------------------------ One block-row times one input
//
// BlockRowDot*: sum = (block-row br of w) . x as kV vectors (16 rows), with kU
// blocks in flight. Shared by SpMV and the sparse GRU step (sparse_gru-inl.h),
// so tuning here speeds up both.

template <size_t kV, size_t kU>
HWY_INLINE void BlockRowDotF32(const BlockSparseView& w, size_t br,
                               const float* HWY_RESTRICT x, VF (&sum)[kV]) {
  const DF d;
  constexpr size_t N = 16 / kV;
  const uint32_t* HWY_RESTRICT idx = w.col_indices + w.block_offsets[br];
  const size_t n = w.block_offsets[br + 1] - w.block_offsets[br];
  const float* HWY_RESTRICT wp =
      static_cast<const float*>(w.data) + size_t{w.data_offsets[br]} * 16;
  VF acc[kU][kV];
  SPARROW_SPMV_UNROLL
  for (size_t u = 0; u < kU; ++u) {
    SPARROW_SPMV_UNROLL
    for (size_t v = 0; v < kV; ++v) acc[u][v] = hn::Zero(d);
  }
  size_t k = 0;
  for (; k + kU <= n; k += kU) {
    SPARROW_SPMV_UNROLL
    for (size_t u = 0; u < kU; ++u) {
      // The stream is contiguous across block-rows; prefetching past its
      // end is harmless (a hint, never a fault).
      PrefetchLine(wp, k + u);
      const VF xv = hn::Set(d, x[idx[k + u]]);
      SPARROW_SPMV_UNROLL
      for (size_t v = 0; v < kV; ++v) {
        acc[u][v] = hn::MulAdd(hn::Load(d, wp + (k + u) * 16 + v * N), xv,
                               acc[u][v]);
      }
    }
  }
  // Tail of < kU blocks; constant accumulator indices keep acc in
  // registers. (A branch-free masked tail measured no faster here.)
  SPARROW_SPMV_UNROLL
  for (size_t u = 0; u + 1 < kU; ++u) {
    if (k + u < n) {
      const VF xv = hn::Set(d, x[idx[k + u]]);
      SPARROW_SPMV_UNROLL
      for (size_t v = 0; v < kV; ++v) {
        acc[u][v] = hn::MulAdd(hn::Load(d, wp + (k + u) * 16 + v * N), xv,
                               acc[u][v]);
      }
    }
  }
  ReduceAccumulators(acc, sum);
}

template <size_t kV, size_t kU>
HWY_INLINE void BlockRowDotBf16(const BlockSparseView& w, size_t br,
                                const float* HWY_RESTRICT x, VF (&sum)[kV]) {
  static_assert(kU % 2 == 0, "two blocks per line");
  const DF d;
  const DU du;
  constexpr size_t N = 16 / kV;
  constexpr size_t kL = kU / 2;  // lines per unrolled step
  const uint32_t* HWY_RESTRICT idx = w.col_indices + w.block_offsets[br];
  const size_t n = w.block_offsets[br + 1] - w.block_offsets[br];
  const uint32_t* HWY_RESTRICT wp =
      static_cast<const uint32_t*>(w.data) + size_t{w.data_offsets[br]} * 16;
  VF acc[kU][kV];
  SPARROW_SPMV_UNROLL
  for (size_t u = 0; u < kU; ++u) {
    SPARROW_SPMV_UNROLL
    for (size_t v = 0; v < kV; ++v) acc[u][v] = hn::Zero(d);
  }
  const size_t pairs = n / 2;
  size_t p = 0;
  for (; p + kL <= pairs; p += kL) {
    SPARROW_SPMV_UNROLL
    for (size_t l = 0; l < kL; ++l) {
      PrefetchLine(wp, p + l);
      const VF xa = hn::Set(d, x[idx[2 * (p + l)]]);
      const VF xb = hn::Set(d, x[idx[2 * (p + l) + 1]]);
      SPARROW_SPMV_UNROLL
      for (size_t v = 0; v < kV; ++v) {
        const VU u = hn::Load(du, wp + (p + l) * 16 + v * N);
        acc[2 * l][v] = hn::MulAdd(WidenLow(u), xa, acc[2 * l][v]);
        acc[2 * l + 1][v] = hn::MulAdd(WidenHigh(u), xb, acc[2 * l + 1][v]);
      }
    }
  }
  SPARROW_SPMV_UNROLL
  for (size_t l = 0; l + 1 < kL; ++l) {
    if (p + l < pairs) {
      const VF xa = hn::Set(d, x[idx[2 * (p + l)]]);
      const VF xb = hn::Set(d, x[idx[2 * (p + l) + 1]]);
      SPARROW_SPMV_UNROLL
      for (size_t v = 0; v < kV; ++v) {
        const VU u = hn::Load(du, wp + (p + l) * 16 + v * N);
        acc[2 * l][v] = hn::MulAdd(WidenLow(u), xa, acc[2 * l][v]);
        acc[2 * l + 1][v] = hn::MulAdd(WidenHigh(u), xb, acc[2 * l + 1][v]);
      }
    }
  }
  if (n & 1) {  // the last line holds one block (low halves)
    const VF xa = hn::Set(d, x[idx[n - 1]]);
    SPARROW_SPMV_UNROLL
    for (size_t v = 0; v < kV; ++v) {
      const VU u = hn::Load(du, wp + pairs * 16 + v * N);
      acc[kU - 1][v] = hn::MulAdd(WidenLow(u), xa, acc[kU - 1][v]);
    }
  }
  ReduceAccumulators(acc, sum);
}

template <BlockDType kT, size_t kV, size_t kU>
HWY_INLINE void BlockRowDot(const BlockSparseView& w, size_t br,
                            const float* HWY_RESTRICT x, VF (&sum)[kV]) {
  if constexpr (kT == BlockDType::kF32) {
    BlockRowDotF32<kV, kU>(w, br, x, sum);
  } else {
    BlockRowDotBf16<kV, kU>(w, br, x, sum);
  }
}

// ------------------------------ SpMV (one input)

template <class Tag, BlockDType kT, size_t kV, size_t kU>
HWY_INLINE void SpmvT(const BlockSparseView& w, const float* HWY_RESTRICT x,
                      const float* HWY_RESTRICT bias, float* HWY_RESTRICT y,
                      size_t begin, size_t end) {
  for (size_t br = begin; br < end; ++br) {
    VF sum[kV];
    BlockRowDot<kT, kV, kU>(w, br, x, sum);
    const size_t r0 = br * 16;
    StoreBlockRow<Tag>(sum, bias ? bias + r0 : nullptr, y + r0,
                       HWY_MIN(size_t{16}, w.rows - r0));
  }
}

// ------------------------------ SpMM: kB inputs per pass over a block-row

// Block k of the current block-row as kV f32 vectors.
template <BlockDType kT, size_t kV>
HWY_INLINE void LoadBlock(const void* HWY_RESTRICT line_base, size_t k,
                          VF (&wv)[kV]) {
  constexpr size_t N = 16 / kV;
  if constexpr (kT == BlockDType::kF32) {
    const float* p = static_cast<const float*>(line_base) + k * 16;
    SPARROW_SPMV_UNROLL
    for (size_t v = 0; v < kV; ++v) wv[v] = hn::Load(DF(), p + v * N);
  } else {
    const uint32_t* p = static_cast<const uint32_t*>(line_base) + (k / 2) * 16;
    SPARROW_SPMV_UNROLL
    for (size_t v = 0; v < kV; ++v) {
      const VU u = hn::Load(DU(), p + v * N);
      wv[v] = (k & 1) ? WidenHigh(u) : WidenLow(u);
    }
  }
}

// Outputs b0 .. b0+kB-1 of block-row br. kK blocks in flight per input when
// kB is small, so that kK * kB >= 4 chains hide the FMA latency.
template <class Tag, BlockDType kT, size_t kV, size_t kB>
HWY_INLINE void SpmmBlockRow(const BlockSparseView& w, size_t br,
                             const float* HWY_RESTRICT x, size_t ldx,
                             const float* HWY_RESTRICT bias,
                             float* HWY_RESTRICT y, size_t ldy) {
  constexpr size_t kK = kB >= 4 ? 1 : 4 / kB;
  const DF d;
  const uint32_t* HWY_RESTRICT idx = w.col_indices + w.block_offsets[br];
  const size_t n = w.block_offsets[br + 1] - w.block_offsets[br];
  const uint8_t* base = static_cast<const uint8_t*>(w.data) +
                        size_t{w.data_offsets[br]} * kSparseLineBytes;
  VF acc[kK][kB][kV];
  SPARROW_SPMV_UNROLL
  for (size_t q = 0; q < kK; ++q) {
    SPARROW_SPMV_UNROLL
    for (size_t b = 0; b < kB; ++b) {
      SPARROW_SPMV_UNROLL
      for (size_t v = 0; v < kV; ++v) acc[q][b][v] = hn::Zero(d);
    }
  }
  size_t k = 0;
  if constexpr (kT == BlockDType::kBf16) {
    // Whole lines: one load, both halves widened once for all kB inputs.
    constexpr size_t kP = kK >= 2 ? kK / 2 : 1;  // lines per step
    const DU du;
    constexpr size_t N = 16 / kV;
    const uint32_t* HWY_RESTRICT lp = static_cast<const uint32_t*>(
        static_cast<const void*>(base));
    for (; k + 2 * kP <= n; k += 2 * kP) {
      SPARROW_SPMV_UNROLL
      for (size_t q = 0; q < kP; ++q) {
        VF wa[kV], wb[kV];
        SPARROW_SPMV_UNROLL
        for (size_t v = 0; v < kV; ++v) {
          const VU u = hn::Load(du, lp + (k / 2 + q) * 16 + v * N);
          wa[v] = WidenLow(u);
          wb[v] = WidenHigh(u);
        }
        const size_t ca = idx[k + 2 * q], cb = idx[k + 2 * q + 1];
        const size_t qa = (2 * q) % kK, qb = (2 * q + 1) % kK;
        SPARROW_SPMV_UNROLL
        for (size_t b = 0; b < kB; ++b) {
          const VF xa = hn::Set(d, x[b * ldx + ca]);
          const VF xb = hn::Set(d, x[b * ldx + cb]);
          SPARROW_SPMV_UNROLL
          for (size_t v = 0; v < kV; ++v) {
            acc[qa][b][v] = hn::MulAdd(wa[v], xa, acc[qa][b][v]);
            acc[qb][b][v] = hn::MulAdd(wb[v], xb, acc[qb][b][v]);
          }
        }
      }
    }
  }
  for (; kT == BlockDType::kF32 && k + kK <= n; k += kK) {
    SPARROW_SPMV_UNROLL
    for (size_t q = 0; q < kK; ++q) {
      VF wv[kV];
      LoadBlock<kT>(base, k + q, wv);
      const size_t c = idx[k + q];
      SPARROW_SPMV_UNROLL
      for (size_t b = 0; b < kB; ++b) {
        const VF xv = hn::Set(d, x[b * ldx + c]);
        SPARROW_SPMV_UNROLL
        for (size_t v = 0; v < kV; ++v) {
          acc[q][b][v] = hn::MulAdd(wv[v], xv, acc[q][b][v]);
        }
      }
    }
  }
  for (; k < n; ++k) {
    VF wv[kV];
    LoadBlock<kT>(base, k, wv);
    const size_t c = idx[k];
    SPARROW_SPMV_UNROLL
    for (size_t b = 0; b < kB; ++b) {
      const VF xv = hn::Set(d, x[b * ldx + c]);
      SPARROW_SPMV_UNROLL
      for (size_t v = 0; v < kV; ++v) {
        acc[0][b][v] = hn::MulAdd(wv[v], xv, acc[0][b][v]);
      }
    }
  }
  const size_t r0 = br * 16;
  const size_t valid = HWY_MIN(size_t{16}, w.rows - r0);
  SPARROW_SPMV_UNROLL
  for (size_t b = 0; b < kB; ++b) {
    VF sum[kV];
    SPARROW_SPMV_UNROLL
    for (size_t v = 0; v < kV; ++v) {
      sum[v] = acc[0][b][v];
      SPARROW_SPMV_UNROLL
      for (size_t q = 1; q < kK; ++q) sum[v] = hn::Add(sum[v], acc[q][b][v]);
    }
    StoreBlockRow<Tag>(sum, bias ? bias + r0 : nullptr, y + b * ldy + r0,
                       valid);
  }
}

// kB accumulators per vector: as many inputs as the registers hold next to a
// block (AVX-512: 32 registers, 8 inputs x 1 vector; AVX2 and SSE4: 16).
template <size_t kV>
constexpr size_t MaxBatchChunk() {
  return kV == 1 ? 8 : kV == 2 ? 4 : 2;
}

template <class Tag, BlockDType kT, size_t kV>
HWY_INLINE void SpmmT(const BlockSparseView& w, const float* HWY_RESTRICT x,
                      size_t ldx, const float* HWY_RESTRICT bias,
                      float* HWY_RESTRICT y, size_t ldy, size_t batch,
                      size_t begin, size_t end) {
  constexpr size_t kB = MaxBatchChunk<kV>();
  for (size_t br = begin; br < end; ++br) {
    size_t b = 0;
    for (; b + kB <= batch; b += kB) {
      SpmmBlockRow<Tag, kT, kV, kB>(w, br, x + b * ldx, ldx, bias, y + b * ldy,
                                    ldy);
    }
    // Remainder in halving chunks: 8 -> 4 -> 2 -> 1.
    if constexpr (kB > 4) {
      if (b + 4 <= batch) {
        SpmmBlockRow<Tag, kT, kV, 4>(w, br, x + b * ldx, ldx, bias,
                                     y + b * ldy, ldy);
        b += 4;
      }
    }
    if constexpr (kB > 2) {
      if (b + 2 <= batch) {
        SpmmBlockRow<Tag, kT, kV, 2>(w, br, x + b * ldx, ldx, bias,
                                     y + b * ldy, ldy);
        b += 2;
      }
    }
    if (b < batch) {
      SpmmBlockRow<Tag, kT, kV, 1>(w, br, x + b * ldx, ldx, bias, y + b * ldy,
                                   ldy);
    }
  }
}

// ------------------------------ Generic (any lane count, Lanes(d) loops)

// One 16-row slice of Lanes(d) rows at a time, one accumulator: the fallback
// for scalable targets, where a block is not a compile-time number of
// vectors. Also exercised by the tests on every target.
template <class Tag>
HWY_NOINLINE void SpmmGenericT(const BlockSparseView& w,
                               const float* HWY_RESTRICT x, size_t ldx,
                               const float* HWY_RESTRICT bias,
                               float* HWY_RESTRICT y, size_t ldy, size_t batch,
                               size_t begin, size_t end) {
  const DF d;
  const DU du;
  const size_t N = hn::Lanes(d);
  for (size_t br = begin; br < end; ++br) {
    const uint32_t* HWY_RESTRICT idx = w.col_indices + w.block_offsets[br];
    const size_t n = w.block_offsets[br + 1] - w.block_offsets[br];
    const uint8_t* base = static_cast<const uint8_t*>(w.data) +
                          size_t{w.data_offsets[br]} * kSparseLineBytes;
    const size_t r0 = br * 16;
    const size_t valid = HWY_MIN(size_t{16}, w.rows - r0);
    for (size_t b = 0; b < batch; ++b) {
      HWY_ALIGN float buf[16];
      for (size_t r = 0; r < 16; r += N) {
        VF acc = hn::Zero(d);
        for (size_t k = 0; k < n; ++k) {
          const VF xv = hn::Set(d, x[b * ldx + idx[k]]);
          VF wv;
          if (w.dtype == BlockDType::kF32) {
            wv = hn::Load(d, reinterpret_cast<const float*>(base) + k * 16 + r);
          } else {
            const VU u = hn::Load(
                du, reinterpret_cast<const uint32_t*>(base) + (k / 2) * 16 + r);
            wv = (k & 1) ? WidenHigh(u) : WidenLow(u);
          }
          acc = hn::MulAdd(wv, xv, acc);
        }
        hn::Store(acc, d, buf + r);
      }
      for (size_t r = 0; r < valid; r += N) {
        // Padding lanes of the buffer get bias 0 and are dropped below.
        VF s = hn::Load(d, buf + r);
        if (bias != nullptr) {
          HWY_ALIGN float bb[16] = {0};
          memcpy(bb, bias + r0 + r, HWY_MIN(N, valid - r) * sizeof(float));
          s = hn::Add(s, hn::Load(d, bb));
        }
        hn::Store(Activate<Tag::kAct, Tag::kAcc>(d, s), d, buf + r);
      }
      memcpy(y + b * ldy + r0, buf, valid * sizeof(float));
    }
  }
}

inline HWY_MAYBE_UNUSED size_t ClipEnd(const BlockSparseView& w, size_t end) {
  return HWY_MIN(end, w.BlockRows());
}

}  // namespace spmv_detail

// ------------------------------ Per-target entry points

// Y = act(X Wᵀ + bias) over block-rows [begin, end) (clipped); batch 1 takes
// the SpMV kernels. See kernels/spmv.h for the contract.
inline HWY_MAYBE_UNUSED void SpmmImpl(const BlockSparseView& w,
                                      const float* HWY_RESTRICT x, size_t ldx,
                                      const float* HWY_RESTRICT bias,
                                      float* HWY_RESTRICT y, size_t ldy,
                                      size_t batch, Activation act,
                                      Accuracy acc, size_t begin, size_t end) {
  namespace sd = spmv_detail;
  end = sd::ClipEnd(w, end);
  if (begin >= end || batch == 0) return;
  HWY_DASSERT(w.dtype == BlockDType::kF32 || w.dtype == BlockDType::kBf16);
  WithActivation(act, acc, [&](auto tag) HWY_ATTR {
    using Tag = decltype(tag);
#if HWY_HAVE_SCALABLE || HWY_TARGET == HWY_SCALAR
    sd::SpmmGenericT<Tag>(w, x, ldx, bias, y, ldy, batch, begin, end);
#else
    constexpr size_t kV = sd::kBlockVectors;
    constexpr size_t kU = sd::kBlocksInFlight;
    if (w.dtype == BlockDType::kF32) {
      if (batch == 1) {
        sd::SpmvT<Tag, BlockDType::kF32, kV, kU>(w, x, bias, y, begin, end);
      } else {
        sd::SpmmT<Tag, BlockDType::kF32, kV>(w, x, ldx, bias, y, ldy, batch,
                                             begin, end);
      }
    } else {
      if (batch == 1) {
        sd::SpmvT<Tag, BlockDType::kBf16, kV, kU>(w, x, bias, y, begin, end);
      } else {
        sd::SpmmT<Tag, BlockDType::kBf16, kV>(w, x, ldx, bias, y, ldy, batch,
                                              begin, end);
      }
    }
#endif
  });
}

// The Lanes(d) fallback on any target (tests compare it too).
inline HWY_MAYBE_UNUSED void SpmmGenericImpl(
    const BlockSparseView& w, const float* HWY_RESTRICT x, size_t ldx,
    const float* HWY_RESTRICT bias, float* HWY_RESTRICT y, size_t ldy,
    size_t batch, Activation act, Accuracy acc, size_t begin, size_t end) {
  namespace sd = spmv_detail;
  end = sd::ClipEnd(w, end);
  if (begin >= end || batch == 0) return;
  WithActivation(act, acc, [&](auto tag) HWY_ATTR {
    sd::SpmmGenericT<decltype(tag)>(w, x, ldx, bias, y, ldy, batch, begin, end);
  });
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#endif  // SPARROW_KERNELS_SPMV_INL_H_
