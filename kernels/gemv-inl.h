// SIMD bodies of kernels/gemv.h for every Highway target. Listed in
// textual_hdrs so fused kernels (GRU) and the trainer can inline them.
//
// Shape of the kernel: rows are processed in groups of N (= f32 lanes). Inside
// a group, blocks of rows share every x load: f32 uses 4-row blocks with 2
// independent accumulators per row; bf16 uses 8-row blocks with one
// accumulator per row, because its cost is port-bound (the exact bf16 -> f32
// widening is a shift or an AND per weight vector, and x must be split into
// even/odd columns by 2 permutes per block). Row totals are reduced 4 at a
// time by a transpose-add (Reduce4) instead of one SumOfLanes per row. The N
// totals of a group sit in an N-float stack buffer (L1), then bias +
// activation run on full vectors and y is written once. The next block is
// software-prefetched while the current one is consumed (PrefetchNext).
//
// HWY_SCALAR (the baseline on GCC < 12.3 instead of EMU128) takes 1-row paths.

// Non-SIMD includes.
#ifndef SPARROW_KERNELS_GEMV_INL_H_ONCE_
#define SPARROW_KERNELS_GEMV_INL_H_ONCE_
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmath>

#include "hwy/base.h"
#include "kernels/activation_type.h"
#endif

#if defined(SPARROW_KERNELS_GEMV_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARROW_KERNELS_GEMV_INL_H_
#undef SPARROW_KERNELS_GEMV_INL_H_
#else
#define SPARROW_KERNELS_GEMV_INL_H_
#endif

#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "kernels/activations-inl.h"

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ------------------------------ Partial loads/stores

// Loads n < Lanes(d) elements into a zero-padded vector; never reads past
// p[n - 1] (the kernels accept any pointer and length).
template <class D, typename T>
HWY_INLINE hn::Vec<D> LoadTail(D d, const T* HWY_RESTRICT p, size_t n) {
  alignas(64) T buf[hn::MaxLanes(D())] = {};
  memcpy(buf, p, n * sizeof(T));
  return hn::Load(d, buf);
}

template <class D, typename T>
HWY_INLINE void StoreTail(D d, hn::Vec<D> v, T* HWY_RESTRICT p, size_t n) {
  alignas(64) T buf[hn::MaxLanes(D())];
  hn::Store(v, d, buf);
  memcpy(p, buf, n * sizeof(T));
}

// ------------------------------ Reductions

#if HWY_TARGET != HWY_SCALAR
// Sums the 128-bit blocks of v into one 128-bit vector.
template <class D>
HWY_INLINE auto SumBlocks(D d, hn::Vec<D> v) {
  if constexpr (hn::MaxLanes(D()) * sizeof(hn::TFromD<D>) <= 16) {
    return v;
  } else {
    const hn::Half<D> dh;
    return SumBlocks(dh, hn::Add(hn::LowerHalf(dh, v), hn::UpperHalf(dh, v)));
  }
}

// Returns {sum(v0), sum(v1), sum(v2), sum(v3)} as a 4-lane vector: a transpose
// inside each 128-bit block, then the blocks are added. 6 shuffles + 4 adds on
// AVX3 instead of 4 full SumOfLanes.
template <class D, class V = hn::Vec<D>>
HWY_INLINE hn::Vec<hn::Full128<float>> Reduce4(D d, V v0, V v1, V v2, V v3) {
  // Per block: {a0+a2, b0+b2, a1+a3, b1+b3}.
  const V s01 = hn::Add(hn::InterleaveLower(d, v0, v1),
                        hn::InterleaveUpper(d, v0, v1));
  const V s23 = hn::Add(hn::InterleaveLower(d, v2, v3),
                        hn::InterleaveUpper(d, v2, v3));
  const hn::Repartition<uint64_t, D> du64;
  const auto w01 = hn::BitCast(du64, s01);
  const auto w23 = hn::BitCast(du64, s23);
  const V lo = hn::BitCast(d, hn::InterleaveLower(du64, w01, w23));
  const V hi = hn::BitCast(d, hn::InterleaveUpper(du64, w01, w23));
  return SumBlocks(d, hn::Add(lo, hi));
}
#endif  // HWY_TARGET != HWY_SCALAR

