// SIMD bodies of kernels/conv1ch.h for every Highway target. Listed in
// textual_hdrs so the trainer could inline them into its own loops.
//
// Both directions work on a zero-padded copy of one image (scratch), whose
// rows are wide enough that every whole vector of output columns, shifted by
// any tap kx, reads inside it: no edge cases in the inner loops.
//
// Forward, per output row and per block of <= 6 output channels: a register
// tile of kOB channels x kCV vectors of output columns starts at the bias;
// for each of the KH*KW taps the shifted input vectors are loaded once and
// FMA'd with the broadcast weight of every channel in the block. The tile
// lands in a planar [kOB][OW] row buffer (L1), which gets the activation on
// whole vectors and is then interleaved into the NHWC output row.
//
// Weight gradient, per block of channels: dy rows are de-interleaved into a
// planar [kOB][rows][OW] block (zero past OW, so whole vectors add nothing
// extra). For each group of kCV adjacent taps of a filter row, register
// accumulators (kOB channels x kCV taps) sum dy * shifted input over the
// block's rows and columns, each dy vector loaded once for all the taps,
// then add into per-lane partial sums in scratch; those are reduced into dw
// once per call. A last single tap splits its sums over column chains.
//
// The planar <-> NHWC moves are 4x4 transposes inside 128-bit blocks, 4
// channels x N pixels at a time (scalar for blocks of < 4 channels and the
// last OW % 4 pixels). In LeNet's conv1 they were a third of the time when
// scalar.
//
// Tile sizes: kOB * kCV <= 12 accumulators + kCV inputs + 1 weight stays
// within the 16 vector registers of SSE4 / AVX2 (checked in the AVX2
// disassembly: no spills in the inner loops).
//
// Measured (bench/conv_bench.cc, LeNet conv1 at batch 64, one Zen 3 core,
// AVX2): forward 0.27 ms, weight gradient 0.31 ms; im2col + GEMM 3.2 / 3.8 ms.

// Non-SIMD includes.
#ifndef SPARROW_KERNELS_CONV1CH_INL_H_ONCE_
#define SPARROW_KERNELS_CONV1CH_INL_H_ONCE_
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <type_traits>

#include "hwy/base.h"
#include "kernels/activation_type.h"
#include "kernels/conv1ch.h"
#include "kernels/im2col.h"
#endif

#if defined(SPARROW_KERNELS_CONV1CH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARROW_KERNELS_CONV1CH_INL_H_
#undef SPARROW_KERNELS_CONV1CH_INL_H_
#else
#define SPARROW_KERNELS_CONV1CH_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/activations-inl.h"

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace conv1ch_simd {
namespace hn = hwy::HWY_NAMESPACE;
using conv1ch_detail::kMaxBlock;
using conv1ch_detail::kMaxLanes;
using conv1ch_detail::Layout;

// At most 16 lanes on every target, as the scratch layout assumes.
using DF = hn::CappedTag<float, kMaxLanes>;

// The scratch regions start 64-byte aligned (Conv1ChScratchFloats has the
// slack); every region size is a multiple of 16 floats.
HWY_INLINE float* AlignScratch(float* p) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  return reinterpret_cast<float*>((a + 63) & ~uintptr_t{63});
}

// Rows [py0, py1) of the padded image of `img` ([H, W]): padded (py, px)
// holds img[py - pad_top, px - pad_left], 0 outside the image.
HWY_INLINE void PadRows(const ConvGeometry& g, const Layout& l,
                        const float* HWY_RESTRICT img, size_t py0, size_t py1,
                        float* HWY_RESTRICT xpad) {
  const int64_t pitch = static_cast<int64_t>(l.pitch);
  const int64_t w = static_cast<int64_t>(g.w);
  const int64_t c0 = std::min(std::max<int64_t>(g.pad_left, 0), pitch);
  const int64_t c1 = std::min(std::max(g.pad_left + w, c0), pitch);
  for (size_t py = py0; py < py1; ++py) {
    float* HWY_RESTRICT row = xpad + py * l.pitch;
    const int64_t iy = static_cast<int64_t>(py) - g.pad_top;
    if (iy < 0 || iy >= static_cast<int64_t>(g.h) || c0 == c1) {
      memset(row, 0, l.pitch * sizeof(float));
      continue;
    }
    memset(row, 0, static_cast<size_t>(c0) * sizeof(float));
    memcpy(row + c0, img + iy * w + (c0 - g.pad_left),
           static_cast<size_t>(c1 - c0) * sizeof(float));
    memset(row + c1, 0, static_cast<size_t>(pitch - c1) * sizeof(float));
  }
}

