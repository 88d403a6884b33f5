// GEMM with packed panels and a register-tile microkernel (BLIS-style), for
// every Highway target. Listed in textual_hdrs: the trainer may inline GemmT
// into its own dispatched code. The public API and contract are in gemm.h.
//
// Layout of the computation (C is [m,n], vectors run along n):
//   for jc in n by kGemmBlockN:
//     for pc in k by kGemmBlockK:
//       for ic in m by kGemmBlockM:        A rows [mc, kc] stay in L2
//         for jr in nc by NR:              one B panel [kc][NR], reused by all
//                                          ir tiles (first ic pass packs it)
//           for ir in mc by MR:            MR x NR register tile, then epilogue
// NR = kTileVecs vectors, so the tile scales with the target's vector width;
// a narrower last panel uses a tile of fewer vectors instead of zero padding.
// Packing is done only where it pays at m = 64 (measured):
// - A is broadcast straight from the caller's matrix (either layout); only a
//   last panel with fewer than MR rows is packed, so no read passes the end.
// - B stored [k, n] (NN, TN) is read in place for full panels; copying it
//   cost more than the L1 locality it bought.
// - B stored [n, k] (NT, X·Wᵀ) is transposed into panels with in-register
//   N x N transposes, panel by panel, while the tiles of the previous panel
//   prefetch the next one's source.

// Non-SIMD includes.
#ifndef SPARROW_KERNELS_GEMM_INL_H_ONCE_
#define SPARROW_KERNELS_GEMM_INL_H_ONCE_
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hwy/aligned_allocator.h"
#include "hwy/base.h"
#include "kernels/activation_type.h"
#include "kernels/gemm.h"

namespace sparrow {
namespace gemm_detail {

inline constexpr size_t RoundUp(size_t x, size_t to) {
  return (x + to - 1) / to * to;
}

// What the epilogue does to one tile; see TileKernel.
struct Epilogue {
  float alpha;
  float beta;          // multiplies the old C; used only if load_c
  bool load_c;         // false: C is not read (beta == 0 on the first block)
  bool last;           // last k block: add bias, apply the activation
  const float* bias;   // [n] at this tile's first column, or null
};

// Source rows of the next B panel, which a tile kernel prefetches while it
// computes (packing is otherwise a memory-bound phase that nothing overlaps).
// `rows` rows of `lines` 64-byte lines each, `stride` floats apart; one line
// every `every` k steps.
struct PrefetchRows {
  const float* p = nullptr;
  size_t stride = 0;
  size_t rows = 0;
  size_t lines = 1;
  size_t every = 1;
};

}  // namespace gemm_detail
}  // namespace sparrow
#endif  // SPARROW_KERNELS_GEMM_INL_H_ONCE_

#if defined(SPARROW_KERNELS_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARROW_KERNELS_GEMM_INL_H_
#undef SPARROW_KERNELS_GEMM_INL_H_
#else
#define SPARROW_KERNELS_GEMM_INL_H_
#endif

#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "kernels/activations-inl.h"

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Register tile: kTileRows x kTileVecs vectors of accumulators, plus
// kTileVecs vectors of B and one broadcast of A. AVX-512 has 32 registers:
// 8 x 3 = 24 accumulators + 3 B + 1 broadcast, 24 FMAs per 11 loads (8 x 2
// measured the same at n = 256..1024, 8 x 3 wastes less on n % 48 edges
// thanks to the narrower edge tiles). The 16-register targets use 4 x 2
// (8 accumulators cover FMA latency x throughput on AVX2).
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
inline constexpr size_t kTileRows = 8;
inline constexpr size_t kTileVecs = 3;
#else
inline constexpr size_t kTileRows = 4;
inline constexpr size_t kTileVecs = 2;
#endif

using GemmD = hn::ScalableTag<float>;
inline constexpr size_t kTileCols = kTileVecs * hn::MaxLanes(GemmD());
static_assert(kTileRows <= kGemmMaxTileM, "workspace rounding too small");
static_assert(kTileCols <= kGemmMaxTileN, "workspace rounding too small");