template <class D>
HWY_INLINE float ReduceSum(D d, hn::Vec<D> v) {
  return hn::GetLane(hn::SumOfLanes(d, v));
}

// ------------------------------ Prefetch

// Rows of a 4-row block are contiguous in a dense matrix, so the block after
// the current one starts at w + 4 * stride. While iterating over the current
// block, iteration k prefetches bytes [k * step, (k + 1) * step) of the next
// one: by the time it starts, it is on its way into L1. For streams from L3 or
// DRAM this hides the latency the hardware prefetchers leave exposed.
enum class Prefetch { kNone, kL1 };

template <Prefetch kPf, typename T>
HWY_INLINE void PrefetchNext(const T* HWY_RESTRICT next_block, size_t k,
                             size_t step_bytes) {
  if constexpr (kPf == Prefetch::kL1) {
    const char* p = reinterpret_cast<const char*>(next_block) + k * step_bytes;
    for (size_t b = 0; b < step_bytes; b += 64) hwy::Prefetch(p + b);
  }
}

// Prefetching one block ahead, only while that block fits comfortably in L1
// (48 KiB): beyond, the hardware streamers keep up with a few long rows and
// software prefetches only evict. Measured on Sapphire Rapids (1152x384):
// prefetching 2 or 3 blocks ahead, or into L2 only (prefetcht1), or with
// prefetchnta to spare L2, were all slower.
constexpr size_t kMaxPrefetchBlockBytes = 32 * 1024;
constexpr size_t kPrefetchBlocksAhead = 1;

// ------------------------------ Weight loads

// f32 weights: one vector of N columns.
template <class DF>
HWY_INLINE hn::Vec<DF> LoadW(DF df, const float* HWY_RESTRICT p) {
  return hn::LoadU(df, p);
}

#if HWY_TARGET != HWY_SCALAR
// bf16 weights: one vector of 2N bf16 columns split exactly into the f32
// values of the even columns (low halves of each u32, shifted up) and of the
// odd columns (high halves, low bits cleared). bf16 is the upper half of an
// f32, so both are exact. x must be split the same way (SplitX).
template <class DF>
HWY_INLINE void LoadWPair(DF df, const hwy::bfloat16_t* HWY_RESTRICT p,
                          hn::Vec<DF>& even, hn::Vec<DF>& odd) {
  const hn::RebindToUnsigned<DF> du32;
  const hn::Repartition<uint16_t, DF> du16;
  const auto bits = hn::BitCast(
      du32, hn::LoadU(du16, reinterpret_cast<const uint16_t*>(p)));
  even = hn::BitCast(df, hn::ShiftLeft<16>(bits));
  odd = hn::BitCast(df, hn::And(bits, hn::Set(du32, 0xFFFF0000u)));
}

// x[c .. c+2N) as {x[c], x[c+2], ..} and {x[c+1], x[c+3], ..}.
template <class DF>
HWY_INLINE void SplitX(DF df, const float* HWY_RESTRICT x, hn::Vec<DF>& even,
                       hn::Vec<DF>& odd) {
  const size_t N = hn::Lanes(df);
  const auto x0 = hn::LoadU(df, x);
  const auto x1 = hn::LoadU(df, x + N);
  even = hn::ConcatEven(df, x1, x0);
  odd = hn::ConcatOdd(df, x1, x0);
}
#endif  // HWY_TARGET != HWY_SCALAR

// ------------------------------ Row accumulation (f32)

