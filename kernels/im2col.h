// im2col and its adjoint col2im for NHWC convolutions: the patch matrix that
// turns Conv2D into one GEMM (runtime's Conv2D, trainer's forward), and the
// scatter-add back (trainer's input gradient). Plain loops over memcpy-sized
// channel runs; templated on T so the trainer's gradient checks run in
// double.
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
#ifndef SPARROW_KERNELS_IM2COL_H_
#define SPARROW_KERNELS_IM2COL_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

// Calls f(row r, tap index, input pixel offset or -1 for padding).
template <class F>
inline void ForEachTap(const ConvGeometry& g, size_t r0, size_t r1,
                       const F& f) {
  for (size_t r = r0; r < r1; ++r) {
    const size_t img = r / (g.oh * g.ow), oy = (r / g.ow) % g.oh,
                 ox = r % g.ow;
    size_t tap = 0;
    for (size_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = static_cast<int64_t>(oy) * g.stride_h - g.pad_top +
                         static_cast<int64_t>(ky) * g.dilation_h;
      for (size_t kx = 0; kx < g.kw; ++kx, ++tap) {
        const int64_t ix = static_cast<int64_t>(ox) * g.stride_w - g.pad_left +
                           static_cast<int64_t>(kx) * g.dilation_w;
        const bool inside = iy >= 0 && iy < static_cast<int64_t>(g.h) &&
                            ix >= 0 && ix < static_cast<int64_t>(g.w);
        f(r, tap,
          inside ? static_cast<int64_t>(((img * g.h + iy) * g.w + ix) * g.c)
                 : int64_t{-1});
      }
    }
  }
}

}  // namespace im2col_detail

// cols [r1 - r0, PatchCols()] = patch rows r0 .. r1-1 of x.
template <typename T>
void Im2Col(const ConvGeometry& g, const T* x, size_t r0, size_t r1,
            T* cols) {
  const size_t taps = g.kh * g.kw;
  im2col_detail::ForEachTap(g, r0, r1, [&](size_t r, size_t tap, int64_t at) {
    T* out = cols + ((r - r0) * taps + tap) * g.c;
    if (at < 0) {
      memset(out, 0, g.c * sizeof(T));
    } else {
      memcpy(out, x + at, g.c * sizeof(T));
    }
  });
}

// dx += the patch-matrix gradient dcols (rows r0 .. r1-1) scattered back to
// the input pixels (the adjoint of Im2Col).
template <typename T>
void Col2ImAdd(const ConvGeometry& g, const T* dcols, size_t r0, size_t r1,
               T* dx) {
  const size_t taps = g.kh * g.kw;
  im2col_detail::ForEachTap(g, r0, r1, [&](size_t r, size_t tap, int64_t at) {
    if (at < 0) return;
    const T* in = dcols + ((r - r0) * taps + tap) * g.c;
    T* out = dx + at;
    for (size_t ch = 0; ch < g.c; ++ch) out[ch] += in[ch];
  });
}

}  // namespace sparrow

#endif  // SPARROW_KERNELS_IM2COL_H_
