// ExportNet: a Net's layers as .spw ops (the mapping is in export.h).
#include "trainer/export.h"

#include <math.h>
#include <stdarg.h>

#include <utility>

#include "kernels/bf16.h"
#include "runtime/model.h"
#include "runtime/model_builder.h"

namespace sparrow {
namespace train {
namespace {

using schema::OpType;

const char* KindName(LayerKind k) {
  switch (k) {
    case LayerKind::kLinear:
      return "Linear";
    case LayerKind::kConv2D:
      return "Conv2D";
    case LayerKind::kMaxPool2D:
      return "MaxPool2D";
    case LayerKind::kAvgPool2D:
      return "AvgPool2D";
    case LayerKind::kFlatten:
      return "Flatten";
    case LayerKind::kActivation:
      return "Activation";
    case LayerKind::kDropout:
      return "Dropout";
    case LayerKind::kGru:
      return "Gru";
  }
  return "?";
}


std::vector<int32_t> Dims(const Shape& s) { return {s.begin(), s.end()}; }

// Every value finite; a weight matrix stored as bf16 must stay finite too.
Status CheckParam(const Param& p, bool as_bf16) {
  for (size_t i = 0; i < p.value.size(); ++i) {
    const float v = p.value[i];
    if (!std::isfinite(v)) {
      return InvalidArgument(
          "param '%s' value[%zu] is %g; export needs finite "
          "values (did training diverge?)",
          p.name.c_str(), i, v);
    }
    if (as_bf16 && (F32ToBf16Bits(v) & 0x7F80u) == 0x7F80u) {
      return InvalidArgument(
          "param '%s' value[%zu]=%g is beyond bf16's range; "
          "export it with bf16=false",
          p.name.c_str(), i, v);
    }
  }
  return OkStatus();
}

// Builds the graph; `cur` is the tensor the next layer reads.
class GraphWriter {
 public:
  GraphWriter(const Net& net, const ExportOptions& o, ModelBuilder* b)
      : net_(net), o_(o), b_(b) {}

  Status Write() {
    b_->set_description(o_.description.empty()
                            ? "sparrow trainer: " + net_.spec()
                            : o_.description);
    SPARROW_RETURN_IF_ERROR(CheckRank("input", net_.input_shape()));
    const int input = b_->AddTensor("input", Batched(net_.input_shape()));
    cur_ = input;
    cur_shape_ = net_.input_shape();
    for (const Layer& l : net_.layers()) {
      SPARROW_RETURN_IF_ERROR(
          CheckRank(("layer '" + l.name + "'").c_str(), l.out));
      SPARROW_RETURN_IF_ERROR(AddLayer(l));
    }
    int logits = cur_;
    if (!batched_) {  // a Gru's [T, ...] rows: give them back the batch axis
      logits = Reshape("logits", Batched(net_.output_shape()));
    }
    std::vector<int32_t> outputs = {logits};
    if (o_.softmax) {
      const int probs = b_->AddTensor("probs", Batched(net_.output_shape()));
      b_->AddOp(OpType::Softmax, {logits}, {probs},
                MakeOptions(schema::SoftmaxOptionsT()));  // axis -1
      outputs.insert(outputs.begin(), probs);
    }
    b_->SetInputs({input});
    b_->SetOutputs(outputs);
    return OkStatus();
  }

 private:
  std::vector<int32_t> Batched(const Shape& s) const {
    std::vector<int32_t> d = {o_.batch};
    d.insert(d.end(), s.begin(), s.end());
    return d;
  }
  // The graph shape of a layer's per-example shape at the current batching.
  std::vector<int32_t> Graph(const Shape& s) const {
    return batched_ ? Batched(s) : Dims(s);
  }

  Status CheckRank(const char* what, const Shape& s) const {
    if (s.size() + 1 > kMaxTensorRank) {
      return Unimplemented(
          "%s: shape %s has rank %zu; with the batch axis that "
          "is %zu, above the format's %zu",
          what, ShapeString(s).c_str(), s.size(), s.size() + 1, kMaxTensorRank);
    }
    return OkStatus();
  }

  int Reshape(const std::string& name, std::vector<int32_t> shape) {
    const int t = b_->AddTensor(name, std::move(shape));
    b_->AddOp(OpType::Reshape, {cur_}, {t});
    return t;
  }

  // A weight matrix (FC, Conv2D filter, Gru w_ih / w_hh) in the chosen dtype.
  StatusOr<int> Weight(int index) {
    const Param& p = net_.params()[index];
    SPARROW_RETURN_IF_ERROR(CheckParam(p, o_.bf16));
    return o_.bf16 ? b_->AddConstantBf16(p.name, Dims(p.shape), p.value.data())
                   : b_->AddConstant(p.name, Dims(p.shape), p.value.data());
  }
  StatusOr<int> Bias(int index) {
    const Param& p = net_.params()[index];
    SPARROW_RETURN_IF_ERROR(CheckParam(p, false));
    return b_->AddConstant(p.name, Dims(p.shape), p.value.data());
  }

  // inputs: x, then the weight and bias params (-1: absent, dropped from
  // the end so the op lists only what it has).
  Status Linear(const Layer& l, OpType type, std::vector<int> params,
                schema::OpOptionsUnion options) {
    std::vector<int32_t> inputs = {cur_};
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i] < 0) {
        inputs.push_back(-1);
        continue;
      }
      // Gru: w_ih and w_hh are matrices, b_ih and b_hh biases; FC and
      // Conv2D: the weight, then the bias.
      const bool matrix = type == OpType::Gru ? i < 2 : i == 0;
      StatusOr<int> t = matrix ? Weight(params[i]) : Bias(params[i]);
      SPARROW_RETURN_IF_ERROR(t.status());
      inputs.push_back(*t);
    }
    while (inputs.back() < 0) inputs.pop_back();
    const int y = b_->AddTensor(l.name + ".out", Graph(l.out));
    b_->AddOp(type, std::move(inputs), {y}, std::move(options));
    cur_ = y;
    return OkStatus();
  }

