// im2col and its adjoint col2im for NHWC convolutions: the patch matrix that
// turns Conv2D into one GEMM (runtime's Conv2D, trainer's forward), and the
// scatter-add back (trainer's input gradient). Plain loops over the
// contiguous runs of a kernel row; templated on T so the trainer's gradient
// checks run in double.
//
//   sparrow::ConvGeometry g = {...};                 // shapes, stride, pads
//   std::vector<float> cols(g.PatchRows() * g.PatchCols());
//   sparrow::Im2Col(g, x, 0, g.PatchRows(), cols.data());
//   // y [rows, O] = cols [rows, KH*KW*C] . filter [O, KH*KW*C]^T (+ bias)
//
// Layout: x is [N, H, W, C]; patch row r = (n, oy, ox) in row-major order of
// [N, OH, OW]; its columns are (ky, kx, c) in row-major order of
// [KH, KW, C], matching a filter stored [O, KH, KW, C]. Taps that fall in the
// zero padding read as 0 (Im2Col) and are dropped (Col2Im).
//
// Contract: no allocation, no alignment needed; rows [r0, r1) of the patch
// matrix only, so callers can work in chunks; out must not alias x.
//
// Float callers get the non-template overloads declared at the end: the same
// runs moved with SIMD vectors (kernels/im2col-inl.h, runtime dispatch),
// bit-identical to the templates, which stay the reference (and the double
// path of the trainer's gradient checks; call Im2Col<float> to force them).
#ifndef SPARROW_KERNELS_IM2COL_H_
#define SPARROW_KERNELS_IM2COL_H_

#include <stddef.h>
#include <stdint.h>

#include "hwy/base.h"

namespace sparrow {

struct ConvGeometry {
  size_t n = 1, h = 1, w = 1, c = 1;  // input [N, H, W, C]
  size_t kh = 1, kw = 1;              // filter taps
  size_t oh = 1, ow = 1;              // output spatial size
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;

  size_t PatchRows() const { return n * oh * ow; }
  size_t PatchCols() const { return kh * kw * c; }
  // 1x1 taps, stride 1, no padding: the patch matrix is x itself.
  bool IsPointwise() const {
    return kh == 1 && kw == 1 && stride_h == 1 && stride_w == 1 &&
           pad_top == 0 && pad_left == 0 && oh == h && ow == w;
  }
};

namespace im2col_detail {

// Calls f(patch row r, kernel row ky, input pixel offset of tap kx = a, the
// tap range [a, b) that falls inside the image) for every kernel row of
// every patch row; a == b when the whole kernel row is padding. Taps outside
// [a, b) are padding. With dilation_w == 1 the taps a..b-1 are one
// contiguous run of (b - a) * C input floats, which both directions copy in
// one go.
template <class F>
inline void ForEachKernelRow(const ConvGeometry& g, size_t r0, size_t r1,
                             const F& f) {
  const int64_t kw = static_cast<int64_t>(g.kw);
  const int64_t w = static_cast<int64_t>(g.w);
  const int64_t h = static_cast<int64_t>(g.h);
  const int64_t c = static_cast<int64_t>(g.c);
  if (r0 >= r1) return;
  // Decode r0 once, then step (img, oy, ox) without divisions.
  size_t img = r0 / (g.oh * g.ow), oy = (r0 / g.ow) % g.oh, ox = r0 % g.ow;
  for (size_t r = r0; r < r1; ++r) {
    const int64_t ix0 = static_cast<int64_t>(ox) * g.stride_w - g.pad_left;
    // First and last tap inside [0, W): ix0 + kx * dilation_w in range.
    int64_t a = 0, b = kw;
    while (a < kw && ix0 + a * g.dilation_w < 0) ++a;
    while (b > a && ix0 + (b - 1) * g.dilation_w >= w) --b;
    const int64_t row0 = static_cast<int64_t>(img) * h;
    for (size_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = static_cast<int64_t>(oy) * g.stride_h - g.pad_top +
                         static_cast<int64_t>(ky) * g.dilation_h;
      if (iy < 0 || iy >= h || a >= b) {
        f(r, ky, int64_t{0}, size_t{0}, size_t{0});
        continue;
      }
      f(r, ky, ((row0 + iy) * w + ix0 + a * g.dilation_w) * c,
        static_cast<size_t>(a), static_cast<size_t>(b));
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

}  // namespace im2col_detail

// Plain loops, not memcpy/memset: the runs are a few floats (C * kw), and a
// library call per run cost more than the copy itself (conv1 of LeNet-5:
// 750K calls of 20 bytes, 7.7 ms per batch of 64, now ~1 ms).
template <typename T>
inline void Fill0(T* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = T(0);
}
template <typename T>
inline void Copy(T* HWY_RESTRICT out, const T* HWY_RESTRICT in,
                 size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = in[i];
}

// cols [r1 - r0, PatchCols()] = patch rows r0 .. r1-1 of x.
template <typename T>
void Im2Col(const ConvGeometry& g, const T* x, size_t r0, size_t r1,
            T* cols) {
  const size_t c = g.c, row = g.kw * c;
  const size_t step = static_cast<size_t>(g.dilation_w) * c;
  im2col_detail::ForEachKernelRow(
      g, r0, r1, [&](size_t r, size_t ky, int64_t at, size_t a, size_t b) {
        T* out = cols + (r - r0) * g.PatchCols() + ky * row;
        Fill0(out, a * c);
        if (g.dilation_w == 1) {
          Copy(out + a * c, x + at, (b - a) * c);
        } else {
          for (size_t kx = a; kx < b; ++kx) {
            Copy(out + kx * c, x + at + (kx - a) * step, c);
          }
        }
        Fill0(out + b * c, (g.kw - b) * c);
      });
}

// dx += the patch-matrix gradient dcols (rows r0 .. r1-1) scattered back to
// the input pixels (the adjoint of Im2Col).
template <typename T>
void Col2ImAdd(const ConvGeometry& g, const T* dcols, size_t r0, size_t r1,
               T* dx) {
  const size_t c = g.c, row = g.kw * c;
  const size_t step = static_cast<size_t>(g.dilation_w) * c;
  im2col_detail::ForEachKernelRow(
      g, r0, r1, [&](size_t r, size_t ky, int64_t at, size_t a, size_t b) {
        const T* in = dcols + (r - r0) * g.PatchCols() + ky * row;
        if (g.dilation_w == 1) {
          T* out = dx + at;
          const T* src = in + a * c;
          for (size_t i = 0; i < (b - a) * c; ++i) out[i] += src[i];
        } else {
          for (size_t kx = a; kx < b; ++kx) {
            T* out = dx + at + (kx - a) * step;
            const T* src = in + kx * c;
            for (size_t ch = 0; ch < c; ++ch) out[ch] += src[ch];
          }
        }
      });
}

// The float versions (dispatched SIMD; same results as the templates).
void Im2Col(const ConvGeometry& g, const float* x, size_t r0, size_t r1,
            float* cols);
void Col2ImAdd(const ConvGeometry& g, const float* dcols, size_t r0, size_t r1,
               float* dx);

}  // namespace sparrow

#endif  // SPARROW_KERNELS_IM2COL_H_