template <size_t kOB>
using Block = std::integral_constant<size_t, kOB>;

// Calls fn(o0, Block<ob>) for blocks of <= kMaxBlock output channels
// covering [0, O), as even as possible (16 = 6 + 5 + 5).
template <class Fn>
HWY_INLINE void ForEachChannelBlock(size_t O, const Fn& fn) {
  if (O == 0) return;
  const size_t blocks = (O + kMaxBlock - 1) / kMaxBlock;
  const size_t base = O / blocks, extra = O % blocks;
  size_t o0 = 0;
  for (size_t i = 0; i < blocks; ++i) {
    const size_t ob = base + (i < extra ? 1 : 0);
    switch (ob) {
      case 1: fn(o0, Block<1>()); break;
      case 2: fn(o0, Block<2>()); break;
      case 3: fn(o0, Block<3>()); break;
      case 4: fn(o0, Block<4>()); break;
      case 5: fn(o0, Block<5>()); break;
      default: fn(o0, Block<6>()); break;
    }
    o0 += ob;
  }
}
static_assert(kMaxBlock == 6, "ForEachChannelBlock handles blocks of 1..6");

// Vectors of output columns per tile: as many as fit beside kOB channels.
template <size_t kOB>
constexpr size_t ColumnVectors() {
  return kOB <= 2 ? 4 : kOB == 3 ? 3 : 2;
}

// ------------------------------ Forward

// t[j * t_stride + c * N + i] = b[j] + sum over taps of
// w[j * KH * KW + ky * KW + kx] * xs[ky * pitch + kx + c * N + i].
template <size_t kOB, size_t kCV>
HWY_INLINE void ForwardTile(DF df, const float* HWY_RESTRICT xs, size_t pitch,
                            const float* HWY_RESTRICT w,  // [kOB, KH, KW]
                            size_t kh, size_t kw,
                            const float* HWY_RESTRICT b,  // [kOB] or null
                            float* HWY_RESTRICT t, size_t t_stride) {
  using V = hn::Vec<DF>;
  const size_t N = hn::Lanes(df);
  const size_t kk = kh * kw;
  V acc[kOB][kCV];
  HWY_UNROLL(6)
  for (size_t j = 0; j < kOB; ++j) {
    const V init = b ? hn::Set(df, b[j]) : hn::Zero(df);
    HWY_UNROLL(4)
    for (size_t c = 0; c < kCV; ++c) acc[j][c] = init;
  }
  for (size_t ky = 0; ky < kh; ++ky) {
    const float* HWY_RESTRICT xr = xs + ky * pitch;
    const float* HWY_RESTRICT wr = w + ky * kw;
    for (size_t kx = 0; kx < kw; ++kx) {
      V in[kCV];
      HWY_UNROLL(4)
      for (size_t c = 0; c < kCV; ++c) in[c] = hn::LoadU(df, xr + kx + c * N);
      HWY_UNROLL(6)
      for (size_t j = 0; j < kOB; ++j) {
        const V wv = hn::Set(df, wr[j * kk + kx]);
        HWY_UNROLL(4)
        for (size_t c = 0; c < kCV; ++c) {
          acc[j][c] = hn::MulAdd(wv, in[c], acc[j][c]);
        }
      }
    }
  }
  HWY_UNROLL(6)
  for (size_t j = 0; j < kOB; ++j) {
    HWY_UNROLL(4)
    for (size_t c = 0; c < kCV; ++c) {
      hn::Store(acc[j][c], df, t + j * t_stride + c * N);
    }
  }
}

