// Dense single-precision GEMM for batches, and the fused linear layer
// Y = act(X·Wᵀ + b) with the epilogue applied on the register tile.
//
//   // C[m,n] = alpha * op(A) * op(B) + beta * C, row-major.
//   sparrow::Gemm(sparrow::Transpose::kNo, sparrow::Transpose::kYes,
//                 m, n, k, 1.0f, x, k, w, k, 0.0f, y, n);   // Y = X·Wᵀ
//
//   // Hot path without allocation: the caller owns an aligned workspace.
//   const size_t bytes = sparrow::GemmWorkspaceBytes(m, n, k);
//   auto ws = hwy::AllocateAligned<uint8_t>(bytes);          // once, at prepare
//   sparrow::GemmBiasActivation(m, n, k, x, k, w, k, b, Activation::kTanh,
//                               Accuracy::kPrecise, y, n, ws.get(), bytes);
//
// Contract
// - All matrices are row-major. op(A) is [m,k]: A itself is [m,k] (ld >= k)
//   for Transpose::kNo and [k,m] (ld >= m) for kYes. Likewise op(B) is [k,n]:
//   B is [k,n] (ld >= n) for kNo and [n,k] (ld >= k) for kYes. C is [m,n],
//   ldc >= n. Leading dimensions are in floats; pointers need only float
//   alignment. Any size is allowed, including 0; k == 0 or alpha == 0 means
//   C = beta * C (and A, B are not read).
// - beta == 0 means C is not read: NaN/Inf or uninitialized memory in C is
//   ignored, as in BLAS.
// - C must not alias A, B or the bias.
// - Memory: the overloads taking `workspace` never allocate. The workspace
//   must be aligned to HWY_ALIGNMENT (64 bytes) and hold at least
//   GemmWorkspaceBytes(m, n, k) bytes; it is scratch (packed panels) and may
//   be reused between calls, but not shared by concurrent calls. The overloads
//   without a workspace allocate one per call (hwy::AllocateAligned): fine for
//   the trainer, not for the runtime's hot path.
// - Thread-safety: no global state; concurrent calls with distinct outputs and
//   workspaces are safe. Each call runs on the calling thread only.
// - Numerics: each C element is a float sum of k products accumulated with
//   FMA in blocks of up to kGemmBlockK (order differs from a naive loop);
//   the error is within (k + 2) * 2^-24 * |alpha| * sum|a||b| + 2^-23 |beta C|.
#ifndef SPARROW_KERNELS_GEMM_H_
#define SPARROW_KERNELS_GEMM_H_

#include <stddef.h>

#include "kernels/activation_type.h"

namespace sparrow {

enum class Transpose : int { kNo = 0, kYes };

// Bytes of scratch that Gemm / GemmBiasActivation need for these sizes. The
// same value is valid for every SIMD target. Never 0, so that an allocation
// of this size is always a real pointer.
size_t GemmWorkspaceBytes(size_t m, size_t n, size_t k);

// C = alpha * op(A) * op(B) + beta * C. Aborts (HWY_ASSERT) if the workspace
// is too small or misaligned, or a leading dimension is too small.
void Gemm(Transpose ta, Transpose tb, size_t m, size_t n, size_t k,
          float alpha, const float* a, size_t lda, const float* b, size_t ldb,
          float beta, float* c, size_t ldc, void* workspace,
          size_t workspace_bytes);

// As above, allocating the workspace for this call.
void Gemm(Transpose ta, Transpose tb, size_t m, size_t n, size_t k,
          float alpha, const float* a, size_t lda, const float* b, size_t ldb,
          float beta, float* c, size_t ldc);

// The fused linear layer for a batch: Y[m,n] = act(X[m,k] · W[n,k]ᵀ + bias[n])
// (NT layout: W is stored [out, in], as GEMV's weights are). `bias` may be
// null (no bias). Y is not read. The bias and activation are applied on the
// register tile; for k <= kGemmBlockK every Y element is stored exactly once,
// for larger k partial sums are stored once per k block and the activation is
// applied once, on the last.
void GemmBiasActivation(size_t m, size_t n, size_t k, const float* x,
                        size_t ldx, const float* w, size_t ldw,
                        const float* bias, Activation act, Accuracy accuracy,
                        float* y, size_t ldy, void* workspace,
                        size_t workspace_bytes);

// As above, allocating the workspace for this call.
void GemmBiasActivation(size_t m, size_t n, size_t k, const float* x,
                        size_t ldx, const float* w, size_t ldw,
                        const float* bias, Activation act, Accuracy accuracy,
                        float* y, size_t ldy);

// Cache blocking (identical for every target, so the workspace size is too).
// Exposed for tests that must cross block boundaries.
inline constexpr size_t kGemmBlockK = 192;   // depth of one packed panel
inline constexpr size_t kGemmBlockN = 1024;  // columns of packed B per pass
inline constexpr size_t kGemmBlockM = 128;   // rows of A per pass (in L2)
// Upper bounds of the register tile over all targets, for workspace rounding.
inline constexpr size_t kGemmMaxTileM = 16;
inline constexpr size_t kGemmMaxTileN = 64;

}  // namespace sparrow

#endif  // SPARROW_KERNELS_GEMM_H_
