// `sparrow inspect MODEL.spw`: the model, then the plan the runtime prepares.
#include <stdio.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "tools/cli.h"

namespace sparrow {
namespace {

const char* StorageName(Model::Storage s) {
  switch (s) {
    case Model::Storage::kBorrowed:
      return "borrowed";
    case Model::Storage::kCopied:
      return "copied";
    case Model::Storage::kMapped:
      return "mapped";
  }
  return "?";
}

const char* Act(schema::ActivationType a) {
  return schema::EnumNameActivationType(a);
}

// The op's options table, as "key=value ..."; "" for ops without options.
std::string Attributes(const OpInfo& op) {
  const schema::Op* t = op.table;
  if (t == nullptr) return "";
  if (const auto* o = t->options_as_FullyConnectedOptions()) {
    return Format("activation=%s", Act(o->activation()));
  }
  if (const auto* o = t->options_as_GruOptions()) {
    return Format("hidden_size=%d mode=%s", o->hidden_size(),
                  schema::EnumNameGruMode(o->mode()));
  }
  if (const auto* o = t->options_as_Conv2DOptions()) {
    return Format(
        "stride=%dx%d dilation=%dx%d pad(t,b,l,r)=%d,%d,%d,%d activation=%s",
        o->stride_h(), o->stride_w(), o->dilation_h(), o->dilation_w(),
        o->pad_top(), o->pad_bottom(), o->pad_left(), o->pad_right(),
        Act(o->activation()));
  }
  if (const auto* o = t->options_as_Pool2DOptions()) {
    std::string s =
        Format("filter=%dx%d stride=%dx%d pad(t,b,l,r)=%d,%d,%d,%d",
               o->filter_h(), o->filter_w(), o->stride_h(), o->stride_w(),
               o->pad_top(), o->pad_bottom(), o->pad_left(), o->pad_right());
    if (op.type == schema::OpType::AvgPool2D) {
      s += o->count_include_pad() ? " count_include_pad=true"
                                  : " count_include_pad=false";
    }
    return s;
  }
  if (const auto* o = t->options_as_ElementwiseOptions()) {
    return Format("activation=%s", Act(o->activation()));
  }
  if (const auto* o = t->options_as_FlattenOptions()) {
    return Format("axis=%d", o->axis());
  }
  if (const auto* o = t->options_as_ConcatOptions()) {
    return Format("axis=%d", o->axis());
  }
  if (const auto* o = t->options_as_ActivationOptions()) {
    return Format("activation=%s", Act(o->activation()));
  }
  if (const auto* o = t->options_as_SoftmaxOptions()) {
    return Format("axis=%d", o->axis());
  }
  return "";
}

// "name [1, 8] f32", with the tensor's role when it is not an activation.
std::string TensorText(const Model& m, int32_t i) {
  if (i < 0) return "(absent)";
  const TensorInfo& t = m.tensor(i);
  std::string s = Format("%s %s %s", *t.name ? t.name : "(unnamed)",
                         ShapeString(t.shape).c_str(), DTypeName(t.dtype));
  if (t.is_variable) {
    s += " (state)";
  } else if (t.is_constant()) {
    s += " (const)";
  }
  return s;
}

std::string TensorList(const Model& m, Span<const int32_t> tensors) {
  std::string s;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (i != 0) s += ", ";
    s += TensorText(m, tensors[i]);
  }
  return s;
}

// Weights actually stored: a block-sparse matrix counts its nonzero blocks'
// rows inside the matrix (not the padding rows of the last block-row).
size_t Parameters(const Model& m, int32_t i) {
  const TensorInfo& t = m.tensor(i);
  if (!t.is_constant() || t.is_variable) return 0;
  const BlockSparseView* v = m.SparseWeights(i);
  if (v == nullptr) return t.num_elements;
  size_t n = 0;
  for (size_t r = 0; r < v->BlockRows(); ++r) {
    const size_t rows =
        std::min(kSparseBlockRows, v->rows - r * kSparseBlockRows);
    n += v->Count(r) * rows;
  }
  return n;
}

void PrintQuantization(FILE* out, const schema::Quantization* q) {
  if (q == nullptr) return;
  const size_t scales = q->scale() ? q->scale()->size() : 0;
  const size_t zeros = q->zero_point() ? q->zero_point()->size() : 0;
  fprintf(out, "      quantized: %zu scale%s", scales, scales == 1 ? "" : "s");
  if (scales > 1) fprintf(out, " (per channel, axis %d)", q->axis());
  fprintf(out, ", %zu zero point%s", zeros, zeros == 1 ? "" : "s");
  if (q->bit_width() && q->bit_width()->size() > 0) {
    fprintf(out, ", bit widths");
    const size_t n = q->bit_width()->size();
    for (size_t i = 0; i < n && i < 16; ++i) {
      fprintf(out, "%s%u", i == 0 ? " " : ",", q->bit_width()->Get(i));
    }
    if (n > 16) fprintf(out, ",...");
  }
  fprintf(out, "\n");
}

void PrintSparse(FILE* out, const BlockSparseView& v) {
  const BlockSparseStats s = Stats(v);
  fprintf(out,
          "      block-sparse 16x1 %s: density %.3f, %zu of %zu blocks "
          "nonzero, per block-row min/mean/max %zu/%.1f/%zu over %zu "
          "block-rows\n",
          BlockDTypeName(v.dtype), s.density, s.nonzero_blocks,
          s.block_rows * v.cols, s.min_per_block_row, s.mean_per_block_row,
          s.max_per_block_row, s.block_rows);
  fprintf(out, "      column segments (density, min-max per block-row):");
  for (const BlockSparseStats::Segment& g : s.segments) {
    fprintf(out, " [%zu,%zu) %.3f %zu-%zu", g.col_begin, g.col_end, g.density,
            g.min_per_block_row, g.max_per_block_row);
  }
  fprintf(out, "\n      %zu bytes (blocks %zu, indices and offsets %zu)\n",
          s.bytes, s.data_bytes, s.bytes - s.data_bytes);
}

void PrintModel(const std::string& path, const Model& m, FILE* out) {
  fprintf(out, "model: %s\n", path.c_str());
  fprintf(out, "  description: %s\n",
          *m.description() ? m.description() : "(none)");
  fprintf(out, "  format version: %u\n", m.version());
  fprintf(out, "  storage: %s, %zu bytes\n", StorageName(m.storage()),
          m.size());
  fprintf(out, "  tensors: %zu, ops: %zu, buffers: %zu\n", m.num_tensors(),
          m.num_ops(), m.num_buffers());

  fprintf(out, "inputs (%zu):\n", m.inputs().size());
  for (size_t i = 0; i < m.inputs().size(); ++i) {
    fprintf(out, "  %zu: %s\n", i, TensorText(m, m.inputs()[i]).c_str());
  }
  fprintf(out, "outputs (%zu):\n", m.outputs().size());
  for (size_t i = 0; i < m.outputs().size(); ++i) {
    fprintf(out, "  %zu: %s\n", i, TensorText(m, m.outputs()[i]).c_str());
  }

  fprintf(out, "ops (%zu):\n", m.num_ops());
  for (size_t i = 0; i < m.num_ops(); ++i) {
    const OpInfo& op = m.op(i);
    size_t params = 0;
    for (const int32_t t : op.inputs) {
      if (t >= 0) params += Parameters(m, t);
    }
    const std::string attrs = Attributes(op);
    fprintf(out, "  #%zu %s%s%s\n", i, OpTypeName(op.type),
            attrs.empty() ? "" : "  ", attrs.c_str());
    fprintf(out, "      in:  %s\n", TensorList(m, op.inputs).c_str());
    fprintf(out, "      out: %s\n", TensorList(m, op.outputs).c_str());
    fprintf(out, "      parameters: %zu\n", params);
  }

  size_t total_params = 0, dense_equivalent = 0, constants = 0;
  std::set<int32_t> buffers;
  fprintf(out, "constants:\n");
  for (size_t i = 0; i < m.num_tensors(); ++i) {
    const TensorInfo& t = m.tensor(i);
    if (!t.is_constant() || t.is_variable) continue;
    ++constants;
    const BufferInfo& b = m.buffer(t.buffer);
    const BlockSparseView* sparse = m.SparseWeights(i);
    fprintf(out, "  %s %s %s, %s, %zu bytes (buffer %d)\n",
            *t.name ? t.name : "(unnamed)", ShapeString(t.shape).c_str(),
            DTypeName(t.dtype), sparse ? "block-sparse" : "dense", b.size,
            t.buffer);
    if (sparse != nullptr) PrintSparse(out, *sparse);
    PrintQuantization(out, t.quantization);
    total_params += Parameters(m, static_cast<int32_t>(i));
    dense_equivalent += t.num_elements;
    buffers.insert(t.buffer);
  }
  if (constants == 0) fprintf(out, "  (none)\n");
  size_t weight_bytes = 0;
  for (const int32_t b : buffers) weight_bytes += m.buffer(b).size;

  bool any_state = false;
  for (size_t i = 0; i < m.num_tensors(); ++i) {
    const TensorInfo& t = m.tensor(i);
    if (!t.is_variable) continue;
    if (!any_state) fprintf(out, "state:\n");
    any_state = true;
    fprintf(out, "  %s %s %s, starts at %s\n", *t.name ? t.name : "(unnamed)",
            ShapeString(t.shape).c_str(), DTypeName(t.dtype),
            t.is_constant() ? "its buffer's value" : "zero");
  }

  fprintf(out, "totals: %zu parameters", total_params);
  if (dense_equivalent != total_params) {
    fprintf(out, " (%zu dense-equivalent)", dense_equivalent);
  }
  fprintf(out, ", %zu weight bytes in %zu buffers, file %zu bytes\n",
          weight_bytes, buffers.size(), m.size());
}

std::string OpsText(const Model& m, const std::vector<int32_t>& ops) {
  std::string s;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (i != 0) s += " + ";
    s += Format("#%d %s", ops[i], OpTypeName(m.op(ops[i]).type));
  }
  return s.empty() ? "(no op)" : s;
}

}  // namespace

