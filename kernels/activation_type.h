// The activations a fused kernel can apply, shared by every kernel family.
//
//   sparrow::FusedLinear(w, b, x, y, rows, cols, sparrow::Activation::kTanh);
//
// Plain enums, no SIMD types: safe to include anywhere.
#ifndef SPARROW_KERNELS_ACTIVATION_TYPE_H_
#define SPARROW_KERNELS_ACTIVATION_TYPE_H_

namespace sparrow {

enum class Activation : int {
  kIdentity = 0,
  kRelu,
  kSigmoid,
  kTanh,
  kGelu,  // tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
};

// Two accuracy tiers (docs/ACTIVATIONS.md has the measured errors):
// kPrecise: at most 4 ULP from the correctly rounded result (tanh, sigmoid,
//           exp) over the whole float range.
// kFast:    tanh and sigmoid within 1e-4 absolute error, for inference.
enum class Accuracy : int { kPrecise = 0, kFast };

const char* ActivationName(Activation a);

}  // namespace sparrow

#endif  // SPARROW_KERNELS_ACTIVATION_TYPE_H_
