// SIMD bodies of kernels/pool.h for every Highway target. Listed in
// textual_hdrs so the trainer could inline them into its own loops.
//
// Vectors run over channels, one output pixel at a time: each window tap is
// C contiguous floats, so a tap is one unaligned load, a compare and two
// blends (value, int32 index), in the reference's (row, column) order.
// Nothing branches on data, which was the reference's cost (a mispredicted
// `x > best` on about every other tap of random inputs). Without argmax, x86
// takes maxps, which is exactly `v > best ? v : best`.
// - C >= lanes: whole vectors over the channels, the last one overlapping
//   the one before (results are pure, so lanes computed twice agree).
// - C < lanes: the narrowest vector (1, 2, 4, 8 lanes or full) with >= C
//   lanes. Its loads read up to lanes - C floats past the pixel (the next
//   pixel's channels, ignored) and FirstN stores write only the pixel's C.
//   The last windows of x, where a vector would read past its end, go one
//   lane at a time, so nothing outside x is read.
// - Each output row is split into the columns whose windows are clipped
//   (padding; one at a time) and the interior, one run with every operand in
//   locals; 2x2 and 3x3 windows are unrolled there, carrying the winning
//   tap's offset and making it absolute once per pixel.
//
// Measured on LeNet-5's pools at batch 64 (bench/conv_bench.cc, one AMD
// EPYC core, AVX-512, medians; docs/PERFORMANCE.md): [64, 28, 28, 6] ->
// 14 x 14 in 36 us with argmax (28 us without), [64, 10, 10, 16] -> 5 x 5 in
// 8.7 us; the scalar reference takes 1.17 ms and 0.40 ms, oneDNN's training
// primitive 55 and 9.8 us. Whole pixels per vector through GatherIndex
// (floor(lanes / C) of them, an int32 offset vector) were slower for every
// C >= 2 (4x for C = 6: this EPYC's 16-lane gathers cost more than the
// loads they replace) and 2x faster only for C = 1, so there is no gather
// path.

// Non-SIMD includes.
#ifndef SPARROW_KERNELS_POOL_INL_H_ONCE_
#define SPARROW_KERNELS_POOL_INL_H_ONCE_
#include <stddef.h>
#include <stdint.h>

#include "hwy/base.h"
#include "kernels/pool.h"
#endif

#if defined(SPARROW_KERNELS_POOL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARROW_KERNELS_POOL_INL_H_
#undef SPARROW_KERNELS_POOL_INL_H_
#else
#define SPARROW_KERNELS_POOL_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace pool_simd {
namespace hn = hwy::HWY_NAMESPACE;

// v > best ? v : best, exactly (a NaN v never wins, a NaN best stays, and
// +0 does not replace -0). x86's maxps is exactly that, in one instruction
// instead of a compare and a blend; elsewhere Max's NaN rule differs.
template <class V>
HWY_INLINE V MaxKeepFirst(V v, V best) {
#if HWY_ARCH_X86 && HWY_TARGET != HWY_EMU128 && HWY_TARGET != HWY_SCALAR
  return hn::Max(v, best);  // _mm*_max_ps(v, best)
#else
  return hn::IfThenElse(hn::Gt(v, best), v, best);
#endif
}

// Max over a rows x cols window (rows, cols >= 1) whose first tap starts at
// x + off, for Lanes(d) consecutive floats; with kArg also the flat index of
// the first maximum. Taps are rows of cols taps, row_step / col_step floats
// apart, visited in (row, column) order: the first seeds, later ones win only
// when strictly greater.
template <bool kArg, class D, class DI = hn::RebindToSigned<D>>
HWY_INLINE void WindowMax(D d, const float* HWY_RESTRICT x, size_t off,
                          size_t rows, size_t cols, size_t row_step,
                          size_t col_step, hn::Vec<D>* best_out,
                          hn::Vec<DI>* at_out) {
  const DI di;
  const hn::Vec<DI> iota = hn::Iota(di, 0);
  hn::Vec<D> best = hn::LoadU(d, x + off);
  hn::Vec<DI> at;
  if constexpr (kArg)
    at = hn::Add(iota, hn::Set(di, static_cast<int32_t>(off)));
  for (size_t r = 0; r < rows; ++r) {
    const size_t row = off + r * row_step;
    for (size_t k = r == 0 ? 1 : 0; k < cols; ++k) {
      const size_t o = row + k * col_step;
      const hn::Vec<D> v = hn::LoadU(d, x + o);
      if constexpr (kArg) {
        const hn::Mask<D> gt = hn::Gt(v, best);
        best = hn::IfThenElse(gt, v, best);
        at = hn::IfThenElse(hn::RebindMask(di, gt),
                            hn::Add(iota, hn::Set(di, static_cast<int32_t>(o))),
                            at);
      } else {
        best = MaxKeepFirst(v, best);
      }
    }
  }
  *best_out = best;
  if constexpr (kArg) *at_out = at;
}

