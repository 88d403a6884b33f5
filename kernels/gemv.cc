#include "kernels/gemv.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/gemv.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/gemv-inl.h"

#if HWY_ONCE
namespace sparrow {

HWY_EXPORT(GemvF32);
HWY_EXPORT(GemvBf16W);
HWY_EXPORT(ConvertF32ToBf16Impl);
HWY_EXPORT(ConvertBf16ToF32Impl);

void Gemv(const float* HWY_RESTRICT w, const float* HWY_RESTRICT x,
          const float* HWY_RESTRICT bias, float* HWY_RESTRICT y, size_t rows,
          size_t cols, Activation act, Accuracy acc) {
  HWY_DYNAMIC_DISPATCH(GemvF32)(w, x, bias, y, rows, cols, act, acc);
}

void GemvBf16(const hwy::bfloat16_t* HWY_RESTRICT w,
              const float* HWY_RESTRICT x, const float* HWY_RESTRICT bias,
              float* HWY_RESTRICT y, size_t rows, size_t cols, Activation act,
              Accuracy acc) {
  HWY_DYNAMIC_DISPATCH(GemvBf16W)(w, x, bias, y, rows, cols, act, acc);
}

void ConvertF32ToBf16(const float* HWY_RESTRICT in,
                      hwy::bfloat16_t* HWY_RESTRICT out, size_t n) {
  HWY_DYNAMIC_DISPATCH(ConvertF32ToBf16Impl)(in, out, n);
}

void ConvertBf16ToF32(const hwy::bfloat16_t* HWY_RESTRICT in,
                      float* HWY_RESTRICT out, size_t n) {
  HWY_DYNAMIC_DISPATCH(ConvertBf16ToF32Impl)(in, out, n);
}

}  // namespace sparrow
#endif  // HWY_ONCE
