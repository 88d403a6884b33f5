// Dense matrix-vector product (batch-1 fully connected layer) with the bias
// and activation fused into the epilogue.
//
//   // y[rows] = tanh(w[rows, cols] * x[cols] + b[rows])
//   sparrow::Gemv(w, x, b, y, rows, cols, sparrow::Activation::kTanh);
//
//   // Same with weights stored as bf16 (half the memory traffic):
//   std::vector<hwy::bfloat16_t> w16(rows * cols);
//   sparrow::ConvertF32ToBf16(w, w16.data(), rows * cols);
//   sparrow::GemvBf16(w16.data(), x, b, y, rows, cols,
//                     sparrow::Activation::kTanh);
//
// Contract:
// - The caller owns every buffer; nothing is allocated. Any shape is valid,
//   including rows == 0 or cols == 0 (then y = act(bias) or act(0)).
// - No alignment is required. w is row-major and dense (row stride = cols).
// - y must not overlap w, x or bias (the pointers are HWY_RESTRICT).
// - Accumulation is in f32 with FMA; bf16 weights are widened exactly. The
//   summation order differs from a sequential loop, so results match a
//   double-precision reference within ~cols * 2^-24 * sum_j |w_ij x_j|.
// - Thread-safe: no state. Runtime-dispatched to the best compiled target.
#ifndef SPARROW_KERNELS_GEMV_H_
#define SPARROW_KERNELS_GEMV_H_

#include <stddef.h>

#include "hwy/base.h"  // hwy::bfloat16_t
#include "kernels/activation_type.h"

namespace sparrow {

// y = act(w x + bias); bias may be nullptr.
void Gemv(const float* HWY_RESTRICT w,     // [rows, cols]
          const float* HWY_RESTRICT x,     // [cols]
          const float* HWY_RESTRICT bias,  // [rows] or nullptr
          float* HWY_RESTRICT y,           // [rows]
          size_t rows, size_t cols, Activation act = Activation::kIdentity,
          Accuracy acc = Accuracy::kPrecise);

// As Gemv, with bf16 weights; x, bias, y and the accumulation stay f32.
void GemvBf16(const hwy::bfloat16_t* HWY_RESTRICT w,  // [rows, cols]
              const float* HWY_RESTRICT x,            // [cols]
              const float* HWY_RESTRICT bias,         // [rows] or nullptr
              float* HWY_RESTRICT y,                  // [rows]
              size_t rows, size_t cols,
              Activation act = Activation::kIdentity,
              Accuracy acc = Accuracy::kPrecise);

// Round to nearest, ties to even; NaN stays NaN (quiet), +-Inf stays Inf,
// finite values above the bf16 range round to Inf. in and out must not
// overlap.
void ConvertF32ToBf16(const float* HWY_RESTRICT in,        // [n]
                      hwy::bfloat16_t* HWY_RESTRICT out,  // [n]
                      size_t n);

// Exact (bf16 is the upper half of an f32).
void ConvertBf16ToF32(const hwy::bfloat16_t* HWY_RESTRICT in,  // [n]
                      float* HWY_RESTRICT out,                // [n]
                      size_t n);

}  // namespace sparrow

#endif  // SPARROW_KERNELS_GEMV_H_