// s_i += (lane-wise partial sums of) w_i . x for 4 rows w + i * stride.
template <Prefetch kPf, class DF, class V = hn::Vec<DF>>
HWY_INLINE void Accumulate4T(DF df, const float* HWY_RESTRICT w, size_t stride,
                            const float* HWY_RESTRICT x, size_t cols, V& s0,
                            V& s1, V& s2, V& s3) {
  const size_t N = hn::Lanes(df);
  const float* HWY_RESTRICT w0 = w;
  const float* HWY_RESTRICT w1 = w + stride;
  const float* HWY_RESTRICT w2 = w + 2 * stride;
  const float* HWY_RESTRICT w3 = w + 3 * stride;
  V a0 = hn::Zero(df), b0 = hn::Zero(df), a1 = hn::Zero(df),
    b1 = hn::Zero(df);
  V a2 = hn::Zero(df), b2 = hn::Zero(df), a3 = hn::Zero(df),
    b3 = hn::Zero(df);
  size_t c = 0;
  if (cols >= 2 * N) {
    const float* HWY_RESTRICT next = w + kPrefetchBlocksAhead * 4 * stride;
    for (size_t k = 0; c <= cols - 2 * N; c += 2 * N, ++k) {
      PrefetchNext<kPf>(next, k, 4 * 2 * N * sizeof(float));
      const V x0 = hn::LoadU(df, x + c);
      const V x1 = hn::LoadU(df, x + c + N);
      a0 = hn::MulAdd(LoadW(df, w0 + c), x0, a0);
      a1 = hn::MulAdd(LoadW(df, w1 + c), x0, a1);
      a2 = hn::MulAdd(LoadW(df, w2 + c), x0, a2);
      a3 = hn::MulAdd(LoadW(df, w3 + c), x0, a3);
      b0 = hn::MulAdd(LoadW(df, w0 + c + N), x1, b0);
      b1 = hn::MulAdd(LoadW(df, w1 + c + N), x1, b1);
      b2 = hn::MulAdd(LoadW(df, w2 + c + N), x1, b2);
      b3 = hn::MulAdd(LoadW(df, w3 + c + N), x1, b3);
    }
  }
  if (c + N <= cols) {
    const V x0 = hn::LoadU(df, x + c);
    a0 = hn::MulAdd(LoadW(df, w0 + c), x0, a0);
    a1 = hn::MulAdd(LoadW(df, w1 + c), x0, a1);
    a2 = hn::MulAdd(LoadW(df, w2 + c), x0, a2);
    a3 = hn::MulAdd(LoadW(df, w3 + c), x0, a3);
    c += N;
  }
  if (c < cols) {
    const size_t n = cols - c;
    const V x0 = LoadTail(df, x + c, n);  // zero-padded: w tail garbage-free
    b0 = hn::MulAdd(LoadTail(df, w0 + c, n), x0, b0);
    b1 = hn::MulAdd(LoadTail(df, w1 + c, n), x0, b1);
    b2 = hn::MulAdd(LoadTail(df, w2 + c, n), x0, b2);
    b3 = hn::MulAdd(LoadTail(df, w3 + c, n), x0, b3);
  }
  s0 = hn::Add(s0, hn::Add(a0, b0));
  s1 = hn::Add(s1, hn::Add(a1, b1));
  s2 = hn::Add(s2, hn::Add(a2, b2));
  s3 = hn::Add(s3, hn::Add(a3, b3));
}

template <class DF, class V = hn::Vec<DF>>
HWY_INLINE void Accumulate1(DF df, const float* HWY_RESTRICT w,
                            const float* HWY_RESTRICT x, size_t cols, V& s) {
  const size_t N = hn::Lanes(df);
  V a = hn::Zero(df), b = hn::Zero(df);
  size_t c = 0;
  if (cols >= 2 * N) {
    for (; c <= cols - 2 * N; c += 2 * N) {
      a = hn::MulAdd(LoadW(df, w + c), hn::LoadU(df, x + c), a);
      b = hn::MulAdd(LoadW(df, w + c + N), hn::LoadU(df, x + c + N), b);
    }
  }
  if (c + N <= cols) {
    a = hn::MulAdd(LoadW(df, w + c), hn::LoadU(df, x + c), a);
    c += N;
  }
  if (c < cols) {
    const size_t n = cols - c;
    b = hn::MulAdd(LoadTail(df, w + c, n), LoadTail(df, x + c, n), b);
  }
  s = hn::Add(s, hn::Add(a, b));
}