// In-register transpose of N vectors of N lanes (N = lanes of d) by log2(N)
// perfect shuffles: each ConcatEven/ConcatOdd stage rotates the bits of the
// element index (row, col) by one, so log2(N) stages swap row and col.
template <class D, class V>
HWY_INLINE void TransposeSquare(D d, V* HWY_RESTRICT v) {
#if HWY_TARGET == HWY_SCALAR
  (void)d;  // one lane: already transposed
  (void)v;
#else
  constexpr size_t N = hn::MaxLanes(D());
  HWY_UNROLL(4)
  for (size_t stage = 1; stage < N; stage *= 2) {
    V t[N];
    HWY_UNROLL(16)
    for (size_t i = 0; i < N / 2; ++i) {
      t[i] = hn::ConcatEven(d, v[2 * i + 1], v[2 * i]);
      t[N / 2 + i] = hn::ConcatOdd(d, v[2 * i + 1], v[2 * i]);
    }
    HWY_UNROLL(16)
    for (size_t i = 0; i < N; ++i) v[i] = t[i];
  }
#endif
}

// Lanes of one B panel holding `cols` columns: whole vectors, so that a
// narrow last panel gets a narrower (cheaper) tile instead of zero padding.
template <class D>
HWY_INLINE size_t PanelVecs(D /*d*/, size_t cols) {
  constexpr size_t N = hn::MaxLanes(D());
  return (cols + N - 1) / N;
}

// Packs op(B)[k0:k0+kc, j0:j0+cols] (cols <= kTileCols) into one panel
// [kc][W], W = PanelVecs(cols) * N lanes (aligned); columns past cols are 0.
template <class D>
HWY_NOINLINE void PackB(D d, Transpose tb, const float* HWY_RESTRICT b,
                        size_t ldb, size_t k0, size_t kc, size_t j0,
                        size_t cols, float* HWY_RESTRICT panel) {
  constexpr size_t N = hn::MaxLanes(D());
  using V = hn::Vec<D>;
  const size_t vecs = PanelVecs(d, cols);
  const size_t W = vecs * N;
  if (tb == Transpose::kNo) {  // B is [k, n]: rows of the panel are contiguous.
    const float* src = b + k0 * ldb + j0;
    if (cols == W && vecs == kTileVecs) {
      // Constant trip count: a runtime one lets GCC turn each row into a
      // memcpy call (12% of an NN GEMM at m = 64).
      for (size_t kk = 0; kk < kc; ++kk) {
        HWY_UNROLL(4)
        for (size_t v = 0; v < kTileVecs; ++v) {
          hn::Store(hn::LoadU(d, src + kk * ldb + v * N), d,
                    panel + kk * W + v * N);
        }
      }
    } else if (cols == W) {
      for (size_t kk = 0; kk < kc; ++kk) {
        for (size_t v = 0; v < vecs; ++v) {
          hn::Store(hn::LoadU(d, src + kk * ldb + v * N), d,
                    panel + kk * W + v * N);
        }
      }
    } else {
      for (size_t kk = 0; kk < kc; ++kk) {
        size_t c = 0;
        for (; c < cols; ++c) panel[kk * W + c] = src[kk * ldb + c];
        for (; c < W; ++c) panel[kk * W + c] = 0.0f;
      }
    }
  } else {  // B is [n, k]: transpose N x N blocks in registers.
    const float* src = b + j0 * ldb + k0;
    size_t kk = 0;
    if (cols == W) {
      for (; kk + N <= kc; kk += N) {
        for (size_t v = 0; v < vecs; ++v) {
          V rows[N];
          HWY_UNROLL(16)
          for (size_t t = 0; t < N; ++t) {
            rows[t] = hn::LoadU(d, src + (v * N + t) * ldb + kk);
          }
          TransposeSquare(d, rows);
          HWY_UNROLL(16)
          for (size_t t = 0; t < N; ++t) {
            hn::Store(rows[t], d, panel + (kk + t) * W + v * N);
          }
        }
      }
    }
    for (; kk < kc; ++kk) {
      size_t c = 0;
      for (; c < cols; ++c) panel[kk * W + c] = src[c * ldb + kk];
      for (; c < W; ++c) panel[kk * W + c] = 0.0f;
    }
  }
}

// Packs the last rows < kTileRows rows of op(A)[i0:, k0:k0+kc] into a
// k-major panel [kc][kTileRows], zero-padded, for the edge tile.
HWY_NOINLINE void PackAEdge(Transpose ta, const float* HWY_RESTRICT a,
                            size_t lda, size_t i0, size_t rows, size_t k0,
                            size_t kc, float* HWY_RESTRICT out) {
  constexpr size_t MR = kTileRows;
  for (size_t kk = 0; kk < kc; ++kk) {
    size_t r = 0;
    for (; r < rows; ++r) {
      out[kk * MR + r] = ta == Transpose::kNo ? a[(i0 + r) * lda + k0 + kk]
                                              : a[(k0 + kk) * lda + i0 + r];
    }
    for (; r < MR; ++r) out[kk * MR + r] = 0.0f;
  }
}

