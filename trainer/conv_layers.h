// The trainer's NHWC convolution and pooling layers, llm.c style (see
// trainer/layers.h for the conventions: backward reads what forward saved and
// accumulates with +=). Conv2D is im2col (kernels/im2col.h) + the GEMM, the
// same decomposition and layout as the runtime's, so an exported model
// computes the same sums. Single-channel float convolutions (an image net's
// first layer; kernels/conv1ch.h) run the direct kernel instead, as the
// runtime does; its weight gradient when no input gradient is needed.
//
//   ConvGeometry g = ...;                              // [N, H, W, C] -> OH, OW
//   std::vector<float> scratch(ConvScratchFloats(g));
//   Conv2DForward(y, x, w, b, g, O, scratch.data());
//   Conv2DBackward(dx, dw, db, dy, x, w, g, O, scratch.data());  // reads x
//   MaxPool2DForward(y, argmax, x, p);                 // argmax saved
//   MaxPool2DBackward(dx, dy, argmax, p);
#ifndef SPARROW_TRAINER_CONV_LAYERS_H_
#define SPARROW_TRAINER_CONV_LAYERS_H_

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <limits>
#include <type_traits>

#include "kernels/conv1ch.h"
#include "kernels/im2col.h"
#include "kernels/pool.h"
#include "kernels/pool_scalar.h"
#include "trainer/matmul.h"

namespace sparrow {
namespace train {

// ------------------------------ Conv2D

// Patch rows per chunk: the chunk's patch matrix (and its gradient) stay in
// the L2 cache instead of streaming a [N OH OW, KH KW C] matrix (5 MB for
// LeNet-5's first layer at batch 64) through memory twice.
inline size_t ConvChunkRows(const ConvGeometry& g) {
  const size_t rows = (size_t{32} << 10) / std::max<size_t>(1, g.PatchCols());
  return std::max<size_t>(16, std::min(rows, g.PatchRows()));
}
// Scratch floats Conv2DForward/Backward need: a chunk's patches and their
// gradient, or the direct kernel's buffers when it applies (both, since the
// backward pass falls back to im2col when dx is wanted).
inline size_t ConvScratchFloats(const ConvGeometry& g) {
  const size_t im2col = 2 * ConvChunkRows(g) * g.PatchCols();
  return Conv1ChApplies(g) ? std::max(im2col, Conv1ChScratchFloats(g))
                           : im2col;
}

// y [N, OH, OW, O] = conv(x [N, H, W, C], w [O, KH, KW, C]) + b [O], in
// chunks of patch rows through `scratch` (ConvScratchFloats).
template <typename T>
void Conv2DForward(T* y, const T* x, const T* w, const T* b,
                   const ConvGeometry& g, size_t O, T* scratch) {
  const size_t M = g.PatchRows(), K = g.PatchCols();
  if constexpr (std::is_same_v<T, float>) {
    if (Conv1ChApplies(g)) {
      Conv1ChForward(g, x, w, b, O, Activation::kIdentity, Accuracy::kPrecise,
                     y, scratch);
      return;
    }
  }
  if (g.IsPointwise()) {
    LinearBias<T>(M, O, K, x, K, w, b, Activation::kIdentity, y, O);
    return;
  }
  const size_t chunk = ConvChunkRows(g);
  for (size_t r0 = 0; r0 < M; r0 += chunk) {
    const size_t r1 = std::min(M, r0 + chunk);
    Im2Col(g, x, r0, r1, scratch);
    LinearBias<T>(r1 - r0, O, K, scratch, K, w, b, Activation::kIdentity,
                  y + r0 * O, O);
  }
}

// dw += dy^T cols, db += column sums of dy, dx += col2im(dy w) (dx may be
// null), recomputing each chunk's patches from x. Without dx, a float
// single-channel convolution takes the direct weight-gradient kernel.
template <typename T>
void Conv2DBackward(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w,
                    const ConvGeometry& g, size_t O, T* scratch) {
  const size_t M = g.PatchRows(), K = g.PatchCols();
  if constexpr (std::is_same_v<T, float>) {
    if (dx == nullptr && Conv1ChApplies(g)) {
      Conv1ChBackwardWeights(g, x, dy, O, dw, db, scratch);
      return;
    }
  }
  if (db != nullptr) {
    for (size_t r = 0; r < M; ++r) {
      for (size_t o = 0; o < O; ++o) db[o] += dy[r * O + o];
    }
  }
  if (g.IsPointwise()) {
    MatMul<T>(Transpose::kYes, Transpose::kNo, O, K, M, T(1), dy, O, x, K,
              T(1), dw, K);
    if (dx != nullptr) {
      MatMul<T>(Transpose::kNo, Transpose::kNo, M, K, O, T(1), dy, O, w, K,
                T(1), dx, K);
    }
    return;
  }
  const size_t chunk = ConvChunkRows(g);
  T* cols = scratch;
  T* dcols = scratch + chunk * K;
  for (size_t r0 = 0; r0 < M; r0 += chunk) {
    const size_t r1 = std::min(M, r0 + chunk), rows = r1 - r0;
    Im2Col(g, x, r0, r1, cols);
    // The dispatched GEMM even for a small dW (LeNet-5's 16 x 150): 1.0 ms
    // of a 5.7 ms step faster on AVX-512 than row-by-row axpys built at the
    // baseline flags.
    MatMul<T>(Transpose::kYes, Transpose::kNo, O, K, rows, T(1), dy + r0 * O,
              O, cols, K, T(1), dw, K);
    if (dx != nullptr) {
      MatMul<T>(Transpose::kNo, Transpose::kNo, rows, K, O, T(1), dy + r0 * O,
                O, w, K, T(0), dcols, K);
      Col2ImAdd(g, dcols, r0, r1, dx);
    }
  }
}

// ------------------------------ MaxPool2D / AvgPool2D

// Window geometry (kernels/pool.h): kh x kw taps, no dilation; padding at
// most filter - 1, so every window holds at least one input pixel.
using sparrow::PoolGeometry;

// y [N, OH, OW, C] = window max; argmax [same] = flat index into x of the
// first maximum in (row, column) order (kept for backward). float runs the
// dispatched SIMD kernel (kernels/pool.h), other types its scalar reference
// (kernels/pool_scalar.h); both give the same bits.
template <typename T>
void MaxPool2DForward(T* y, int32_t* argmax, const T* x, const PoolGeometry& p) {
  if constexpr (std::is_same_v<T, float>) {
    sparrow::MaxPool2D(p, x, y, argmax);
  } else {
    MaxPool2DScalar<T>(p, x, y, argmax);
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
