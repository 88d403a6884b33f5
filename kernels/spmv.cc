#include "kernels/spmv.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/spmv.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/spmv-inl.h"

#if HWY_ONCE
namespace sparrow {

HWY_EXPORT(SpmmImpl);

void Spmv(const BlockSparseView& w, const float* HWY_RESTRICT x,
          const float* HWY_RESTRICT bias, float* HWY_RESTRICT y,
          Activation act, Accuracy acc, BlockRowRange range) {
  HWY_DYNAMIC_DISPATCH(SpmmImpl)(w, x, w.cols, bias, y, w.rows, 1, act, acc,
                                 range.begin, range.end);
}

void Spmm(const BlockSparseView& w, const float* HWY_RESTRICT x,
          size_t x_stride, const float* HWY_RESTRICT bias,
          float* HWY_RESTRICT y, size_t y_stride, size_t batch,
          Activation act, Accuracy acc, BlockRowRange range) {
  HWY_DASSERT(batch <= 1 || (x_stride >= w.cols && y_stride >= w.rows));
  HWY_DYNAMIC_DISPATCH(SpmmImpl)(w, x, x_stride, bias, y, y_stride, batch, act,
                                 acc, range.begin, range.end);
}

}  // namespace sparrow
#endif  // HWY_ONCE