// As WindowMax for a whole kKH x kKW window (unrolled). The argmax is carried
// as the winning tap's offset from `off` (tap_off[t], hoisted out of the
// pixel loop) and made absolute once at the end.
template <bool kArg, size_t kKH, size_t kKW, class D,
          class DI = hn::RebindToSigned<D>>
HWY_INLINE void FixedWindowMax(D d, const float* HWY_RESTRICT x, size_t off,
                               size_t row_step, size_t col_step,
                               const hn::Vec<DI>* tap_off, hn::Vec<D>* best_out,
                               hn::Vec<DI>* at_out) {
  const DI di;
  hn::Vec<D> best = hn::LoadU(d, x + off);
  hn::Vec<DI> at = hn::Zero(di);
  HWY_UNROLL(9)
  for (size_t t = 1; t < kKH * kKW; ++t) {
    const hn::Vec<D> v =
        hn::LoadU(d, x + off + (t / kKW) * row_step + (t % kKW) * col_step);
    if constexpr (kArg) {
      const hn::Mask<D> gt = hn::Gt(v, best);
      best = hn::IfThenElse(gt, v, best);
      at = hn::IfThenElse(hn::RebindMask(di, gt), tap_off[t], at);
    } else {
      best = MaxKeepFirst(v, best);
    }
  }
  *best_out = best;
  if constexpr (kArg) {
    *at_out = hn::Add(
        at, hn::Add(hn::Iota(di, 0), hn::Set(di, static_cast<int32_t>(off))));
  }
}

// What every pixel of one MaxPoolLanes call shares.
template <class D>
struct Plan {
  using DI = hn::RebindToSigned<D>;
  const float* HWY_RESTRICT x;
  float* HWY_RESTRICT y;
  int32_t* HWY_RESTRICT argmax;
  size_t c, row_step;  // floats per pixel and per input row
  // C < lanes: a window whose last tap starts past `safe` would read past x.
  size_t safe;
  bool any_safe;
  hn::Mask<D> store_mask;
  hn::Mask<DI> store_mask_i;
  hn::Vec<DI> tap_off[9];  // full windows of kKH x kKW <= 9 taps
};

// WindowMax, or FixedWindowMax when kKH > 0.
template <bool kArg, size_t kKH, size_t kKW, class D,
          class DI = hn::RebindToSigned<D>>
HWY_INLINE void AnyWindowMax(D d, const float* HWY_RESTRICT x, size_t off,
                             size_t rows, size_t cols, size_t row_step,
                             size_t col_step, const hn::Vec<DI>* tap_off,
                             hn::Vec<D>* best, hn::Vec<DI>* at) {
  if constexpr (kKH != 0) {
    FixedWindowMax<kArg, kKH, kKW>(d, x, off, row_step, col_step, tap_off, best,
                                   at);
  } else {
    WindowMax<kArg>(d, x, off, rows, cols, row_step, col_step, best, at);
  }
}