// ------------------------------ Row accumulation (bf16)

#if HWY_TARGET == HWY_SCALAR
// HWY_SCALAR (the baseline target on GCC < 12.3) has no 2N-lane u16 vectors:
// widen one weight at a time.
HWY_INLINE float Bf16ToF32(hwy::bfloat16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b.bits) << 16;
  float f;
  memcpy(&f, &bits, sizeof(f));
  return f;
}

template <class DF, class V = hn::Vec<DF>>
HWY_INLINE void Accumulate1(DF df, const hwy::bfloat16_t* HWY_RESTRICT w,
                            const float* HWY_RESTRICT x, size_t cols, V& s) {
  float sum = 0.0f;
  for (size_t c = 0; c < cols; ++c) sum = std::fma(Bf16ToF32(w[c]), x[c], sum);
  s = hn::Add(s, hn::Set(df, sum));
}
#else

template <Prefetch kPf, class DF, class V = hn::Vec<DF>>
HWY_INLINE void Accumulate4T(DF df, const hwy::bfloat16_t* HWY_RESTRICT w,
                            size_t stride, const float* HWY_RESTRICT x,
                            size_t cols, V& s0, V& s1, V& s2, V& s3) {
  const size_t N = hn::Lanes(df);
  const hwy::bfloat16_t* HWY_RESTRICT w0 = w;
  const hwy::bfloat16_t* HWY_RESTRICT w1 = w + stride;
  const hwy::bfloat16_t* HWY_RESTRICT w2 = w + 2 * stride;
  const hwy::bfloat16_t* HWY_RESTRICT w3 = w + 3 * stride;
  V a0 = hn::Zero(df), b0 = hn::Zero(df), a1 = hn::Zero(df),
    b1 = hn::Zero(df);
  V a2 = hn::Zero(df), b2 = hn::Zero(df), a3 = hn::Zero(df),
    b3 = hn::Zero(df);
  V xe, xo, we, wo;
  size_t c = 0;
  if (cols >= 2 * N) {
    const hwy::bfloat16_t* HWY_RESTRICT next =
        w + kPrefetchBlocksAhead * 4 * stride;
    for (size_t k = 0; c <= cols - 2 * N; c += 2 * N, ++k) {
      PrefetchNext<kPf>(next, k, 4 * 2 * N * sizeof(hwy::bfloat16_t));
      SplitX(df, x + c, xe, xo);
      LoadWPair(df, w0 + c, we, wo);
      a0 = hn::MulAdd(we, xe, a0);
      b0 = hn::MulAdd(wo, xo, b0);
      LoadWPair(df, w1 + c, we, wo);
      a1 = hn::MulAdd(we, xe, a1);
      b1 = hn::MulAdd(wo, xo, b1);
      LoadWPair(df, w2 + c, we, wo);
      a2 = hn::MulAdd(we, xe, a2);
      b2 = hn::MulAdd(wo, xo, b2);
      LoadWPair(df, w3 + c, we, wo);
      a3 = hn::MulAdd(we, xe, a3);
      b3 = hn::MulAdd(wo, xo, b3);
    }
  }
  if (c < cols) {
    // Zero-padded copies of the last < 2N columns.
    const size_t n = cols - c;
    alignas(64) float xbuf[2 * hn::MaxLanes(DF())] = {};
    alignas(64) hwy::bfloat16_t wbuf[2 * hn::MaxLanes(DF())] = {};
    memcpy(xbuf, x + c, n * sizeof(float));
    SplitX(df, xbuf, xe, xo);
#define SPARROW_GEMV_BF16_TAIL(i)                             \
  memcpy(wbuf, w##i + c, n * sizeof(hwy::bfloat16_t));        \
  LoadWPair(df, wbuf, we, wo);                                \
  a##i = hn::MulAdd(we, xe, a##i);                            \
  b##i = hn::MulAdd(wo, xo, b##i);
    SPARROW_GEMV_BF16_TAIL(0)
    SPARROW_GEMV_BF16_TAIL(1)
    SPARROW_GEMV_BF16_TAIL(2)
    SPARROW_GEMV_BF16_TAIL(3)
#undef SPARROW_GEMV_BF16_TAIL
  }
  s0 = hn::Add(s0, hn::Add(a0, b0));
  s1 = hn::Add(s1, hn::Add(a1, b1));
  s2 = hn::Add(s2, hn::Add(a2, b2));
  s3 = hn::Add(s3, hn::Add(a3, b3));
}

template <class DF, class V = hn::Vec<DF>>
HWY_INLINE void Accumulate1(DF df, const hwy::bfloat16_t* HWY_RESTRICT w,
                            const float* HWY_RESTRICT x, size_t cols, V& s) {
  const size_t N = hn::Lanes(df);
  V a = hn::Zero(df), b = hn::Zero(df);
  V xe, xo, we, wo;
  size_t c = 0;
  if (cols >= 2 * N) {
    for (; c <= cols - 2 * N; c += 2 * N) {
      SplitX(df, x + c, xe, xo);
      LoadWPair(df, w + c, we, wo);
      a = hn::MulAdd(we, xe, a);
      b = hn::MulAdd(wo, xo, b);
    }
  }
  if (c < cols) {
    const size_t n = cols - c;
    alignas(64) float xbuf[2 * hn::MaxLanes(DF())] = {};
    alignas(64) hwy::bfloat16_t wbuf[2 * hn::MaxLanes(DF())] = {};
    memcpy(xbuf, x + c, n * sizeof(float));
    memcpy(wbuf, w + c, n * sizeof(hwy::bfloat16_t));
    SplitX(df, xbuf, xe, xo);
    LoadWPair(df, wbuf, we, wo);
    a = hn::MulAdd(we, xe, a);
    b = hn::MulAdd(wo, xo, b);
  }
  s = hn::Add(s, hn::Add(a, b));
}

// 8 rows at once, one accumulator per row (8 independent FMA chains): the x
// split (2 permutes) is amortized over 8 rows instead of 4, which matters
// because the bf16 kernel is port-bound (each weight vector also costs a
// shift or an AND on the FMA ports).
template <Prefetch kPf, class DF, class V = hn::Vec<DF>>
HWY_INLINE void Accumulate8T(DF df, const hwy::bfloat16_t* HWY_RESTRICT w,
                             size_t stride, const float* HWY_RESTRICT x,
                             size_t cols, V& s0, V& s1, V& s2, V& s3, V& s4,
                             V& s5, V& s6, V& s7) {
  const size_t N = hn::Lanes(df);
  V a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df),
    a3 = hn::Zero(df), a4 = hn::Zero(df), a5 = hn::Zero(df),
    a6 = hn::Zero(df), a7 = hn::Zero(df);
  V xe, xo, we, wo;
#define SPARROW_GEMV_BF16_ROW(i, ptr)                 \
  LoadWPair(df, ptr, we, wo);                         \
  a##i = hn::MulAdd(we, xe, a##i);                    \
  a##i = hn::MulAdd(wo, xo, a##i);
  size_t c = 0;
  if (cols >= 2 * N) {
    const hwy::bfloat16_t* HWY_RESTRICT next =
        w + kPrefetchBlocksAhead * 8 * stride;
    for (size_t k = 0; c <= cols - 2 * N; c += 2 * N, ++k) {
      PrefetchNext<kPf>(next, k, 8 * 2 * N * sizeof(hwy::bfloat16_t));
      SplitX(df, x + c, xe, xo);
      SPARROW_GEMV_BF16_ROW(0, w + c)
      SPARROW_GEMV_BF16_ROW(1, w + stride + c)
      SPARROW_GEMV_BF16_ROW(2, w + 2 * stride + c)
      SPARROW_GEMV_BF16_ROW(3, w + 3 * stride + c)
      SPARROW_GEMV_BF16_ROW(4, w + 4 * stride + c)
      SPARROW_GEMV_BF16_ROW(5, w + 5 * stride + c)
      SPARROW_GEMV_BF16_ROW(6, w + 6 * stride + c)
      SPARROW_GEMV_BF16_ROW(7, w + 7 * stride + c)
    }
  }
  if (c < cols) {
    const size_t n = cols - c;
    alignas(64) float xbuf[2 * hn::MaxLanes(DF())] = {};
    alignas(64) hwy::bfloat16_t wbuf[2 * hn::MaxLanes(DF())] = {};
    memcpy(xbuf, x + c, n * sizeof(float));
    SplitX(df, xbuf, xe, xo);
#define SPARROW_GEMV_BF16_TAIL8(i)                                 \
  memcpy(wbuf, w + i * stride + c, n * sizeof(hwy::bfloat16_t));   \
  SPARROW_GEMV_BF16_ROW(i, wbuf)
    SPARROW_GEMV_BF16_TAIL8(0)
    SPARROW_GEMV_BF16_TAIL8(1)
    SPARROW_GEMV_BF16_TAIL8(2)
    SPARROW_GEMV_BF16_TAIL8(3)
    SPARROW_GEMV_BF16_TAIL8(4)
    SPARROW_GEMV_BF16_TAIL8(5)
    SPARROW_GEMV_BF16_TAIL8(6)
    SPARROW_GEMV_BF16_TAIL8(7)
#undef SPARROW_GEMV_BF16_TAIL8
  }
#undef SPARROW_GEMV_BF16_ROW
  s0 = hn::Add(s0, a0);
  s1 = hn::Add(s1, a1);
  s2 = hn::Add(s2, a2);
  s3 = hn::Add(s3, a3);
  s4 = hn::Add(s4, a4);
  s5 = hn::Add(s5, a5);
  s6 = hn::Add(s6, a6);
  s7 = hn::Add(s7, a7);
}
#endif  // HWY_TARGET == HWY_SCALAR