// One output row of channels [o0, o0 + kOB) into the planar row buffer t
// ([kOB][ow_pad]): all vectors of output columns.
template <size_t kOB>
HWY_NOINLINE void ForwardRowBlock(const ConvGeometry& g, const Layout& l,
                                  const float* HWY_RESTRICT xrow,
                                  const float* HWY_RESTRICT w,
                                  const float* HWY_RESTRICT b,
                                  float* HWY_RESTRICT t) {
  const DF df;
  const size_t N = hn::Lanes(df);
  const size_t nv = (g.ow + N - 1) / N;
  constexpr size_t kCV = ColumnVectors<kOB>();
  size_t v = 0;
  for (; v + kCV <= nv; v += kCV) {
    ForwardTile<kOB, kCV>(df, xrow + v * N, l.pitch, w, g.kh, g.kw, b,
                          t + v * N, l.ow_pad);
  }
  if (kCV > 2 && v + 2 <= nv) {
    ForwardTile<kOB, 2>(df, xrow + v * N, l.pitch, w, g.kh, g.kw, b,
                        t + v * N, l.ow_pad);
    v += 2;
  }
  for (; v < nv; ++v) {
    ForwardTile<kOB, 1>(df, xrow + v * N, l.pitch, w, g.kh, g.kw, b,
                        t + v * N, l.ow_pad);
  }
}

// ------------------------------ Planar <-> NHWC rows

#if HWY_TARGET != HWY_SCALAR
// 4x4 transposes inside every 128-bit block: afterwards lane i of block b of
// v_k is lane k of block b of the input v_i (an involution).
template <class D, class V = hn::Vec<D>>
HWY_INLINE void Transpose4x4Blocks(D d, V& v0, V& v1, V& v2, V& v3) {
  const hn::Repartition<uint64_t, D> du64;
  const auto t0 = hn::BitCast(du64, hn::InterleaveLower(d, v0, v1));
  const auto t1 = hn::BitCast(du64, hn::InterleaveLower(d, v2, v3));
  const auto t2 = hn::BitCast(du64, hn::InterleaveUpper(d, v0, v1));
  const auto t3 = hn::BitCast(du64, hn::InterleaveUpper(d, v2, v3));
  v0 = hn::BitCast(d, hn::InterleaveLower(du64, t0, t1));
  v1 = hn::BitCast(d, hn::InterleaveUpper(du64, t0, t1));
  v2 = hn::BitCast(d, hn::InterleaveLower(du64, t2, t3));
  v3 = hn::BitCast(d, hn::InterleaveUpper(du64, t2, t3));
}

// Block b (4 floats) of v to p + b * stride, for every block.
template <class D>
HWY_INLINE void StoreBlocks(D d, hn::Vec<D> v, float* HWY_RESTRICT p,
                            size_t stride) {
  if constexpr (hn::MaxLanes(D()) <= 4) {
    hn::StoreU(v, d, p);
  } else {
    const hn::Half<D> dh;
    constexpr size_t kHalfBlocks = hn::MaxLanes(D()) / 8;
    StoreBlocks(dh, hn::LowerHalf(dh, v), p, stride);
    StoreBlocks(dh, hn::UpperHalf(dh, v), p + kHalfBlocks * stride, stride);
  }
}

// The inverse: block b of the result from p + b * stride.
template <class D>
HWY_INLINE hn::Vec<D> LoadBlocks(D d, const float* HWY_RESTRICT p,
                                 size_t stride) {
  if constexpr (hn::MaxLanes(D()) <= 4) {
    return hn::LoadU(d, p);
  } else {
    const hn::Half<D> dh;
    constexpr size_t kHalfBlocks = hn::MaxLanes(D()) / 8;
    const auto lo = LoadBlocks(dh, p, stride);
    const auto hi = LoadBlocks(dh, p + kHalfBlocks * stride, stride);
    return hn::Combine(d, hi, lo);
  }
}
#endif  // HWY_TARGET != HWY_SCALAR