// `count` output pixels at y + o, o + C, ... whose windows are rows x cols
// taps starting at x + off, off + step, ...; kKH > 0: whole kKH x kKW
// windows. Everything the loop touches is a local, so the compiler need not
// reload it after each store.
template <bool kArg, size_t kKH, size_t kKW, class D>
HWY_INLINE void Run(D d, const Plan<D>& pl, size_t off, size_t step,
                    size_t rows, size_t cols, size_t o, size_t count) {
  using DI = hn::RebindToSigned<D>;
  const DI di;
  const float* HWY_RESTRICT x = pl.x;
  float* HWY_RESTRICT y = pl.y;
  int32_t* HWY_RESTRICT argmax = pl.argmax;
  const size_t N = hn::Lanes(d), C = pl.c, row_step = pl.row_step;
  constexpr size_t kTaps = kKH * kKW == 0 ? 1 : kKH * kKW;
  hn::Vec<DI> tap_off[kTaps];
  for (size_t t = 0; t < kTaps; ++t) tap_off[t] = pl.tap_off[t];
  hn::Vec<D> best;
  hn::Vec<DI> at;
  if (C >= N) {
    for (size_t i = 0; i < count; ++i, off += step, o += C) {
      for (size_t c0 = 0; c0 < C; c0 += N) {
        const size_t c = HWY_MIN(c0, C - N);  // the last one overlaps
        AnyWindowMax<kArg, kKH, kKW>(d, x, off + c, rows, cols, row_step, C,
                                     tap_off, &best, &at);
        hn::StoreU(best, d, y + o + c);
        if constexpr (kArg) hn::StoreU(at, di, argmax + o + c);
      }
    }
    return;
  }
  // C < N: the first `fast` windows end (their last tap starts) at or
  // before pl.safe and take one vector; the rest go one lane at a time.
  const size_t span = (rows - 1) * row_step + (cols - 1) * C;
  size_t fast = 0;
  if (pl.any_safe && off + span <= pl.safe) {
    fast =
        step == 0 ? count : HWY_MIN(count, (pl.safe - off - span) / step + 1);
  }
  const hn::Mask<D> mask = pl.store_mask;
  const hn::Mask<DI> mask_i = pl.store_mask_i;
  for (size_t i = 0; i < fast; ++i, off += step, o += C) {
    AnyWindowMax<kArg, kKH, kKW>(d, x, off, rows, cols, row_step, C, tap_off,
                                 &best, &at);
    hn::BlendedStore(best, mask, d, y + o);
    if constexpr (kArg) hn::BlendedStore(at, mask_i, di, argmax + o);
  }
  const hn::CappedTag<float, 1> d1;
  const hn::RebindToSigned<decltype(d1)> di1;
  hn::Vec<decltype(d1)> best1;
  hn::Vec<decltype(di1)> at1;
  for (size_t i = fast; i < count; ++i, off += step, o += C) {
    for (size_t c = 0; c < C; ++c) {
      WindowMax<kArg>(d1, x, off + c, rows, cols, row_step, C, &best1, &at1);
      hn::StoreU(best1, d1, y + o + c);
      if constexpr (kArg) hn::StoreU(at1, di1, argmax + o + c);
    }
  }
}

// One output row (its windows' rows rows starting at input pixel row_off,
// its outputs at y + o): the columns whose windows are clipped one by one,
// the interior [lo, hi) as one run (unrolled kKH x kKW windows when the
// geometry has them and the row is not clipped vertically).
template <bool kArg, size_t kKH, size_t kKW, class D>
HWY_INLINE void Row(D d, const Plan<D>& pl, const PoolGeometry& p,
                    size_t row_off, size_t rows, size_t o) {
  const int64_t W = static_cast<int64_t>(p.w);
  const int64_t kw = static_cast<int64_t>(p.kw);
  const size_t C = pl.c;
  // Interior: xs = ox stride_w - pad_left >= 0 and xs + kw <= W.
  const size_t lo = HWY_MIN(
      p.ow, static_cast<size_t>((p.pad_left + p.stride_w - 1) / p.stride_w));
  const int64_t last_full = W + p.pad_left - kw;
  size_t hi =
      last_full < 0 ? 0 : static_cast<size_t>(last_full / p.stride_w) + 1;
  hi = HWY_MAX(lo, HWY_MIN(p.ow, hi));
  const auto clipped = [&](size_t ox) HWY_ATTR {
    const int64_t xs = static_cast<int64_t>(ox) * p.stride_w - p.pad_left;
    const int64_t x0 = HWY_MAX(int64_t{0}, xs);
    const int64_t x1 = HWY_MIN(W, xs + kw);
    Run<kArg, 0, 0>(d, pl, (row_off + static_cast<size_t>(x0)) * C, 0, rows,
                    static_cast<size_t>(x1 - x0), o + ox * C, 1);
  };
  for (size_t ox = 0; ox < lo; ++ox) clipped(ox);
  if (hi > lo) {
    const size_t off =
        (row_off + static_cast<size_t>(static_cast<int64_t>(lo) * p.stride_w -
                                       p.pad_left)) *
        C;
    const size_t step = static_cast<size_t>(p.stride_w) * C;
    if (kKH != 0 && rows == p.kh) {
      Run<kArg, kKH, kKW>(d, pl, off, step, rows, p.kw, o + lo * C, hi - lo);
    } else {
      Run<kArg, 0, 0>(d, pl, off, step, rows, p.kw, o + lo * C, hi - lo);
    }
  }
  for (size_t ox = hi; ox < p.ow; ++ox) clipped(ox);
}

