// The model commands of the `sparrow` command line (docs/CLI.md), as plain
// functions: tools/sparrow_main.cc parses the arguments into these options and
// turns a non-OK Status into a message on stderr and exit code 1.
//
//   sparrow::InspectOptions o;
//   o.model = "testdata/models/tiny_mlp.spw";
//   sparrow::Status s = sparrow::Inspect(o, stdout);
//   if (!s.ok()) fprintf(stderr, "sparrow inspect: %s\n",
//   s.ToString().c_str());
//
// Contract:
// - Every error a user can cause (a missing or malformed model or .npy file,
//   an input of the wrong shape or dtype, a model the runtime cannot run,
//   too few output paths) is a Status naming the file, tensor and values;
//   nothing the user passes makes these functions crash.
// - They write their report to `out` (and bench its progress to `progress`);
//   nothing else is printed. Not thread-safe with respect to those streams.
// - Files written (run's outputs) are written atomically (tools/npy.h).
#ifndef SPARROW_TOOLS_CLI_H_
#define SPARROW_TOOLS_CLI_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "kernels/status.h"
#include "runtime/interpreter.h"
#include "runtime/model.h"
#include "tools/npy.h"

namespace sparrow {

// What `inspect`, `run` and `bench` share: the model and how to prepare it.
struct ModelOptions {
  std::string model;   // path of the .spw file
  size_t threads = 1;  // InterpreterOptions::threads
  bool fuse = true;    // InterpreterOptions::fuse (--no-fuse)
  bool fast = false;   // Accuracy::kFast activations (--fast)
};

using InspectOptions = ModelOptions;

// Prints the model (description, tensors, ops, constants with their sparse
// statistics, totals) and then its prepared plan (arena summary and steps).
// Returns the Status of loading or preparing; what was printed before an
// error stays printed.
Status Inspect(const InspectOptions& options, FILE* out);

struct RunOptions {
  ModelOptions model;
  std::vector<std::string> inputs;   // .npy per graph input, in order
  std::vector<std::string> outputs;  // .npy per graph output, in order
  size_t repeat = 1;                 // Invoke() this many times (>= 1)
};

// Reads the inputs, checks them against the model's inputs, invokes `repeat`
// times (state carries over) and writes the last outputs.
Status RunModel(const RunOptions& options, FILE* out);

struct BenchOptions {
  ModelOptions model;
  size_t iterations = 0;  // timed Invoke() calls; 0: run for `seconds`
  double seconds = 1.0;   // when iterations == 0
  size_t warmup = 10;     // untimed Invoke() calls first
  uint32_t seed = 1;      // of the random inputs
};

// Times Invoke() on random inputs; prints latency percentiles and the median
// time of each plan step. Progress goes to `progress` (may be null).
Status Bench(const BenchOptions& options, FILE* out, FILE* progress);

// --- Helpers, exposed for tests -------------------------------------------

// Loads options.model; the message names the file.
StatusOr<Model> LoadModel(const std::string& path);
InterpreterOptions MakeInterpreterOptions(const ModelOptions& options);

// "[1, 8]" ("[]" for a scalar).
std::string ShapeString(Span<const int32_t> shape);

// printf into a std::string (any length).
std::string Format(const char* format, ...)
    __attribute__((format(printf, 1, 2)));

// Random inputs for every graph input of `model`, reproducible from `seed`:
// f32 uniform in [-1, 1]; i32 indices uniform in [0, IndexBound); other
// dtypes (which `run` cannot read either) are not supported by bench.
StatusOr<std::vector<NpyArray>> RandomInputs(const Model& model, uint32_t seed);
// Exclusive upper bound of valid values for i32 tensor `tensor`: the smallest
// vocabulary (table rows) of the Embedding ops that read it as indices, or 1
// (only zero) when no Embedding reads it directly.
int32_t IndexBound(const Model& model, int32_t tensor);

// Nearest-rank percentile p in [0, 100] of `sorted` (ascending, non-empty).
uint64_t Percentile(const std::vector<uint64_t>& sorted, double p);

}  // namespace sparrow

#endif  // SPARROW_TOOLS_CLI_H_
