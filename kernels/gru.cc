#include "kernels/gru.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/gru.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/gru-inl.h"

#if HWY_ONCE
namespace sparrow {

HWY_EXPORT(GruStepF32Impl);
HWY_EXPORT(GruStepBf16Impl);

void GruStep(const GruWeights& weights, const float* HWY_RESTRICT x,
             const float* HWY_RESTRICT h_prev, float* HWY_RESTRICT h_next,
             Accuracy acc) {
  HWY_DASSERT(h_next != h_prev);
  HWY_DYNAMIC_DISPATCH(GruStepF32Impl)(weights, x, h_prev, h_next, acc);
}

void GruStepBf16(const GruWeightsBf16& weights, const float* HWY_RESTRICT x,
                 const float* HWY_RESTRICT h_prev, float* HWY_RESTRICT h_next,
                 Accuracy acc) {
  HWY_DASSERT(h_next != h_prev);
  HWY_DYNAMIC_DISPATCH(GruStepBf16Impl)(weights, x, h_prev, h_next, acc);
}

}  // namespace sparrow
#endif  // HWY_ONCE
