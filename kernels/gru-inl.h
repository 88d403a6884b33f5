// SIMD body of kernels/gru.h for every Highway target (textual header).
//
// Hidden units are processed in chunks of N (= f32 lanes). For a chunk, the
// GEMV row machinery of gemv-inl.h computes the four dot products PyTorch's
// formula needs (r and z sum their x and h parts in one accumulator; n keeps
// W_in x and W_hn h apart because r scales only the latter) into four N-float
// stack buffers, then the gate math and the state update run on full vectors
// and h_next is written once. No [3H] scratch, no allocation.

// Non-SIMD includes.
#ifndef SPARROW_KERNELS_GRU_INL_H_ONCE_
#define SPARROW_KERNELS_GRU_INL_H_ONCE_
#include <stddef.h>
#include <stdint.h>

#include "hwy/base.h"
#include "kernels/activation_type.h"
#include "kernels/gru.h"
#endif

#if defined(SPARROW_KERNELS_GRU_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARROW_KERNELS_GRU_INL_H_
#undef SPARROW_KERNELS_GRU_INL_H_
#else
#define SPARROW_KERNELS_GRU_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/activations-inl.h"
#include "kernels/gemv-inl.h"

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// sums[i] = wa_i . xa (+ wb_i . xb if wb) for nr <= N consecutive rows; wa
// rows are dense with ca columns, wb rows with cb columns.
template <class DF, typename WT>
HWY_INLINE void RowGroupDots2(DF df, const WT* HWY_RESTRICT wa, size_t ca,
                              const float* HWY_RESTRICT xa,
                              const WT* HWY_RESTRICT wb, size_t cb,
                              const float* HWY_RESTRICT xb, size_t nr,
                              float* HWY_RESTRICT sums) {
  using V = hn::Vec<DF>;
  size_t i = 0;
#if HWY_TARGET != HWY_SCALAR
  const hn::Full128<float> d4;
  if constexpr (hwy::IsSame<WT, hwy::bfloat16_t>()) {
    for (; i + 8 <= nr; i += 8) {
      Dots8(df, wa ? wa + i * ca : nullptr, ca, ca, xa,
            wb ? wb + i * cb : nullptr, cb, cb, xb, sums + i);
    }
  }
  for (; i + 4 <= nr; i += 4) {
    V s0 = hn::Zero(df), s1 = hn::Zero(df), s2 = hn::Zero(df),
      s3 = hn::Zero(df);
    if (wa) Accumulate4(df, wa + i * ca, ca, xa, ca, s0, s1, s2, s3);
    if (wb) Accumulate4(df, wb + i * cb, cb, xb, cb, s0, s1, s2, s3);
    hn::Store(Reduce4(df, s0, s1, s2, s3), d4, sums + i);
  }
#endif
  for (; i < nr; ++i) {
    V s = hn::Zero(df);
    if (wa) Accumulate1(df, wa + i * ca, xa, ca, s);
    if (wb) Accumulate1(df, wb + i * cb, xb, cb, s);
    sums[i] = ReduceSum(df, s);
  }
}

