// Per-op validation (docs/FORMAT.md rules O1-O7 and the per-op rules FC1,
// GRU1, ...): arity, indices, dtypes, constant weights, attribute ranges and
// shapes. Graph order is checked afterwards by ValidateGraph.
#include <stdint.h>

#include <string>
#include <vector>

#include "runtime/model_validate.h"

namespace sparrow {
namespace model_internal {
namespace {

using schema::ActivationType;
using schema::DType;
using schema::OpOptions;
using schema::OpType;

constexpr uint32_t Bit(DType t) { return 1u << static_cast<uint32_t>(t); }
constexpr uint32_t kF32 = Bit(DType::F32);
constexpr uint32_t kF32OrBf16 = Bit(DType::F32) | Bit(DType::BF16);
constexpr uint32_t kI32 = Bit(DType::I32);

struct OpSpec {
  OpOptions options;       // NONE: the op has no options table
  uint32_t min_inputs, max_inputs;
  uint32_t optional;       // bit k: input k may be -1
  const char* roles[6];    // input k's role; later inputs reuse the last
};

const OpSpec& SpecFor(OpType t) {
  static const OpSpec kFc = {OpOptions::FullyConnectedOptions, 2, 3, 1u << 2,
                             {"input", "weight", "bias"}};
  static const OpSpec kGru = {OpOptions::GruOptions, 3, 6, 0x38,
                              {"input", "w_ih", "w_hh", "b_ih", "b_hh", "state"}};
  static const OpSpec kConv = {OpOptions::Conv2DOptions, 2, 3, 1u << 2,
                               {"input", "filter", "bias"}};
  static const OpSpec kPool = {OpOptions::Pool2DOptions, 1, 1, 0, {"input"}};
  static const OpSpec kElementwise = {OpOptions::ElementwiseOptions, 2, 2, 0,
                                      {"input", "input"}};
  static const OpSpec kReshape = {OpOptions::NONE, 1, 1, 0, {"input"}};
  static const OpSpec kFlatten = {OpOptions::FlattenOptions, 1, 1, 0,
                                  {"input"}};
  static const OpSpec kConcat = {OpOptions::ConcatOptions, 1,
                                 static_cast<uint32_t>(kMaxConcatInputs), 0,
                                 {"input"}};
  static const OpSpec kActivation = {OpOptions::ActivationOptions, 1, 1, 0,
                                     {"input"}};
  static const OpSpec kSoftmax = {OpOptions::SoftmaxOptions, 1, 1, 0,
                                  {"input"}};
  static const OpSpec kEmbedding = {OpOptions::NONE, 2, 2, 0,
                                    {"indices", "table"}};
  switch (t) {
    case OpType::FullyConnected:
      return kFc;
    case OpType::Gru:
      return kGru;
    case OpType::Conv2D:
      return kConv;
    case OpType::MaxPool2D:
    case OpType::AvgPool2D:
      return kPool;
    case OpType::Add:
    case OpType::Mul:
      return kElementwise;
    case OpType::Reshape:
      return kReshape;
    case OpType::Flatten:
      return kFlatten;
    case OpType::Concat:
      return kConcat;
    case OpType::Activation:
      return kActivation;
    case OpType::Softmax:
    case OpType::LogSoftmax:
      return kSoftmax;
    case OpType::Embedding:
      return kEmbedding;
  }
  HWY_ABORT("SpecFor: unchecked op type %u", static_cast<unsigned>(t));
}

const char* Role(const OpSpec& spec, size_t k) {
  size_t last = 0;
  while (last + 1 < 6 && spec.roles[last + 1] != nullptr) ++last;
  return spec.roles[k < last ? k : last];
}

std::string DTypeList(uint32_t mask) {
  std::string s;
  for (uint32_t t = 0; t <= static_cast<uint32_t>(DType::MAX); ++t) {
    if (mask & (1u << t)) {
      if (!s.empty()) s += " or ";
      s += DTypeName(static_cast<DType>(t));
    }
  }
  return s;
}

std::vector<int64_t> ToVector(Span<const int32_t> s) {
  return std::vector<int64_t>(s.begin(), s.end());
}

bool SameShape(Span<const int32_t> a, const std::vector<int64_t>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Output size of a 2D window along one axis, or -1 when the padded input is
// smaller than the window. Inputs are range-checked, so no overflow.
int64_t WindowOutput(int64_t in, int64_t pad0, int64_t pad1, int64_t window,
                     int64_t stride) {
  const int64_t padded = in + pad0 + pad1;
  if (padded < window) return -1;
  return (padded - window) / stride + 1;
}

class OpChecker {
 public:
  OpChecker(const ParsedModel& m, size_t index)
      : m_(m),
        op_(m.ops[index]),
        spec_(SpecFor(op_.type)),
        ref_(OpRef(m, index)) {}

  Status Run() {
    SPARROW_RETURN_IF_ERROR(CheckSparsePlacement());
    switch (op_.type) {
      case OpType::FullyConnected:
        return FullyConnected();
      case OpType::Gru:
        return Gru();
      case OpType::Conv2D:
        return Conv2D();
      case OpType::MaxPool2D:
      case OpType::AvgPool2D:
        return Pool2D();
      case OpType::Add:
      case OpType::Mul:
        return Elementwise();
      case OpType::Reshape:
        return Reshape();
      case OpType::Flatten:
        return Flatten();
      case OpType::Concat:
        return Concat();
      case OpType::Activation:
      case OpType::Softmax:
      case OpType::LogSoftmax:
        return SameShapeOp();
      case OpType::Embedding:
        return Embedding();
    }
    return Internal("%s: no checker", ref_.c_str());
  }

 private:
  bool Has(size_t k) const { return op_.input(k) >= 0; }
  const TensorInfo& In(size_t k) const { return m_.tensors[op_.inputs[k]]; }
  const TensorInfo& Out() const { return m_.tensors[op_.outputs[0]]; }
  std::string InRef(size_t k) const {
    return std::string(Role(spec_, k)) + " " + TensorRef(m_, op_.inputs[k]);
  }
  std::string OutRef() const { return "output " + TensorRef(m_, op_.outputs[0]); }

  // O5.
  Status CheckDType(const std::string& who, const TensorInfo& t,
                    uint32_t allowed) const {
    if (allowed & Bit(t.dtype)) return OkStatus();
    return InvalidArgument("%s: %s has dtype %s, want %s", ref_.c_str(),
                           who.c_str(), DTypeName(t.dtype),
                           DTypeList(allowed).c_str());
  }
  // O6: weights and biases are constant, and block-sparse only where the
  // kernels take it.
  Status CheckWeight(size_t k, uint32_t allowed, bool sparse_ok) const {
    const TensorInfo& t = In(k);
    if (!t.is_constant()) {
      return InvalidArgument("%s: %s has no buffer; weights must be constant",
                             ref_.c_str(), InRef(k).c_str());
    }
    if (!sparse_ok &&
        m_.buffers[t.buffer].layout != schema::BufferLayout::Dense) {
      return InvalidArgument(
          "%s: %s is block-sparse; only FullyConnected and Gru weights may be",
          ref_.c_str(), InRef(k).c_str());
    }
    return CheckDType(InRef(k), t, allowed);
  }
  // O6: a block-sparse buffer has no dense elements to read, so it may only
  // be a FullyConnected weight or a Gru w_ih / w_hh.
  Status CheckSparsePlacement() const {
    for (size_t k = 0; k < op_.inputs.size(); ++k) {
      if (!Has(k) || !In(k).is_constant()) continue;
      if (m_.buffers[In(k).buffer].layout == schema::BufferLayout::Dense) continue;
      const bool weight = (op_.type == OpType::FullyConnected && k == 1) ||
                          (op_.type == OpType::Gru && (k == 1 || k == 2));
      if (!weight) {
        return InvalidArgument(
            "%s: %s is block-sparse; only FullyConnected and Gru weights may be",
            ref_.c_str(), InRef(k).c_str());
      }
    }
    return OkStatus();
  }
  Status CheckRank(const std::string& who, const TensorInfo& t, size_t rank,
                   const char* layout) const {
    if (t.rank() == rank) return OkStatus();
    return InvalidArgument("%s: %s has shape %s, want rank %zu %s",
                           ref_.c_str(), who.c_str(),
                           ShapeString(t.shape).c_str(), rank, layout);
  }
  Status CheckShape(const std::string& who, const TensorInfo& t,
                    const std::vector<int64_t>& want) const {
    if (SameShape(t.shape, want)) return OkStatus();
    return InvalidArgument("%s: %s has shape %s, want %s", ref_.c_str(),
                           who.c_str(), ShapeString(t.shape).c_str(),
                           ShapeString(want).c_str());
  }
  // The single f32 output with the expected shape.
  Status CheckOutput(const std::vector<int64_t>& want) const {
    SPARROW_RETURN_IF_ERROR(CheckDType(OutRef(), Out(), kF32));
    return CheckShape(OutRef(), Out(), want);
  }
  // Optional bias [n], f32, dense, constant.
  Status CheckBias(size_t k, int64_t n) const {
    if (!Has(k)) return OkStatus();
    SPARROW_RETURN_IF_ERROR(CheckWeight(k, kF32, /*sparse_ok=*/false));
    return CheckShape(InRef(k), In(k), {n});
  }
  // O7.
  Status CheckActivation(ActivationType a) const {
    if (a <= ActivationType::MAX) return OkStatus();
    return InvalidArgument("%s: activation=%u is not an ActivationType",
                           ref_.c_str(), static_cast<unsigned>(a));
  }
  Status CheckRange(const char* field, int64_t v, int64_t lo, int64_t hi) const {
    if (v >= lo && v <= hi) return OkStatus();
    return InvalidArgument("%s: %s=%lld, want %lld..%lld", ref_.c_str(), field,
                           static_cast<long long>(v), static_cast<long long>(lo),
                           static_cast<long long>(hi));
  }
  // An axis in [-rank, rank), normalized to [0, rank).
  Status CheckAxis(const char* field, int32_t axis, size_t rank,
                   size_t* out) const {
    const int64_t r = static_cast<int64_t>(rank);
    if (axis < -r || axis >= r) {
      return OutOfRange("%s: %s=%d is outside [%lld, %lld) for rank %zu",
                        ref_.c_str(), field, axis, static_cast<long long>(-r),
                        static_cast<long long>(r), rank);
    }
    *out = static_cast<size_t>(axis < 0 ? axis + r : axis);
    return OkStatus();
  }

  // FC1.
  Status FullyConnected() const {
    const auto* o = op_.table->options_as_FullyConnectedOptions();
    SPARROW_RETURN_IF_ERROR(CheckActivation(o->activation()));
    const TensorInfo& x = In(0);
    SPARROW_RETURN_IF_ERROR(CheckDType(InRef(0), x, kF32));
    if (x.rank() == 0) {
      return InvalidArgument("%s: %s is a scalar, want [..., in]", ref_.c_str(),
                             InRef(0).c_str());
    }
    SPARROW_RETURN_IF_ERROR(CheckWeight(1, kF32OrBf16, /*sparse_ok=*/true));
    const TensorInfo& w = In(1);
    SPARROW_RETURN_IF_ERROR(CheckRank(InRef(1), w, 2, "[out, in]"));
    const int32_t features = x.shape[x.rank() - 1];
    if (w.shape[1] != features) {
      return InvalidArgument("%s: %s has shape %s but input has %d features",
                             ref_.c_str(), InRef(1).c_str(),
                             ShapeString(w.shape).c_str(), features);
    }
    SPARROW_RETURN_IF_ERROR(CheckBias(2, w.shape[0]));
    std::vector<int64_t> want = ToVector(x.shape);
    want.back() = w.shape[0];
    return CheckOutput(want);
  }

  // GRU1, GRU2.
  Status Gru() const {
    const auto* o = op_.table->options_as_GruOptions();
    const int64_t h = o->hidden_size();
    SPARROW_RETURN_IF_ERROR(CheckRange("hidden_size", h, 1, INT32_MAX / 3));
    if (o->mode() > schema::GruMode::MAX) {
      return InvalidArgument("%s: mode=%u is not a GruMode", ref_.c_str(),
                             static_cast<unsigned>(o->mode()));
    }
    const bool step = o->mode() == schema::GruMode::Step;
    const TensorInfo& x = In(0);
    SPARROW_RETURN_IF_ERROR(CheckDType(InRef(0), x, kF32));
    SPARROW_RETURN_IF_ERROR(CheckRank(InRef(0), x, 2, "[T, input]"));
    const int64_t steps = x.shape[0], input = x.shape[1];
    if (step && steps != 1) {
      return InvalidArgument(
          "%s: mode=Step runs one time step, but %s has shape %s (want [1, %lld])",
          ref_.c_str(), InRef(0).c_str(), ShapeString(x.shape).c_str(),
          static_cast<long long>(input));
    }
    SPARROW_RETURN_IF_ERROR(CheckWeight(1, kF32OrBf16, /*sparse_ok=*/true));
    SPARROW_RETURN_IF_ERROR(CheckShape(InRef(1), In(1), {3 * h, input}));
    SPARROW_RETURN_IF_ERROR(CheckWeight(2, kF32OrBf16, /*sparse_ok=*/true));
    SPARROW_RETURN_IF_ERROR(CheckShape(InRef(2), In(2), {3 * h, h}));
    SPARROW_RETURN_IF_ERROR(CheckBias(3, 3 * h));
    SPARROW_RETURN_IF_ERROR(CheckBias(4, 3 * h));
    if (!Has(5)) {
      if (step) {
        return InvalidArgument(
            "%s: mode=Step needs a state input (5) to carry h between calls",
            ref_.c_str());
      }
    } else {
      const TensorInfo& s = In(5);
      if (!s.is_variable) {
        return InvalidArgument("%s: %s is not a state (is_variable=false)",
                               ref_.c_str(), InRef(5).c_str());
      }
      SPARROW_RETURN_IF_ERROR(CheckDType(InRef(5), s, kF32));
      SPARROW_RETURN_IF_ERROR(CheckShape(InRef(5), s, {1, h}));
    }
    return CheckOutput({steps, h});
  }

  // CONV1, CONV2.
  Status Conv2D() const {
    const auto* o = op_.table->options_as_Conv2DOptions();
    SPARROW_RETURN_IF_ERROR(CheckActivation(o->activation()));
    const TensorInfo& x = In(0);
    SPARROW_RETURN_IF_ERROR(CheckDType(InRef(0), x, kF32));
    SPARROW_RETURN_IF_ERROR(CheckRank(InRef(0), x, 4, "[N, H, W, C]"));
    if (x.shape[1] < 1 || x.shape[2] < 1 || x.shape[3] < 1) {
      return InvalidArgument("%s: %s has shape %s; H, W and C must be >= 1",
                             ref_.c_str(), InRef(0).c_str(),
                             ShapeString(x.shape).c_str());
    }
    SPARROW_RETURN_IF_ERROR(CheckWeight(1, kF32OrBf16, /*sparse_ok=*/false));
    const TensorInfo& f = In(1);
    SPARROW_RETURN_IF_ERROR(CheckRank(InRef(1), f, 4, "[O, KH, KW, C]"));
    if (f.shape[0] < 1 || f.shape[1] < 1 || f.shape[2] < 1) {
      return InvalidArgument("%s: %s has shape %s; O, KH and KW must be >= 1",
                             ref_.c_str(), InRef(1).c_str(),
                             ShapeString(f.shape).c_str());
    }
    if (f.shape[3] != x.shape[3]) {
      return InvalidArgument("%s: %s has shape %s but input has %d channels",
                             ref_.c_str(), InRef(1).c_str(),
                             ShapeString(f.shape).c_str(), x.shape[3]);
    }
    SPARROW_RETURN_IF_ERROR(CheckRange("stride_h", o->stride_h(), 1, kMaxWindow));
    SPARROW_RETURN_IF_ERROR(CheckRange("stride_w", o->stride_w(), 1, kMaxWindow));
    SPARROW_RETURN_IF_ERROR(
        CheckRange("dilation_h", o->dilation_h(), 1, kMaxWindow));
    SPARROW_RETURN_IF_ERROR(
        CheckRange("dilation_w", o->dilation_w(), 1, kMaxWindow));
    const int64_t kh = int64_t{o->dilation_h()} * (f.shape[1] - 1) + 1;
    const int64_t kw = int64_t{o->dilation_w()} * (f.shape[2] - 1) + 1;
    SPARROW_RETURN_IF_ERROR(CheckRange("pad_top", o->pad_top(), 0, kh - 1));
    SPARROW_RETURN_IF_ERROR(CheckRange("pad_bottom", o->pad_bottom(), 0, kh - 1));
    SPARROW_RETURN_IF_ERROR(CheckRange("pad_left", o->pad_left(), 0, kw - 1));
    SPARROW_RETURN_IF_ERROR(CheckRange("pad_right", o->pad_right(), 0, kw - 1));
    const int64_t oh =
        WindowOutput(x.shape[1], o->pad_top(), o->pad_bottom(), kh, o->stride_h());
    const int64_t ow =
        WindowOutput(x.shape[2], o->pad_left(), o->pad_right(), kw, o->stride_w());
    if (oh < 0 || ow < 0) {
      return InvalidArgument(
          "%s: %s %s with padding is smaller than the dilated kernel "
          "[%lld, %lld]",
          ref_.c_str(), InRef(0).c_str(), ShapeString(x.shape).c_str(),
          static_cast<long long>(kh), static_cast<long long>(kw));
    }
    SPARROW_RETURN_IF_ERROR(CheckBias(2, f.shape[0]));
    return CheckOutput({x.shape[0], oh, ow, f.shape[0]});
  }

  // POOL1.
  Status Pool2D() const {
    const auto* o = op_.table->options_as_Pool2DOptions();
    const TensorInfo& x = In(0);
    SPARROW_RETURN_IF_ERROR(CheckDType(InRef(0), x, kF32));
    SPARROW_RETURN_IF_ERROR(CheckRank(InRef(0), x, 4, "[N, H, W, C]"));
    if (x.shape[1] < 1 || x.shape[2] < 1 || x.shape[3] < 1) {
      return InvalidArgument("%s: %s has shape %s; H, W and C must be >= 1",
                             ref_.c_str(), InRef(0).c_str(),
                             ShapeString(x.shape).c_str());
    }
    SPARROW_RETURN_IF_ERROR(CheckRange("filter_h", o->filter_h(), 1, kMaxWindow));
    SPARROW_RETURN_IF_ERROR(CheckRange("filter_w", o->filter_w(), 1, kMaxWindow));
    SPARROW_RETURN_IF_ERROR(CheckRange("stride_h", o->stride_h(), 1, kMaxWindow));
    SPARROW_RETURN_IF_ERROR(CheckRange("stride_w", o->stride_w(), 1, kMaxWindow));
    const int64_t kh = o->filter_h(), kw = o->filter_w();
    SPARROW_RETURN_IF_ERROR(CheckRange("pad_top", o->pad_top(), 0, kh - 1));
    SPARROW_RETURN_IF_ERROR(CheckRange("pad_bottom", o->pad_bottom(), 0, kh - 1));
    SPARROW_RETURN_IF_ERROR(CheckRange("pad_left", o->pad_left(), 0, kw - 1));
    SPARROW_RETURN_IF_ERROR(CheckRange("pad_right", o->pad_right(), 0, kw - 1));
    const int64_t oh =
        WindowOutput(x.shape[1], o->pad_top(), o->pad_bottom(), kh, o->stride_h());
    const int64_t ow =
        WindowOutput(x.shape[2], o->pad_left(), o->pad_right(), kw, o->stride_w());
    if (oh < 0 || ow < 0) {
      return InvalidArgument(
          "%s: %s %s with padding is smaller than the filter [%lld, %lld]",
          ref_.c_str(), InRef(0).c_str(), ShapeString(x.shape).c_str(),
          static_cast<long long>(kh), static_cast<long long>(kw));
    }
    return CheckOutput({x.shape[0], oh, ow, x.shape[3]});
  }

  // EW1: NumPy broadcasting of the two inputs.
  Status Elementwise() const {
    const auto* o = op_.table->options_as_ElementwiseOptions();
    SPARROW_RETURN_IF_ERROR(CheckActivation(o->activation()));
    const TensorInfo& a = In(0);
    const TensorInfo& b = In(1);
    SPARROW_RETURN_IF_ERROR(CheckDType("input 0 " + TensorRef(m_, op_.inputs[0]),
                                       a, kF32));
    SPARROW_RETURN_IF_ERROR(CheckDType("input 1 " + TensorRef(m_, op_.inputs[1]),
                                       b, kF32));
    const size_t rank = a.rank() > b.rank() ? a.rank() : b.rank();
    std::vector<int64_t> want(rank);
    for (size_t i = 0; i < rank; ++i) {  // i counts axes from the end
      const int64_t da = i < a.rank() ? a.shape[a.rank() - 1 - i] : 1;
      const int64_t db = i < b.rank() ? b.shape[b.rank() - 1 - i] : 1;
      if (da != db && da != 1 && db != 1) {
        return InvalidArgument(
            "%s: input shapes %s and %s do not broadcast (%lld vs %lld at "
            "axis -%zu)",
            ref_.c_str(), ShapeString(a.shape).c_str(),
            ShapeString(b.shape).c_str(), static_cast<long long>(da),
            static_cast<long long>(db), i + 1);
      }
      want[rank - 1 - i] = da == 1 ? db : da;
    }
    return CheckOutput(want);
  }

  // RESHAPE1.
  Status Reshape() const {
    const TensorInfo& x = In(0);
    SPARROW_RETURN_IF_ERROR(CheckDType(InRef(0), x, kF32));
    SPARROW_RETURN_IF_ERROR(CheckDType(OutRef(), Out(), kF32));
    if (Out().num_elements != x.num_elements) {
      return InvalidArgument(
          "%s: %s has shape %s (%zu elements), but %s has %s (%zu elements)",
          ref_.c_str(), OutRef().c_str(), ShapeString(Out().shape).c_str(),
          Out().num_elements, InRef(0).c_str(), ShapeString(x.shape).c_str(),
          x.num_elements);
    }
    return OkStatus();
  }

  // FLATTEN1.
  Status Flatten() const {
    const auto* o = op_.table->options_as_FlattenOptions();
    const TensorInfo& x = In(0);
    SPARROW_RETURN_IF_ERROR(CheckDType(InRef(0), x, kF32));
    const int32_t axis = o->axis();
    if (axis < 0 || static_cast<size_t>(axis) > x.rank()) {
      return OutOfRange("%s: axis=%d is outside [0, %zu] for %s", ref_.c_str(),
                        axis, x.rank(), InRef(0).c_str());
    }
    // Products of a tensor's dims are bounded by its element count (T4).
    int64_t outer = 1, inner = 1;
    for (size_t i = 0; i < x.rank(); ++i) {
      (static_cast<int32_t>(i) < axis ? outer : inner) *= x.shape[i];
    }
    return CheckOutput({outer, inner});
  }

  // CONCAT1.
  Status Concat() const {
    const auto* o = op_.table->options_as_ConcatOptions();
    const TensorInfo& x0 = In(0);
    size_t axis = 0;
    SPARROW_RETURN_IF_ERROR(CheckAxis("axis", o->axis(), x0.rank(), &axis));
    int64_t total = 0;
    for (size_t k = 0; k < op_.inputs.size(); ++k) {
      const TensorInfo& x = In(k);
      const std::string who = "input " + std::to_string(k) + " " +
                              TensorRef(m_, op_.inputs[k]);
      SPARROW_RETURN_IF_ERROR(CheckDType(who, x, kF32));
      bool match = x.rank() == x0.rank();
      for (size_t i = 0; match && i < x.rank(); ++i) {
        match = i == axis || x.shape[i] == x0.shape[i];
      }
      if (!match) {
        return InvalidArgument(
            "%s: %s has shape %s, but inputs must match input 0's %s except "
            "on axis %zu",
            ref_.c_str(), who.c_str(), ShapeString(x.shape).c_str(),
            ShapeString(x0.shape).c_str(), axis);
      }
      total += x.shape[axis];  // <= 2^16 inputs x 2^31: no overflow
    }
    std::vector<int64_t> want = ToVector(x0.shape);
    want[axis] = total;
    return CheckOutput(want);
  }

  // ACT1: Activation, Softmax, LogSoftmax.
  Status SameShapeOp() const {
    const TensorInfo& x = In(0);
    if (op_.type == OpType::Activation) {
      SPARROW_RETURN_IF_ERROR(CheckActivation(
          op_.table->options_as_ActivationOptions()->activation()));
    } else {
      size_t axis = 0;
      SPARROW_RETURN_IF_ERROR(CheckAxis(
          "axis", op_.table->options_as_SoftmaxOptions()->axis(), x.rank(),
          &axis));
    }
    SPARROW_RETURN_IF_ERROR(CheckDType(InRef(0), x, kF32));
    return CheckOutput(ToVector(x.shape));
  }

  // EMB1.
  Status Embedding() const {
    const TensorInfo& idx = In(0);
    SPARROW_RETURN_IF_ERROR(CheckDType(InRef(0), idx, kI32));
    if (idx.rank() + 1 > kMaxTensorRank) {
      return OutOfRange("%s: %s has rank %zu; the output's would exceed %zu",
                        ref_.c_str(), InRef(0).c_str(), idx.rank(),
                        kMaxTensorRank);
    }
    SPARROW_RETURN_IF_ERROR(CheckWeight(1, kF32OrBf16, /*sparse_ok=*/false));
    const TensorInfo& table = In(1);
    SPARROW_RETURN_IF_ERROR(CheckRank(InRef(1), table, 2, "[vocab, dim]"));
    const int32_t vocab = table.shape[0];
    if (vocab < 1) {
      return InvalidArgument("%s: %s has shape %s; vocab must be >= 1",
                             ref_.c_str(), InRef(1).c_str(),
                             ShapeString(table.shape).c_str());
    }
    if (idx.is_constant()) {
      const int32_t* v =
          reinterpret_cast<const int32_t*>(m_.buffers[idx.buffer].data);
      for (size_t i = 0; i < idx.num_elements; ++i) {
        if (v[i] < 0 || v[i] >= vocab) {
          return OutOfRange("%s: %s[%zu]=%d is outside the table's %d rows",
                            ref_.c_str(), InRef(0).c_str(), i, v[i], vocab);
        }
      }
    }
    std::vector<int64_t> want = ToVector(idx.shape);
    want.push_back(table.shape[1]);
    return CheckOutput(want);
  }

  const ParsedModel& m_;
  const OpInfo& op_;
  const OpSpec& spec_;
  const std::string ref_;
};

// O1-O4: what every op must satisfy before its own checks can index tensors.
Status CheckStructure(const ParsedModel& m, size_t i) {
  const OpInfo& op = m.ops[i];
  // O1.
  if (op.type > OpType::MAX) {
    return InvalidArgument("op %zu: type=%u is not an OpType", i,
                           static_cast<unsigned>(op.type));
  }
  const std::string ref = OpRef(m, i);
  const OpSpec& spec = SpecFor(op.type);
  // O2.
  const OpOptions got = op.table->options_type();
  if (got != spec.options || (got != OpOptions::NONE && !op.table->options())) {
    const char* got_name = got <= OpOptions::MAX ? EnumNameOpOptions(got) : "?";
    return InvalidArgument("%s: options=%s (%u), want %s", ref.c_str(),
                           got_name, static_cast<unsigned>(got),
                           EnumNameOpOptions(spec.options));
  }
  // O3.
  if (op.inputs.size() < spec.min_inputs || op.inputs.size() > spec.max_inputs) {
    return InvalidArgument("%s: has %zu inputs, want %u..%u", ref.c_str(),
                           op.inputs.size(), spec.min_inputs, spec.max_inputs);
  }
  if (op.outputs.size() != 1) {
    return InvalidArgument("%s: has %zu outputs, want 1", ref.c_str(),
                           op.outputs.size());
  }
  // O4.
  const size_t n = m.tensors.size();
  for (size_t k = 0; k < op.inputs.size(); ++k) {
    const int32_t t = op.inputs[k];
    if (t == -1) {
      if (k < 32 && (spec.optional & (1u << k))) continue;
      return InvalidArgument("%s: input %zu (%s) is required but absent (-1)",
                             ref.c_str(), k, Role(spec, k));
    }
    if (t < 0 || static_cast<size_t>(t) >= n) {
      return OutOfRange("%s: input %zu (%s) is tensor index %d, want 0..%zu",
                        ref.c_str(), k, Role(spec, k), t, n == 0 ? 0 : n - 1);
    }
  }
  for (size_t k = 0; k < op.outputs.size(); ++k) {
    const int32_t t = op.outputs[k];
    if (t < 0 || static_cast<size_t>(t) >= n) {
      return OutOfRange("%s: output %zu is tensor index %d, want 0..%zu",
                        ref.c_str(), k, t, n == 0 ? 0 : n - 1);
    }
  }
  return OkStatus();
}

}  // namespace

Status ValidateOps(ParsedModel* m) {
  const auto* ops = m->root->ops();
  const size_t n = ops ? ops->size() : 0;
  m->ops.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const schema::Op* table = ops->Get(static_cast<flatbuffers::uoffset_t>(i));
    OpInfo& op = m->ops[i];
    op.type = table->type();
    op.table = table;
    if (table->inputs() != nullptr) {
      op.inputs = Span<const int32_t>(table->inputs()->data(),
                                      table->inputs()->size());
    }
    if (table->outputs() != nullptr) {
      op.outputs = Span<const int32_t>(table->outputs()->data(),
                                       table->outputs()->size());
    }
    SPARROW_RETURN_IF_ERROR(CheckStructure(*m, i));
    SPARROW_RETURN_IF_ERROR(OpChecker(*m, i).Run());
  }
  return OkStatus();
}

}  // namespace model_internal
}  // namespace sparrow