// Channel blocks of 4+ channels move 4 channels x N pixels per step: the
// 4-channel groups start at 0, 4, .. and the last at kOB - 4 (overlapping
// the previous one), so every access stays inside the block's channels.
template <size_t kOB>
constexpr size_t Group4Start(size_t i) {
  return 4 * i + 4 <= kOB ? 4 * i : kOB - 4;
}

#if HWY_TARGET != HWY_SCALAR
// Pixels [ox, ox + Lanes(d)) of InterleaveRow, channels j0 .. j0 + 3.
template <class D>
HWY_INLINE void InterleaveGroup(D d, const float* HWY_RESTRICT t,
                                size_t ow_pad, size_t ox, size_t j0, size_t O,
                                float* HWY_RESTRICT y_row) {
  const float* HWY_RESTRICT in = t + j0 * ow_pad + ox;
  auto v0 = hn::Load(d, in);
  auto v1 = hn::Load(d, in + ow_pad);
  auto v2 = hn::Load(d, in + 2 * ow_pad);
  auto v3 = hn::Load(d, in + 3 * ow_pad);
  Transpose4x4Blocks(d, v0, v1, v2, v3);  // v_k: pixels ox + 4b + k
  float* HWY_RESTRICT out = y_row + ox * O + j0;
  StoreBlocks(d, v0, out, 4 * O);
  StoreBlocks(d, v1, out + O, 4 * O);
  StoreBlocks(d, v2, out + 2 * O, 4 * O);
  StoreBlocks(d, v3, out + 3 * O, 4 * O);
}

// Pixels [ox, ox + Lanes(d)) of DeinterleaveRows for one row.
template <class D>
HWY_INLINE void DeinterleaveGroup(D d, const float* HWY_RESTRICT src,
                                  size_t ox, size_t j0, size_t O,
                                  size_t plane, float* HWY_RESTRICT dst) {
  const float* HWY_RESTRICT in = src + ox * O + j0;
  auto v0 = LoadBlocks(d, in, 4 * O);  // pixels ox + 4b: channels j0 ..
  auto v1 = LoadBlocks(d, in + O, 4 * O);
  auto v2 = LoadBlocks(d, in + 2 * O, 4 * O);
  auto v3 = LoadBlocks(d, in + 3 * O, 4 * O);
  Transpose4x4Blocks(d, v0, v1, v2, v3);  // v_k: channel j0 + k
  float* HWY_RESTRICT out = dst + j0 * plane + ox;
  hn::Store(v0, d, out);
  hn::Store(v1, d, out + plane);
  hn::Store(v2, d, out + 2 * plane);
  hn::Store(v3, d, out + 3 * plane);
}
#endif  // HWY_TARGET != HWY_SCALAR

// y_row[ox * O + j] = t[j * ow_pad + ox] for ox < OW, j < kOB.
template <size_t kOB>
HWY_INLINE void InterleaveRow(const float* HWY_RESTRICT t, size_t ow_pad,
                              size_t ow, size_t O,
                              float* HWY_RESTRICT y_row) {
  size_t ox = 0;
#if HWY_TARGET != HWY_SCALAR
  if constexpr (kOB >= 4) {
    const DF df;
    const hn::Full128<float> d4;
    for (; ox + hn::Lanes(df) <= ow; ox += hn::Lanes(df)) {
      HWY_UNROLL(2)
      for (size_t i = 0; i < (kOB + 3) / 4; ++i) {
        InterleaveGroup(df, t, ow_pad, ox, Group4Start<kOB>(i), O, y_row);
      }
    }
    for (; ox + 4 <= ow; ox += 4) {
      HWY_UNROLL(2)
      for (size_t i = 0; i < (kOB + 3) / 4; ++i) {
        InterleaveGroup(d4, t, ow_pad, ox, Group4Start<kOB>(i), O, y_row);
      }
    }
  }
#endif
  for (; ox < ow; ++ox) {
    float* HWY_RESTRICT out = y_row + ox * O;
    HWY_UNROLL(6)
    for (size_t j = 0; j < kOB; ++j) out[j] = t[j * ow_pad + ox];
  }
}

