// Interpreter: the fusion pass, lifetimes, the arena plan and Invoke().
// Per-op kernels choice and execution: runtime/interpreter_ops*.cc.
#include "runtime/interpreter.h"

#include <string.h>
#include <time.h>

#include <algorithm>
#include <utility>

#include "kernels/gemv.h"
#include "runtime/arena.h"
#include "runtime/interpreter_internal.h"
#include "runtime/memory_planner.h"

namespace sparrow {

using interp::Exec;
using interp::Step;
using interp::TailFill;
using interp::TailRequest;

struct Interpreter::Impl {
  const Model* model = nullptr;
  InterpreterOptions options;
  std::vector<Step> steps;
  std::vector<PlanStep> plan_steps;
  std::vector<TailRequest> tail;
  // Per tensor: head buffer index (planner), or -1.
  std::vector<int32_t> head_buffer;
  std::vector<int32_t> state_tail;  // per tensor: tail request, or -1
  std::vector<BufferLifetime> buffers;
  MemoryPlan plan;
  ArenaSummary summary;
  size_t tail_bytes = 0;

  Arena arena;
  size_t arena_padding = 0;  // bytes before the arena's aligned start
  std::unique_ptr<ThreadPool> pool;
  std::vector<void*> data;  // per tensor
  Exec exec;
};

namespace {

bool IsGraphOutput(const Model& m, int32_t t) {
  for (int32_t o : m.outputs()) {
    if (o == t) return true;
  }
  return false;
}

bool IsState(const Model& m, int32_t t) { return m.tensor(t).is_variable; }
bool IsConstant(const Model& m, int32_t t) {
  return !IsState(m, t) && m.tensor(t).is_constant();
}

// A constant f32 dense tensor of n elements shaped [n] or [1, ..., 1, n]:
// usable as the bias of a fused linear step.
bool IsBiasLike(const Model& m, int32_t t, size_t n) {
  if (t < 0 || !IsConstant(m, t)) return false;
  const TensorInfo& info = m.tensor(t);
  if (info.dtype != schema::DType::F32 || m.SparseWeights(t) != nullptr) {
    return false;
  }
  if (info.rank() == 0 || static_cast<size_t>(info.dim(info.rank() - 1)) != n) {
    return false;
  }
  return info.num_elements == n;
}

bool SameShape(const TensorInfo& a, const TensorInfo& b) {
  if (a.rank() != b.rank()) return false;
  for (size_t i = 0; i < a.rank(); ++i) {
    if (a.dim(i) != b.dim(i)) return false;
  }
  return true;
}

schema::ActivationType OwnActivation(const OpInfo& op) {
  switch (op.type) {
    case schema::OpType::FullyConnected:
      return op.table->options_as_FullyConnectedOptions()->activation();
    case schema::OpType::Conv2D:
      return op.table->options_as_Conv2DOptions()->activation();
    case schema::OpType::Add:
    case schema::OpType::Mul:
      return op.table->options_as_ElementwiseOptions()->activation();
    case schema::OpType::Activation:
      return op.table->options_as_ActivationOptions()->activation();
    default:
      return schema::ActivationType::Identity;
  }
}

// The fusion pass: FullyConnected / Conv2D (without an activation of their
// own) absorb a following Add of a constant bias [out] (when they have no
// bias) and then an Activation, as long as each intermediate tensor feeds
// only the next absorbed op and is not a graph output.
std::vector<Step> GroupOps(const Model& m, bool fuse) {
  const size_t num_ops = m.num_ops();
  std::vector<std::vector<int32_t>> consumers(m.num_tensors());
  for (size_t i = 0; i < num_ops; ++i) {
    for (int32_t t : m.op(i).inputs) {
      if (t >= 0) consumers[t].push_back(static_cast<int32_t>(i));
    }
  }
  std::vector<bool> absorbed(num_ops, false);
  std::vector<Step> steps;
  for (size_t i = 0; i < num_ops; ++i) {
    if (absorbed[i]) continue;
    const OpInfo& op = m.op(i);
    Step s;
    s.op = static_cast<int32_t>(i);
    s.ops.push_back(s.op);
    s.output = op.outputs[0];
    for (size_t k = 0; k < op.inputs.size() && k < 6; ++k) s.in[k] = op.inputs[k];
    s.act = ToActivation(OwnActivation(op));
    const bool linear = op.type == schema::OpType::FullyConnected ||
                        op.type == schema::OpType::Conv2D;
    if (linear) s.bias = op.input(2);
    if (fuse && linear) {
      const size_t out_features =
          static_cast<size_t>(m.tensor(op.inputs[1]).dim(0));
      while (s.act == Activation::kIdentity) {
        const int32_t t = s.output;
        if (IsGraphOutput(m, t) || consumers[t].size() != 1) break;
        const int32_t j = consumers[t][0];
        const OpInfo& next = m.op(j);
        if (next.type == schema::OpType::Add && s.bias < 0) {
          const int32_t other =
              next.inputs[0] == t ? next.inputs[1] : next.inputs[0];
          if (other == t || !IsBiasLike(m, other, out_features) ||
              !SameShape(m.tensor(next.outputs[0]), m.tensor(t))) {
            break;
          }
          s.bias = other;
        } else if (next.type != schema::OpType::Activation) {
          break;
        }
        s.act = ToActivation(OwnActivation(next));
        s.ops.push_back(j);
        s.output = next.outputs[0];
        absorbed[j] = true;
      }
    }
    steps.push_back(std::move(s));
  }
  return steps;
}

// The tensors a step reads from memory other ops (or the caller) wrote.
template <class F>
void ForEachActivationInput(const Model& m, const Step& s, const F& f) {
  const OpInfo& op = m.op(s.op);
  for (int32_t t : op.inputs) {
    if (t >= 0 && !IsConstant(m, t) && !IsState(m, t)) f(t);
  }
}

Status ValidateOptions(const InterpreterOptions& o) {
  if (o.threads < 1 || o.threads > 1024) {
    return InvalidArgument("threads=%zu, want 1..1024", o.threads);
  }
  if (!o.cores.empty() && o.cores.size() != o.threads) {
    return InvalidArgument("cores lists %zu CPUs for threads=%zu; want one per "
                           "thread (or none)",
                           o.cores.size(), o.threads);
  }
  return OkStatus();
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

// Everything but memory: steps, lifetimes, the head plan and the tail sizes.
StatusOr<std::unique_ptr<Interpreter::Impl>> Plan(
    const Model& m, const InterpreterOptions& options) {
  SPARROW_RETURN_IF_ERROR(ValidateOptions(options));
  auto impl = std::make_unique<Interpreter::Impl>();
  impl->model = &m;
  impl->options = options;
  impl->steps = GroupOps(m, options.fuse);

  interp::PrepareContext c;
  c.model = &m;
  c.options = &impl->options;
  c.tail = &impl->tail;
  for (Step& s : impl->steps) SPARROW_RETURN_IF_ERROR(interp::PrepareStep(c, &s));

  // State tensors: persistent, at the tail.
  const size_t nt = m.num_tensors();
  impl->state_tail.assign(nt, -1);
  for (size_t t = 0; t < nt; ++t) {
    if (IsState(m, static_cast<int32_t>(t))) {
      impl->state_tail[t] = c.AddTail(m.tensor(t).bytes, TailFill::kZero, -1);
    }
  }

  // Lifetimes over steps. Graph inputs live from step 0, outputs to the end.
  const int32_t last_step =
      impl->steps.empty() ? 0 : static_cast<int32_t>(impl->steps.size() - 1);
  std::vector<int32_t> first(nt, -1), last(nt, -1);
  auto extend = [&](int32_t t, int32_t step) {
    if (first[t] < 0 || step < first[t]) first[t] = step;
    last[t] = std::max(last[t], step);
  };
  // Graph inputs keep their memory for the whole plan, so they still hold
  // what the caller wrote after Invoke() (a second Invoke() sees the same).
  for (int32_t t : m.inputs()) {
    if (!IsConstant(m, t) && !IsState(m, t)) {
      extend(t, 0);
      extend(t, last_step);
    }
  }
  for (size_t i = 0; i < impl->steps.size(); ++i) {
    const Step& s = impl->steps[i];
    const int32_t si = static_cast<int32_t>(i);
    extend(s.output, si);
    ForEachActivationInput(m, s, [&](int32_t t) { extend(t, si); });
  }
  for (int32_t t : m.outputs()) {
    if (first[t] >= 0) extend(t, last_step);
  }
  impl->head_buffer.assign(nt, -1);
  for (size_t t = 0; t < nt; ++t) {
    if (first[t] < 0) continue;
    impl->head_buffer[t] = static_cast<int32_t>(impl->buffers.size());
    impl->buffers.push_back({m.tensor(t).bytes, first[t], last[t]});
  }
  for (size_t i = 0; i < impl->steps.size(); ++i) {
    Step& s = impl->steps[i];
    if (s.scratch_per_thread == 0) continue;
    s.scratch_buffer = impl->buffers.size();
    const int32_t si = static_cast<int32_t>(i);
    impl->buffers.push_back(
        {s.scratch_per_thread * std::max<size_t>(1, s.partition.parts()), si,
         si});
  }
  StatusOr<MemoryPlan> plan = PlanMemory(impl->buffers);
  SPARROW_RETURN_IF_ERROR(plan.status());
  impl->plan = std::move(plan).value();

  size_t tail_bytes = 0;
  for (const TailRequest& r : impl->tail) {
    size_t aligned;
    if (!AlignArenaSize(r.bytes, &aligned) ||
        __builtin_add_overflow(tail_bytes, aligned, &tail_bytes)) {
      return OutOfRange("persistent arena bytes overflow size_t");
    }
  }
  impl->tail_bytes = tail_bytes;

  ArenaSummary& sum = impl->summary;
  sum.head_bytes = impl->plan.head_bytes;
  sum.head_lower_bound = impl->plan.lower_bound;
  sum.tail_bytes = tail_bytes;
  sum.planned_buffers = impl->buffers.size();
  sum.strategy = PlanStrategyName(impl->plan.strategy);

  for (const Step& s : impl->steps) {
    PlanStep p;
    p.ops = s.ops;
    p.output = s.output;
    p.kernel = interp::StepOpsName(m, s) + ": " + s.kernel;
    p.scratch_bytes =
        s.scratch_per_thread * std::max<size_t>(1, s.partition.parts());
    impl->plan_steps.push_back(std::move(p));
  }
  return impl;
}

// Widens / expands a constant into f32 at `out` ([tensor elements]).
void FillTail(const Model& m, const TailRequest& r) {
  switch (r.fill) {
    case TailFill::kZero:
      memset(r.ptr, 0, r.bytes);
      return;
    case TailFill::kWidenBf16:
      ConvertBf16ToF32(static_cast<const hwy::bfloat16_t*>(m.TensorData(r.tensor)),
                       reinterpret_cast<float*>(r.ptr),
                       m.tensor(r.tensor).num_elements);
      return;
    case TailFill::kExpandSparse: {
      const BlockSparseView* v = m.SparseWeights(r.tensor);
      HWY_ASSERT(v != nullptr);
      ToDense(*v, reinterpret_cast<float*>(r.ptr));
      return;
    }
  }
}

}  // namespace

StatusOr<size_t> Interpreter::ArenaBytesNeeded(const Model& model,
                                               const InterpreterOptions& options) {
  StatusOr<std::unique_ptr<Impl>> impl = Plan(model, options);
  SPARROW_RETURN_IF_ERROR(impl.status());
  const Impl& p = **impl;
  size_t need;
  if (__builtin_add_overflow(p.plan.head_bytes, p.tail_bytes, &need) ||
      __builtin_add_overflow(need, kArenaAlignment - 1, &need)) {
    return OutOfRange("arena bytes overflow size_t");
  }
  return need;
}

StatusOr<Interpreter> Interpreter::Create(const Model& model,
                                          const InterpreterOptions& options) {
  StatusOr<std::unique_ptr<Impl>> planned = Plan(model, options);
  SPARROW_RETURN_IF_ERROR(planned.status());
  std::unique_ptr<Impl> impl = std::move(planned).value();
  StatusOr<Arena> arena =
      Arena::Allocate(impl->plan.head_bytes + impl->tail_bytes);
  SPARROW_RETURN_IF_ERROR(arena.status());
  impl->arena = std::move(arena).value();
  return Bind(std::move(impl));
}

StatusOr<Interpreter> Interpreter::Create(const Model& model, uint8_t* base,
                                          size_t bytes,
                                          const InterpreterOptions& options) {
  if (base == nullptr && bytes != 0) {
    return InvalidArgument("arena is null but arena_bytes=%zu", bytes);
  }
  StatusOr<std::unique_ptr<Impl>> planned = Plan(model, options);
  SPARROW_RETURN_IF_ERROR(planned.status());
  std::unique_ptr<Impl> impl = std::move(planned).value();

  // The whole need for this base, checked before carving anything.
  const uintptr_t addr = reinterpret_cast<uintptr_t>(base);
  const size_t pad = (kArenaAlignment - addr % kArenaAlignment) % kArenaAlignment;
  size_t need = 0;
  if (__builtin_add_overflow(pad, impl->plan.head_bytes, &need) ||
      __builtin_add_overflow(need, impl->tail_bytes, &need)) {
    return OutOfRange("arena bytes overflow size_t");
  }
  if (need > bytes) {
    return ResourceExhausted(
        "arena too small: need %zu bytes, have %zu (head %zu for activations, "
        "tail %zu persistent, %zu alignment padding at this base)",
        need, bytes, impl->plan.head_bytes, impl->tail_bytes, pad);
  }
  StatusOr<Arena> arena = Arena::Wrap(base, bytes);
  SPARROW_RETURN_IF_ERROR(arena.status());
  impl->arena = std::move(arena).value();
  impl->arena_padding = pad;
  return Bind(std::move(impl));
}

// Carves impl->arena, starts the pool and points every tensor and step at
// its memory.
StatusOr<Interpreter> Interpreter::Bind(std::unique_ptr<Impl> impl) {
  const Model& model = *impl->model;
  const InterpreterOptions& options = impl->options;
  SPARROW_RETURN_IF_ERROR(impl->arena.SetHeadBytes(impl->plan.head_bytes));
  for (TailRequest& r : impl->tail) {
    StatusOr<uint8_t*> p = impl->arena.AllocatePersistent(r.bytes);
    SPARROW_RETURN_IF_ERROR(p.status());
    r.ptr = *p;
  }

  if (options.threads > 1) {
    ThreadPool::Options po;
    po.threads = options.threads;
    po.cpus = options.cores;
    po.pin = options.pin;
    StatusOr<std::unique_ptr<ThreadPool>> pool = ThreadPool::Create(po);
    SPARROW_RETURN_IF_ERROR(pool.status());
    impl->pool = std::move(pool).value();
  }

  const Model& m = model;
  impl->data.assign(m.num_tensors(), nullptr);
  uint8_t* head = impl->arena.head();
  for (size_t t = 0; t < m.num_tensors(); ++t) {
    const int32_t ti = static_cast<int32_t>(t);
    if (impl->state_tail[t] >= 0) {
      impl->data[t] = impl->tail[impl->state_tail[t]].ptr;
    } else if (impl->head_buffer[t] >= 0) {
      impl->data[t] = head + impl->plan.offsets[impl->head_buffer[t]];
    } else if (IsConstant(m, ti)) {
      impl->data[t] = const_cast<void*>(m.TensorData(t));
    }
  }
  for (Step& s : impl->steps) {
    for (size_t i = 0; i < 3; ++i) {
      if (s.tail[i] >= 0) s.repacked[i] = impl->tail[s.tail[i]].ptr;
    }
    if (s.scratch_buffer != ~size_t{0}) {
      s.scratch = head + impl->plan.offsets[s.scratch_buffer];
    }
  }
  for (const TailRequest& r : impl->tail) FillTail(m, r);

  impl->exec.model = &m;
  impl->exec.data = impl->data.data();
  impl->exec.pool = impl->pool.get();
  impl->exec.threads = options.threads;
  impl->exec.accuracy = options.accuracy;

  Interpreter interp(std::move(impl));
  interp.ResetState();
  return interp;
}

Interpreter::Interpreter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Interpreter::Interpreter(Interpreter&&) noexcept = default;
Interpreter& Interpreter::operator=(Interpreter&&) noexcept = default;
Interpreter::~Interpreter() = default;

size_t Interpreter::num_inputs() const { return impl_->model->inputs().size(); }
size_t Interpreter::num_outputs() const {
  return impl_->model->outputs().size();
}

static TensorView View(const Interpreter::Impl& impl, int32_t t) {
  const TensorInfo& info = impl.model->tensor(t);
  TensorView v;
  v.name = info.name;
  v.shape = info.shape;
  v.dtype = info.dtype;
  v.data = impl.data[t];
  v.bytes = info.bytes;
  v.num_elements = info.num_elements;
  return v;
}

TensorView Interpreter::input(size_t i) const {
  HWY_ASSERT(i < num_inputs());
  return View(*impl_, impl_->model->inputs()[i]);
}
TensorView Interpreter::output(size_t i) const {
  HWY_ASSERT(i < num_outputs());
  return View(*impl_, impl_->model->outputs()[i]);
}

Status Interpreter::Invoke(uint64_t* step_ns) {
  const Exec& e = impl_->exec;
  for (size_t i = 0; i < impl_->steps.size(); ++i) {
    const Step& s = impl_->steps[i];
    const uint64_t t0 = step_ns ? NowNs() : 0;
    SPARROW_RETURN_IF_ERROR(s.run(e, s));
    if (step_ns) step_ns[i] = NowNs() - t0;
  }
  return OkStatus();
}

void Interpreter::ResetState() {
  const Model& m = *impl_->model;
  for (size_t t = 0; t < m.num_tensors(); ++t) {
    if (impl_->state_tail[t] < 0) continue;
    const void* initial = m.TensorData(t);
    if (initial != nullptr) {
      memcpy(impl_->data[t], initial, m.tensor(t).bytes);
    } else {
      memset(impl_->data[t], 0, m.tensor(t).bytes);
    }
  }
}

size_t Interpreter::ArenaBytesUsed() const {
  return impl_->arena_padding + impl_->arena.BytesUsed();
}
const ArenaSummary& Interpreter::arena_summary() const {
  return impl_->summary;
}
const std::vector<PlanStep>& Interpreter::steps() const {
  return impl_->plan_steps;
}
size_t Interpreter::num_threads() const { return impl_->options.threads; }

}  // namespace sparrow
