// Scalar references for kernels/conv1ch.h, written for obviousness: the
// convolution sums exactly as defined, taps outside the image skipped.
// Templated on T so tests (and trainer tests) can run them in double. Not
// for production use.
#ifndef SPARROW_KERNELS_CONV1CH_SCALAR_H_
#define SPARROW_KERNELS_CONV1CH_SCALAR_H_

#include <stddef.h>
#include <stdint.h>

#include "kernels/activation_type.h"
#include "kernels/activations_scalar.h"
#include "kernels/im2col.h"

namespace sparrow {

// True and the flat index of x[n, oy + ky - pad_top, ox + kx - pad_left]
// when that pixel is inside the image (C = 1, stride 1, dilation 1).
inline bool Conv1ChTapIndex(const ConvGeometry& g, size_t n, size_t oy,
                            size_t ox, size_t ky, size_t kx, size_t* index) {
  const int64_t iy = static_cast<int64_t>(oy + ky) - g.pad_top;
  const int64_t ix = static_cast<int64_t>(ox + kx) - g.pad_left;
  if (iy < 0 || ix < 0 || iy >= static_cast<int64_t>(g.h) ||
      ix >= static_cast<int64_t>(g.w)) {
    return false;
  }
  *index = (n * g.h + static_cast<size_t>(iy)) * g.w + static_cast<size_t>(ix);
  return true;
}

// y [N, OH, OW, O] = act(conv(x [N, H, W, 1], w [O, KH, KW]) + b [O]).
template <typename T>
void Conv1ChForwardScalar(const ConvGeometry& g, const T* x, const T* w,
                          const T* b, size_t O, Activation act, T* y) {
  for (size_t n = 0; n < g.n; ++n)
    for (size_t oy = 0; oy < g.oh; ++oy)
      for (size_t ox = 0; ox < g.ow; ++ox)
        for (size_t o = 0; o < O; ++o) {
          T sum = b ? b[o] : T(0);
          for (size_t ky = 0; ky < g.kh; ++ky)
            for (size_t kx = 0; kx < g.kw; ++kx) {
              size_t i;
              if (Conv1ChTapIndex(g, n, oy, ox, ky, kx, &i)) {
                sum += w[(o * g.kh + ky) * g.kw + kx] * x[i];
              }
            }
          y[((n * g.oh + oy) * g.ow + ox) * O + o] = ActivateRef(act, sum);
        }
}

// dw [O, KH, KW] += sum over pixels of dy * input tap; db [O] += sum of dy
// (db may be null).
template <typename T>
void Conv1ChBackwardWeightsScalar(const ConvGeometry& g, const T* x,
                                  const T* dy, size_t O, T* dw, T* db) {
  for (size_t n = 0; n < g.n; ++n)
    for (size_t oy = 0; oy < g.oh; ++oy)
      for (size_t ox = 0; ox < g.ow; ++ox)
        for (size_t o = 0; o < O; ++o) {
          const T d = dy[((n * g.oh + oy) * g.ow + ox) * O + o];
          if (db) db[o] += d;
          for (size_t ky = 0; ky < g.kh; ++ky)
            for (size_t kx = 0; kx < g.kw; ++kx) {
              size_t i;
              if (Conv1ChTapIndex(g, n, oy, ox, ky, kx, &i)) {
                dw[(o * g.kh + ky) * g.kw + kx] += d * x[i];
              }
            }
        }
}

}  // namespace sparrow

#endif  // SPARROW_KERNELS_CONV1CH_SCALAR_H_