template <Activation kAct, Accuracy kAcc>
HWY_NOINLINE void ForwardT(const ConvGeometry& g, const float* HWY_RESTRICT x,
                           const float* HWY_RESTRICT w,
                           const float* HWY_RESTRICT b, size_t O,
                           float* HWY_RESTRICT y, float* HWY_RESTRICT scratch,
                           size_t r0, size_t r1) {
  if (O == 0 || g.ow == 0 || g.oh == 0 || r0 >= r1) return;
  const DF df;
  const size_t N = hn::Lanes(df);
  const size_t nv = (g.ow + N - 1) / N;
  const Layout l = conv1ch_detail::MakeLayout(g);
  float* HWY_RESTRICT xpad = AlignScratch(scratch);
  float* HWY_RESTRICT t = xpad + l.image;
  const size_t kk = g.kh * g.kw;
  size_t padded_img = ~size_t{0};
  for (size_t r = r0; r < r1; ++r) {
    const size_t img = r / g.oh, oy = r % g.oh;
    if (img != padded_img) {  // the rows this call needs of a new image
      const size_t last = std::min(r1, (img + 1) * g.oh) - 1 - img * g.oh;
      PadRows(g, l, x + img * g.h * g.w, oy, last + g.kh, xpad);
      padded_img = img;
    }
    const float* HWY_RESTRICT xrow = xpad + oy * l.pitch;
    float* HWY_RESTRICT y_row = y + r * g.ow * O;
    ForEachChannelBlock(O, [&](size_t o0, auto tag) HWY_ATTR {
      constexpr size_t kOB = decltype(tag)::value;
      ForwardRowBlock<kOB>(g, l, xrow, w + o0 * kk, b ? b + o0 : nullptr, t);
      if constexpr (kAct != Activation::kIdentity) {
        for (size_t i = 0; i < kOB; ++i) {
          for (size_t v = 0; v < nv; ++v) {
            float* HWY_RESTRICT p = t + i * l.ow_pad + v * N;
            hn::Store(Activate<kAct, kAcc>(df, hn::Load(df, p)), df, p);
          }
        }
      }
      InterleaveRow<kOB>(t, l.ow_pad, g.ow, O, y_row + o0);
    });
  }
}

// ------------------------------ Weight gradient

// For j < kOB: dw_acc[j * acc_stride + i] += sum over rows r and columns of
// dyt[j * plane + r * ow_pad + ...] * xs[r * pitch + ...] (lane i of each
// vector), in kCV independent chains.
template <size_t kOB, size_t kCV>
HWY_INLINE void WeightGradTile(DF df, const float* HWY_RESTRICT xs,
                               size_t pitch, const float* HWY_RESTRICT dyt,
                               size_t plane, size_t ow_pad, size_t rows,
                               size_t nv, float* HWY_RESTRICT dw_acc,
                               size_t acc_stride) {
  using V = hn::Vec<DF>;
  const size_t N = hn::Lanes(df);
  V acc[kOB][kCV];
  HWY_UNROLL(6)
  for (size_t j = 0; j < kOB; ++j) {
    HWY_UNROLL(4)
    for (size_t c = 0; c < kCV; ++c) acc[j][c] = hn::Zero(df);
  }
  for (size_t r = 0; r < rows; ++r) {
    const float* HWY_RESTRICT xr = xs + r * pitch;
    const float* HWY_RESTRICT dr = dyt + r * ow_pad;
    size_t v = 0;
    for (; v + kCV <= nv; v += kCV) {
      V in[kCV];
      HWY_UNROLL(4)
      for (size_t c = 0; c < kCV; ++c) in[c] = hn::LoadU(df, xr + (v + c) * N);
      HWY_UNROLL(6)
      for (size_t j = 0; j < kOB; ++j) {
        HWY_UNROLL(4)
        for (size_t c = 0; c < kCV; ++c) {
          acc[j][c] = hn::MulAdd(hn::Load(df, dr + j * plane + (v + c) * N),
                                 in[c], acc[j][c]);
        }
      }
    }
    for (; v < nv; ++v) {
      const V in = hn::LoadU(df, xr + v * N);
      HWY_UNROLL(6)
      for (size_t j = 0; j < kOB; ++j) {
        acc[j][0] =
            hn::MulAdd(hn::Load(df, dr + j * plane + v * N), in, acc[j][0]);
      }
    }
  }
  HWY_UNROLL(6)
  for (size_t j = 0; j < kOB; ++j) {
    V sum = acc[j][0];
    HWY_UNROLL(4)
    for (size_t c = 1; c < kCV; ++c) sum = hn::Add(sum, acc[j][c]);
    float* HWY_RESTRICT p = dw_acc + j * acc_stride;
    hn::Store(hn::Add(hn::Load(df, p), sum), df, p);
  }
}