template <bool kArg, size_t kKH, size_t kKW, class D>
HWY_INLINE void Rows(D d, const Plan<D>& pl, const PoolGeometry& p) {
  const int64_t H = static_cast<int64_t>(p.h);
  for (size_t img = 0; img < p.n; ++img) {
    for (size_t oy = 0; oy < p.oh; ++oy) {
      const int64_t ys = static_cast<int64_t>(oy) * p.stride_h - p.pad_top;
      const int64_t y0 = HWY_MAX(int64_t{0}, ys);
      const int64_t y1 = HWY_MIN(H, ys + static_cast<int64_t>(p.kh));
      Row<kArg, kKH, kKW>(d, pl, p, (img * p.h + static_cast<size_t>(y0)) * p.w,
                          static_cast<size_t>(y1 - y0),
                          (img * p.oh + oy) * p.ow * pl.c);
    }
  }
}

// Every output pixel, vectors of Lanes(d) channels.
template <bool kArg, class D>
HWY_NOINLINE void MaxPoolLanes(D d, const PoolGeometry& p,
                               const float* HWY_RESTRICT x,
                               float* HWY_RESTRICT y,
                               int32_t* HWY_RESTRICT argmax) {
  using DI = hn::RebindToSigned<D>;
  const DI di;
  const size_t N = hn::Lanes(d);
  const size_t total = p.InputSize();
  Plan<D> pl;
  pl.x = x;
  pl.y = y;
  pl.argmax = argmax;
  pl.c = p.c;
  pl.row_step = p.w * p.c;
  pl.safe = total >= N ? total - N : 0;
  pl.any_safe = total >= N;
  pl.store_mask = hn::FirstN(d, p.c);
  pl.store_mask_i = hn::FirstN(di, p.c);
  for (size_t t = 0; t < 9; ++t) pl.tap_off[t] = hn::Zero(di);
  if (p.kh * p.kw <= 9) {
    for (size_t t = 0; t < p.kh * p.kw; ++t) {
      pl.tap_off[t] = hn::Set(
          di,
          static_cast<int32_t>((t / p.kw) * pl.row_step + (t % p.kw) * p.c));
    }
  }
  if (p.kh == 2 && p.kw == 2) return Rows<kArg, 2, 2>(d, pl, p);
  if (p.kh == 3 && p.kw == 3) return Rows<kArg, 3, 3>(d, pl, p);
  Rows<kArg, 0, 0>(d, pl, p);
}

// The narrowest vector with at least C lanes (full vectors from C >= lanes).
template <bool kArg>
HWY_INLINE void MaxPoolT(const PoolGeometry& p, const float* HWY_RESTRICT x,
                         float* HWY_RESTRICT y, int32_t* HWY_RESTRICT argmax) {
  const hn::ScalableTag<float> d;
  const size_t C = p.c;
  if (C >= hn::Lanes(d)) return MaxPoolLanes<kArg>(d, p, x, y, argmax);
  if (C <= 1)
    return MaxPoolLanes<kArg>(hn::CappedTag<float, 1>(), p, x, y, argmax);
  if (C <= 2)
    return MaxPoolLanes<kArg>(hn::CappedTag<float, 2>(), p, x, y, argmax);
  if (C <= 4)
    return MaxPoolLanes<kArg>(hn::CappedTag<float, 4>(), p, x, y, argmax);
  if (C <= 8)
    return MaxPoolLanes<kArg>(hn::CappedTag<float, 8>(), p, x, y, argmax);
  return MaxPoolLanes<kArg>(d, p, x, y, argmax);
}

}  // namespace pool_simd

// ------------------------------ Per-target entry point

// HWY_EXPORTed by pool.cc (which checks the geometry). `inline`: this header
// may be included by other translation units too.
inline void MaxPool2DImpl(const PoolGeometry& p, const float* HWY_RESTRICT x,
                          float* HWY_RESTRICT y, int32_t* HWY_RESTRICT argmax) {
  if (p.n == 0 || p.oh == 0 || p.ow == 0 || p.c == 0) return;
  if (argmax != nullptr) {
    pool_simd::MaxPoolT<true>(p, x, y, argmax);
  } else {
    pool_simd::MaxPoolT<false>(p, x, y, nullptr);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#endif  // SPARROW_KERNELS_POOL_INL_H_ toggle
