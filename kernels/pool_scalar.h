// Scalar reference for kernels/pool.h, written for obviousness: the window
// walked in (row, column) order, the first pixel seeding the maximum.
// Templated on T so trainer gradient checks can run it in double (the
// trainer's MaxPool2DForward<double> is this code). Not for production use.
#ifndef SPARROW_KERNELS_POOL_SCALAR_H_
#define SPARROW_KERNELS_POOL_SCALAR_H_

#include <stddef.h>
#include <stdint.h>

#include "kernels/pool.h"

namespace sparrow {

// Output pixel (img, oy, ox), all channels. argmax may be null.
template <typename T>
void MaxPoolPixelScalar(const PoolGeometry& p, const T* x, size_t img,
                        size_t oy, size_t ox, T* y, int32_t* argmax) {
  int64_t y0, y1, x0, x1;
  p.Window(oy, ox, &y0, &y1, &x0, &x1);
  const size_t o = ((img * p.oh + oy) * p.ow + ox) * p.c;
  T* best = y + o;
  bool first = true;
  for (int64_t iy = y0; iy < y1; ++iy)
    for (int64_t ix = x0; ix < x1; ++ix) {
      const size_t base = ((img * p.h + iy) * p.w + ix) * p.c;
      for (size_t ch = 0; ch < p.c; ++ch) {
        // The first pixel seeds the maximum (so a NaN window still has an
        // argmax); later ones win only when larger.
        if (first || x[base + ch] > best[ch]) {
          best[ch] = x[base + ch];
          if (argmax) argmax[o + ch] = static_cast<int32_t>(base + ch);
        }
      }
      first = false;
    }
}

// y [N, OH, OW, C] = window max; argmax [same] (or null) = flat index into x
// of the first maximum in (row, column) order.
template <typename T>
void MaxPool2DScalar(const PoolGeometry& p, const T* x, T* y, int32_t* argmax) {
  for (size_t img = 0; img < p.n; ++img)
    for (size_t oy = 0; oy < p.oh; ++oy)
      for (size_t ox = 0; ox < p.ow; ++ox) {
        MaxPoolPixelScalar(p, x, img, oy, ox, y, argmax);
      }
}

}  // namespace sparrow

#endif  // SPARROW_KERNELS_POOL_SCALAR_H_
