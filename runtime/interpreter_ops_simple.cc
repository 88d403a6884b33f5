// The interpreter's data-movement and elementwise ops: pools, Add/Mul with
// broadcasting, Reshape/Flatten, Concat, activations, Softmax/LogSoftmax and
// Embedding. One thread each (they are a small share of an RNN or MLP step).
#include <math.h>
#include <string.h>

#include <algorithm>
#include <limits>
#include <string>

#include "kernels/activations.h"
#include "kernels/gemv.h"
#include "kernels/pool.h"
#include "runtime/interpreter_internal.h"

namespace sparrow {
namespace interp {
namespace {

using schema::DType;
using schema::OpType;

// ------------------------------ MaxPool2D / AvgPool2D (NHWC)

// The kernel the trainer's MaxPool2D layer runs (kernels/pool.h), without
// the argmax: the same bits as training, including its NaN rule (a NaN in a
// window's first in-image pixel propagates, later ones are ignored).
Status RunMaxPool(const Exec& e, const Step& s) {
  const auto* o = e.model->op(s.op).table->options_as_Pool2DOptions();
  PoolGeometry p;
  p.n = s.dims[0];
  p.h = s.dims[1];
  p.w = s.dims[2];
  p.c = s.dims[3];
  p.oh = s.dims[6];
  p.ow = s.dims[7];
  p.kh = static_cast<size_t>(o->filter_h());
  p.kw = static_cast<size_t>(o->filter_w());
  p.stride_h = o->stride_h();
  p.stride_w = o->stride_w();
  p.pad_top = o->pad_top();
  p.pad_left = o->pad_left();
  // Validated pads are at most filter - 1: every window holds >= 1 pixel.
  MaxPool2D(p, e.F32(s.in[0]), e.MutableF32(s.output), nullptr);
  return OkStatus();
}

Status RunAvgPool(const Exec& e, const Step& s) {
  const auto* o = e.model->op(s.op).table->options_as_Pool2DOptions();
  const float* x = e.F32(s.in[0]);
  float* y = e.MutableF32(s.output);
  const size_t N = s.dims[0], H = s.dims[1], W = s.dims[2], C = s.dims[3];
  const size_t OH = s.dims[6], OW = s.dims[7];
  const int64_t kh = o->filter_h(), kw = o->filter_w();
  for (size_t img = 0; img < N; ++img) {
    for (size_t oy = 0; oy < OH; ++oy) {
      const int64_t y0 = static_cast<int64_t>(oy) * o->stride_h() - o->pad_top();
      const int64_t ya = std::max<int64_t>(0, y0);
      const int64_t yb = std::min<int64_t>(static_cast<int64_t>(H), y0 + kh);
      for (size_t ox = 0; ox < OW; ++ox) {
        const int64_t x0 =
            static_cast<int64_t>(ox) * o->stride_w() - o->pad_left();
        const int64_t xa = std::max<int64_t>(0, x0);
        const int64_t xb = std::min<int64_t>(static_cast<int64_t>(W), x0 + kw);
        float* out = y + ((img * OH + oy) * OW + ox) * C;
        for (size_t ch = 0; ch < C; ++ch) out[ch] = 0.0f;
        // Padding is at most filter - 1, so every window holds >= 1 pixel.
        for (int64_t iy = ya; iy < yb; ++iy) {
          for (int64_t ix = xa; ix < xb; ++ix) {
            const float* in = x + ((img * H + iy) * W + ix) * C;
            for (size_t ch = 0; ch < C; ++ch) out[ch] += in[ch];
          }
        }
        const float count = o->count_include_pad()
                                ? static_cast<float>(kh * kw)
                                : static_cast<float>((yb - ya) * (xb - xa));
        const float inv = 1.0f / count;
        for (size_t ch = 0; ch < C; ++ch) out[ch] *= inv;
      }
    }
  }
  return OkStatus();
}

// ------------------------------ Add / Mul (NumPy broadcasting)

template <bool kMul>
inline float Apply(float a, float b) {
  return kMul ? a * b : a + b;
}

template <bool kMul>
Status RunElementwise(const Exec& e, const Step& s) {
  const float* a = e.F32(s.in[0]);
  const float* b = e.F32(s.in[1]);
  float* y = e.MutableF32(s.output);
  const size_t total = s.m;
  if (s.rank == 0 || (s.stride_a[s.rank - 1] == 1 && s.stride_b[s.rank - 1] == 1 &&
                      s.n == total)) {
    for (size_t i = 0; i < total; ++i) y[i] = Apply<kMul>(a[i], b[i]);
  } else {
    // Innermost axis in a loop, the outer ones by an index counter.
    const size_t last = s.rank - 1, inner = s.shape[last];
    const size_t sa = s.stride_a[last], sb = s.stride_b[last];
    size_t idx[8] = {};
    size_t oa = 0, ob = 0;
    for (size_t done = 0; done < total; done += inner) {
      for (size_t i = 0; i < inner; ++i) {
        y[done + i] = Apply<kMul>(a[oa + i * sa], b[ob + i * sb]);
      }
      for (size_t ax = last; ax-- > 0;) {  // advance the outer counter
        oa += s.stride_a[ax];
        ob += s.stride_b[ax];
        if (++idx[ax] < s.shape[ax]) break;
        oa -= s.stride_a[ax] * s.shape[ax];
        ob -= s.stride_b[ax] * s.shape[ax];
        idx[ax] = 0;
      }
    }
  }
  if (s.act != Activation::kIdentity) Activate(s.act, e.accuracy, y, y, total);
  return OkStatus();
}

Status PrepareElementwise(const Model& m, Step* s) {
  const TensorInfo& a = m.tensor(s->in[0]);
  const TensorInfo& b = m.tensor(s->in[1]);
  const TensorInfo& y = m.tensor(s->output);
  s->rank = y.rank();
  s->m = y.num_elements;
  // s->n: elements where both inputs are full (no broadcast anywhere).
  s->n = a.num_elements == y.num_elements && b.num_elements == y.num_elements
             ? y.num_elements
             : 0;
  size_t sa = 1, sb = 1;
  for (size_t i = s->rank; i-- > 0;) {  // i: output axis; inputs align right
    const size_t from_end = s->rank - 1 - i;
    const size_t da = from_end < a.rank() ? a.dim(a.rank() - 1 - from_end) : 1;
    const size_t db = from_end < b.rank() ? b.dim(b.rank() - 1 - from_end) : 1;
    s->shape[i] = static_cast<size_t>(y.dim(i));
    s->stride_a[i] = da == 1 ? 0 : sa;
    s->stride_b[i] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
  }
  if (s->n == y.num_elements && s->rank > 0) {
    s->stride_a[s->rank - 1] = s->stride_b[s->rank - 1] = 1;
  }
  s->kernel = s->n ? "elementwise" : "broadcast";
  if (s->act != Activation::kIdentity) {
    s->kernel += std::string(" +") + ActivationName(s->act);
  }
  return OkStatus();
}

// ------------------------------ Reshape / Flatten / Concat

Status RunCopy(const Exec& e, const Step& s) {
  if (e.data[s.output] != e.data[s.in[0]]) {
    memcpy(e.data[s.output], e.data[s.in[0]], s.m);
  }
  return OkStatus();
}

// dims[0]: outer (product of the dims before axis); per input, its inner
// block (shape[axis] * product after) is shape[axis] * s.k floats.
Status RunConcat(const Exec& e, const Step& s) {
  const OpInfo& op = e.model->op(s.op);
  float* y = e.MutableF32(s.output);
  const size_t outer = s.dims[0], out_inner = s.n;
  size_t offset = 0;
  for (int32_t t : op.inputs) {
    const size_t inner = static_cast<size_t>(e.model->tensor(t).dim(s.dims[1])) * s.k;
    const float* x = e.F32(t);
    for (size_t o = 0; o < outer; ++o) {
      memcpy(y + o * out_inner + offset, x + o * inner, inner * sizeof(float));
    }
    offset += inner;
  }
  return OkStatus();
}

Status PrepareConcat(const Model& m, Step* s) {
  const OpInfo& op = m.op(s->op);
  const TensorInfo& y = m.tensor(s->output);
  const int32_t axis_raw = op.table->options_as_ConcatOptions()->axis();
  const size_t axis = static_cast<size_t>(
      axis_raw < 0 ? axis_raw + static_cast<int32_t>(y.rank()) : axis_raw);
  size_t outer = 1, after = 1;
  for (size_t i = 0; i < axis; ++i) outer *= y.dim(i);
  for (size_t i = axis + 1; i < y.rank(); ++i) after *= y.dim(i);
  s->dims[0] = outer;
  s->dims[1] = axis;
  s->k = after;
  s->n = static_cast<size_t>(y.dim(axis)) * after;
  s->kernel = "copy " + std::to_string(op.inputs.size()) + " inputs";
  return OkStatus();
}

// ------------------------------ Activation / Softmax / LogSoftmax

Status RunActivation(const Exec& e, const Step& s) {
  Activate(s.act, e.accuracy, e.F32(s.in[0]), e.MutableF32(s.output), s.m);
  return OkStatus();
}

// Along axis: dims[0] outer, dims[1] length, dims[2] inner.
template <bool kLog>
Status RunSoftmax(const Exec& e, const Step& s) {
  const float* x = e.F32(s.in[0]);
  float* y = e.MutableF32(s.output);
  const size_t outer = s.dims[0], len = s.dims[1], inner = s.dims[2];
  if (inner == 1) {
    if (kLog) {
      LogSoftmaxRows(x, y, outer, len);
    } else {
      SoftmaxRows(x, y, outer, len);
    }
    return OkStatus();
  }
  for (size_t o = 0; o < outer; ++o) {
    for (size_t i = 0; i < inner; ++i) {
      const float* xi = x + o * len * inner + i;
      float* yi = y + o * len * inner + i;
      float mx = -std::numeric_limits<float>::infinity();
      for (size_t j = 0; j < len; ++j) mx = std::max(mx, xi[j * inner]);
      double sum = 0.0;
      for (size_t j = 0; j < len; ++j) sum += exp(double{xi[j * inner]} - mx);
      const double log_sum = log(sum);
      for (size_t j = 0; j < len; ++j) {
        const double z = double{xi[j * inner]} - mx;
        yi[j * inner] = static_cast<float>(kLog ? z - log_sum : exp(z) / sum);
      }
    }
  }
  return OkStatus();
}

Status PrepareSoftmax(const Model& m, Step* s) {
  const TensorInfo& x = m.tensor(s->in[0]);
  const int32_t raw = m.op(s->op).table->options_as_SoftmaxOptions()->axis();
  const size_t axis =
      static_cast<size_t>(raw < 0 ? raw + static_cast<int32_t>(x.rank()) : raw);
  size_t outer = 1, inner = 1;
  for (size_t i = 0; i < axis; ++i) outer *= x.dim(i);
  for (size_t i = axis + 1; i < x.rank(); ++i) inner *= x.dim(i);
  s->dims[0] = outer;
  s->dims[1] = static_cast<size_t>(x.dim(axis));
  s->dims[2] = inner;
  s->kernel = inner == 1 ? "rows (SIMD)" : "strided axis (scalar, double sums)";
  return OkStatus();
}

// ------------------------------ Embedding

Status RunEmbedding(const Exec& e, const Step& s) {
  const int32_t* idx = static_cast<const int32_t*>(e.data[s.in[0]]);
  const size_t count = s.m, dim = s.n, vocab = s.k;
  float* y = e.MutableF32(s.output);
  const bool bf16 = e.model->tensor(s.in[1]).dtype == DType::BF16;
  for (size_t i = 0; i < count; ++i) {
    const int32_t row = idx[i];
    if (row < 0 || static_cast<size_t>(row) >= vocab) {
      return OutOfRange("op %d (Embedding): indices[%zu]=%d is outside the "
                        "table's %zu rows",
                        s.op, i, row, vocab);
    }
    if (bf16) {
      const auto* table = static_cast<const hwy::bfloat16_t*>(e.data[s.in[1]]);
      ConvertBf16ToF32(table + row * dim, y + i * dim, dim);
    } else {
      memcpy(y + i * dim, e.F32(s.in[1]) + row * dim, dim * sizeof(float));
    }
  }
  return OkStatus();
}

void PreparePool(const Model& m, Step* s) {
  const TensorInfo& x = m.tensor(s->in[0]);
  const TensorInfo& y = m.tensor(s->output);
  for (size_t i = 0; i < 4; ++i) s->dims[i] = static_cast<size_t>(x.dim(i));
  s->dims[6] = static_cast<size_t>(y.dim(1));
  s->dims[7] = static_cast<size_t>(y.dim(2));
  s->kernel = "NHWC window loop";
}

}  // namespace

Status PrepareStep(const PrepareContext& c, Step* s) {
  const Model& m = *c.model;
  const OpInfo& op = m.op(s->op);
  switch (op.type) {
    case OpType::FullyConnected:
    case OpType::Gru:
    case OpType::Conv2D:
      return PrepareLinearStep(c, s);
    case OpType::MaxPool2D:
      s->run = RunMaxPool;
      PreparePool(m, s);
      s->kernel = "MaxPool2D (SIMD over channels)";
      return OkStatus();
    case OpType::AvgPool2D:
      s->run = RunAvgPool;
      PreparePool(m, s);
      return OkStatus();
    case OpType::Add:
      s->run = RunElementwise<false>;
      return PrepareElementwise(m, s);
    case OpType::Mul:
      s->run = RunElementwise<true>;
      return PrepareElementwise(m, s);
    case OpType::Reshape:
    case OpType::Flatten:
      s->run = RunCopy;
      s->m = m.tensor(s->output).bytes;
      s->kernel = "copy";
      return OkStatus();
    case OpType::Concat:
      s->run = RunConcat;
      return PrepareConcat(m, s);
    case OpType::Activation:
      s->run = RunActivation;
      s->m = m.tensor(s->output).num_elements;
      s->kernel = std::string("Activate ") + ActivationName(s->act);
      return OkStatus();
    case OpType::Softmax:
      s->run = RunSoftmax<false>;
      return PrepareSoftmax(m, s);
    case OpType::LogSoftmax:
      s->run = RunSoftmax<true>;
      return PrepareSoftmax(m, s);
    case OpType::Embedding: {
      s->run = RunEmbedding;
      const TensorInfo& table = m.tensor(s->in[1]);
      s->m = m.tensor(s->in[0]).num_elements;
      s->n = static_cast<size_t>(table.dim(1));
      s->k = static_cast<size_t>(table.dim(0));
      s->kernel = std::string("gather rows ") + DTypeName(table.dtype);
      return OkStatus();
    }
  }
  return Unimplemented("op %d: type %s has no kernel", s->op,
                       OpTypeName(op.type));
}

std::string StepOpsName(const Model& model, const Step& s) {
  std::string name;
  for (int32_t op : s.ops) {
    if (!name.empty()) name += "+";
    name += OpTypeName(model.op(op).type);
  }
  return name;
}


}  // namespace interp
}  // namespace sparrow
