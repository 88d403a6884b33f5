// SIMD bodies of the float Im2Col / Col2ImAdd (kernels/im2col.h) for every
// Highway target. A patch row whose window lies inside the image (all of
// them in an unpadded convolution) is KH runs of KW * C floats at a fixed
// stride, moved in a tight loop; a row that touches the padding takes the
// templates' per-kernel-row walk (im2col_detail::ForEachKernelRow). Each run
// is moved with whole vectors and a masked tail instead of a scalar loop
// (which GCC turns into a memmove call per 120-byte run). Every output
// element gets the same single copy or add as in the templates, in the same
// row order, so the results are bit-identical to them.

// Non-SIMD includes.
#ifndef SPARROW_KERNELS_IM2COL_INL_H_ONCE_
#define SPARROW_KERNELS_IM2COL_INL_H_ONCE_
#include <stddef.h>
#include <stdint.h>

#include "kernels/im2col.h"
#endif  // SPARROW_KERNELS_IM2COL_INL_H_ONCE_

#if defined(SPARROW_KERNELS_IM2COL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARROW_KERNELS_IM2COL_INL_H_
#undef SPARROW_KERNELS_IM2COL_INL_H_
#else
#define SPARROW_KERNELS_IM2COL_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

namespace im2col_simd {

// out[i] = in[i] (kAdd: out[i] += in[i]) for i < n. The tail is a masked load
// and store where those never touch memory past n (AVX2 and AVX-512), else
// scalar (SSE4's masked store is a full read-modify-write).
template <bool kAdd>
HWY_INLINE void Run(float* HWY_RESTRICT out, const float* HWY_RESTRICT in,
                    size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    auto v = hn::LoadU(d, in + i);
    if constexpr (kAdd) v = hn::Add(hn::LoadU(d, out + i), v);
    hn::StoreU(v, d, out + i);
  }
  if (i == n) return;
#if HWY_TARGET <= HWY_AVX2
  const auto m = hn::FirstN(d, n - i);
  auto v = hn::MaskedLoad(m, d, in + i);
  if constexpr (kAdd) v = hn::Add(hn::MaskedLoad(m, d, out + i), v);
  hn::BlendedStore(v, m, d, out + i);
#else
  for (; i < n; ++i) out[i] = kAdd ? out[i] + in[i] : in[i];
#endif
}

HWY_INLINE void Zero(float* HWY_RESTRICT out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = 0.0f;
}

// Calls interior(r, at) for each patch row r in [r0, r1) whose whole window
// lies inside the image (at: the input offset of its tap (0, 0); kernel row
// ky then starts at at + ky * dilation_h * W * C, a run of KW * C floats when
// dilation_w == 1), and border(r) for the others. One division per call, not
// per row; the interior test is four comparisons.
template <class Interior, class Border>
HWY_INLINE void WalkRows(const ConvGeometry& g, size_t r0, size_t r1,
                         const Interior& interior, const Border& border) {
  if (r0 >= r1) return;
  const int64_t h = static_cast<int64_t>(g.h), w = static_cast<int64_t>(g.w);
  const int64_t span_h = (static_cast<int64_t>(g.kh) - 1) * g.dilation_h + 1;
  const int64_t span_w = (static_cast<int64_t>(g.kw) - 1) * g.dilation_w + 1;
  size_t img = r0 / (g.oh * g.ow), oy = (r0 / g.ow) % g.oh, ox = r0 % g.ow;
  for (size_t r = r0; r < r1; ++r) {
    const int64_t iy = static_cast<int64_t>(oy) * g.stride_h - g.pad_top;
    const int64_t ix = static_cast<int64_t>(ox) * g.stride_w - g.pad_left;
    if (iy >= 0 && iy + span_h <= h && ix >= 0 && ix + span_w <= w) {
      interior(r, ((static_cast<int64_t>(img) * h + iy) * w + ix) *
                      static_cast<int64_t>(g.c));
    } else {
      border(r);
    }
    if (++ox == g.ow) {
      ox = 0;
      if (++oy == g.oh) {
        oy = 0;
        ++img;
      }
    }
  }
}

// Both directions over rows [r0, r1) of the patch matrix. kToImage false
// (Im2Col): src = x, dst = the patch rows, padding written as 0. kToImage
// true (Col2ImAdd): src = the patch rows' gradient, dst = dx, += per run.
template <bool kToImage>
HWY_INLINE void PatchRuns(const ConvGeometry& g, size_t r0, size_t r1,
                          const float* HWY_RESTRICT src,
                          float* HWY_RESTRICT dst) {
  const size_t c = g.c, row = g.kw * c, patch = g.PatchCols();
  const size_t step = static_cast<size_t>(g.dilation_w) * c;
  const size_t ky_step = static_cast<size_t>(g.dilation_h) * g.w * c;
  // n floats between patch offset `pat` and image offset `img`.
  const auto run = [&](size_t pat, int64_t img, size_t n) HWY_ATTR {
    if constexpr (kToImage) {
      Run<true>(dst + img, src + pat, n);
    } else {
      Run<false>(dst + pat, src + img, n);
    }
  };
  const auto border_run = [&](size_t r, size_t ky, int64_t at, size_t a,
                              size_t b) HWY_ATTR {
    const size_t pat = (r - r0) * patch + ky * row;
    if (!kToImage) Zero(dst + pat, a * c);
    if (g.dilation_w == 1) {
      run(pat + a * c, at, (b - a) * c);
    } else {
      for (size_t kx = a; kx < b; ++kx) {
        run(pat + kx * c, at + static_cast<int64_t>((kx - a) * step), c);
      }
    }
    if (!kToImage) Zero(dst + pat + b * c, (g.kw - b) * c);
  };
  WalkRows(
      g, r0, r1,
      [&](size_t r, int64_t at) HWY_ATTR {
        size_t pat = (r - r0) * patch;
        for (size_t ky = 0; ky < g.kh; ++ky, pat += row) {
          const int64_t img = at + static_cast<int64_t>(ky * ky_step);
          if (g.dilation_w == 1) {
            run(pat, img, row);
          } else {
            for (size_t kx = 0; kx < g.kw; ++kx) {
              run(pat + kx * c, img + static_cast<int64_t>(kx * step), c);
            }
          }
        }
      },
      [&](size_t r) HWY_ATTR {
        im2col_detail::ForEachKernelRow(g, r, r + 1, border_run);
      });
}

}  // namespace im2col_simd

void Im2ColImpl(const ConvGeometry& g, const float* HWY_RESTRICT x, size_t r0,
                size_t r1, float* HWY_RESTRICT cols) {
  im2col_simd::PatchRuns</*kToImage=*/false>(g, r0, r1, x, cols);
}

void Col2ImAddImpl(const ConvGeometry& g, const float* HWY_RESTRICT dcols,
                   size_t r0, size_t r1, float* HWY_RESTRICT dx) {
  im2col_simd::PatchRuns</*kToImage=*/true>(g, r0, r1, dcols, dx);
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#endif  // SPARROW_KERNELS_IM2COL_INL_H_
