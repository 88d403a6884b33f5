// Direct 2-D convolution of single-channel images (C = 1, stride 1, no
// dilation): the first layer of image nets such as LeNet-5. There im2col +
// GEMM is a poor fit (the patch matrix is built from kw-float runs and the
// GEMM has N = out_channels, often 6), so these kernels slide whole vectors of
// output columns over a zero-padded copy of the image instead.
//
//   sparrow::ConvGeometry g = ...;  // c == 1, stride 1, dilation 1
//   if (sparrow::Conv1ChApplies(g)) {
//     std::vector<float> scratch(sparrow::Conv1ChScratchFloats(g));
//     // y [N, OH, OW, O] = relu(conv(x [N, H, W, 1], w [O, KH, KW]) + b [O])
//     sparrow::Conv1ChForward(g, x, w, b, O, sparrow::Activation::kRelu,
//                             sparrow::Accuracy::kPrecise, y, scratch.data());
//     // dw [O, KH, KW] += dL/dw, db [O] += dL/db from dy [N, OH, OW, O]
//     sparrow::Conv1ChBackwardWeights(g, x, dy, O, dw, db, scratch.data());
//   }
//
// Contract:
// - Layouts are those of kernels/im2col.h: x is NHWC with C = 1, the filter
//   is [O, KH, KW, 1] (= [O, KH, KW]), y and dy are [N, OH, OW, O]. Taps that
//   fall outside the image read as 0, so any pad_top / pad_left (and through
//   oh / ow, any bottom / right padding) is valid.
// - The caller owns every buffer, including `scratch` (Conv1ChScratchFloats
//   floats; its size depends only on g, not on O). Nothing is allocated. No
//   alignment is required anywhere. Outputs must not overlap inputs or
//   scratch.
// - b and db may be null. Backward accumulates (+=) into dw and db.
// - Accumulation is f32 with FMA in an order fixed by the shapes alone (not
//   by pointer alignment or the calling thread), so batch-parallel training
//   stays deterministic. Forward outputs are bias + a sequential sum over the
//   KH*KW taps; weight gradients are sums over N*OH*OW pixels split into
//   per-lane partial sums.
// - Thread-safe: no state. Runtime-dispatched to the best compiled target.
#ifndef SPARROW_KERNELS_CONV1CH_H_
#define SPARROW_KERNELS_CONV1CH_H_

#include <stddef.h>

#include <algorithm>

#include "hwy/base.h"  // HWY_RESTRICT
#include "kernels/activation_type.h"
#include "kernels/im2col.h"

namespace sparrow {

// True when the kernels below compute g: one input channel, stride 1,
// dilation 1, a non-empty filter.
inline bool Conv1ChApplies(const ConvGeometry& g) {
  return g.c == 1 && g.stride_h == 1 && g.stride_w == 1 &&
         g.dilation_h == 1 && g.dilation_w == 1 && g.kh >= 1 && g.kw >= 1;
}

namespace conv1ch_detail {

// Buffers are laid out for the widest vector of any compiled target (64
// bytes), so one size serves every target and the layout (hence the
// summation order) does not depend on which one runs.
constexpr size_t kMaxLanes = 16;
// Output channels per register tile; wider layers run in several blocks.
constexpr size_t kMaxBlock = 6;
// Target size of the backward pass's de-interleaved dy block (floats): with
// the padded image rows it uses, it stays in L1.
constexpr size_t kDyBlockFloats = 4096;

inline size_t RoundUp(size_t x, size_t m) { return (x + m - 1) / m * m; }

struct Layout {
  size_t ow_pad = 0;   // OW rounded up to kMaxLanes: stride of [ch][OW] rows
  size_t pitch = 0;    // row stride of the padded image (floats)
  size_t rows = 0;     // padded image rows: OH + KH - 1
  size_t dy_rows = 0;  // output rows per backward dy block
  size_t image = 0, fwd = 0, bwd = 0;  // floats of each scratch region
};

inline Layout MakeLayout(const ConvGeometry& g) {
  Layout l;
  l.ow_pad = RoundUp(std::max<size_t>(g.ow, 1), kMaxLanes);
  // Vectors starting at any ox < ow_pad, shifted by kx < kw, stay inside.
  l.pitch = RoundUp(l.ow_pad + g.kw - 1, kMaxLanes);
  l.rows = g.oh + g.kh - 1;
  const size_t per_row = kMaxBlock * l.ow_pad;
  const size_t max_rows = std::max<size_t>(1, kDyBlockFloats / per_row);
  const size_t oh = std::max<size_t>(g.oh, 1);
  const size_t blocks = (oh + max_rows - 1) / max_rows;
  l.dy_rows = (oh + blocks - 1) / blocks;  // balanced blocks
  l.image = l.rows * l.pitch;
  l.fwd = kMaxBlock * l.ow_pad;  // one row of a channel block, planar
  l.bwd = kMaxBlock * l.dy_rows * l.ow_pad +          // dy block, planar
          kMaxBlock * g.kh * g.kw * kMaxLanes +       // dw partial sums
          kMaxBlock * kMaxLanes;                      // db partial sums
  return l;
}

}  // namespace conv1ch_detail

// Scratch floats for Conv1ChForward* and Conv1ChBackwardWeights on g
// (independent of the number of output channels).
inline size_t Conv1ChScratchFloats(const ConvGeometry& g) {
  const conv1ch_detail::Layout l = conv1ch_detail::MakeLayout(g);
  // + 16: the kernels align their working buffers to 64 bytes inside it.
  return l.image + std::max(l.fwd, l.bwd) + 16;
}

// Output rows [row_begin, row_end) of y, where row r = n * OH + oy is the
// OW * O floats at y + r * OW * O: y = act(conv(x, w) + b). x and y are the
// whole tensors (not offset by row_begin), so threads can split the rows.
void Conv1ChForwardRows(const ConvGeometry& g,
                        const float* HWY_RESTRICT x,  // [N, H, W, 1]
                        const float* HWY_RESTRICT w,  // [O, KH, KW]
                        const float* HWY_RESTRICT b,  // [O] or nullptr
                        size_t out_channels, Activation act, Accuracy acc,
                        float* HWY_RESTRICT y,  // [N, OH, OW, O]
                        float* HWY_RESTRICT scratch, size_t row_begin,
                        size_t row_end);

// All N * OH rows.
inline void Conv1ChForward(const ConvGeometry& g, const float* HWY_RESTRICT x,
                           const float* HWY_RESTRICT w,
                           const float* HWY_RESTRICT b, size_t out_channels,
                           Activation act, Accuracy acc,
                           float* HWY_RESTRICT y,
                           float* HWY_RESTRICT scratch) {
  Conv1ChForwardRows(g, x, w, b, out_channels, act, acc, y, scratch, 0,
                     g.n * g.oh);
}

// dw [O, KH, KW] += sum over (n, oy, ox) of dy[n, oy, ox, o] *
// x[n, oy + ky - pad_top, ox + kx - pad_left] (0 outside the image);
// db [O] += the sum of dy over (n, oy, ox) (db may be null).
void Conv1ChBackwardWeights(const ConvGeometry& g,
                            const float* HWY_RESTRICT x,   // [N, H, W, 1]
                            const float* HWY_RESTRICT dy,  // [N, OH, OW, O]
                            size_t out_channels,
                            float* HWY_RESTRICT dw,  // [O, KH, KW]
                            float* HWY_RESTRICT db,  // [O] or nullptr
                            float* HWY_RESTRICT scratch);

}  // namespace sparrow

#endif  // SPARROW_KERNELS_CONV1CH_H_
