// Runs a validated Model (runtime/model.h) in one arena: planned at Create(),
// no heap allocation in Invoke().
//
//   sparrow::StatusOr<sparrow::Model> model = sparrow::Model::FromFile("m.spw");
//   if (!model.ok()) return model.status();
//   sparrow::StatusOr<size_t> need = sparrow::Interpreter::ArenaBytesNeeded(*model);
//   alignas(64) static uint8_t arena[1 << 20];          // or any caller memory
//   sparrow::StatusOr<sparrow::Interpreter> interp =
//       sparrow::Interpreter::Create(*model, arena, sizeof(arena), {.threads = 2});
//   if (!interp.ok()) return interp.status();           // e.g. arena too small
//   memcpy(interp->input(0).data, x, interp->input(0).bytes);
//   SPARROW_RETURN_IF_ERROR(interp->Invoke());
//   const float* y = interp->output(0).f32();           // valid until next Invoke
//
// Contract:
// - Memory: Create() plans everything. Activations live at the arena's head,
//   placed by runtime/memory_planner.h over the lifetimes of the plan's steps;
//   persistent data (GRU state, weights that must be repacked, the threads'
//   scratch) at its tail. ArenaBytesNeeded() is the size that works for any
//   base pointer (it includes up to 63 bytes of alignment padding);
//   ArenaBytesUsed() is what this instance uses from its base. Create()
//   allocates (the plan, the thread pool, a few small vectors, and the arena
//   itself in the overload that owns it); Invoke() and ResetState() never do.
// - Lifetimes: the Model and the caller's arena must outlive the Interpreter.
//   The Interpreter is movable, not copyable; moving keeps every pointer it
//   handed out.
// - Inputs and outputs: input(i).data is where the caller writes graph input
//   i before Invoke(); output(i).data holds graph output i after it, until
//   the next Invoke(). Inputs are never overwritten by the runtime: they
//   keep their values across Invoke() calls.
//   Constant tensors are read in place from the model (zero copy).
// - State: variable tensors (a GRU's hidden state) persist across Invoke()
//   calls, start from their buffer's value (zero without one) and return to
//   it on ResetState().
// - Fusion (InterpreterOptions::fuse): FullyConnected or Conv2D followed by an
//   Add of a constant bias [out] and/or an Activation, where the intermediate
//   tensors feed nothing else and are not graph outputs, runs as one fused
//   kernel call that writes the output once. steps() lists the plan.
// - Threads: threads > 1 creates a pool pinned to `cores` (default: one
//   logical CPU per physical core of socket 0). Block-sparse products and
//   GRU steps are split by nonzero blocks (runtime/segmented.h), dense ones
//   by rows; a step is split only into parts of at least
//   min_macs_per_thread multiply-adds (smaller ones run on the caller's
//   thread). Each output element is
//   computed by the same code whichever thread owns it, so results are
//   bit-identical for any thread count.
// - Errors: Create() returns a Status for what the model asks that this
//   runtime cannot run (named op and reason), for an arena too small
//   (RESOURCE_EXHAUSTED with the bytes needed) and for bad options. Invoke()
//   checks what only the inputs can make wrong (an Embedding index outside its
//   table: OUT_OF_RANGE naming the op and the index) and returns before
//   writing outputs past that op.
// - Thread-safety: one thread calls Invoke()/ResetState() at a time; distinct
//   Interpreters on one Model may run concurrently.
#ifndef SPARROW_RUNTIME_INTERPRETER_H_
#define SPARROW_RUNTIME_INTERPRETER_H_

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "kernels/activation_type.h"
#include "kernels/status.h"
#include "runtime/model.h"
#include "runtime/span.h"

namespace sparrow {

struct InterpreterOptions {
  // Total threads including the caller's. 1: no pool.
  size_t threads = 1;
  // Logical CPUs to pin the threads to, one per thread (index 0 is the
  // caller's and is not pinned). Empty: one per physical core of socket 0.
  std::vector<int> cores;
  // A step is split across threads only into parts of at least this many
  // multiply-adds (a pool round trip costs about a microsecond); 1 splits
  // every splittable step (tests do, to exercise the partitions).
  double min_macs_per_thread = 16384;
  // Pin the worker threads (to `cores`). Unpinned pools take any thread
  // count, even more than the machine's cores.
  bool pin = true;
  // Tier of sigmoid/tanh/gelu (kernels/activation_type.h, docs/ACTIVATIONS.md).
  Accuracy accuracy = Accuracy::kPrecise;
  // Run the fusion pass (off: every op is its own step, for comparisons).
  bool fuse = true;
};

// A graph input or output: where its elements are, row-major.
struct TensorView {
  const char* name = "";
  Span<const int32_t> shape;
  schema::DType dtype = schema::DType::F32;
  void* data = nullptr;  // 64-byte aligned
  size_t bytes = 0;
  size_t num_elements = 0;

  float* f32() const {
    HWY_ASSERT(dtype == schema::DType::F32);
    return static_cast<float*>(data);
  }
  int32_t* i32() const {
    HWY_ASSERT(dtype == schema::DType::I32);
    return static_cast<int32_t*>(data);
  }
};

// One kernel call of the prepared plan (what `sparrow inspect` prints).
struct PlanStep {
  std::vector<int32_t> ops;  // model op indices run by this step (fused: >1)
  int32_t output = -1;       // the tensor it writes
  // The ops and the kernel call, e.g.
  // "FullyConnected+Add+Activation: Spmv bf16 (10.0% blocks) +bias +tanh,
  // 2 threads".
  std::string kernel;
  size_t scratch_bytes = 0;  // head bytes for this step only (im2col, GEMM)
};

// The arena layout chosen at Create().
struct ArenaSummary {
  size_t head_bytes = 0;         // planned activations and scratch
  size_t head_lower_bound = 0;   // most bytes alive at one step
  size_t tail_bytes = 0;         // persistent: state, repacked weights
  size_t planned_buffers = 0;    // buffers placed by the planner
  std::string strategy;          // the planner's winning strategy
};

class Interpreter {
 public:
  // Bytes of arena Create(model, arena, bytes, options) needs at any base.
  static StatusOr<size_t> ArenaBytesNeeded(
      const Model& model, const InterpreterOptions& options = {});

  // Plans `model` into the caller's `arena_bytes` bytes at `arena`.
  static StatusOr<Interpreter> Create(const Model& model, uint8_t* arena,
                                      size_t arena_bytes,
                                      const InterpreterOptions& options = {});
  // As above with an arena of exactly the size needed, owned by the result.
  static StatusOr<Interpreter> Create(const Model& model,
                                      const InterpreterOptions& options = {});

  Interpreter(Interpreter&&) noexcept;
  Interpreter& operator=(Interpreter&&) noexcept;
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;
  ~Interpreter();

  size_t num_inputs() const;
  size_t num_outputs() const;
  TensorView input(size_t i) const;   // aborts when i >= num_inputs()
  TensorView output(size_t i) const;  // aborts when i >= num_outputs()

  // Runs the plan once. `step_ns`, if not null, receives the wall time of
  // each step ([steps().size()], nanoseconds) for profiling.
  Status Invoke(uint64_t* step_ns = nullptr);
  // Every state tensor back to its initial value.
  void ResetState();

  size_t ArenaBytesUsed() const;
  const ArenaSummary& arena_summary() const;
  const std::vector<PlanStep>& steps() const;
  size_t num_threads() const;

  struct Impl;  // opaque, runtime/interpreter.cc

 private:
  explicit Interpreter(std::unique_ptr<Impl> impl);
  static StatusOr<Interpreter> Bind(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_INTERPRETER_H_