Status Inspect(const InspectOptions& options, FILE* out) {
  StatusOr<Model> model = LoadModel(options.model);
  SPARROW_RETURN_IF_ERROR(model.status());
  const Model& m = model.value();
  PrintModel(options.model, m, out);

  const InterpreterOptions io = MakeInterpreterOptions(options);
  StatusOr<size_t> need = Interpreter::ArenaBytesNeeded(m, io);
  SPARROW_RETURN_IF_ERROR(need.status());
  StatusOr<Interpreter> interp = Interpreter::Create(m, io);
  SPARROW_RETURN_IF_ERROR(interp.status());
  const ArenaSummary& a = interp->arena_summary();
  const std::vector<PlanStep>& steps = interp->steps();
  fprintf(out,
          "plan: %zu steps for %zu ops, %zu thread%s, fusion %s, %s "
          "activations\n",
          steps.size(), m.num_ops(), interp->num_threads(),
          interp->num_threads() == 1 ? "" : "s", options.fuse ? "on" : "off",
          options.fast ? "fast" : "precise");
  const double ratio = a.head_lower_bound == 0
                           ? 1.0
                           : static_cast<double>(a.head_bytes) /
                                 static_cast<double>(a.head_lower_bound);
  fprintf(out,
          "  arena: head %zu bytes (lower bound %zu, %.2fx), tail %zu bytes, "
          "%zu planned buffers, strategy %s; ArenaBytesNeeded %zu bytes, "
          "used %zu\n",
          a.head_bytes, a.head_lower_bound, ratio, a.tail_bytes,
          a.planned_buffers, a.strategy.c_str(), need.value(),
          interp->ArenaBytesUsed());
  for (size_t i = 0; i < steps.size(); ++i) {
    const PlanStep& s = steps[i];
    fprintf(out, "  step %zu: %s -> %s\n", i, OpsText(m, s.ops).c_str(),
            TensorText(m, s.output).c_str());
    fprintf(out, "      kernel: %s; scratch %zu bytes\n", s.kernel.c_str(),
            s.scratch_bytes);
  }
  return OkStatus();
}

}  // namespace sparrow
