#include "kernels/gemm.h"

#include <stdint.h>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/gemm.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/gemm-inl.h"

#if HWY_ONCE
#include "hwy/aligned_allocator.h"

namespace sparrow {
HWY_EXPORT(GemmImpl);
HWY_EXPORT(GemmBiasActivationImpl);

size_t GemmWorkspaceBytes(size_t m, size_t n, size_t k) {
  using gemm_detail::RoundUp;
  const size_t kc = HWY_MIN(k, kGemmBlockK);
  // Panels of up to kGemmMaxTileN columns: the last one is padded by less.
  const size_t b_floats = RoundUp(kc * (HWY_MIN(n, kGemmBlockN) + kGemmMaxTileN),
                                  HWY_ALIGNMENT / sizeof(float));
  const size_t a_floats = kc * kGemmMaxTileM;  // one packed edge panel
  return HWY_MAX((b_floats + a_floats) * sizeof(float), size_t{HWY_ALIGNMENT});
}

namespace {

void CheckArgs(Transpose ta, Transpose tb, size_t m, size_t n, size_t k,
               size_t lda, size_t ldb, size_t ldc, const void* ws,
               size_t ws_bytes) {
  HWY_ASSERT(lda >= (ta == Transpose::kNo ? k : m));
  HWY_ASSERT(ldb >= (tb == Transpose::kNo ? n : k));
  HWY_ASSERT(ldc >= n);
  HWY_ASSERT(ws != nullptr &&
             reinterpret_cast<uintptr_t>(ws) % HWY_ALIGNMENT == 0);
  HWY_ASSERT(ws_bytes >= GemmWorkspaceBytes(m, n, k));
}

}  // namespace

void Gemm(Transpose ta, Transpose tb, size_t m, size_t n, size_t k,
          float alpha, const float* a, size_t lda, const float* b, size_t ldb,
          float beta, float* c, size_t ldc, void* workspace,
          size_t workspace_bytes) {
  CheckArgs(ta, tb, m, n, k, lda, ldb, ldc, workspace, workspace_bytes);
  HWY_DYNAMIC_DISPATCH(GemmImpl)(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta,
                                 c, ldc, workspace);
}

void Gemm(Transpose ta, Transpose tb, size_t m, size_t n, size_t k,
          float alpha, const float* a, size_t lda, const float* b, size_t ldb,
          float beta, float* c, size_t ldc) {
  const size_t bytes = GemmWorkspaceBytes(m, n, k);
  auto ws = hwy::AllocateAligned<uint8_t>(bytes);
  HWY_ASSERT(ws);
  Gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ws.get(), bytes);
}

void GemmBiasActivation(size_t m, size_t n, size_t k, const float* x,
                        size_t ldx, const float* w, size_t ldw,
                        const float* bias, Activation act, Accuracy accuracy,
                        float* y, size_t ldy, void* workspace,
                        size_t workspace_bytes) {
  CheckArgs(Transpose::kNo, Transpose::kYes, m, n, k, ldx, ldw, ldy, workspace,
            workspace_bytes);
  HWY_DYNAMIC_DISPATCH(GemmBiasActivationImpl)(m, n, k, x, ldx, w, ldw, bias,
                                               act, accuracy, y, ldy,
                                               workspace);
}

void GemmBiasActivation(size_t m, size_t n, size_t k, const float* x,
                        size_t ldx, const float* w, size_t ldw,
                        const float* bias, Activation act, Accuracy accuracy,
                        float* y, size_t ldy) {
  const size_t bytes = GemmWorkspaceBytes(m, n, k);
  auto ws = hwy::AllocateAligned<uint8_t>(bytes);
  HWY_ASSERT(ws);
  GemmBiasActivation(m, n, k, x, ldx, w, ldw, bias, act, accuracy, y, ldy,
                     ws.get(), bytes);
}

}  // namespace sparrow
#endif  // HWY_ONCE