// As WeightGradTile for kKB adjacent taps kx0 .. kx0 + kKB - 1 (xs points at
// kx0) in one pass: each dy vector is loaded once for all of them, which
// halves the loads per FMA. Partial sums of tap q go to dw_acc + q * N.
template <size_t kOB, size_t kKB>
HWY_INLINE void WeightGradTaps(DF df, const float* HWY_RESTRICT xs,
                               size_t pitch, const float* HWY_RESTRICT dyt,
                               size_t plane, size_t ow_pad, size_t rows,
                               size_t nv, float* HWY_RESTRICT dw_acc,
                               size_t acc_stride) {
  using V = hn::Vec<DF>;
  const size_t N = hn::Lanes(df);
  V acc[kOB][kKB];
  HWY_UNROLL(6)
  for (size_t j = 0; j < kOB; ++j) {
    HWY_UNROLL(4)
    for (size_t q = 0; q < kKB; ++q) acc[j][q] = hn::Zero(df);
  }
  for (size_t r = 0; r < rows; ++r) {
    const float* HWY_RESTRICT xr = xs + r * pitch;
    const float* HWY_RESTRICT dr = dyt + r * ow_pad;
    for (size_t v = 0; v < nv; ++v) {
      V in[kKB];
      HWY_UNROLL(4)
      for (size_t q = 0; q < kKB; ++q) in[q] = hn::LoadU(df, xr + q + v * N);
      HWY_UNROLL(6)
      for (size_t j = 0; j < kOB; ++j) {
        const V d = hn::Load(df, dr + j * plane + v * N);
        HWY_UNROLL(4)
        for (size_t q = 0; q < kKB; ++q) {
          acc[j][q] = hn::MulAdd(d, in[q], acc[j][q]);
        }
      }
    }
  }
  HWY_UNROLL(6)
  for (size_t j = 0; j < kOB; ++j) {
    HWY_UNROLL(4)
    for (size_t q = 0; q < kKB; ++q) {
      float* HWY_RESTRICT p = dw_acc + j * acc_stride + q * N;
      hn::Store(hn::Add(hn::Load(df, p), acc[j][q]), df, p);
    }
  }
}

