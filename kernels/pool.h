// 2-D max pooling of NHWC float tensors, with the argmax a training step
// needs for its backward pass (the trainer's MaxPool2D layer and the
// runtime's MaxPool2D op both call it).
//
//   sparrow::PoolGeometry p;  // LeNet-5's first pool
//   p.n = 64;
//   p.h = p.w = 28;
//   p.c = 6;
//   p.kh = p.kw = 2;
//   p.stride_h = p.stride_w = 2;
//   p.oh = p.ow = 14;
//   std::vector<float> y(p.OutputSize());        // [N, OH, OW, C]
//   std::vector<int32_t> argmax(p.OutputSize());  // same shape
//   sparrow::MaxPool2D(p, x, y.data(), argmax.data());  // or argmax nullptr
//
// Contract:
// - y [n, oy, ox, c] is the maximum of x [n, iy, ix, c] over the window
//   iy in [oy stride_h - pad_top, + kh), ix in [ox stride_w - pad_left, + kw),
//   clipped to the image (padding is never read, so it acts as -inf). Any
//   stride, overlapping windows, and any pad_top / pad_left (with oh / ow,
//   any bottom / right padding) are valid as long as every clipped window
//   holds at least one pixel (checked: HWY_ASSERT).
// - Sequential semantics, bit for bit: the window's first in-image pixel (in
//   (row, column) order) seeds the maximum, and a later pixel replaces it only
//   when strictly greater (v > best). So a NaN in the first pixel propagates
//   while later NaNs are ignored, and argmax [n, oy, ox, c] is the flat index
//   into x of the FIRST maximum (ties go to the earliest pixel). Max is exact,
//   so the result does not depend on the target or on alignment.
// - The caller owns x, y and argmax (argmax may be null: not computed). No
//   alignment is required; nothing is allocated; nothing outside x, y and
//   argmax is read or written. Outputs must not overlap x or each other.
//   With argmax, flat indices must fit int32 (n h w c < 2^31, checked).
// - Thread-safe: no state. Runtime-dispatched to the best compiled target.
#ifndef SPARROW_KERNELS_POOL_H_
#define SPARROW_KERNELS_POOL_H_

#include <stddef.h>
#include <stdint.h>

#include <algorithm>

#include "hwy/base.h"  // HWY_RESTRICT

namespace sparrow {

// Window geometry shared by max and average pooling: kh x kw taps, no
// dilation; padding at most filter - 1, so every window holds at least one
// input pixel.
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
    *y1 = std::min<int64_t>(static_cast<int64_t>(h),
                            ys + static_cast<int64_t>(kh));
    *x0 = std::max<int64_t>(0, xs);
    *x1 = std::min<int64_t>(static_cast<int64_t>(w),
                            xs + static_cast<int64_t>(kw));
  }
  size_t InputSize() const { return n * h * w * c; }
  size_t OutputSize() const { return n * oh * ow * c; }
};

// y [N, OH, OW, C] = window max of x [N, H, W, C]; argmax [N, OH, OW, C] (or
// nullptr) = flat index into x of the first maximum. See the contract above.
void MaxPool2D(const PoolGeometry& p,
               const float* HWY_RESTRICT x,  // [N, H, W, C]
               float* HWY_RESTRICT y,        // [N, OH, OW, C]
               int32_t* HWY_RESTRICT argmax  // [N, OH, OW, C] or nullptr
);

}  // namespace sparrow

#endif  // SPARROW_KERNELS_POOL_H_
