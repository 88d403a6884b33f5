// Helpers shared by the model commands (tools/cli.h).
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tools/cli.h"

namespace sparrow {

StatusOr<Model> LoadModel(const std::string& path) {
  StatusOr<Model> model = Model::FromFile(path.c_str());
  if (model.ok()) return model;
  const Status& s = model.status();
  // File errors name the path already; validation errors name the field.
  if (strstr(s.message(), path.c_str()) != nullptr) return s;
  return Status(s.code(), path + ": " + s.message());
}

InterpreterOptions MakeInterpreterOptions(const ModelOptions& options) {
  InterpreterOptions o;
  o.threads = options.threads;
  o.fuse = options.fuse;
  o.accuracy = options.fast ? Accuracy::kFast : Accuracy::kPrecise;
  return o;
}

std::string Format(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  const int n = vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string s(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) vsnprintf(&s[0], s.size() + 1, format, args);
  va_end(args);
  return s;
}

std::string ShapeString(Span<const int32_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int32_t IndexBound(const Model& model, int32_t tensor) {
  int32_t bound = 0;
  for (size_t i = 0; i < model.num_ops(); ++i) {
    const OpInfo& op = model.op(i);
    if (op.type != schema::OpType::Embedding || op.input(0) != tensor) continue;
    const int32_t table = op.input(1);
    if (table < 0 || model.tensor(table).rank() == 0) continue;
    const int32_t vocab = model.tensor(table).dim(0);
    bound = bound == 0 ? vocab : std::min(bound, vocab);
  }
  return std::max(bound, 1);
}

StatusOr<std::vector<NpyArray>> RandomInputs(const Model& model,
                                             uint32_t seed) {
  // The engine's sequence is fixed by the standard; the distributions' is
  // not, so values come from the raw 32-bit outputs.
  std::mt19937 rng(seed);
  std::vector<NpyArray> inputs;
  for (const int32_t t : model.inputs()) {
    const TensorInfo& info = model.tensor(t);
    NpyArray a;
    for (const int32_t d : info.shape)
      a.shape.push_back(static_cast<size_t>(d));
    if (info.dtype == schema::DType::F32) {
      a.dtype = NpyDType::kF32;
      a.f32.resize(info.num_elements);
      for (float& v : a.f32) {
        v = static_cast<float>(rng() >> 8) * (2.0f / 16777216.0f) - 1.0f;
      }
    } else if (info.dtype == schema::DType::I32) {
      a.dtype = NpyDType::kI32;
      a.i32.resize(info.num_elements);
      const uint32_t bound = static_cast<uint32_t>(IndexBound(model, t));
      for (int32_t& v : a.i32) v = static_cast<int32_t>(rng() % bound);
    } else {
      return InvalidArgument(
          "input '%s' has dtype %s; only f32 and i32 "
          "inputs are supported",
          info.name, DTypeName(info.dtype));
    }
    inputs.push_back(std::move(a));
  }
  return inputs;
}

uint64_t Percentile(const std::vector<uint64_t>& sorted, double p) {
  HWY_ASSERT(!sorted.empty());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const size_t i = rank < 1.0 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace sparrow
