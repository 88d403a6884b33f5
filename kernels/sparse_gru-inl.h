// SIMD body of kernels/sparse_gru.h for every Highway target (textual
// header).
//
// One chunk = 16 hidden units = one block-row of each gate. The six gate
// products of a chunk are spmv-inl.h's BlockRowDot (so its tuning applies
// here too), each kept in kV vectors of registers: r and z add their x and h
// parts, n keeps W_in x and W_hn h apart because r scales only the latter.
// The gate math consumes each product as soon as it is complete, so at most
// two gate values stay live next to BlockRowDot's accumulators, and h_next's
// 16 units are stored once. Scalable targets and HWY_SCALAR, where a
// block is not a compile-time number of vectors, take a Lanes(d) fallback.

// Non-SIMD includes.
#ifndef SPARROW_KERNELS_SPARSE_GRU_INL_H_ONCE_
#define SPARROW_KERNELS_SPARSE_GRU_INL_H_ONCE_
#include <stddef.h>
#include <stdint.h>

#include "hwy/base.h"
#include "kernels/activation_type.h"
#include "kernels/block_sparse.h"
#include "kernels/sparse_gru.h"
#endif

#if defined(SPARROW_KERNELS_SPARSE_GRU_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARROW_KERNELS_SPARSE_GRU_INL_H_
#undef SPARROW_KERNELS_SPARSE_GRU_INL_H_
#else
#define SPARROW_KERNELS_SPARSE_GRU_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/activations-inl.h"
#include "kernels/spmv-inl.h"

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace sparse_gru_detail {

using spmv_detail::DF;
using spmv_detail::VF;

// p[off] as a vector of DF, or zero for a missing bias.
HWY_INLINE VF LoadBias(const float* HWY_RESTRICT p, size_t off) {
  return p == nullptr ? hn::Zero(DF()) : hn::LoadU(DF(), p + off);
}

// The gate math, split so that each product is folded in as soon as it is
// complete. `off` indexes the first unit of the slice in gate 0's bias.
template <Accuracy kAcc>
HWY_INLINE VF SigmoidGate(VF sum, const float* HWY_RESTRICT b_ih,
                          const float* HWY_RESTRICT b_hh, size_t off) {
  return Activate<Activation::kSigmoid, kAcc>(
      DF(), hn::Add(sum, hn::Add(LoadBias(b_ih, off), LoadBias(b_hh, off))));
}

// n = tanh(in_ + r * (hn_sum + b_hn)), in_ already holding its bias.
template <Accuracy kAcc>
HWY_INLINE VF NewGate(VF r, VF hn_sum, VF in_, const float* HWY_RESTRICT b_hh,
                      size_t off) {
  return Activate<Activation::kTanh, kAcc>(
      DF(), hn::MulAdd(r, hn::Add(hn_sum, LoadBias(b_hh, off)), in_));
}

// (1 - z) n + z h = n + z (h - n)
HWY_INLINE VF Update(VF z, VF n, VF h) {
  return hn::MulAdd(z, hn::Sub(h, n), n);
}

#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR

// Chunks [begin, end); kTI / kTH are the block dtypes of w_ih / w_hh.
template <BlockDType kTI, BlockDType kTH, Accuracy kAcc>
HWY_NOINLINE void SparseGruChunksT(const SparseGruWeights& w,
                                   const float* HWY_RESTRICT x,
                                   const float* HWY_RESTRICT h_prev,
                                   float* HWY_RESTRICT h_next, size_t begin,
                                   size_t end) {
  namespace sd = spmv_detail;
  constexpr size_t kV = sd::kBlockVectors;
  constexpr size_t kU = sd::kBlocksInFlight;
  constexpr size_t N = 16 / kV;
  const DF d;
  const size_t H = w.hidden;
  const size_t G = H / 16;  // block-rows per gate
  for (size_t c = begin; c < end; ++c) {
    const size_t j0 = c * 16;
    // Order r, in, hn, z: at most two kV-vector values stay live across the
    // next BlockRowDot (r and in_, then n), next to its kU * kV accumulators.
    VF a[kV], b[kV], g[kV], in_[kV];
    sd::BlockRowDot<kTI, kV, kU>(w.w_ih, c, x, a);
    sd::BlockRowDot<kTH, kV, kU>(w.w_hh, c, h_prev, b);
    SPARROW_SPMV_UNROLL
    for (size_t v = 0; v < kV; ++v) {
      g[v] = SigmoidGate<kAcc>(hn::Add(a[v], b[v]), w.b_ih, w.b_hh,
                               j0 + v * N);  // r
    }
    sd::BlockRowDot<kTI, kV, kU>(w.w_ih, 2 * G + c, x, a);
    SPARROW_SPMV_UNROLL
    for (size_t v = 0; v < kV; ++v) {
      in_[v] = hn::Add(a[v], LoadBias(w.b_ih, 2 * H + j0 + v * N));
    }
    sd::BlockRowDot<kTH, kV, kU>(w.w_hh, 2 * G + c, h_prev, b);
    SPARROW_SPMV_UNROLL
    for (size_t v = 0; v < kV; ++v) {
      g[v] = NewGate<kAcc>(g[v], b[v], in_[v], w.b_hh,
                           2 * H + j0 + v * N);  // n
    }
    sd::BlockRowDot<kTI, kV, kU>(w.w_ih, G + c, x, a);
    sd::BlockRowDot<kTH, kV, kU>(w.w_hh, G + c, h_prev, b);
    SPARROW_SPMV_UNROLL
    for (size_t v = 0; v < kV; ++v) {
      const size_t j = j0 + v * N;
      const VF z = SigmoidGate<kAcc>(hn::Add(a[v], b[v]), w.b_ih, w.b_hh,
                                     H + j);
      hn::StoreU(Update(z, g[v], hn::LoadU(d, h_prev + j)), d, h_next + j);
    }
  }
}

template <Accuracy kAcc>
HWY_INLINE void SparseGruDTypes(const SparseGruWeights& w,
                                const float* HWY_RESTRICT x,
                                const float* HWY_RESTRICT h_prev,
                                float* HWY_RESTRICT h_next, size_t begin,
                                size_t end) {
  constexpr BlockDType kF = BlockDType::kF32, kB = BlockDType::kBf16;
  const bool ih16 = w.w_ih.dtype == kB, hh16 = w.w_hh.dtype == kB;
  if (!ih16 && !hh16) {
    SparseGruChunksT<kF, kF, kAcc>(w, x, h_prev, h_next, begin, end);
  } else if (ih16 && hh16) {
    SparseGruChunksT<kB, kB, kAcc>(w, x, h_prev, h_next, begin, end);
  } else if (ih16) {
    SparseGruChunksT<kB, kF, kAcc>(w, x, h_prev, h_next, begin, end);
  } else {
    SparseGruChunksT<kF, kB, kAcc>(w, x, h_prev, h_next, begin, end);
  }
}

#endif  // !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR

// Rows [r, r + Lanes(DF)) of block-row br of w times x, one accumulator,
// dtype read at run time: the fallback's product (as SpmmGenericT).
HWY_INLINE VF GenericSliceDot(const BlockSparseView& w, size_t br, size_t r,
                              const float* HWY_RESTRICT x) {
  const DF d;
  const spmv_detail::DU du;
  const uint32_t* HWY_RESTRICT idx = w.col_indices + w.block_offsets[br];
  const size_t n = w.block_offsets[br + 1] - w.block_offsets[br];
  const uint8_t* base = static_cast<const uint8_t*>(w.data) +
                        size_t{w.data_offsets[br]} * kSparseLineBytes;
  VF acc = hn::Zero(d);
  for (size_t k = 0; k < n; ++k) {
    const VF xv = hn::Set(d, x[idx[k]]);
    VF wv;
    if (w.dtype == BlockDType::kF32) {
      wv = hn::Load(d, reinterpret_cast<const float*>(base) + k * 16 + r);
    } else {
      const spmv_detail::VU u = hn::Load(
          du, reinterpret_cast<const uint32_t*>(base) + (k / 2) * 16 + r);
      wv = (k & 1) ? spmv_detail::WidenHigh(u) : spmv_detail::WidenLow(u);
    }
    acc = hn::MulAdd(wv, xv, acc);
  }
  return acc;
}

// Lanes(d) units at a time: for scalable targets and HWY_SCALAR, and tested
// on every target.
template <Accuracy kAcc>
HWY_NOINLINE void SparseGruChunksGeneric(const SparseGruWeights& w,
                                         const float* HWY_RESTRICT x,
                                         const float* HWY_RESTRICT h_prev,
                                         float* HWY_RESTRICT h_next,
                                         size_t begin, size_t end) {
  const DF d;
  const size_t N = hn::Lanes(d);  // divides 16
  const size_t H = w.hidden;
  const size_t G = H / 16;
  for (size_t c = begin; c < end; ++c) {
    for (size_t r = 0; r < 16; r += N) {
      const size_t j = c * 16 + r;
      const VF rg = SigmoidGate<kAcc>(
          hn::Add(GenericSliceDot(w.w_ih, c, r, x),
                  GenericSliceDot(w.w_hh, c, r, h_prev)),
          w.b_ih, w.b_hh, j);
      const VF in_ = hn::Add(GenericSliceDot(w.w_ih, 2 * G + c, r, x),
                             LoadBias(w.b_ih, 2 * H + j));
      const VF n = NewGate<kAcc>(
          rg, GenericSliceDot(w.w_hh, 2 * G + c, r, h_prev), in_, w.b_hh,
          2 * H + j);
      const VF z = SigmoidGate<kAcc>(
          hn::Add(GenericSliceDot(w.w_ih, G + c, r, x),
                  GenericSliceDot(w.w_hh, G + c, r, h_prev)),
          w.b_ih, w.b_hh, H + j);
      const VF out = Update(z, n, hn::LoadU(d, h_prev + j));
      hn::StoreU(out, d, h_next + j);
    }
  }
}

}  // namespace sparse_gru_detail

