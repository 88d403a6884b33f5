// The trainer's GRU layer with full backpropagation through time, llm.c
// style (conventions in trainer/layers.h). PyTorch's nn.GRU layout and gate
// order (r, z, n), batch first, so trained weights export to the runtime's
// Gru op (and from torch.nn.GRU) unchanged:
//   r = s(W_ir x + b_ir + W_hr h + b_hr), z = s(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r (W_hn h + b_hn)),  h' = (1 - z) n + z h
//
//   GruCache<float> cache(B, T, H);
//   GruForward(y, &cache, x, h0, w, B, T, I, H);         // y [B, T, H]
//   GruBackward(dx, dh0, &grads, dy, cache, x, h0, w, B, T, I, H);
#ifndef SPARROW_TRAINER_GRU_LAYER_H_
#define SPARROW_TRAINER_GRU_LAYER_H_

#include <stddef.h>

#include <cmath>
#include <vector>

#include "kernels/activations_scalar.h"
#include "trainer/matmul.h"

namespace sparrow {
namespace train {

template <typename T>
struct GruWeightsT {
  const T* w_ih;  // [3H, I]
  const T* w_hh;  // [3H, H]
  const T* b_ih;  // [3H] or null
  const T* b_hh;  // [3H] or null
};

template <typename T>
struct GruGradsT {
  T* w_ih;  // += [3H, I]
  T* w_hh;  // += [3H, H]
  T* b_ih;  // += [3H] or null
  T* b_hh;  // += [3H] or null
};

// What forward saves per step for backward ([T, B, H] each), plus scratch.
template <typename T>
struct GruCache {
  GruCache(size_t B, size_t T_, size_t H)
      : r(T_ * B * H), z(T_ * B * H), n(T_ * B * H), ghn(T_ * B * H),
        zeros(B * H, T(0)), gi(B * 3 * H), gh(B * 3 * H) {}
  std::vector<T> r, z, n, ghn;  // gates and W_hn h + b_hn
  std::vector<T> zeros;         // h0 when none is given
  std::vector<T> gi, gh;        // [B, 3H] scratch (pre-activations / grads)
};

// y [B, T, H]: every step's h, from x [B, T, I] and h0 [B, H] (null: zeros).
template <typename T>
void GruForward(T* y, GruCache<T>* c, const T* x, const T* h0,
                const GruWeightsT<T>& w, size_t B, size_t Tn, size_t I,
                size_t H) {
  const T* hp = h0 ? h0 : c->zeros.data();
  size_t ldh = H;
  for (size_t t = 0; t < Tn; ++t) {
    LinearBias<T>(B, 3 * H, I, x + t * I, Tn * I, w.w_ih, w.b_ih,
                  Activation::kIdentity, c->gi.data(), 3 * H);
    LinearBias<T>(B, 3 * H, H, hp, ldh, w.w_hh, w.b_hh, Activation::kIdentity,
                  c->gh.data(), 3 * H);
    for (size_t b = 0; b < B; ++b) {
      const T* gi = c->gi.data() + b * 3 * H;
      const T* gh = c->gh.data() + b * 3 * H;
      const size_t s = (t * B + b) * H;
      for (size_t j = 0; j < H; ++j) {
        const T r = SigmoidRef(gi[j] + gh[j]);
        const T z = SigmoidRef(gi[H + j] + gh[H + j]);
        const T n = std::tanh(gi[2 * H + j] + r * gh[2 * H + j]);
        c->r[s + j] = r;
        c->z[s + j] = z;
        c->n[s + j] = n;
        c->ghn[s + j] = gh[2 * H + j];
        y[(b * Tn + t) * H + j] = (T(1) - z) * n + z * hp[b * ldh + j];
      }
    }
    hp = y + t * H;
    ldh = Tn * H;
  }
}

// Backpropagation through time: dy [B, T, H] is the gradient of every
// step's output; dx [B, T, I] (or null) and dh0 [B, H] (or null) receive +=.
template <typename T>
void GruBackward(T* dx, T* dh0, const GruGradsT<T>& g, const T* dy,
                 GruCache<T>* c, const T* x, const T* h0, const T* y,
                 const GruWeightsT<T>& w, size_t B, size_t Tn, size_t I,
                 size_t H) {
  std::vector<T> dh(B * H, T(0)), dh_prev(B * H);
  for (size_t t = Tn; t-- > 0;) {
    const T* hp = t > 0 ? y + (t - 1) * H : (h0 ? h0 : c->zeros.data());
    const size_t ldh = t > 0 ? Tn * H : H;
    for (size_t b = 0; b < B; ++b) {
      const size_t s = (t * B + b) * H;
      T* dgi = c->gi.data() + b * 3 * H;
      T* dgh = c->gh.data() + b * 3 * H;
      for (size_t j = 0; j < H; ++j) {
        const T d = dh[b * H + j] + dy[(b * Tn + t) * H + j];
        const T r = c->r[s + j], z = c->z[s + j], n = c->n[s + j];
        const T h_prev = hp[b * ldh + j];
        const T dn = d * (T(1) - z) * (T(1) - n * n);
        const T dz = d * (h_prev - n) * z * (T(1) - z);
        const T dr = dn * c->ghn[s + j] * r * (T(1) - r);
        dgi[j] = dr;
        dgi[H + j] = dz;
        dgi[2 * H + j] = dn;
        dgh[j] = dr;
        dgh[H + j] = dz;
        dgh[2 * H + j] = dn * r;
        dh_prev[b * H + j] = d * z;
      }
    }
    const T* dgi = c->gi.data();
    const T* dgh = c->gh.data();
    MatMul<T>(Transpose::kYes, Transpose::kNo, 3 * H, I, B, T(1), dgi, 3 * H,
              x + t * I, Tn * I, T(1), g.w_ih, I);
    MatMul<T>(Transpose::kYes, Transpose::kNo, 3 * H, H, B, T(1), dgh, 3 * H,
              hp, ldh, T(1), g.w_hh, H);
    for (size_t b = 0; b < B; ++b) {
      for (size_t k = 0; k < 3 * H; ++k) {
        if (g.b_ih) g.b_ih[k] += dgi[b * 3 * H + k];
        if (g.b_hh) g.b_hh[k] += dgh[b * 3 * H + k];
      }
    }
    if (dx != nullptr) {
      MatMul<T>(Transpose::kNo, Transpose::kNo, B, I, 3 * H, T(1), dgi, 3 * H,
                w.w_ih, I, T(1), dx + t * I, Tn * I);
    }
    // dh for step t-1: the direct path plus the recurrent products.
    MatMul<T>(Transpose::kNo, Transpose::kNo, B, H, 3 * H, T(1), dgh, 3 * H,
              w.w_hh, H, T(1), dh_prev.data(), H);
    dh.swap(dh_prev);
  }
  if (dh0 != nullptr) {
    for (size_t i = 0; i < B * H; ++i) dh0[i] += dh[i];
  }
}

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_GRU_LAYER_H_