#if HWY_TARGET != HWY_SCALAR
// Accumulate4T with software prefetch of the next 4-row block (kPf) when the
// block is small enough to land in L1 ahead of use.
template <Prefetch kPf = Prefetch::kL1, class DF, typename WT,
          class V = hn::Vec<DF>>
HWY_INLINE void Accumulate4(DF df, const WT* HWY_RESTRICT w, size_t stride,
                            const float* HWY_RESTRICT x, size_t cols, V& s0,
                            V& s1, V& s2, V& s3) {
  if (kPrefetchBlocksAhead * 4 * stride * sizeof(WT) <= kMaxPrefetchBlockBytes) {
    Accumulate4T<kPf>(df, w, stride, x, cols, s0, s1, s2, s3);
  } else {
    Accumulate4T<Prefetch::kNone>(df, w, stride, x, cols, s0, s1, s2, s3);
  }
}

template <Prefetch kPf = Prefetch::kL1, class DF, class V = hn::Vec<DF>>
HWY_INLINE void Accumulate8(DF df, const hwy::bfloat16_t* HWY_RESTRICT w,
                            size_t stride, const float* HWY_RESTRICT x,
                            size_t cols, V& s0, V& s1, V& s2, V& s3, V& s4,
                            V& s5, V& s6, V& s7) {
  if (kPrefetchBlocksAhead * 8 * stride * sizeof(hwy::bfloat16_t) <=
      kMaxPrefetchBlockBytes) {
    Accumulate8T<kPf>(df, w, stride, x, cols, s0, s1, s2, s3, s4, s5, s6, s7);
  } else {
    Accumulate8T<Prefetch::kNone>(df, w, stride, x, cols, s0, s1, s2, s3, s4,
                                  s5, s6, s7);
  }
}

