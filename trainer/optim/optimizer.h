// Optimizers for the trainer: SGD (momentum, Nesterov, L2 weight decay), Adam
// and AdamW, with PyTorch's update rules.
//
//   sparrow::StatusOr<std::unique_ptr<sparrow::train::Optimizer>> opt =
//       sparrow::train::Optimizer::Create("adamw:lr=3e-4,wd=0.1");
//   if (!opt.ok()) { fprintf(stderr, "%s\n", opt.status().message()); ... }
//   std::vector<sparrow::train::Param*> params = {&w, &b};  // a fixed order
//   for (int64_t step = 0; step < steps; ++step) {
//     ...forward, backward: gradients accumulate into p->grad...
//     (*opt)->Step(params, schedule.LearningRate(step));
//     for (Param* p : params) p->ZeroGrad();
//   }
//
// Update rules, per element, g = p.grad, t = 1, 2, ... the step number:
//   sgd:   g += wd*p (L2, as torch.optim.SGD; skipped for p.decay == false);
//          with momentum m: b = g at t == 1, else b = m*b + g (dampening 0);
//          g = nesterov ? g + m*b : b;  p -= lr*g.
//   adam:  g += wd*p (L2, as torch.optim.Adam);  m1 = b1*m1 + (1-b1)*g;
//          m2 = b2*m2 + (1-b2)*g*g;
//          p -= lr/(1-b1^t) * m1 / (sqrt(m2)/sqrt(1-b2^t) + eps).
//   adamw: p *= 1 - lr*wd (decoupled, as torch.optim.AdamW), then adam's
//          update without the L2 term.
// Scalars that depend only on t and the hyper-parameters are computed in
// double and rounded to float once, and the per-element arithmetic is done in
// float in the order PyTorch's CPU code does it: after six steps results
// agree with torch.optim to 1 ulp (optimizer_test.cc; torch's AVX2 kernels
// fuse some multiply-adds, we never do). Weight
// decay applies only to params with `decay` set: PyTorch's equivalent is a
// second param group with weight_decay=0.
//
// Contract:
// - Step(params, lr) updates every param's value from its grad, in the order
//   given, with plain scalar loops and no threads: the same inputs give the
//   same bits. It reads grads and does not clear them.
// - State is per parameter, keyed by position. The first Step (or LoadState)
//   binds the optimizer to the params' names and sizes; every later Step with
//   a different count, name or size is a caller bug and aborts (HWY_ASSERT),
//   as do lr < 0, a non-finite lr and value/grad sizes that differ from
//   Param::Size().
// - SaveState/LoadState carry the whole state (kind, step count, per-param
//   names, sizes and buffers) for checkpoints; LoadState distrusts its bytes
//   and leaves the optimizer unchanged when it fails. Hyper-parameters are not
//   part of the state: a resumed run may change them.
// - Not thread-safe; the optimizer owns its state, the caller its params.
#ifndef SPARROW_TRAINER_OPTIM_OPTIMIZER_H_
#define SPARROW_TRAINER_OPTIM_OPTIMIZER_H_

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "kernels/status.h"
#include "trainer/param.h"

namespace sparrow {
namespace train {

struct SgdOptions {
  float lr = 0.01f;
  float momentum = 0.0f;      // [0, 1)
  float weight_decay = 0.0f;  // >= 0; L2, added to the gradient
  bool nesterov = false;      // needs momentum > 0
};

// torch.optim.Adam: weight decay is L2, added to the gradient.
struct AdamOptions {
  float lr = 1e-3f;
  float beta1 = 0.9f;         // [0, 1)
  float beta2 = 0.999f;       // [0, 1)
  float eps = 1e-8f;          // > 0
  float weight_decay = 0.0f;  // >= 0
};

// torch.optim.AdamW: weight decay is decoupled, p *= 1 - lr*weight_decay.
struct AdamWOptions {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.01f;
};

// INVALID_ARGUMENT naming the field and value for NaN, infinite or
// out-of-range hyper-parameters (ranges in the option structs).
Status Validate(const SgdOptions& options);
Status Validate(const AdamOptions& options);
Status Validate(const AdamWOptions& options);

class Optimizer {
 public:
  // Validate(options), then the optimizer.
  static StatusOr<std::unique_ptr<Optimizer>> Create(const SgdOptions& options);
  static StatusOr<std::unique_ptr<Optimizer>> Create(
      const AdamOptions& options);
  static StatusOr<std::unique_ptr<Optimizer>> Create(
      const AdamWOptions& options);
  // By name, with optional overrides of the defaults above:
  //   "sgd[:lr=F,momentum=F,wd=F,nesterov=0|1]"
  //   "adam[:lr=F,beta1=F,beta2=F,eps=F,wd=F]", "adamw[:...same keys...]"
  // Unknown names and keys, malformed values and bad hyper-parameters are
  // INVALID_ARGUMENT quoting the spec.
  static StatusOr<std::unique_ptr<Optimizer>> Create(const std::string& spec);

  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  const char* kind() const { return kind_; }  // "sgd", "adam" or "adamw"
  float lr() const { return lr_; }            // the options' lr
  // The spec that Create(spec) turns back into this optimizer, e.g.
  // "sgd:lr=0.1,momentum=0.9,wd=0,nesterov=0".
  virtual std::string ToString() const = 0;

  // Steps taken so far (restored by LoadState).
  int64_t steps() const { return steps_; }

  // One update of every param at learning rate `lr` (from the schedule; it
  // overrides the options' lr). See the contract above.
  void Step(const std::vector<Param*>& params, float lr);
  void Step(const std::vector<Param*>& params) { Step(params, lr_); }

  // Checkpoint hooks. SaveState appends exactly StateBytes() bytes to *out.
  size_t StateBytes() const;
  void SaveState(std::vector<uint8_t>* out) const;
  // Replaces the state with SaveState's bytes, which must come from an
  // optimizer of the same kind and number of buffers per param (SGD with and
  // without momentum differ) and match `params` in count, names and sizes.
  // Truncated, oversized or corrupt bytes are DATA_LOSS; a mismatch is
  // INVALID_ARGUMENT naming the param or field. On error nothing changes.
  Status LoadState(const uint8_t* data, size_t size,
                   const std::vector<Param*>& params);

 protected:
  // `buffers` floats of state per param element (0 for plain SGD).
  Optimizer(const char* kind, float lr, int buffers)
      : kind_(kind), lr_(lr), buffers_(buffers) {}

  // Updates p.value from p.grad. state[0..buffers) each hold p.Size() floats,
  // zero before the first step; t >= 1 is the step number.
  virtual void Update(Param& p, float* const* state, int64_t t, float lr) = 0;

 private:
  struct Slot {
    std::string name;
    size_t size = 0;
    std::vector<float> buffers;  // [buffers_, size]
  };

  void Bind(const std::vector<Param*>& params);

  const char* kind_;
  float lr_;
  int buffers_;
  bool bound_ = false;
  int64_t steps_ = 0;
  std::vector<Slot> slots_;  // one per param, in Step's order
};

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_OPTIM_OPTIMIZER_H_
