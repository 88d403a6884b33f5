// The interpreter's linear ops: FullyConnected, Gru and Conv2D. At prepare
// time each picks its kernel (dense f32 / bf16 / 16x1 block-sparse), its
// thread split and its memory; at run time it only calls kernels.
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <string>

#include "kernels/conv1ch.h"
#include "kernels/gemm.h"
#include "kernels/gemv.h"
#include "kernels/gru.h"
#include "kernels/im2col.h"
#include "kernels/spmv.h"
#include "runtime/arena.h"
#include "runtime/interpreter_internal.h"

namespace sparrow {
namespace interp {
namespace {

using schema::DType;

size_t Align64(size_t bytes) {
  size_t aligned = 0;
  HWY_ASSERT(AlignArenaSize(bytes, &aligned));
  return aligned;
}

std::string Suffix(const Step& s, bool has_bias) {
  std::string k;
  if (has_bias) k += " +bias";
  if (s.act != Activation::kIdentity) k += std::string(" +") + ActivationName(s.act);
  return k;
}

std::string Threads(const Step& s) {
  const size_t parts = s.partition.parts();
  return parts > 1 ? ", " + std::to_string(parts) + " threads" : "";
}

std::string Density(const BlockSparseView& v) {
  char buf[48];
  const double cells = static_cast<double>(v.BlockRows()) * v.cols;
  snprintf(buf, sizeof(buf), " (%.1f%% blocks)",
           cells > 0 ? 100.0 * v.num_blocks / cells : 0.0);
  return buf;
}

// How many of the pool's threads a step of `macs` multiply-adds splits into:
// each part must be worth a pool round trip (min_macs_per_thread).
size_t PartsFor(const PrepareContext& c, double macs, size_t max_parts) {
  const double by_work = macs / std::max(1.0, c.options->min_macs_per_thread);
  size_t parts = by_work < 1.0 ? 1 : static_cast<size_t>(std::min(by_work, 1e6));
  parts = std::min(parts, std::min(c.options->threads, max_parts));
  return std::max<size_t>(parts, 1);
}

// Runs f(part) for every part of the step's partition: on the pool's first
// parts() threads (the others only take part in the round trip), or f(0) on
// the caller when the step is not split.
template <class F>
void ForEachThread(const Exec& e, const Step& s, const F& f) {
  const size_t parts = s.partition.parts();
  if (e.pool != nullptr && parts > 1) {
    e.pool->Run([&](size_t t) {
      if (t < parts) f(t);
    });
  } else {
    f(0);
  }
}

BlockRowRange Range(const Step& s, size_t thread, size_t count) {
  if (s.partition.parts() == 0) return {0, count};
  return s.partition.range(thread);
}

const float* BiasPtr(const Exec& e, const Step& s) {
  return s.bias >= 0 ? e.F32(s.bias) : nullptr;
}

// ------------------------------ FullyConnected

// Dense f32/bf16 GEMV, rows split in 16-row groups.
template <bool kBf16>
Status RunGemv(const Exec& e, const Step& s) {
  const float* x = e.F32(s.in[0]);
  const float* bias = BiasPtr(e, s);
  float* y = e.MutableF32(s.output);
  const size_t n = s.n, k = s.k;
  ForEachThread(e, s, [&](size_t t) {
    const BlockRowRange r = Range(s, t, (n + 15) / 16);
    const size_t r0 = std::min(n, r.begin * 16), r1 = std::min(n, r.end * 16);
    if (r0 >= r1) return;
    for (size_t b = 0; b < s.m; ++b) {  // bf16 batches: one GEMV per row
      if constexpr (kBf16) {
        const auto* w = static_cast<const hwy::bfloat16_t*>(e.data[s.in[1]]);
        GemvBf16(w + r0 * k, x + b * k, bias ? bias + r0 : nullptr,
                 y + b * n + r0, r1 - r0, k, s.act, e.accuracy);
      } else {
        const float* w = e.F32(s.in[1]);
        Gemv(w + r0 * k, x + b * k, bias ? bias + r0 : nullptr, y + b * n + r0,
             r1 - r0, k, s.act, e.accuracy);
      }
    }
  });
  return OkStatus();
}

// Dense f32 GEMM for batches, batch rows split across threads.
Status RunGemm(const Exec& e, const Step& s) {
  const float* x = e.F32(s.in[0]);
  const float* w = s.repacked[0] ? static_cast<const float*>(s.repacked[0])
                                 : e.F32(s.in[1]);
  const float* bias = BiasPtr(e, s);
  float* y = e.MutableF32(s.output);
  ForEachThread(e, s, [&](size_t t) {
    const BlockRowRange r = Range(s, t, s.m);
    if (r.begin >= r.end) return;
    GemmBiasActivation(r.end - r.begin, s.n, s.k, x + r.begin * s.k, s.k, w,
                       s.k, bias, s.act, e.accuracy, y + r.begin * s.n, s.n,
                       s.scratch + t * s.scratch_per_thread,
                       s.scratch_per_thread);
  });
  return OkStatus();
}

// 16x1 block-sparse: SpMV for one row, SpMM for batches; block-rows split
// by nonzero blocks.
Status RunSparse(const Exec& e, const Step& s) {
  const BlockSparseView& w = *e.model->SparseWeights(s.in[1]);
  const float* x = e.F32(s.in[0]);
  const float* bias = BiasPtr(e, s);
  float* y = e.MutableF32(s.output);
  ForEachThread(e, s, [&](size_t t) {
    const BlockRowRange r = Range(s, t, w.BlockRows());
    if (s.m == 1) {
      Spmv(w, x, bias, y, s.act, e.accuracy, r);
    } else {
      Spmm(w, x, s.k, bias, y, s.n, s.m, s.act, e.accuracy, r);
    }
  });
  return OkStatus();
}

Status PrepareFullyConnected(const PrepareContext& c, Step* s) {
  const Model& m = *c.model;
  const TensorInfo& w = m.tensor(s->in[1]);
  s->n = static_cast<size_t>(w.dim(0));
  s->k = static_cast<size_t>(w.dim(1));
  s->m = s->k == 0 ? 0 : m.tensor(s->in[0]).num_elements / s->k;
  const bool bias = s->bias >= 0;
  if (const BlockSparseView* v = m.SparseWeights(s->in[1])) {
    s->run = RunSparse;
    const size_t parts = PartsFor(c, 16.0 * v->num_blocks * s->m, v->BlockRows());
    if (parts > 1) s->partition = PartitionBlockRows(*v, parts);
    s->kernel = std::string(s->m == 1 ? "Spmv " : "Spmm ") +
                BlockDTypeName(v->dtype) + Density(*v);
  } else if (w.dtype == DType::BF16 || s->m == 1) {
    s->run = w.dtype == DType::BF16 ? RunGemv<true> : RunGemv<false>;
    const size_t groups = (s->n + 15) / 16;
    const size_t parts = PartsFor(c, 1.0 * s->m * s->n * s->k, groups);
    if (parts > 1) s->partition = EvenPartition(groups, parts);
    s->kernel = std::string("Gemv ") + DTypeName(w.dtype);
    if (s->m > 1) s->kernel += " x" + std::to_string(s->m) + " rows";
  } else {
    s->run = RunGemm;
    const size_t parts = PartsFor(c, 1.0 * s->m * s->n * s->k, s->m);
    if (parts > 1) s->partition = EvenPartition(s->m, parts);
    const size_t rows = (s->m + parts - 1) / parts;
    s->scratch_per_thread = Align64(GemmWorkspaceBytes(rows, s->n, s->k));
    s->kernel = "Gemm f32 [" + std::to_string(s->m) + " rows]";
  }
  s->kernel += Suffix(*s, bias) + Threads(*s);
  return OkStatus();
}

// ------------------------------ Gru

enum class GruKind : uint8_t { kF32, kBf16, kSparse };

// Runs the T steps of x [T, input] from h0 into y [T, hidden]; the last h
// goes back to the state when there is one.
template <GruKind kKind>
Status RunGru(const Exec& e, const Step& s) {
  const size_t steps = s.m, input = s.k, hidden = s.n;
  const float* x = e.F32(s.in[0]);
  float* y = e.MutableF32(s.output);
  float* state = s.in[5] >= 0 ? e.MutableF32(s.in[5]) : nullptr;
  const float* h = state ? state : static_cast<const float*>(s.repacked[2]);
  const float* b_ih = s.in[3] >= 0 ? e.F32(s.in[3]) : nullptr;
  const float* b_hh = s.in[4] >= 0 ? e.F32(s.in[4]) : nullptr;
  for (size_t t = 0; t < steps; ++t) {
    float* h_next = y + t * hidden;
    if constexpr (kKind == GruKind::kSparse) {
      ForEachThread(e, s, [&](size_t part) {
        SparseGruStep(s.sparse_gru, x + t * input, h, h_next, e.accuracy,
                      Range(s, part, SparseGruChunks(s.sparse_gru)));
      });
    } else if constexpr (kKind == GruKind::kBf16) {
      const GruWeightsBf16 w = {
          static_cast<const hwy::bfloat16_t*>(e.data[s.in[1]]),
          static_cast<const hwy::bfloat16_t*>(e.data[s.in[2]]),
          b_ih, b_hh, input, hidden};
      GruStepBf16(w, x + t * input, h, h_next, e.accuracy);
    } else {
      const GruWeights w = {
          s.repacked[0] ? static_cast<const float*>(s.repacked[0])
                        : e.F32(s.in[1]),
          s.repacked[1] ? static_cast<const float*>(s.repacked[1])
                        : e.F32(s.in[2]),
          b_ih, b_hh, input, hidden};
      GruStep(w, x + t * input, h, h_next, e.accuracy);
    }
    h = h_next;
  }
  if (state != nullptr && steps > 0) {
    memcpy(state, y + (steps - 1) * hidden, hidden * sizeof(float));
  }
  return OkStatus();
}

Status PrepareGru(const PrepareContext& c, Step* s) {
  const Model& m = *c.model;
  const auto* o = m.op(s->op).table->options_as_GruOptions();
  s->m = static_cast<size_t>(m.tensor(s->in[0]).dim(0));
  s->k = static_cast<size_t>(m.tensor(s->in[0]).dim(1));
  s->n = static_cast<size_t>(o->hidden_size());
  const BlockSparseView* vi = m.SparseWeights(s->in[1]);
  const BlockSparseView* vh = m.SparseWeights(s->in[2]);
  const DType di = m.tensor(s->in[1]).dtype, dh = m.tensor(s->in[2]).dtype;
  if (s->in[5] < 0) {  // no state: every sequence starts from h = 0
    s->tail[2] = c.AddTail(s->n * sizeof(float), TailFill::kZero, -1);
  }
  std::string mode = o->mode() == schema::GruMode::Step
                         ? "step"
                         : std::to_string(s->m) + " steps";
  if (vi && vh && s->n % kSparseBlockRows == 0) {
    s->run = RunGru<GruKind::kSparse>;
    s->sparse_gru = {*vi, *vh,
                     s->in[3] >= 0 ? static_cast<const float*>(m.TensorData(s->in[3])) : nullptr,
                     s->in[4] >= 0 ? static_cast<const float*>(m.TensorData(s->in[4])) : nullptr,
                     s->k, s->n};
    SPARROW_RETURN_IF_ERROR(ValidateSparseGru(s->sparse_gru));
    const size_t parts =
        PartsFor(c, 16.0 * (vi->num_blocks + vh->num_blocks),
                 SparseGruChunks(s->sparse_gru));
    if (parts > 1) s->partition = PartitionGruUnits(s->sparse_gru, parts);
    s->kernel = std::string("SparseGruStep w_ih ") + BlockDTypeName(vi->dtype) +
                Density(*vi) + ", w_hh " + BlockDTypeName(vh->dtype) +
                Density(*vh) + ", " + mode + Threads(*s);
    return OkStatus();
  }
  if (!vi && !vh && di == dh) {
    s->run = di == DType::BF16 ? RunGru<GruKind::kBf16> : RunGru<GruKind::kF32>;
    s->kernel = std::string("GruStep ") + DTypeName(di) + ", " + mode;
    return OkStatus();
  }
  // Mixed storage (or sparse with hidden % 16 != 0): both matrices as dense
  // f32 copies at the arena's tail.
  for (int w = 0; w < 2; ++w) {
    const int32_t t = s->in[1 + w];
    const bool sparse = m.SparseWeights(t) != nullptr;
    if (!sparse && m.tensor(t).dtype == DType::F32) continue;
    s->tail[w] = c.AddTail(m.tensor(t).num_elements * sizeof(float),
                           sparse ? TailFill::kExpandSparse : TailFill::kWidenBf16,
                           t);
  }
  s->run = RunGru<GruKind::kF32>;
  s->kernel = "GruStep f32 (weights repacked to dense f32), " + mode;
  return OkStatus();
}

// ------------------------------ Conv2D (im2col + the GEMM; direct for C = 1)

// rows m = N OH OW, n = O, k = KH KW C. Patch rows are gathered `chunk` at a
// time into the thread's scratch (skipped for pointwise convolutions).
Status RunConv(const Exec& e, const Step& s) {
  const float* x = e.F32(s.in[0]);
  const float* f = s.repacked[0] ? static_cast<const float*>(s.repacked[0])
                                 : e.F32(s.in[1]);
  const float* bias = BiasPtr(e, s);
  float* y = e.MutableF32(s.output);
  const bool pointwise = s.conv.IsPointwise();
  ForEachThread(e, s, [&](size_t t) {
    const BlockRowRange r = Range(s, t, s.m);
    uint8_t* scratch = s.scratch + t * s.scratch_per_thread;
    float* patches = reinterpret_cast<float*>(scratch);
    const size_t patch_bytes =
        pointwise ? 0 : Align64(s.chunk * s.k * sizeof(float));
    uint8_t* ws = scratch + patch_bytes;
    const size_t ws_bytes = s.scratch_per_thread - patch_bytes;
    for (size_t r0 = r.begin; r0 < r.end; r0 += s.chunk) {
      const size_t r1 = std::min(r.end, r0 + s.chunk);
      const float* a = x + r0 * s.k;
      if (!pointwise) {
        Im2Col(s.conv, x, r0, r1, patches);
        a = patches;
      }
      GemmBiasActivation(r1 - r0, s.n, s.k, a, s.k, f, s.k, bias, s.act,
                         e.accuracy, y + r0 * s.n, s.n, ws, ws_bytes);
    }
  });
  return OkStatus();
}

// Single-channel input (kernels/conv1ch.h): the direct kernel, output rows
// (n, oy) split across threads, its padded image in the thread's scratch.
Status RunConv1Ch(const Exec& e, const Step& s) {
  const float* x = e.F32(s.in[0]);
  const float* f = s.repacked[0] ? static_cast<const float*>(s.repacked[0])
                                 : e.F32(s.in[1]);
  const float* bias = BiasPtr(e, s);
  float* y = e.MutableF32(s.output);
  ForEachThread(e, s, [&](size_t t) {
    const BlockRowRange r = Range(s, t, s.conv.n * s.conv.oh);
    if (r.begin >= r.end) return;
    float* scratch = reinterpret_cast<float*>(s.scratch + t * s.scratch_per_thread);
    Conv1ChForwardRows(s.conv, x, f, bias, s.n, s.act, e.accuracy, y, scratch,
                       r.begin, r.end);
  });
  return OkStatus();
}

Status PrepareConv(const PrepareContext& c, Step* s) {
  const Model& m = *c.model;
  const TensorInfo& x = m.tensor(s->in[0]);
  const TensorInfo& f = m.tensor(s->in[1]);
  const TensorInfo& y = m.tensor(m.op(s->op).outputs[0]);
  const auto* o = m.op(s->op).table->options_as_Conv2DOptions();
  ConvGeometry& g = s->conv;
  g.n = static_cast<size_t>(x.dim(0));
  g.h = static_cast<size_t>(x.dim(1));
  g.w = static_cast<size_t>(x.dim(2));
  g.c = static_cast<size_t>(x.dim(3));
  g.kh = static_cast<size_t>(f.dim(1));
  g.kw = static_cast<size_t>(f.dim(2));
  g.oh = static_cast<size_t>(y.dim(1));
  g.ow = static_cast<size_t>(y.dim(2));
  g.stride_h = o->stride_h();
  g.stride_w = o->stride_w();
  g.dilation_h = o->dilation_h();
  g.dilation_w = o->dilation_w();
  g.pad_top = o->pad_top();
  g.pad_left = o->pad_left();
  s->m = g.PatchRows();
  s->n = static_cast<size_t>(f.dim(0));
  s->k = g.PatchCols();
  s->run = RunConv;
  const bool pointwise = g.IsPointwise();
  if (f.dtype == DType::BF16) {
    s->tail[0] = c.AddTail(f.num_elements * sizeof(float), TailFill::kWidenBf16,
                           s->in[1]);
  }
  if (Conv1ChApplies(g)) {
    s->run = RunConv1Ch;
    const size_t rows = g.n * g.oh;
    const size_t parts = PartsFor(c, 1.0 * s->m * s->n * s->k, rows);
    if (parts > 1) s->partition = EvenPartition(rows, parts);
    s->scratch_per_thread = Align64(Conv1ChScratchFloats(g) * sizeof(float));
    s->kernel = std::string("Conv1Ch direct ") + DTypeName(f.dtype) +
                (f.dtype == DType::BF16 ? " (widened to f32)" : "") + " [" +
                std::to_string(g.kh) + "x" + std::to_string(g.kw) + " -> " +
                std::to_string(s->n) + "]" + Suffix(*s, s->bias >= 0) +
                Threads(*s);
    return OkStatus();
  }
  const size_t parts =
      PartsFor(c, 1.0 * s->m * s->n * s->k, s->m);
  if (parts > 1) s->partition = EvenPartition(s->m, parts);
  // Patch rows per GEMM call: about 256 KiB of im2col per thread.
  const size_t per_thread = (s->m + parts - 1) / parts;
  size_t chunk = std::max<size_t>(16, (size_t{64} << 10) / std::max<size_t>(1, s->k));
  chunk = std::max<size_t>(1, std::min(chunk, per_thread));
  s->chunk = chunk;
  const size_t patch_bytes = pointwise ? 0 : Align64(chunk * s->k * sizeof(float));
  s->scratch_per_thread =
      patch_bytes + Align64(GemmWorkspaceBytes(chunk, s->n, s->k));
  s->kernel = std::string(pointwise ? "Gemm (1x1, no im2col) " : "im2col + Gemm ") +
              DTypeName(f.dtype) + (f.dtype == DType::BF16 ? " (widened to f32)" : "") +
              " [" + std::to_string(s->m) + "x" + std::to_string(s->k) + " -> " +
              std::to_string(s->n) + "]" + Suffix(*s, s->bias >= 0) + Threads(*s);
  return OkStatus();
}

}  // namespace

Status PrepareLinearStep(const PrepareContext& c, Step* s) {
  switch (c.model->op(s->op).type) {
    case schema::OpType::FullyConnected:
      return PrepareFullyConnected(c, s);
    case schema::OpType::Gru:
      return PrepareGru(c, s);
    case schema::OpType::Conv2D:
      return PrepareConv(c, s);
    default:
      return Internal("op %d is not a linear op", s->op);
  }
}

RowPartition EvenPartition(size_t count, size_t parts) {
  RowPartition p;
  p.bounds.resize(parts + 1);
  for (size_t i = 0; i <= parts; ++i) p.bounds[i] = count * i / parts;
  return p;
}

}  // namespace interp
}  // namespace sparrow