  // Nothing after a Gru needs [N, H, W, C] today (its [T, H] only meets
  // Linear, activations and Flatten), but a layer that does must not read
  // unbatched rows.
  void EnsureBatched() {
    if (batched_) return;
    batched_ = true;
    cur_ = Reshape(b_->model().tensors[cur_]->name + ".batched",
                   Batched(cur_shape_));
  }

  Status AddLayer(const Layer& l) {
    switch (l.kind) {
      case LayerKind::kLinear:
        SPARROW_RETURN_IF_ERROR(Linear(l, OpType::FullyConnected,
                                       {l.weight, l.bias_param},
                                       MakeOptions(FullyConnectedOptions())));
        break;
      case LayerKind::kConv2D: {
        EnsureBatched();
        schema::Conv2DOptionsT c;
        c.stride_h = c.stride_w = l.stride;
        c.dilation_h = c.dilation_w = l.dilation;
        c.pad_top = c.pad_bottom = c.pad_left = c.pad_right = l.pad;
        SPARROW_RETURN_IF_ERROR(Linear(l, OpType::Conv2D,
                                       {l.weight, l.bias_param},
                                       MakeOptions(std::move(c))));
        break;
      }
      case LayerKind::kMaxPool2D:
      case LayerKind::kAvgPool2D: {
        EnsureBatched();
        schema::Pool2DOptionsT p;
        p.filter_h = p.filter_w = l.kernel;
        p.stride_h = p.stride_w = l.stride;
        p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = l.pad;
        p.count_include_pad = l.kind == LayerKind::kAvgPool2D && l.include_pad;
        const int y = b_->AddTensor(l.name + ".out", Batched(l.out));
        b_->AddOp(l.kind == LayerKind::kMaxPool2D ? OpType::MaxPool2D
                                                  : OpType::AvgPool2D,
                  {cur_}, {y}, MakeOptions(std::move(p)));
        cur_ = y;
        break;
      }
      case LayerKind::kFlatten: {
        // [N, ...] -> [N, prod]; a Gru's [T, H] rows (N = 1) -> [1, T H].
        schema::FlattenOptionsT f;
        f.axis = batched_ ? 1 : 0;
        batched_ = true;
        const int y = b_->AddTensor(l.name + ".out", Batched(l.out));
        b_->AddOp(OpType::Flatten, {cur_}, {y}, MakeOptions(std::move(f)));
        cur_ = y;
        break;
      }
      case LayerKind::kActivation: {
        const schema::ActivationType a = ToSchemaActivation(l.act);
        const int y = b_->AddTensor(l.name + ".out", Graph(l.out));
        b_->AddOp(OpType::Activation, {cur_}, {y},
                  MakeOptions(ActivationOptions(a)));
        cur_ = y;
        break;
      }
      case LayerKind::kDropout:
        return OkStatus();  // the identity at inference: no op, no tensor
      case LayerKind::kGru:
        if (o_.batch != 1) {
          return Unimplemented(
              "layer '%s' (Gru): the runtime's Gru op runs one sequence x "
              "[T, I], so a net with a Gru exports with batch=1 only (got "
              "batch=%d)",
              l.name.c_str(), o_.batch);
        }
        if (batched_) {  // [1, T, I] -> [T, I]
          cur_ = Reshape(l.name + ".in", Dims(l.in));
          batched_ = false;
        }
        SPARROW_RETURN_IF_ERROR(Linear(
            l, OpType::Gru, {l.weight, l.w_hh, l.bias_param, l.b_hh},
            MakeOptions(GruOptions(l.units, schema::GruMode::FullSequence))));
        break;
      default:
        return Unimplemented("layer '%s': kind %d (%s) has no .spw op",
                             l.name.c_str(), static_cast<int>(l.kind),
                             KindName(l.kind));
    }
    cur_shape_ = l.out;
    return OkStatus();
  }

  const Net& net_;
  const ExportOptions& o_;
  ModelBuilder* b_;
  int cur_ = -1;
  bool batched_ = true;  // cur_ has the batch axis (false after a Gru)
  Shape cur_shape_;      // cur_'s per-example shape
};

StatusOr<std::vector<uint8_t>> Build(const Net& net, const ExportOptions& o,
                                     ModelBuilder* b) {
  if (o.batch < 1) {
    return InvalidArgument("export: batch=%d, want >= 1", o.batch);
  }
  GraphWriter writer(net, o, b);
  SPARROW_RETURN_IF_ERROR(writer.Write());
  std::vector<uint8_t> bytes = b->Finish();
  // The builder does not validate; the loader does (FromBuffer copies the
  // bytes into aligned memory when they are not 64-byte aligned).
  StatusOr<Model> loaded = Model::FromBuffer(bytes.data(), bytes.size());
  if (!loaded.ok()) {
    return Status(loaded.status().code(),
                  std::string("export: the model does not validate: ") +
                      loaded.status().message());
  }
  return bytes;
}

}  // namespace

StatusOr<std::vector<uint8_t>> ExportNetBytes(const Net& net,
                                              const ExportOptions& options) {
  ModelBuilder b;
  return Build(net, options, &b);
}

Status ExportNet(const Net& net, const ExportOptions& options,
                 const std::string& path) {
  if (path.empty()) return InvalidArgument("export: path is empty");
  ModelBuilder b;
  SPARROW_RETURN_IF_ERROR(Build(net, options, &b).status());
  return b.WriteFile(path.c_str());  // Finish() again: the same bytes
}

}  // namespace train
}  // namespace sparrow
