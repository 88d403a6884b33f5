#include "kernels/pool.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/pool.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/pool-inl.h"

#if HWY_ONCE
namespace sparrow {
namespace {

// Every clipped window holds a pixel: rows and columns clip independently, so
// checking each output row and column covers all OH x OW windows.
bool WindowsNonEmpty(const PoolGeometry& p) {
  int64_t y0, y1, x0, x1;
  for (size_t oy = 0; oy < p.oh; ++oy) {
    p.Window(oy, 0, &y0, &y1, &x0, &x1);
    if (y0 >= y1) return false;
  }
  for (size_t ox = 0; ox < p.ow; ++ox) {
    p.Window(0, ox, &y0, &y1, &x0, &x1);
    if (x0 >= x1) return false;
  }
  return true;
}

}  // namespace

HWY_EXPORT(MaxPool2DImpl);

void MaxPool2D(const PoolGeometry& p, const float* HWY_RESTRICT x,
               float* HWY_RESTRICT y, int32_t* HWY_RESTRICT argmax) {
  HWY_ASSERT(WindowsNonEmpty(p));
  HWY_ASSERT(argmax == nullptr ||
             p.InputSize() <= static_cast<size_t>(INT32_MAX));
  HWY_DYNAMIC_DISPATCH(MaxPool2DImpl)(p, x, y, argmax);
}

}  // namespace sparrow
#endif  // HWY_ONCE
