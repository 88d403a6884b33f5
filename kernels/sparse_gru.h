// One fused GRU step (batch 1) with 16x1 block-sparse weight matrices
// (kernels/block_sparse.h): the math and PyTorch layout of kernels/gru.h, the
// products of kernels/spmv.h, no [3H] scratch.
//
//   // Prune PyTorch's W_ih [3H, I] and W_hh [3H, H] once, at prepare time.
//   auto w_ih = sparrow::BlockSparse16x1::PruneToDensity(wi, 3 * H, I, 0.1f);
//   auto w_hh = sparrow::BlockSparse16x1::PruneToDensity(wh, 3 * H, H, 0.1f);
//   sparrow::SparseGruWeights sw = {w_ih->view(), w_hh->view(), b_ih, b_hh,
//                                   /*input=*/I, /*hidden=*/H};
//   SPARROW_RETURN_IF_ERROR(sparrow::ValidateSparseGru(sw));  // once
//   for (size_t t = 0; t < T; ++t) {
//     sparrow::SparseGruStep(sw, x + t * I, h[t % 2], h[(t + 1) % 2]);
//   }
//
//   // A pool thread computes hidden units [16 b, 16 e) only
//   // (runtime/segmented.h splits the chunks by their nonzero blocks):
//   sparrow::SparseGruStep(sw, x, h0, h1, acc, sparrow::BlockRowRange{b, e});
//
// Math (gate order r, z, n; rows of W_ih and W_hh are [W_?r; W_?z; W_?n]):
//   r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
//   z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//   h' = (1 - z) * n + z * h
//
// Contract:
// - hidden must be a positive multiple of 16, so that each gate's rows start
//   on a block-row boundary: chunk c of 16 units reads block-row c (r),
//   hidden/16 + c (z) and 2 hidden/16 + c (n) of each matrix. Pad hidden with
//   zero units otherwise (their weights and biases zero; they stay zero when
//   h starts at zero, since n = 0 and z = 1/2 there).
// - Block dtypes: each matrix is f32 or bf16 independently (so W_ih in bf16
//   and W_hh in f32 works); bf16 blocks are widened exactly, biases, state
//   and accumulation are f32.
// - Call ValidateSparseGru once on weights that did not come from trusted
//   BlockSparse16x1 objects of the right shapes; SparseGruStep trusts them
//   (HWY_DASSERT only).
// - The caller owns all memory; nothing is allocated; no alignment required
//   for x, h_prev, h_next or the biases (the views' data is 64-byte aligned by
//   their own contract). Biases may be nullptr (bias=False in PyTorch).
// - h_next must NOT alias h_prev (every chunk reads all of h_prev), nor x or
//   the weights. Ping-pong two state buffers as above.
// - `units` selects chunks [begin, end) of hidden/16 (end clipped); exactly
//   units 16 begin .. 16 end - 1 of h_next are written, each once, after its
//   gates are complete. Each unit's arithmetic does not depend on the range,
//   so any split of the chunks gives bit-identical results.
// - Thread-safe: no state; concurrent calls with disjoint ranges of one h_next
//   are safe. Runtime-dispatched to the best compiled Highway target.
// - Numerics: each gate sum is an f32 FMA sum over the block-row's nonzero
//   blocks in up to 8 interleaved chains (as kernels/spmv.h); kPrecise /
//   kFast select the sigmoid and tanh tiers of activation_type.h. Error bound
//   in sparse_gru_test.cc.
#ifndef SPARROW_KERNELS_SPARSE_GRU_H_
#define SPARROW_KERNELS_SPARSE_GRU_H_

#include <stddef.h>

#include "hwy/base.h"
#include "kernels/activation_type.h"
#include "kernels/block_sparse.h"
#include "kernels/spmv.h"  // BlockRowRange
#include "kernels/status.h"

namespace sparrow {

// Non-owning views of block-sparse PyTorch-layout GRU weights.
struct SparseGruWeights {
  BlockSparseView w_ih;  // [3 * hidden, input], rows (r, z, n)
  BlockSparseView w_hh;  // [3 * hidden, hidden], rows (r, z, n)
  const float* b_ih;     // [3 * hidden] or nullptr
  const float* b_hh;     // [3 * hidden] or nullptr
  size_t input;
  size_t hidden;  // a positive multiple of 16
};

// Chunks of 16 hidden units: what `units` ranges over.
inline size_t SparseGruChunks(const SparseGruWeights& w) {
  return w.hidden / kSparseBlockRows;
}

// Checks hidden (a positive multiple of 16), each view's dtype (f32 or bf16)
// and shape (w_ih [3 hidden, input], w_hh [3 hidden, hidden]) and then each
// view's own Validate(); the message names the field and the offending value.
Status ValidateSparseGru(const SparseGruWeights& w);

void SparseGruStep(const SparseGruWeights& w,
                   const float* HWY_RESTRICT x,       // [input]
                   const float* HWY_RESTRICT h_prev,  // [hidden]
                   float* HWY_RESTRICT h_next,        // [hidden], not h_prev
                   Accuracy acc = Accuracy::kPrecise,
                   BlockRowRange units = {});  // chunks of 16 units

}  // namespace sparrow

#endif  // SPARROW_KERNELS_SPARSE_GRU_H_