// Applies the epilogue to a full register tile and stores it to c (ldc).
template <Activation kAct, Accuracy kAcc, size_t kVecs, class D, class V>
HWY_INLINE void StoreTile(D d, V (&acc)[kTileRows][kVecs],
                          float* HWY_RESTRICT c, size_t ldc,
                          const float* HWY_RESTRICT bias,
                          const gemm_detail::Epilogue& e) {
  constexpr size_t N = hn::MaxLanes(D());
  const V alpha = hn::Set(d, e.alpha);
  const V beta = hn::Set(d, e.beta);
  HWY_UNROLL(16)
  for (size_t r = 0; r < kTileRows; ++r) {
    HWY_UNROLL(4)
    for (size_t v = 0; v < kVecs; ++v) {
      float* p = c + r * ldc + v * N;
      V out = hn::Mul(alpha, acc[r][v]);
      if (e.load_c) out = hn::MulAdd(beta, hn::LoadU(d, p), out);
      if (e.last) {
        if (bias != nullptr) out = hn::Add(out, hn::LoadU(d, bias + v * N));
        out = Activate<kAct, kAcc>(d, out);
      }
      hn::StoreU(out, d, p);
    }
  }
}

// One kTileRows x (kVecs * N) tile of C: accumulates the packed panels over kc
// in registers, then applies the epilogue once. Edge tiles (rows/cols short)
// go through a stack copy so that only valid elements of C are read/written.
// kKMajor: A element (r, kk) is a[kk * lda + r] (A stored [k, m], or a packed
// edge panel with lda = MR); otherwise a[r * lda + kk] (A stored [m, k]).
template <Activation kAct, Accuracy kAcc, bool kKMajor, size_t kVecs, class D>
HWY_INLINE void TileKernel(D d, const float* HWY_RESTRICT ap, size_t lda,
                           const float* HWY_RESTRICT bp,  // [kc][ldbp]
                           // ldbp: the panel width, or ldb if read in place
                           size_t ldbp, size_t kc, float* HWY_RESTRICT c, size_t ldc,
                           size_t rows, size_t cols,
                           const gemm_detail::Epilogue& e,
                           const gemm_detail::PrefetchRows& pf) {
  constexpr size_t N = hn::MaxLanes(D());
  constexpr size_t MR = kTileRows;
  constexpr size_t NR = kVecs * N;
  using V = hn::Vec<D>;
  V acc[MR][kVecs];
  HWY_UNROLL(16)
  for (size_t r = 0; r < MR; ++r) {
    HWY_UNROLL(4)
    for (size_t v = 0; v < kVecs; ++v) acc[r][v] = hn::Zero(d);
  }

  size_t pf_row = 0, pf_line = 0, pf_countdown = pf.every;
  for (size_t kk = 0; kk < kc; ++kk) {
    V bv[kVecs];
    HWY_UNROLL(4)
    for (size_t v = 0; v < kVecs; ++v) bv[v] = hn::LoadU(d, bp + v * N);
    HWY_UNROLL(16)
    for (size_t r = 0; r < MR; ++r) {
      const V av = hn::Set(d, kKMajor ? ap[r] : ap[r * lda + kk]);
      HWY_UNROLL(4)
      for (size_t v = 0; v < kVecs; ++v) {
        acc[r][v] = hn::MulAdd(av, bv[v], acc[r][v]);
      }
    }
    if (kKMajor) ap += lda;
    bp += ldbp;
    if (--pf_countdown == 0) {
      pf_countdown = pf.every;
      if (pf_row < pf.rows) {
        hwy::Prefetch(pf.p + pf_row * pf.stride + pf_line * 16);
        if (++pf_line == pf.lines) {
          pf_line = 0;
          ++pf_row;
        }
      }
    }
  }

  if (HWY_LIKELY(rows == MR && cols == NR)) {
    StoreTile<kAct, kAcc, kVecs>(d, acc, c, ldc, e.bias, e);
    return;
  }
  HWY_ALIGN float tile[MR * NR];
  HWY_ALIGN float tile_bias[NR];
  for (size_t r = 0; r < rows; ++r) {
    for (size_t j = 0; j < cols; ++j) {
      tile[r * NR + j] = e.load_c ? c[r * ldc + j] : 0.0f;
    }
  }
  const float* bias = nullptr;
  if (e.last && e.bias != nullptr) {
    for (size_t j = 0; j < NR; ++j) tile_bias[j] = j < cols ? e.bias[j] : 0.0f;
    bias = tile_bias;
  }
  // Rows/columns past the edge hold garbage that is computed but never
  // copied out; zero them so no NaN/denormal slows the epilogue.
  for (size_t r = 0; r < MR; ++r) {
    for (size_t j = (r < rows ? cols : 0); j < NR; ++j) tile[r * NR + j] = 0.0f;
  }
  StoreTile<kAct, kAcc, kVecs>(d, acc, tile, NR, bias, e);
  for (size_t r = 0; r < rows; ++r) {
    memcpy(c + r * ldc, tile + r * NR, cols * sizeof(float));
  }
}

