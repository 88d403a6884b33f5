// Scalar bfloat16 conversions shared by every kernel family (block-sparse
// packing, references in tests). The SIMD versions live in gemv-inl.h.
//
//   uint16_t b = sparrow::F32ToBf16Bits(0.1f);   // round to nearest even
//   float f = sparrow::Bf16BitsToF32(b);         // exact
//
// Pure functions; thread-safe.
#ifndef SPARROW_KERNELS_BF16_H_
#define SPARROW_KERNELS_BF16_H_

#include <stdint.h>
#include <string.h>

namespace sparrow {

// f32 -> bf16 bits, round to nearest even; finite values beyond the bf16
// range round to Inf; NaN stays a NaN (sign kept, made quiet).
inline uint16_t F32ToBf16Bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof(u));
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
    return static_cast<uint16_t>((u >> 16) | 0x0040u);
  }
  const uint32_t rounding = 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding) >> 16);
}

// Exact: a bf16 is the upper half of an f32.
inline float Bf16BitsToF32(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  memcpy(&f, &u, sizeof(f));
  return f;
}

}  // namespace sparrow

#endif  // SPARROW_KERNELS_BF16_H_