// Dots of 8 rows (bf16 only) into sums[0, 8): wa (row stride sa, ca columns)
// with xa, plus wb (optional second operand, may be null) with xb.
template <class DF>
HWY_INLINE void Dots8(DF df, const hwy::bfloat16_t* HWY_RESTRICT wa,
                      size_t sa, size_t ca, const float* HWY_RESTRICT xa,
                      const hwy::bfloat16_t* HWY_RESTRICT wb, size_t sb,
                      size_t cb, const float* HWY_RESTRICT xb,
                      float* HWY_RESTRICT sums) {
  using V = hn::Vec<DF>;
  const hn::Full128<float> d4;
  V s0 = hn::Zero(df), s1 = hn::Zero(df), s2 = hn::Zero(df),
    s3 = hn::Zero(df), s4 = hn::Zero(df), s5 = hn::Zero(df),
    s6 = hn::Zero(df), s7 = hn::Zero(df);
  if (wa) Accumulate8(df, wa, sa, xa, ca, s0, s1, s2, s3, s4, s5, s6, s7);
  if (wb) Accumulate8(df, wb, sb, xb, cb, s0, s1, s2, s3, s4, s5, s6, s7);
  hn::Store(Reduce4(df, s0, s1, s2, s3), d4, sums);
  hn::Store(Reduce4(df, s4, s5, s6, s7), d4, sums + 4);
}
#endif

