// Internals of runtime/interpreter.cc: the prepared steps and the per-op
// prepare/run functions (runtime/interpreter_ops*.cc). Not a public API.
#ifndef SPARROW_RUNTIME_INTERPRETER_INTERNAL_H_
#define SPARROW_RUNTIME_INTERPRETER_INTERNAL_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "kernels/activation_type.h"
#include "kernels/block_sparse.h"
#include "kernels/im2col.h"
#include "kernels/sparse_gru.h"
#include "kernels/status.h"
#include "runtime/interpreter.h"
#include "runtime/model.h"
#include "runtime/segmented.h"
#include "runtime/thread_pool.h"

namespace sparrow {
namespace interp {

// What Invoke() needs besides the step: tensor pointers, threads.
struct Exec {
  const Model* model = nullptr;
  void* const* data = nullptr;  // [num_tensors]; constants point into model
  ThreadPool* pool = nullptr;   // null: one thread
  size_t threads = 1;
  Accuracy accuracy = Accuracy::kPrecise;

  const float* F32(int32_t t) const {
    return static_cast<const float*>(data[t]);
  }
  float* MutableF32(int32_t t) const { return static_cast<float*>(data[t]); }
};

struct Step;
using RunFn = Status (*)(const Exec& e, const Step& s);

// Persistent memory a step asks for at prepare time (tail of the arena),
// filled once after the arena exists.
enum class TailFill : uint8_t {
  kZero,         // zeros (e.g. the initial h of a GRU without state)
  kWidenBf16,    // dense bf16 constant widened to f32
  kExpandSparse  // block-sparse constant expanded to dense f32
};
struct TailRequest {
  size_t bytes = 0;
  TailFill fill = TailFill::kZero;
  int32_t tensor = -1;  // source constant for kWidenBf16 / kExpandSparse
  uint8_t* ptr = nullptr;  // set when the arena is carved
};

// One kernel call. Tensor fields are model tensor indices (-1: none); the
// pointers behind them are looked up in Exec::data at run time.
struct Step {
  RunFn run = nullptr;
  int32_t op = -1;               // the primary (first) op of the step
  std::vector<int32_t> ops;      // every op this step runs
  int32_t output = -1;
  int32_t in[6] = {-1, -1, -1, -1, -1, -1};
  int32_t bias = -1;             // fused or own bias tensor
  Activation act = Activation::kIdentity;
  std::string kernel;            // for PlanStep

  // Sizes: meaning per op (FullyConnected: m rows of x, n out, k in).
  size_t m = 0, n = 0, k = 0;
  size_t dims[8] = {};           // op-specific extra sizes
  size_t chunk = 0;              // Conv2D: patch rows per GEMM call
  ConvGeometry conv;             // Conv2D

  // Weights replaced by persistent copies (TailRequest indices, -1: none).
  int32_t tail[3] = {-1, -1, -1};
  const void* repacked[3] = {nullptr, nullptr, nullptr};  // bound from tail

  // Head scratch for this step only (im2col, GEMM workspaces), per thread.
  size_t scratch_per_thread = 0;  // bytes, multiple of 64
  size_t scratch_buffer = ~size_t{0};  // planner buffer index
  uint8_t* scratch = nullptr;     // bound: threads * scratch_per_thread

  // Split across threads: part i of `partition` is thread i's range (block
  // rows, GRU chunks, 16-row groups or batch rows, per kernel).
  RowPartition partition;
  SparseGruWeights sparse_gru{};  // kSparseGru only (views are the model's)
  // Elementwise broadcasting: element strides of the two inputs per output
  // axis (0 where broadcast), and the output shape.
  size_t rank = 0;
  size_t shape[8] = {};
  size_t stride_a[8] = {}, stride_b[8] = {};
};

// Everything Prepare decides before memory exists.
struct PrepareContext {
  const Model* model = nullptr;
  const InterpreterOptions* options = nullptr;
  std::vector<TailRequest>* tail = nullptr;

  int32_t AddTail(size_t bytes, TailFill fill, int32_t tensor) const {
    TailRequest r;
    r.bytes = bytes;
    r.fill = fill;
    r.tensor = tensor;
    tail->push_back(r);
    return static_cast<int32_t>(tail->size() - 1);
  }
};

// Fills in run, kernel, sizes, tail and scratch requests of `s`, whose op,
// ops, output, in[], bias and act are set. Returns UNIMPLEMENTED (naming the
// op) for what the kernels cannot run.
Status PrepareStep(const PrepareContext& c, Step* s);
// FullyConnected, Gru, Conv2D (interpreter_ops.cc).
Status PrepareLinearStep(const PrepareContext& c, Step* s);

// The step's human-readable name: "FullyConnected+Add+Activation".
std::string StepOpsName(const Model& model, const Step& s);

// Equal ranges of `count` units over `parts` (for dense row splits).
RowPartition EvenPartition(size_t count, size_t parts);


}  // namespace interp
}  // namespace sparrow

#endif  // SPARROW_RUNTIME_INTERPRETER_INTERNAL_H_
