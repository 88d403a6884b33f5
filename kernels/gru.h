// One fused GRU step (batch 1) with PyTorch's torch.nn.GRU / GRUCell layout,
// so trained weights map over directly.
//
//   sparrow::GruWeights gw = {w_ih, w_hh, b_ih, b_hh, /*input=*/I,
//                             /*hidden=*/H};
//   for (size_t t = 0; t < T; ++t) {
//     sparrow::GruStep(gw, x + t * I, h[t % 2], h[(t + 1) % 2]);
//   }
//
// Math (gate order r, z, n, as PyTorch stores W_ih = [W_ir; W_iz; W_in]):
//   r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
//   z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//   h' = (1 - z) * n + z * h
//
// Contract:
// - The caller owns all memory; the kernel allocates nothing and needs no
//   scratch: the three gate products, the gate math and the state update are
//   fused per chunk of hidden units.
// - h_next must NOT alias h_prev (every chunk reads all of h_prev), nor x or
//   the weights. Ping-pong two state buffers as above.
// - No alignment required. Biases may be nullptr (bias=False in PyTorch).
// - Thread-safe: no state. Runtime-dispatched to the best compiled target.
// - Accuracy: f32 accumulation (as gemv.h); kPrecise / kFast select the
//   sigmoid and tanh tiers of activation_type.h.
#ifndef SPARROW_KERNELS_GRU_H_
#define SPARROW_KERNELS_GRU_H_

#include <stddef.h>

#include "hwy/base.h"  // hwy::bfloat16_t
#include "kernels/activation_type.h"

namespace sparrow {

// Views of caller-owned PyTorch-layout weights.
struct GruWeights {
  const float* w_ih;  // [3 * hidden, input], rows (r, z, n)
  const float* w_hh;  // [3 * hidden, hidden], rows (r, z, n)
  const float* b_ih;  // [3 * hidden] or nullptr
  const float* b_hh;  // [3 * hidden] or nullptr
  size_t input;
  size_t hidden;
};

// Same with bf16 weight matrices (convert with ConvertF32ToBf16, gemv.h);
// biases, state and accumulation stay f32.
struct GruWeightsBf16 {
  const hwy::bfloat16_t* w_ih;  // [3 * hidden, input]
  const hwy::bfloat16_t* w_hh;  // [3 * hidden, hidden]
  const float* b_ih;            // [3 * hidden] or nullptr
  const float* b_hh;            // [3 * hidden] or nullptr
  size_t input;
  size_t hidden;
};

void GruStep(const GruWeights& weights,
             const float* HWY_RESTRICT x,       // [input]
             const float* HWY_RESTRICT h_prev,  // [hidden]
             float* HWY_RESTRICT h_next,        // [hidden], not h_prev
             Accuracy acc = Accuracy::kPrecise);

void GruStepBf16(const GruWeightsBf16& weights,
                 const float* HWY_RESTRICT x,       // [input]
                 const float* HWY_RESTRICT h_prev,  // [hidden]
                 float* HWY_RESTRICT h_next,        // [hidden], not h_prev
                 Accuracy acc = Accuracy::kPrecise);

}  // namespace sparrow

#endif  // SPARROW_KERNELS_GRU_H_