// Every tap of channels [o0, o0 + kOB) over one dy block of `rows` output
// rows starting at padded image row oy0.
template <size_t kOB>
HWY_NOINLINE void WeightGradBlock(const ConvGeometry& g, const Layout& l,
                                  const float* HWY_RESTRICT xpad, size_t oy0,
                                  size_t rows, const float* HWY_RESTRICT dyt,
                                  float* HWY_RESTRICT dw_acc) {
  const DF df;
  const size_t N = hn::Lanes(df);
  const size_t nv = (g.ow + N - 1) / N;
  const size_t kk = g.kh * g.kw;
  const size_t plane = l.dy_rows * l.ow_pad;
  constexpr size_t kCV = ColumnVectors<kOB>();  // also taps per pass
  for (size_t ky = 0; ky < g.kh; ++ky) {
    const float* HWY_RESTRICT xs = xpad + (oy0 + ky) * l.pitch;
    float* HWY_RESTRICT acc = dw_acc + ky * g.kw * N;
    size_t kx = 0;
    for (; kx + kCV <= g.kw; kx += kCV) {
      WeightGradTaps<kOB, kCV>(df, xs + kx, l.pitch, dyt, plane, l.ow_pad,
                               rows, nv, acc + kx * N, kk * N);
    }
    if (kCV > 2 && kx + 2 <= g.kw) {
      WeightGradTaps<kOB, 2>(df, xs + kx, l.pitch, dyt, plane, l.ow_pad, rows,
                             nv, acc + kx * N, kk * N);
      kx += 2;
    }
    for (; kx < g.kw; ++kx) {  // a last single tap: chains over columns
      if (nv >= kCV) {
        WeightGradTile<kOB, kCV>(df, xs + kx, l.pitch, dyt, plane, l.ow_pad,
                                 rows, nv, acc + kx * N, kk * N);
      } else {
        WeightGradTile<kOB, 1>(df, xs + kx, l.pitch, dyt, plane, l.ow_pad,
                               rows, nv, acc + kx * N, kk * N);
      }
    }
  }
}

// dyt[j * plane + r * ow_pad + ox] = dy_block[(r * OW + ox) * O + j]
// (the inverse of InterleaveRow, row by row).
template <size_t kOB>
HWY_INLINE void DeinterleaveRows(const float* HWY_RESTRICT dy_block,
                                 size_t O, size_t ow, size_t rows,
                                 size_t ow_pad, size_t plane,
                                 float* HWY_RESTRICT dyt) {
  for (size_t r = 0; r < rows; ++r) {
    const float* HWY_RESTRICT src = dy_block + r * ow * O;
    float* HWY_RESTRICT dst = dyt + r * ow_pad;
    size_t ox = 0;
#if HWY_TARGET != HWY_SCALAR
    if constexpr (kOB >= 4) {
      const DF df;
      const hn::Full128<float> d4;
      for (; ox + hn::Lanes(df) <= ow; ox += hn::Lanes(df)) {
        HWY_UNROLL(2)
        for (size_t i = 0; i < (kOB + 3) / 4; ++i) {
          DeinterleaveGroup(df, src, ox, Group4Start<kOB>(i), O, plane, dst);
        }
      }
      for (; ox + 4 <= ow; ox += 4) {
        HWY_UNROLL(2)
        for (size_t i = 0; i < (kOB + 3) / 4; ++i) {
          DeinterleaveGroup(d4, src, ox, Group4Start<kOB>(i), O, plane, dst);
        }
      }
    }
#endif
    for (; ox < ow; ++ox) {
      HWY_UNROLL(6)
      for (size_t j = 0; j < kOB; ++j) dst[j * plane + ox] = src[ox * O + j];
    }
  }
}

HWY_INLINE float ReduceSum(DF df, hn::Vec<DF> v) {
  return hn::GetLane(hn::SumOfLanes(df, v));
}

}  // namespace conv1ch_simd

// ------------------------------ Per-target entry points

// HWY_EXPORTed by conv1ch.cc. `inline`: this header may be included by other
// translation units too.
inline void Conv1ChForwardImpl(const ConvGeometry& g,
                               const float* HWY_RESTRICT x,
                               const float* HWY_RESTRICT w,
                               const float* HWY_RESTRICT b, size_t O,
                               Activation act, Accuracy acc,
                               float* HWY_RESTRICT y,
                               float* HWY_RESTRICT scratch, size_t row_begin,
                               size_t row_end) {
  HWY_DASSERT(Conv1ChApplies(g));
  WithActivation(act, acc, [&](auto tag) HWY_ATTR {
    conv1ch_simd::ForwardT<decltype(tag)::kAct, decltype(tag)::kAcc>(
        g, x, w, b, O, y, scratch, row_begin, row_end);
  });
}

