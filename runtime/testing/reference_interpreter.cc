#include "runtime/testing/reference_interpreter.h"

#include <math.h>
#include <string.h>

#include <algorithm>
#include <limits>

#include "kernels/activations_scalar.h"
#include "kernels/bf16.h"
#include "kernels/gru_scalar.h"
#include "kernels/block_sparse.h"

namespace sparrow {
namespace {

using schema::DType;
using schema::OpType;


size_t Axis(int32_t axis, size_t rank) {
  return static_cast<size_t>(axis < 0 ? axis + static_cast<int32_t>(rank) : axis);
}

}  // namespace

ReferenceInterpreter::ReferenceInterpreter(const Model& model) : model_(model) {
  values_.resize(model.num_tensors());
  for (size_t t = 0; t < model.num_tensors(); ++t) {
    const TensorInfo& info = model.tensor(t);
    if (info.is_constant()) {
      values_[t] = Constant(static_cast<int32_t>(t));
    } else {
      values_[t].assign(info.num_elements, 0.0);
    }
  }
}

std::vector<double> ReferenceInterpreter::Constant(int32_t t) const {
  const TensorInfo& info = model_.tensor(t);
  std::vector<double> v(info.num_elements);
  if (const BlockSparseView* s = model_.SparseWeights(t)) {
    std::vector<float> dense(info.num_elements);
    ToDense(*s, dense.data());
    std::copy(dense.begin(), dense.end(), v.begin());
    return v;
  }
  const void* data = model_.TensorData(t);
  for (size_t i = 0; i < info.num_elements; ++i) {
    switch (info.dtype) {
      case DType::F32:
        v[i] = static_cast<const float*>(data)[i];
        break;
      case DType::BF16:
        v[i] = Bf16BitsToF32(static_cast<const uint16_t*>(data)[i]);
        break;
      case DType::I32:
        v[i] = static_cast<const int32_t*>(data)[i];
        break;
      default:
        v[i] = std::numeric_limits<double>::quiet_NaN();  // not an op input
    }
  }
  return v;
}

void ReferenceInterpreter::SetInput(size_t i, const std::vector<double>& values) {
  HWY_ASSERT(i < model_.inputs().size());
  std::vector<double>& dst = values_[model_.inputs()[i]];
  HWY_ASSERT(values.size() == dst.size());
  dst = values;
}

const std::vector<double>& ReferenceInterpreter::Output(size_t i) const {
  HWY_ASSERT(i < model_.outputs().size());
  return values_[model_.outputs()[i]];
}

void ReferenceInterpreter::ResetState() {
  for (size_t t = 0; t < model_.num_tensors(); ++t) {
    const TensorInfo& info = model_.tensor(t);
    if (!info.is_variable) continue;
    values_[t] = info.is_constant() ? Constant(static_cast<int32_t>(t))
                                    : std::vector<double>(info.num_elements, 0.0);
  }
}

Status ReferenceInterpreter::Invoke() {
  for (size_t i = 0; i < model_.num_ops(); ++i) {
    SPARROW_RETURN_IF_ERROR(RunOp(i));
  }
  return OkStatus();
}

Status ReferenceInterpreter::RunOp(size_t i) {
  const OpInfo& op = model_.op(i);
  const schema::Op* table = op.table;
  auto in = [&](size_t k) -> const std::vector<double>& {
    return values_[op.inputs[k]];
  };
  auto info = [&](size_t k) -> const TensorInfo& {
    return model_.tensor(op.inputs[k]);
  };
  const TensorInfo& yi = model_.tensor(op.outputs[0]);
  std::vector<double> y(yi.num_elements, 0.0);
  switch (op.type) {
    case OpType::FullyConnected: {
      const Activation act =
          ToActivation(table->options_as_FullyConnectedOptions()->activation());
      const size_t n = info(1).dim(0), k = info(1).dim(1);
      const size_t m = k == 0 ? 0 : info(0).num_elements / k;
      for (size_t b = 0; b < m; ++b) {
        for (size_t o = 0; o < n; ++o) {
          double s = op.input(2) >= 0 ? in(2)[o] : 0.0;
          for (size_t c = 0; c < k; ++c) s += in(0)[b * k + c] * in(1)[o * k + c];
          y[b * n + o] = ActivateRef(act, s);
        }
      }
      break;
    }
    case OpType::Gru: {
      const size_t h = table->options_as_GruOptions()->hidden_size();
      const size_t steps = info(0).dim(0), input = info(0).dim(1);
      const bool state = op.input(5) >= 0;
      std::vector<double> hp = state ? in(5) : std::vector<double>(h, 0.0);
      std::vector<double> hn(h);
      const double* b_ih = op.input(3) >= 0 ? in(3).data() : nullptr;
      const double* b_hh = op.input(4) >= 0 ? in(4).data() : nullptr;
      for (size_t t = 0; t < steps; ++t) {
        GruStepScalar(in(1).data(), in(2).data(), b_ih, b_hh, input, h,
                         in(0).data() + t * input, hp.data(), hn.data());
        std::copy(hn.begin(), hn.end(), y.begin() + t * h);
        hp = hn;
      }
      if (state) values_[op.inputs[5]] = hp;
      break;
    }
    case OpType::Conv2D: {
      const auto* o = table->options_as_Conv2DOptions();
      const Activation act = ToActivation(o->activation());
      const TensorInfo& x = info(0);
      const TensorInfo& f = info(1);
      const int64_t N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
      const int64_t O = f.dim(0), KH = f.dim(1), KW = f.dim(2);
      const int64_t OH = yi.dim(1), OW = yi.dim(2);
      for (int64_t b = 0; b < N; ++b)
        for (int64_t oy = 0; oy < OH; ++oy)
          for (int64_t ox = 0; ox < OW; ++ox)
            for (int64_t oc = 0; oc < O; ++oc) {
              double s = op.input(2) >= 0 ? in(2)[oc] : 0.0;
              for (int64_t ky = 0; ky < KH; ++ky)
                for (int64_t kx = 0; kx < KW; ++kx) {
                  const int64_t iy = oy * o->stride_h() - o->pad_top() + ky * o->dilation_h();
                  const int64_t ix = ox * o->stride_w() - o->pad_left() + kx * o->dilation_w();
                  if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                  for (int64_t c = 0; c < C; ++c) {
                    s += in(0)[((b * H + iy) * W + ix) * C + c] *
                         in(1)[((oc * KH + ky) * KW + kx) * C + c];
                  }
                }
              y[((b * OH + oy) * OW + ox) * O + oc] = ActivateRef(act, s);
            }
      break;
    }
    case OpType::MaxPool2D:
    case OpType::AvgPool2D: {
      const auto* o = table->options_as_Pool2DOptions();
      const bool is_max = op.type == OpType::MaxPool2D;
      const TensorInfo& x = info(0);
      const int64_t N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
      const int64_t OH = yi.dim(1), OW = yi.dim(2);
      for (int64_t b = 0; b < N; ++b)
        for (int64_t oy = 0; oy < OH; ++oy)
          for (int64_t ox = 0; ox < OW; ++ox)
            for (int64_t c = 0; c < C; ++c) {
              double acc = is_max ? -INFINITY : 0.0;
              int64_t count = 0;
              for (int64_t ky = 0; ky < o->filter_h(); ++ky)
                for (int64_t kx = 0; kx < o->filter_w(); ++kx) {
                  const int64_t iy = oy * o->stride_h() - o->pad_top() + ky;
                  const int64_t ix = ox * o->stride_w() - o->pad_left() + kx;
                  if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                  const double v = in(0)[((b * H + iy) * W + ix) * C + c];
                  // Max: the first in-image pixel seeds (a NaN there
                  // propagates), later ones win only when strictly greater
                  // (docs/FORMAT.md).
                  acc = !is_max ? acc + v : (count == 0 || v > acc) ? v : acc;
                  ++count;
                }
              if (!is_max) {
                acc /= o->count_include_pad() ? o->filter_h() * o->filter_w()
                                              : count;
              }
              y[((b * OH + oy) * OW + ox) * C + c] = acc;
            }
      break;
    }
    case OpType::Add:
    case OpType::Mul: {
      const Activation act =
          ToActivation(table->options_as_ElementwiseOptions()->activation());
      const size_t rank = yi.rank();
      std::vector<size_t> idx(rank, 0);
      for (size_t flat = 0; flat < y.size(); ++flat) {
        size_t rem = flat;
        for (size_t ax = rank; ax-- > 0;) {
          idx[ax] = rem % yi.dim(ax);
          rem /= yi.dim(ax);
        }
        double v[2];
        for (size_t k = 0; k < 2; ++k) {  // broadcast: align dims right
          const TensorInfo& t = info(k);
          size_t off = 0;
          for (size_t d = 0; d < t.rank(); ++d) {
            const size_t ax = rank - t.rank() + d;
            off = off * t.dim(d) + (t.dim(d) == 1 ? 0 : idx[ax]);
          }
          v[k] = in(k)[off];
        }
        y[flat] = ActivateRef(act, op.type == OpType::Add ? v[0] + v[1]
                                                           : v[0] * v[1]);
      }
      break;
    }
    case OpType::Reshape:
    case OpType::Flatten:
      y = in(0);
      break;
    case OpType::Concat: {
      const size_t axis =
          Axis(table->options_as_ConcatOptions()->axis(), yi.rank());
      size_t outer = 1, after = 1;
      for (size_t d = 0; d < axis; ++d) outer *= yi.dim(d);
      for (size_t d = axis + 1; d < yi.rank(); ++d) after *= yi.dim(d);
      size_t pos = 0;
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        const size_t len = info(k).dim(axis) * after;
        for (size_t o = 0; o < outer; ++o) {
          for (size_t j = 0; j < len; ++j) {
            y[o * yi.dim(axis) * after + pos + j] = in(k)[o * len + j];
          }
        }
        pos += len;
      }
      break;
    }
    case OpType::Activation: {
      const Activation act =
          ToActivation(table->options_as_ActivationOptions()->activation());
      for (size_t j = 0; j < y.size(); ++j) y[j] = ActivateRef(act, in(0)[j]);
      break;
    }
    case OpType::Softmax:
    case OpType::LogSoftmax: {
      const size_t axis =
          Axis(table->options_as_SoftmaxOptions()->axis(), yi.rank());
      size_t outer = 1, inner = 1;
      for (size_t d = 0; d < axis; ++d) outer *= yi.dim(d);
      for (size_t d = axis + 1; d < yi.rank(); ++d) inner *= yi.dim(d);
      const size_t len = yi.dim(axis);
      for (size_t o = 0; o < outer; ++o) {
        for (size_t j = 0; j < inner; ++j) {
          const size_t base = o * len * inner + j;
          double mx = -INFINITY, sum = 0.0;
          for (size_t a = 0; a < len; ++a) mx = std::max(mx, in(0)[base + a * inner]);
          for (size_t a = 0; a < len; ++a) sum += exp(in(0)[base + a * inner] - mx);
          for (size_t a = 0; a < len; ++a) {
            const double z = in(0)[base + a * inner] - mx;
            y[base + a * inner] =
                op.type == OpType::Softmax ? exp(z) / sum : z - log(sum);
          }
        }
      }
      break;
    }
    case OpType::Embedding: {
      const size_t vocab = info(1).dim(0), dim = info(1).dim(1);
      for (size_t j = 0; j < info(0).num_elements; ++j) {
        const double row = in(0)[j];
        if (row < 0 || row >= static_cast<double>(vocab)) {
          return OutOfRange("op %zu (Embedding): indices[%zu]=%g is outside "
                            "the table's %zu rows",
                            i, j, row, vocab);
        }
        for (size_t d = 0; d < dim; ++d) {
          y[j * dim + d] = in(1)[static_cast<size_t>(row) * dim + d];
        }
      }
      break;
    }
  }
  values_[op.outputs[0]] = std::move(y);
  return OkStatus();
}

}  // namespace sparrow
