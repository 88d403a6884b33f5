#include "kernels/adam.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/adam.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/adam-inl.h"

#if HWY_ONCE
namespace sparrow {

HWY_EXPORT(AdamUpdateImpl);

void AdamUpdate(const AdamCoefficients& c, float* value, const float* grad,
                float* m1, float* m2, size_t n) {
  if (n == 0) return;
  HWY_DYNAMIC_DISPATCH(AdamUpdateImpl)(c, value, grad, m1, m2, n);
}

}  // namespace sparrow
#endif  // HWY_ONCE