// ------------------------------ GEMV

// Dot products of rows [r0, r0 + nr) of w with x into sums[0, nr), nr <= N.
template <class DF, typename WT>
HWY_INLINE void RowGroupDots(DF df, const WT* HWY_RESTRICT w, size_t stride,
                             const float* HWY_RESTRICT x, size_t cols,
                             size_t nr, float* HWY_RESTRICT sums) {
  using V = hn::Vec<DF>;
  size_t i = 0;
#if HWY_TARGET != HWY_SCALAR
  const hn::Full128<float> d4;
  if constexpr (hwy::IsSame<WT, hwy::bfloat16_t>()) {
    for (; i + 8 <= nr; i += 8) {
      Dots8(df, w + i * stride, stride, cols, x,
            static_cast<const WT*>(nullptr), 0, 0, nullptr, sums + i);
    }
  }
  for (; i + 4 <= nr; i += 4) {
    V s0 = hn::Zero(df), s1 = hn::Zero(df), s2 = hn::Zero(df),
      s3 = hn::Zero(df);
    Accumulate4(df, w + i * stride, stride, x, cols, s0, s1, s2, s3);
    hn::Store(Reduce4(df, s0, s1, s2, s3), d4, sums + i);
  }
#endif
  for (; i < nr; ++i) {
    V s = hn::Zero(df);
    Accumulate1(df, w + i * stride, x, cols, s);
    sums[i] = ReduceSum(df, s);
  }
}

// y = act(w x + bias). w: [rows, stride] (stride >= cols), bias may be null.
template <Activation kAct, Accuracy kAcc, typename WT>
HWY_NOINLINE void GemvT(const WT* HWY_RESTRICT w, size_t stride,
                        const float* HWY_RESTRICT x,
                        const float* HWY_RESTRICT bias, float* HWY_RESTRICT y,
                        size_t rows, size_t cols) {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
#if HWY_TARGET != HWY_SCALAR
  static_assert(hn::MaxLanes(decltype(df)()) % 4 == 0, "Reduce4 needs 4 | N");
#endif
  alignas(64) float sums[hn::MaxLanes(decltype(df)())] = {};
  for (size_t r0 = 0; r0 < rows; r0 += N) {
    const size_t nr = HWY_MIN(N, rows - r0);
    RowGroupDots(df, w + r0 * stride, stride, x, cols, nr, sums);
    auto v = hn::Load(df, sums);
    if (HWY_LIKELY(nr == N)) {
      if (bias) v = hn::Add(v, hn::LoadU(df, bias + r0));
      hn::StoreU(Activate<kAct, kAcc>(df, v), df, y + r0);
    } else {
      if (bias) v = hn::Add(v, LoadTail(df, bias + r0, nr));
      StoreTail(df, Activate<kAct, kAcc>(df, v), y + r0, nr);
    }
  }
}

