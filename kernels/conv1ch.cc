#include "kernels/conv1ch.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/conv1ch.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/conv1ch-inl.h"

#if HWY_ONCE
namespace sparrow {

HWY_EXPORT(Conv1ChForwardImpl);
HWY_EXPORT(Conv1ChBackwardWeightsImpl);

void Conv1ChForwardRows(const ConvGeometry& g, const float* HWY_RESTRICT x,
                        const float* HWY_RESTRICT w,
                        const float* HWY_RESTRICT b, size_t out_channels,
                        Activation act, Accuracy acc, float* HWY_RESTRICT y,
                        float* HWY_RESTRICT scratch, size_t row_begin,
                        size_t row_end) {
  HWY_ASSERT(Conv1ChApplies(g));
  HWY_DYNAMIC_DISPATCH(Conv1ChForwardImpl)(g, x, w, b, out_channels, act, acc,
                                           y, scratch, row_begin, row_end);
}

void Conv1ChBackwardWeights(const ConvGeometry& g, const float* HWY_RESTRICT x,
                            const float* HWY_RESTRICT dy, size_t out_channels,
                            float* HWY_RESTRICT dw, float* HWY_RESTRICT db,
                            float* HWY_RESTRICT scratch) {
  HWY_ASSERT(Conv1ChApplies(g));
  HWY_DYNAMIC_DISPATCH(Conv1ChBackwardWeightsImpl)(g, x, dy, out_channels, dw,
                                                   db, scratch);
}

}  // namespace sparrow
#endif  // HWY_ONCE
