// `sparrow run MODEL.spw --input x.npy --output y.npy`: one inference from
// and to NumPy files.
#include <string.h>

#include <string>
#include <utility>
#include <vector>

#include "tools/cli.h"

namespace sparrow {
namespace {

// "1 input", "2 inputs".
std::string Plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// The graph's tensors as "x [1, 8] f32, h [1, 32] f32" for messages.
std::string Signature(const Interpreter& interp, bool inputs) {
  const size_t n = inputs ? interp.num_inputs() : interp.num_outputs();
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    const TensorView v = inputs ? interp.input(i) : interp.output(i);
    if (i != 0) s += ", ";
    s += std::string(v.name) + " " + ShapeString(v.shape) + " " +
         DTypeName(v.dtype);
  }
  return s;
}

// Reads input i from `path` and checks it against the graph input.
StatusOr<NpyArray> ReadInput(const TensorView& want, size_t i,
                             const std::string& path) {
  NpyDType dtype;
  if (want.dtype == schema::DType::F32) {
    dtype = NpyDType::kF32;
  } else if (want.dtype == schema::DType::I32) {
    dtype = NpyDType::kI32;
  } else {
    return InvalidArgument(
        "input %zu '%s' has dtype %s; sparrow run reads "
        "f32 and i32 inputs only",
        i, want.name, DTypeName(want.dtype));
  }
  StatusOr<NpyArray> a = ReadNpy(path);
  SPARROW_RETURN_IF_ERROR(a.status());
  bool same_shape = a->shape.size() == want.shape.size();
  for (size_t d = 0; same_shape && d < a->shape.size(); ++d) {
    same_shape = a->shape[d] == static_cast<size_t>(want.shape[d]);
  }
  if (a->dtype != dtype || !same_shape) {
    return InvalidArgument(
        "input %zu '%s': expected shape %s %s, %s has shape %s %s", i,
        want.name, ShapeString(want.shape).c_str(), DTypeName(want.dtype),
        path.c_str(), ShapeString(a->shape).c_str(), NpyDTypeName(a->dtype));
  }
  return a;
}

Status WriteOutput(const TensorView& v, size_t i, const std::string& path) {
  NpyDType dtype;
  if (v.dtype == schema::DType::F32) {
    dtype = NpyDType::kF32;
  } else if (v.dtype == schema::DType::I32) {
    dtype = NpyDType::kI32;
  } else {
    return InvalidArgument(
        "output %zu '%s' has dtype %s; .npy outputs are "
        "f32 or i32",
        i, v.name, DTypeName(v.dtype));
  }
  std::vector<size_t> shape;
  for (const int32_t d : v.shape) shape.push_back(static_cast<size_t>(d));
  return WriteNpy(path, dtype, shape, v.data);
}

void PrintValues(FILE* out, const TensorView& v) {
  constexpr size_t kShown = 8;
  fprintf(out, "   ");
  for (size_t k = 0; k < v.num_elements && k < kShown; ++k) {
    if (v.dtype == schema::DType::F32) {
      fprintf(out, " %.6g", v.f32()[k]);
    } else if (v.dtype == schema::DType::I32) {
      fprintf(out, " %d", v.i32()[k]);
    }
  }
  if (v.num_elements > kShown) {
    fprintf(out, " ... (%zu values)", v.num_elements);
  }
  fprintf(out, "\n");
}

}  // namespace

Status RunModel(const RunOptions& options, FILE* out) {
  if (options.repeat == 0) {
    return InvalidArgument("--repeat is 0; must be >= 1");
  }
  StatusOr<Model> model = LoadModel(options.model.model);
  SPARROW_RETURN_IF_ERROR(model.status());
  StatusOr<Interpreter> created =
      Interpreter::Create(model.value(), MakeInterpreterOptions(options.model));
  SPARROW_RETURN_IF_ERROR(created.status());
  Interpreter& interp = created.value();

  if (options.inputs.size() != interp.num_inputs()) {
    return InvalidArgument(
        "the model has %s (%s); %s given",
        Plural(interp.num_inputs(), "input").c_str(),
        Signature(interp, true).c_str(),
        Plural(options.inputs.size(), "--input path").c_str());
  }
  if (options.outputs.size() != interp.num_outputs()) {
    return InvalidArgument(
        "the model has %s (%s); %s given",
        Plural(interp.num_outputs(), "output").c_str(),
        Signature(interp, false).c_str(),
        Plural(options.outputs.size(), "--output path").c_str());
  }
  std::vector<NpyArray> inputs;
  for (size_t i = 0; i < options.inputs.size(); ++i) {
    StatusOr<NpyArray> a = ReadInput(interp.input(i), i, options.inputs[i]);
    SPARROW_RETURN_IF_ERROR(a.status());
    inputs.push_back(std::move(a).value());
  }

  for (size_t r = 0; r < options.repeat; ++r) {
    // Input memory may hold activations during Invoke(): write it each time.
    for (size_t i = 0; i < inputs.size(); ++i) {
      const TensorView v = interp.input(i);
      if (v.bytes != 0) memcpy(v.data, inputs[i].data(), v.bytes);
    }
    Status s = interp.Invoke();
    if (!s.ok()) {
      return Status(s.code(), "invoke " + std::to_string(r + 1) + " of " +
                                  std::to_string(options.repeat) + ": " +
                                  s.message());
    }
  }

  for (size_t i = 0; i < interp.num_outputs(); ++i) {
    const TensorView v = interp.output(i);
    SPARROW_RETURN_IF_ERROR(WriteOutput(v, i, options.outputs[i]));
    fprintf(out, "output %zu: %s %s %s -> %s\n", i, v.name,
            ShapeString(v.shape).c_str(), DTypeName(v.dtype),
            options.outputs[i].c_str());
    PrintValues(out, v);
  }
  return OkStatus();
}

}  // namespace sparrow