// All tiles of rows [ic, ic+mc) against one packed B panel of kVecs vectors.
// The tiles prefetch `pf` (the next panel's source), a share each.
template <Activation kAct, Accuracy kAcc, size_t kVecs, class D>
HWY_INLINE void RunPanel(D d, Transpose ta, const float* HWY_RESTRICT a,
                         size_t lda, size_t ic, size_t mc, size_t pc,
                         size_t kc, const float* HWY_RESTRICT apack,
                         const float* HWY_RESTRICT bpanel, size_t ldbp,
                         float* ctile,
                         size_t ldc, size_t cols,
                         const gemm_detail::Epilogue& e,
                         gemm_detail::PrefetchRows pf) {
  const size_t mc_full = mc / kTileRows * kTileRows;
  const size_t tiles = (mc + kTileRows - 1) / kTileRows;
  const size_t pf_rows_per_tile = (pf.rows + tiles - 1) / tiles;
  const size_t pf_lines_per_tile = pf_rows_per_tile * pf.lines;
  pf.every = pf_lines_per_tile == 0 ? kc + 1
                                    : HWY_MAX(size_t{1}, kc / pf_lines_per_tile);
  const size_t pf_rows_total = pf.rows;
  const float* pf_base = pf.p;
  for (size_t t = 0; t < tiles; ++t) {
    const size_t ir = t * kTileRows;
    const size_t r0 = HWY_MIN(pf_rows_total, t * pf_rows_per_tile);
    pf.rows = HWY_MIN(pf_rows_total - r0, pf_rows_per_tile);
    pf.p = pf.rows == 0 ? nullptr : pf_base + r0 * pf.stride;
    if (ir >= mc_full) {  // last, partial tile: packed edge panel
      TileKernel<kAct, kAcc, true, kVecs>(d, apack, kTileRows, bpanel, ldbp, kc,
                                          ctile + ir * ldc, ldc, mc - ir, cols,
                                          e, pf);
    } else if (ta == Transpose::kNo) {
      // (kc == 0: A may be null; no pointer arithmetic on it.)
      TileKernel<kAct, kAcc, false, kVecs>(
          d, kc ? a + (ic + ir) * lda + pc : a, lda, bpanel, ldbp, kc,
          ctile + ir * ldc, ldc, kTileRows, cols, e, pf);
    } else {
      TileKernel<kAct, kAcc, true, kVecs>(
          d, kc ? a + pc * lda + ic + ir : a, lda, bpanel, ldbp, kc,
          ctile + ir * ldc, ldc, kTileRows, cols, e, pf);
    }
  }
}