template <typename WT>
HWY_INLINE void GemvDispatch(const WT* HWY_RESTRICT w, size_t stride,
                             const float* HWY_RESTRICT x,
                             const float* HWY_RESTRICT bias,
                             float* HWY_RESTRICT y, size_t rows, size_t cols,
                             Activation act, Accuracy acc) {
  WithActivation(act, acc, [&](auto tag) {
    using Tag = decltype(tag);
    GemvT<Tag::kAct, Tag::kAcc>(w, stride, x, bias, y, rows, cols);
  });
}

// Per-target entry points (HWY_EXPORTed by gemv.cc). `inline`: this header
// is also included by other kernels' translation units.
inline void GemvF32(const float* HWY_RESTRICT w,
                              const float* HWY_RESTRICT x,
                              const float* HWY_RESTRICT bias,
                              float* HWY_RESTRICT y, size_t rows, size_t cols,
                              Activation act, Accuracy acc) {
  GemvDispatch(w, cols, x, bias, y, rows, cols, act, acc);
}

inline void GemvBf16W(const hwy::bfloat16_t* HWY_RESTRICT w,
                                const float* HWY_RESTRICT x,
                                const float* HWY_RESTRICT bias,
                                float* HWY_RESTRICT y, size_t rows,
                                size_t cols, Activation act, Accuracy acc) {
  GemvDispatch(w, cols, x, bias, y, rows, cols, act, acc);
}

// ------------------------------ bf16 conversion

// Round to nearest even on the bits; NaN stays NaN (quiet bit forced, so a
// NaN whose payload sits only in the low 16 bits does not become Inf).
template <class DF>
HWY_INLINE hn::Vec<hn::Rebind<uint16_t, DF>> F32ToBf16Bits(DF df,
                                                          hn::Vec<DF> v) {
  const hn::RebindToUnsigned<DF> du32;
  const hn::RebindToSigned<DF> di32;
  const hn::Rebind<uint16_t, DF> du16;
  const auto bits = hn::BitCast(du32, v);
  const auto lsb = hn::And(hn::ShiftRight<16>(bits), hn::Set(du32, 1u));
  const auto rounded = hn::Add(bits, hn::Add(hn::Set(du32, 0x7FFFu), lsb));
  const auto nan = hn::Or(bits, hn::Set(du32, 0x00400000u));
  const auto is_nan = hn::RebindMask(du32, hn::IsNaN(v));
  const auto out = hn::ShiftRight<16>(hn::IfThenElse(is_nan, nan, rounded));
  return hn::DemoteTo(du16, hn::BitCast(di32, out));  // values <= 0xFFFF
}

inline void ConvertF32ToBf16Impl(const float* HWY_RESTRICT in,
                                           hwy::bfloat16_t* HWY_RESTRICT out,
                                           size_t n) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<uint16_t, decltype(df)> du16;
  const size_t N = hn::Lanes(df);
  uint16_t* HWY_RESTRICT out16 = reinterpret_cast<uint16_t*>(out);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    hn::StoreU(F32ToBf16Bits(df, hn::LoadU(df, in + i)), du16, out16 + i);
  }
  if (i < n) {
    StoreTail(du16, F32ToBf16Bits(df, LoadTail(df, in + i, n - i)), out16 + i,
              n - i);
  }
}

inline void ConvertBf16ToF32Impl(
    const hwy::bfloat16_t* HWY_RESTRICT in, float* HWY_RESTRICT out,
    size_t n) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<uint16_t, decltype(df)> du16;
  const hn::RebindToUnsigned<decltype(df)> du32;
  const size_t N = hn::Lanes(df);
  const uint16_t* HWY_RESTRICT in16 = reinterpret_cast<const uint16_t*>(in);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto wide = hn::PromoteTo(du32, hn::LoadU(du16, in16 + i));
    hn::StoreU(hn::BitCast(df, hn::ShiftLeft<16>(wide)), df, out + i);
  }
  if (i < n) {
    const auto wide = hn::PromoteTo(du32, LoadTail(du16, in16 + i, n - i));
    StoreTail(df, hn::BitCast(df, hn::ShiftLeft<16>(wide)), out + i, n - i);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#endif  // SPARROW_KERNELS_GEMV_INL_H_ toggle