template <Accuracy kAcc, typename WT>
HWY_NOINLINE void GruStepT(const WT* HWY_RESTRICT w_ih,
                           const WT* HWY_RESTRICT w_hh,
                           const float* HWY_RESTRICT b_ih,
                           const float* HWY_RESTRICT b_hh, size_t input,
                           size_t hidden, const float* HWY_RESTRICT x,
                           const float* HWY_RESTRICT h_prev,
                           float* HWY_RESTRICT h_next) {
  const hn::ScalableTag<float> df;
  using V = hn::Vec<decltype(df)>;
  const size_t N = hn::Lanes(df);
  const size_t I = input, H = hidden;
  constexpr size_t kMaxN = hn::MaxLanes(decltype(df)());
  alignas(64) float sr[kMaxN] = {}, sz[kMaxN] = {}, sin[kMaxN] = {},
                    shn[kMaxN] = {};
  // Consecutive steps walk the chunks in opposite directions, so the weights
  // a step touched last (still in L2) are the ones the next step reads first;
  // with 3.5 MB of f32 weights (H = I = 384) and 2 MiB of L2 this turns
  // ~1.5 MB per step from L3 traffic into L2 hits. Ping-ponged state buffers
  // give the alternation for free. Every unit's arithmetic is the same either
  // way, so results do not depend on the direction.
  const bool reverse = reinterpret_cast<uintptr_t>(h_next) <
                       reinterpret_cast<uintptr_t>(h_prev);
  const size_t num_chunks = (H + N - 1) / N;
  for (size_t chunk = 0; chunk < num_chunks; ++chunk) {
    const size_t j0 = (reverse ? num_chunks - 1 - chunk : chunk) * N;
    const size_t nr = HWY_MIN(N, H - j0);
    // r and z: x and h parts share one accumulator per row.
    RowGroupDots2(df, w_ih + j0 * I, I, x, w_hh + j0 * H, H, h_prev, nr, sr);
    RowGroupDots2(df, w_ih + (H + j0) * I, I, x, w_hh + (H + j0) * H, H,
                  h_prev, nr, sz);
    RowGroupDots2(df, w_ih + (2 * H + j0) * I, I, x,
                  static_cast<const WT*>(nullptr), 0, nullptr, nr, sin);
    RowGroupDots2(df, static_cast<const WT*>(nullptr), 0, nullptr,
                  w_hh + (2 * H + j0) * H, H, h_prev, nr, shn);

    const bool full = nr == N;
    auto load = [&](const float* HWY_RESTRICT p) -> V {
      if (p == nullptr) return hn::Zero(df);
      return full ? hn::LoadU(df, p) : LoadTail(df, p, nr);
    };
    auto bias = [&](const float* HWY_RESTRICT b, size_t gate) -> V {
      return load(b ? b + gate * H + j0 : nullptr);
    };
    const V r = Activate<Activation::kSigmoid, kAcc>(
        df, hn::Add(hn::Load(df, sr),
                    hn::Add(bias(b_ih, 0), bias(b_hh, 0))));
    const V z = Activate<Activation::kSigmoid, kAcc>(
        df, hn::Add(hn::Load(df, sz),
                    hn::Add(bias(b_ih, 1), bias(b_hh, 1))));
    const V hn_ = hn::Add(hn::Load(df, shn), bias(b_hh, 2));
    const V in_ = hn::Add(hn::Load(df, sin), bias(b_ih, 2));
    const V n = Activate<Activation::kTanh, kAcc>(df, hn::MulAdd(r, hn_, in_));
    // (1 - z) n + z h = n + z (h - n)
    const V h = load(h_prev + j0);
    const V out = hn::MulAdd(z, hn::Sub(h, n), n);
    if (full) {
      hn::StoreU(out, df, h_next + j0);
    } else {
      StoreTail(df, out, h_next + j0, nr);
    }
  }
}

template <typename WT>
HWY_INLINE void GruStepDispatch(const WT* HWY_RESTRICT w_ih,
                                const WT* HWY_RESTRICT w_hh,
                                const float* HWY_RESTRICT b_ih,
                                const float* HWY_RESTRICT b_hh, size_t input,
                                size_t hidden, const float* HWY_RESTRICT x,
                                const float* HWY_RESTRICT h_prev,
                                float* HWY_RESTRICT h_next, Accuracy acc) {
  if (acc == Accuracy::kFast) {
    GruStepT<Accuracy::kFast>(w_ih, w_hh, b_ih, b_hh, input, hidden, x, h_prev,
                              h_next);
  } else {
    GruStepT<Accuracy::kPrecise>(w_ih, w_hh, b_ih, b_hh, input, hidden, x,
                                 h_prev, h_next);
  }
}

// Per-target entry points (HWY_EXPORTed by gru.cc).
inline void GruStepF32Impl(const GruWeights& w, const float* HWY_RESTRICT x,
                           const float* HWY_RESTRICT h_prev,
                           float* HWY_RESTRICT h_next, Accuracy acc) {
  GruStepDispatch(w.w_ih, w.w_hh, w.b_ih, w.b_hh, w.input, w.hidden, x, h_prev,
                  h_next, acc);
}

inline void GruStepBf16Impl(const GruWeightsBf16& w,
                            const float* HWY_RESTRICT x,
                            const float* HWY_RESTRICT h_prev,
                            float* HWY_RESTRICT h_next, Accuracy acc) {
  GruStepDispatch(w.w_ih, w.w_hh, w.b_ih, w.b_hh, w.input, w.hidden, x, h_prev,
                  h_next, acc);
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#endif  // SPARROW_KERNELS_GRU_INL_H_ toggle