inline void Conv1ChBackwardWeightsImpl(const ConvGeometry& g,
                                       const float* HWY_RESTRICT x,
                                       const float* HWY_RESTRICT dy, size_t O,
                                       float* HWY_RESTRICT dw,
                                       float* HWY_RESTRICT db,
                                       float* HWY_RESTRICT scratch) {
  namespace cs = conv1ch_simd;
  namespace hn = hwy::HWY_NAMESPACE;
  HWY_DASSERT(Conv1ChApplies(g));
  if (O == 0 || g.n == 0 || g.oh == 0 || g.ow == 0) return;  // sums of 0
  const cs::DF df;
  const size_t N = hn::Lanes(df);
  const size_t nv = (g.ow + N - 1) / N;
  const size_t kk = g.kh * g.kw;
  const conv1ch_detail::Layout l = conv1ch_detail::MakeLayout(g);
  const size_t plane = l.dy_rows * l.ow_pad;
  float* HWY_RESTRICT xpad = cs::AlignScratch(scratch);
  float* HWY_RESTRICT dyt = xpad + l.image;
  float* HWY_RESTRICT dw_acc = dyt + conv1ch_detail::kMaxBlock * plane;
  float* HWY_RESTRICT db_acc =
      dw_acc + conv1ch_detail::kMaxBlock * kk * conv1ch_detail::kMaxLanes;
  // Columns [OW, nv * N) of every dyt row must read as 0; the de-interleave
  // writes only columns < OW, so zeroing once is enough.
  memset(dyt, 0, conv1ch_detail::kMaxBlock * plane * sizeof(float));
  cs::ForEachChannelBlock(O, [&](size_t o0, auto tag) HWY_ATTR {
    constexpr size_t kOB = decltype(tag)::value;
    memset(dw_acc, 0, kOB * kk * N * sizeof(float));
    memset(db_acc, 0, kOB * N * sizeof(float));
    for (size_t img = 0; img < g.n; ++img) {
      cs::PadRows(g, l, x + img * g.h * g.w, 0, l.rows, xpad);
      for (size_t oy0 = 0; oy0 < g.oh; oy0 += l.dy_rows) {
        const size_t rows = std::min(l.dy_rows, g.oh - oy0);
        cs::DeinterleaveRows<kOB>(dy + (img * g.oh + oy0) * g.ow * O + o0, O,
                                  g.ow, rows, l.ow_pad, plane, dyt);
        if (db != nullptr) {  // kOB independent chains
          hn::Vec<cs::DF> sum[kOB];
          for (size_t j = 0; j < kOB; ++j) sum[j] = hn::Load(df, db_acc + j * N);
          for (size_t r = 0; r < rows; ++r) {
            const float* HWY_RESTRICT d = dyt + r * l.ow_pad;
            for (size_t v = 0; v < nv; ++v) {
              HWY_UNROLL(6)
              for (size_t j = 0; j < kOB; ++j) {
                sum[j] = hn::Add(sum[j], hn::Load(df, d + j * plane + v * N));
              }
            }
          }
          for (size_t j = 0; j < kOB; ++j) hn::Store(sum[j], df, db_acc + j * N);
        }
        cs::WeightGradBlock<kOB>(g, l, xpad, oy0, rows, dyt, dw_acc);
      }
    }
    for (size_t j = 0; j < kOB; ++j) {
      float* HWY_RESTRICT dwo = dw + (o0 + j) * kk;
      for (size_t i = 0; i < kk; ++i) {
        dwo[i] += cs::ReduceSum(df, hn::Load(df, dw_acc + (j * kk + i) * N));
      }
      if (db != nullptr) {
        db[o0 + j] += cs::ReduceSum(df, hn::Load(df, db_acc + j * N));
      }
    }
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#endif  // SPARROW_KERNELS_CONV1CH_INL_H_ toggle
