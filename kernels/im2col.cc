#include "kernels/im2col.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/im2col.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/im2col-inl.h"

#if HWY_ONCE
namespace sparrow {

HWY_EXPORT(Im2ColImpl);
HWY_EXPORT(Col2ImAddImpl);

void Im2Col(const ConvGeometry& g, const float* x, size_t r0, size_t r1,
            float* cols) {
  HWY_DYNAMIC_DISPATCH(Im2ColImpl)(g, x, r0, r1, cols);
}

void Col2ImAdd(const ConvGeometry& g, const float* dcols, size_t r0, size_t r1,
               float* dx) {
  HWY_DYNAMIC_DISPATCH(Col2ImAddImpl)(g, dcols, r0, r1, dx);
}

}  // namespace sparrow
#endif  // HWY_ONCE
