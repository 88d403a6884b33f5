#include "kernels/activations.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/activations.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/activations-inl.h"

#if HWY_ONCE
namespace sparrow {
HWY_EXPORT(ActivateArray);
HWY_EXPORT(ActivateBackwardArray);
HWY_EXPORT(ExpArray);
HWY_EXPORT(SoftmaxRows);

void Activate(Activation act, Accuracy acc, const float* in, float* out,
              size_t n) {
  HWY_DYNAMIC_DISPATCH(ActivateArray)(act, acc, in, out, n);
}

void ActivateBackward(Activation act, const float* x, const float* y,
                      const float* dy, float* dx, size_t n) {
  HWY_DYNAMIC_DISPATCH(ActivateBackwardArray)(act, x, y, dy, dx, n);
}

void Tanh(const float* in, float* out, size_t n, Accuracy acc) {
  Activate(Activation::kTanh, acc, in, out, n);
}
void Sigmoid(const float* in, float* out, size_t n, Accuracy acc) {
  Activate(Activation::kSigmoid, acc, in, out, n);
}
void Exp(const float* in, float* out, size_t n, Accuracy /*acc*/) {
  HWY_DYNAMIC_DISPATCH(ExpArray)(in, out, n);
}
void Gelu(const float* in, float* out, size_t n, Accuracy acc) {
  Activate(Activation::kGelu, acc, in, out, n);
}
void Relu(const float* in, float* out, size_t n, Accuracy acc) {
  Activate(Activation::kRelu, acc, in, out, n);
}

void Softmax(const float* in, float* out, size_t n) {
  HWY_DYNAMIC_DISPATCH(SoftmaxRows)(in, out, 1, n, /*log_out=*/false);
}
void LogSoftmax(const float* in, float* out, size_t n) {
  HWY_DYNAMIC_DISPATCH(SoftmaxRows)(in, out, 1, n, /*log_out=*/true);
}
void SoftmaxRows(const float* in, float* out, size_t rows, size_t cols) {
  HWY_DYNAMIC_DISPATCH(SoftmaxRows)(in, out, rows, cols, /*log_out=*/false);
}
void LogSoftmaxRows(const float* in, float* out, size_t rows, size_t cols) {
  HWY_DYNAMIC_DISPATCH(SoftmaxRows)(in, out, rows, cols, /*log_out=*/true);
}

}  // namespace sparrow
#endif  // HWY_ONCE