// ------------------------------ Per-target entry points

// Chunks [begin, end) (end clipped to hidden / 16) of one step; see
// kernels/sparse_gru.h for the contract.
inline HWY_MAYBE_UNUSED void SparseGruStepImpl(
    const SparseGruWeights& w, const float* HWY_RESTRICT x,
    const float* HWY_RESTRICT h_prev, float* HWY_RESTRICT h_next,
    Accuracy acc, size_t begin, size_t end) {
  namespace sg = sparse_gru_detail;
  end = HWY_MIN(end, SparseGruChunks(w));
  if (begin >= end) return;
  HWY_DASSERT(w.hidden % 16 == 0);
  HWY_DASSERT(w.w_ih.dtype == BlockDType::kF32 ||
              w.w_ih.dtype == BlockDType::kBf16);
  HWY_DASSERT(w.w_hh.dtype == BlockDType::kF32 ||
              w.w_hh.dtype == BlockDType::kBf16);
#if HWY_HAVE_SCALABLE || HWY_TARGET == HWY_SCALAR
  if (acc == Accuracy::kFast) {
    sg::SparseGruChunksGeneric<Accuracy::kFast>(w, x, h_prev, h_next, begin,
                                                end);
  } else {
    sg::SparseGruChunksGeneric<Accuracy::kPrecise>(w, x, h_prev, h_next,
                                                   begin, end);
  }
#else
  if (acc == Accuracy::kFast) {
    sg::SparseGruDTypes<Accuracy::kFast>(w, x, h_prev, h_next, begin, end);
  } else {
    sg::SparseGruDTypes<Accuracy::kPrecise>(w, x, h_prev, h_next, begin, end);
  }
#endif
}

// The Lanes(d) fallback on any target (the tests compare it too).
inline HWY_MAYBE_UNUSED void SparseGruStepGenericImpl(
    const SparseGruWeights& w, const float* HWY_RESTRICT x,
    const float* HWY_RESTRICT h_prev, float* HWY_RESTRICT h_next,
    Accuracy acc, size_t begin, size_t end) {
  namespace sg = sparse_gru_detail;
  end = HWY_MIN(end, SparseGruChunks(w));
  if (begin >= end) return;
  if (acc == Accuracy::kFast) {
    sg::SparseGruChunksGeneric<Accuracy::kFast>(w, x, h_prev, h_next, begin,
                                                end);
  } else {
    sg::SparseGruChunksGeneric<Accuracy::kPrecise>(w, x, h_prev, h_next, begin,
                                                   end);
  }
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#endif  // SPARROW_KERNELS_SPARSE_GRU_INL_H_ toggle
