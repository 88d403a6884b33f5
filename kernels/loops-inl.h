// Element-wise loops over several float arrays for every Highway target: the
// whole-vector loop and its tail, written once for the kernels that read a
// few arrays and update others in place (the Adam update, the activations'
// backward). Listed in textual_hdrs.
//
//   const float* in[2] = {grad, x};   // read only (null: not read, Zero)
//   float* io[1] = {value};           // loaded, then stored back
//   ForEachVector(d, n, in, io, [&](const V (&vin)[2], V (&vio)[1]) {...});
//
// The last n % N elements go through zero-padded aligned copies, so the body
// only ever sees whole vectors (the same code and rounding for every element)
// and nothing past n is read or written (a MaskedLoad would read past the
// arrays on SSE4). Padded lanes compute on zeros and are never copied back.
// An `in` array may be an `io` array's twin only if it is not also written.

// Non-SIMD includes.
#ifndef SPARROW_KERNELS_LOOPS_INL_H_ONCE_
#define SPARROW_KERNELS_LOOPS_INL_H_ONCE_
#include <stddef.h>
#include <string.h>
#endif  // SPARROW_KERNELS_LOOPS_INL_H_ONCE_

#if defined(SPARROW_KERNELS_LOOPS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARROW_KERNELS_LOOPS_INL_H_
#undef SPARROW_KERNELS_LOOPS_INL_H_
#else
#define SPARROW_KERNELS_LOOPS_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <size_t kIn, size_t kIO, class D, class Body>
HWY_INLINE void ForEachVector(D d, size_t n, const float* const (&in)[kIn],
                              float* const (&io)[kIO], const Body& body) {
  using V = hn::Vec<D>;
  const size_t N = hn::Lanes(d);
  V vin[kIn], vio[kIO];
  size_t i = 0;
  for (; i + N <= n; i += N) {
    for (size_t k = 0; k < kIn; ++k) {
      vin[k] = in[k] ? hn::LoadU(d, in[k] + i) : hn::Zero(d);
    }
    for (size_t k = 0; k < kIO; ++k) vio[k] = hn::LoadU(d, io[k] + i);
    body(vin, vio);
    for (size_t k = 0; k < kIO; ++k) hn::StoreU(vio[k], d, io[k] + i);
  }
  if (i == n) return;
  const size_t bytes = (n - i) * sizeof(float);
  HWY_ALIGN float buf[kIn + kIO][HWY_MAX_BYTES / sizeof(float)] = {};
  for (size_t k = 0; k < kIn; ++k) {
    if (in[k]) memcpy(buf[k], in[k] + i, bytes);
    vin[k] = hn::Load(d, buf[k]);
  }
  for (size_t k = 0; k < kIO; ++k) {
    memcpy(buf[kIn + k], io[k] + i, bytes);
    vio[k] = hn::Load(d, buf[kIn + k]);
  }
  body(vin, vio);
  for (size_t k = 0; k < kIO; ++k) {
    hn::Store(vio[k], d, buf[kIn + k]);
    memcpy(io[k] + i, buf[kIn + k], bytes);
  }
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#endif  // SPARROW_KERNELS_LOOPS_INL_H_
