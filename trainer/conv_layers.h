// The trainer's NHWC convolution and pooling layers, llm.c style (see
// trainer/layers.h for the conventions: backward reads what forward saved and
// accumulates with +=). Conv2D is im2col (kernels/im2col.h) + the GEMM, the
// same decomposition and layout as the runtime's, so an exported model
// computes the same sums.
//
//   ConvGeometry g = ...;                              // [N, H, W, C] -> OH, OW
//   Conv2DForward(y, cols, x, w, b, g, O);             // cols saved for backward
//   Conv2DBackward(dx, dw, db, dy, cols, w, g, O, dcols_scratch);
//   MaxPool2DForward(y, argmax, x, p);                 // argmax saved
//   MaxPool2DBackward(dx, dy, argmax, p);
#ifndef SPARROW_TRAINER_CONV_LAYERS_H_
#define SPARROW_TRAINER_CONV_LAYERS_H_

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <limits>

#include "kernels/im2col.h"
#include "trainer/matmul.h"

namespace sparrow {
namespace train {

// ------------------------------ Conv2D

// y [N, OH, OW, O] = conv(x [N, H, W, C], w [O, KH, KW, C]) + b [O];
// cols [N OH OW, KH KW C] receives the patch matrix (kept for backward).
template <typename T>
void Conv2DForward(T* y, T* cols, const T* x, const T* w, const T* b,
                   const ConvGeometry& g, size_t O) {
  Im2Col(g, x, 0, g.PatchRows(), cols);
  LinearBias<T>(g.PatchRows(), O, g.PatchCols(), cols, g.PatchCols(), w, b,
                Activation::kIdentity, y, O);
}

// dw += dy^T cols, db += column sums of dy, dx += col2im(dy w). dcols is
// scratch of PatchRows() x PatchCols() (not needed when dx is null).
template <typename T>
void Conv2DBackward(T* dx, T* dw, T* db, const T* dy, const T* cols,
                    const T* w, const ConvGeometry& g, size_t O, T* dcols) {
  const size_t M = g.PatchRows(), K = g.PatchCols();
  MatMul<T>(Transpose::kYes, Transpose::kNo, O, K, M, T(1), dy, O, cols, K,
            T(1), dw, K);
  if (db != nullptr) {
    for (size_t r = 0; r < M; ++r) {
      for (size_t o = 0; o < O; ++o) db[o] += dy[r * O + o];
    }
  }
  if (dx != nullptr) {
    MatMul<T>(Transpose::kNo, Transpose::kNo, M, K, O, T(1), dy, O, w, K,
              T(0), dcols, K);
    Col2ImAdd(g, dcols, 0, M, dx);
  }
}

// ------------------------------ MaxPool2D / AvgPool2D

// Window geometry: kh x kw taps, no dilation; padding at most filter - 1, so
// every window holds at least one input pixel.
struct PoolGeometry {
  size_t n = 1, h = 1, w = 1, c = 1;
  size_t kh = 1, kw = 1, oh = 1, ow = 1;
  int64_t stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
  bool count_include_pad = false;  // AvgPool divisor: full window or in-image

  // The window of output (oy, ox), clipped to the image: [y0, y1) x [x0, x1).
  void Window(size_t oy, size_t ox, int64_t* y0, int64_t* y1, int64_t* x0,
              int64_t* x1) const {
    const int64_t ys = static_cast<int64_t>(oy) * stride_h - pad_top;
    const int64_t xs = static_cast<int64_t>(ox) * stride_w - pad_left;
    *y0 = std::max<int64_t>(0, ys);
    *y1 = std::min<int64_t>(static_cast<int64_t>(h), ys + static_cast<int64_t>(kh));
    *x0 = std::max<int64_t>(0, xs);
    *x1 = std::min<int64_t>(static_cast<int64_t>(w), xs + static_cast<int64_t>(kw));
  }
  size_t OutputSize() const { return n * oh * ow * c; }
};

// y [N, OH, OW, C] = window max; argmax [same] = flat index into x of the
// first maximum (kept for backward).
template <typename T>
void MaxPool2DForward(T* y, int32_t* argmax, const T* x, const PoolGeometry& p) {
  for (size_t img = 0; img < p.n; ++img)
    for (size_t oy = 0; oy < p.oh; ++oy)
      for (size_t ox = 0; ox < p.ow; ++ox) {
        int64_t y0, y1, x0, x1;
        p.Window(oy, ox, &y0, &y1, &x0, &x1);
        const size_t o = ((img * p.oh + oy) * p.ow + ox) * p.c;
        for (size_t ch = 0; ch < p.c; ++ch) {
          T best = -std::numeric_limits<T>::infinity();
          int32_t at = -1;
          for (int64_t iy = y0; iy < y1; ++iy)
            for (int64_t ix = x0; ix < x1; ++ix) {
              const size_t i = ((img * p.h + iy) * p.w + ix) * p.c + ch;
              if (at < 0 || x[i] > best) {
                best = x[i];
                at = static_cast<int32_t>(i);
              }
            }
          y[o + ch] = best;
          argmax[o + ch] = at;
        }
      }
}

template <typename T>
void MaxPool2DBackward(T* dx, const T* dy, const int32_t* argmax,
                       const PoolGeometry& p) {
  for (size_t i = 0; i < p.OutputSize(); ++i) dx[argmax[i]] += dy[i];
}

template <typename T>
void AvgPool2DForward(T* y, const T* x, const PoolGeometry& p) {
  for (size_t img = 0; img < p.n; ++img)
    for (size_t oy = 0; oy < p.oh; ++oy)
      for (size_t ox = 0; ox < p.ow; ++ox) {
        int64_t y0, y1, x0, x1;
        p.Window(oy, ox, &y0, &y1, &x0, &x1);
        const T count = p.count_include_pad ? T(p.kh * p.kw)
                                            : T((y1 - y0) * (x1 - x0));
        T* out = y + ((img * p.oh + oy) * p.ow + ox) * p.c;
        for (size_t ch = 0; ch < p.c; ++ch) out[ch] = T(0);
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix) {
            const T* in = x + ((img * p.h + iy) * p.w + ix) * p.c;
            for (size_t ch = 0; ch < p.c; ++ch) out[ch] += in[ch];
          }
        for (size_t ch = 0; ch < p.c; ++ch) out[ch] /= count;
      }
}

template <typename T>
void AvgPool2DBackward(T* dx, const T* dy, const PoolGeometry& p) {
  for (size_t img = 0; img < p.n; ++img)
    for (size_t oy = 0; oy < p.oh; ++oy)
      for (size_t ox = 0; ox < p.ow; ++ox) {
        int64_t y0, y1, x0, x1;
        p.Window(oy, ox, &y0, &y1, &x0, &x1);
        const T count = p.count_include_pad ? T(p.kh * p.kw)
                                            : T((y1 - y0) * (x1 - x0));
        const T* g = dy + ((img * p.oh + oy) * p.ow + ox) * p.c;
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix) {
            T* d = dx + ((img * p.h + iy) * p.w + ix) * p.c;
            for (size_t ch = 0; ch < p.c; ++ch) d[ch] += g[ch] / count;
          }
      }
}

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_CONV_LAYERS_H_