// The whole GEMM for one activation: C = act(alpha op(A) op(B) + beta C +
// bias) (bias/act only with the fused entry point). `ws` holds
// GemmWorkspaceBytes(m, n, k) bytes, aligned.
template <Activation kAct, Accuracy kAcc>
HWY_NOINLINE void GemmT(Transpose ta, Transpose tb, size_t m, size_t n,
                        size_t k, float alpha, const float* HWY_RESTRICT a,
                        size_t lda, const float* HWY_RESTRICT b, size_t ldb,
                        float beta, float* HWY_RESTRICT c, size_t ldc,
                        const float* HWY_RESTRICT bias, void* ws) {
  using gemm_detail::RoundUp;
  const GemmD d;
  if (m == 0 || n == 0) return;
  const size_t keff = (alpha == 0.0f) ? 0 : k;  // BLAS: A, B not read
  const size_t kc_max = HWY_MIN(keff, kGemmBlockK);
  const size_t nc_max = RoundUp(HWY_MIN(n, kGemmBlockN), kTileCols);
  float* HWY_RESTRICT bpack = static_cast<float*>(ws);
  float* HWY_RESTRICT apack = static_cast<float*>(ws) +
                              RoundUp(kc_max * nc_max, HWY_ALIGNMENT / 4);

  for (size_t jc = 0; jc < n; jc += kGemmBlockN) {
    const size_t nc = HWY_MIN(kGemmBlockN, n - jc);
    // keff == 0 still runs one (empty) block so the epilogue scales C.
    for (size_t pc = 0; pc == 0 || pc < keff; pc += kGemmBlockK) {
      const size_t kc = HWY_MIN(kGemmBlockK, keff - pc);
      gemm_detail::Epilogue e;
      e.alpha = alpha;
      e.beta = pc == 0 ? beta : 1.0f;
      e.load_c = pc != 0 || beta != 0.0f;
      e.last = pc + kc >= keff;
      for (size_t ic = 0; ic < m; ic += kGemmBlockM) {
        const size_t mc = HWY_MIN(kGemmBlockM, m - ic);
        const size_t mc_full = mc / kTileRows * kTileRows;
        if (mc_full != mc && kc != 0) {
          PackAEdge(ta, a, lda, ic + mc_full, mc - mc_full, pc, kc, apack);
        }
        for (size_t jr = 0; jr < nc; jr += kTileCols) {
          const size_t cols = HWY_MIN(kTileCols, nc - jr);
          e.bias = bias == nullptr ? nullptr : bias + jc + jr;
          float* bpanel = bpack + jr * kc;
          // The first pass over A packs each B panel just before its tiles
          // (so it is hot in L1) and prefetches the next panel's source
          // across those tiles; later passes reuse the packed block.
          // Full panels of a row-major B are read in place (as A is): the
          // copy cost more than it saved in L1 locality at m = 64.
          const bool direct = tb == Transpose::kNo && cols == kTileCols;
          const float* bsrc = direct ? b + pc * ldb + jc + jr : bpanel;
          const size_t ldbp = direct ? ldb : PanelVecs(d, cols) * hn::Lanes(d);
          gemm_detail::PrefetchRows pf;
          if (ic == 0 && kc != 0) {
            if (!direct) PackB(d, tb, b, ldb, pc, kc, jc + jr, cols, bpanel);
            if (jr + kTileCols < nc) {
              const size_t next_j = jc + jr + kTileCols;
              const size_t next_cols = HWY_MIN(kTileCols, nc - jr - kTileCols);
              pf.stride = ldb;
              if (tb == Transpose::kNo) {  // kc rows of next_cols floats
                pf.p = b + pc * ldb + next_j;
                pf.rows = kc;
                pf.lines = (next_cols * sizeof(float) + 63) / 64 + 1;
              } else {  // next_cols rows of kc floats
                pf.p = b + next_j * ldb + pc;
                pf.rows = next_cols;
                pf.lines = (kc * sizeof(float) + 63) / 64 + 1;
              }
            }
          }
          float* ctile = c + ic * ldc + jc + jr;
          switch (PanelVecs(d, cols)) {
            case 1:
              RunPanel<kAct, kAcc, 1>(d, ta, a, lda, ic, mc, pc, kc, apack,
                                      bsrc, ldbp, ctile, ldc, cols, e, pf);
              break;
            case 2:
              RunPanel<kAct, kAcc, HWY_MIN(2, kTileVecs)>(
                  d, ta, a, lda, ic, mc, pc, kc, apack, bsrc, ldbp, ctile, ldc,
                  cols, e, pf);
              break;
            default:
              RunPanel<kAct, kAcc, kTileVecs>(d, ta, a, lda, ic, mc, pc, kc,
                                              apack, bsrc, ldbp, ctile, ldc,
                                              cols,
                                              e, pf);
              break;
          }
        }
      }
    }
  }
}

// Entry points with the same signature for every target (HWY_EXPORT).
HWY_NOINLINE void GemmImpl(Transpose ta, Transpose tb, size_t m, size_t n,
                           size_t k, float alpha, const float* a, size_t lda,
                           const float* b, size_t ldb, float beta, float* c,
                           size_t ldc, void* ws) {
  GemmT<Activation::kIdentity, Accuracy::kPrecise>(
      ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nullptr, ws);
}

HWY_NOINLINE void GemmBiasActivationImpl(size_t m, size_t n, size_t k,
                                         const float* x, size_t ldx,
                                         const float* w, size_t ldw,
                                         const float* bias, Activation act,
                                         Accuracy accuracy, float* y,
                                         size_t ldy, void* ws) {
  WithActivation(act, accuracy, [&](auto tag) HWY_ATTR {
    GemmT<decltype(tag)::kAct, decltype(tag)::kAcc>(
        Transpose::kNo, Transpose::kYes, m, n, k, 1.0f, x, ldx, w, ldw, 0.0f,
        y, ldy, bias, ws);
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#endif  // SPARROW_KERNELS_GEMM_INL_H_ toggle
