// Learning-rate schedules: constant, step decay, and cosine decay with linear
// warm-up.
//
//   sparrow::StatusOr<sparrow::train::Schedule> s =
//       sparrow::train::Schedule::Parse("cosine:warmup=100,total=5000,min=1e-5",
//                                       optimizer->lr());
//   if (!s.ok()) { fprintf(stderr, "%s\n", s.status().message()); ... }
//   for (int64_t step = 0; step < 5000; ++step) {
//     ...
//     optimizer->Step(params, s->LearningRate(step));
//   }
//
// `step` counts the optimizer steps already taken (0 for the first update),
// and `lr` is the base (peak) rate, usually the optimizer's:
//   constant:  lr.
//   step:      lr * gamma^floor(step / every)            (torch's StepLR).
//   cosine:    lr * (step + 1) / warmup         for step < warmup (so the
//                                                first step is not wasted),
//              min + (lr - min) * (1 + cos(pi * (step - warmup) /
//                                  (total - warmup))) / 2   up to total,
//              min                              from step >= total on.
// Specs: "constant", "step:every=N[,gamma=F]" (gamma defaults to 0.1),
// "cosine:total=N[,warmup=N][,min=F]" (warmup and min default to 0).
//
// Contract: the factories and Parse validate everything (INVALID_ARGUMENT
// naming the field and value); LearningRate is then a pure function, computed
// in double and rounded once, finite and >= 0 for every step >= 0 (a
// negative step is a caller bug: HWY_ASSERT). A Schedule is a small value,
// thread-safe to read.
#ifndef SPARROW_TRAINER_OPTIM_SCHEDULE_H_
#define SPARROW_TRAINER_OPTIM_SCHEDULE_H_

#include <stdint.h>

#include <string>

#include "kernels/status.h"

namespace sparrow {
namespace train {

class Schedule {
 public:
  enum class Kind { kConstant, kStep, kCosine };

  // lr: finite, >= 0.
  static StatusOr<Schedule> Constant(float lr);
  // every >= 1; gamma finite, in (0, 1].
  static StatusOr<Schedule> StepDecay(float lr, int64_t every, float gamma);
  // 0 <= warmup_steps < total_steps; min_lr finite, in [0, lr].
  static StatusOr<Schedule> Cosine(float lr, int64_t warmup_steps,
                                   int64_t total_steps, float min_lr);
  // One of the specs above, with base rate `lr`.
  static StatusOr<Schedule> Parse(const std::string& spec, float lr);

  float LearningRate(int64_t step) const;

  Kind kind() const { return kind_; }
  float base_lr() const { return lr_; }
  // The spec Parse turns back into this schedule (the base rate aside), e.g.
  // "cosine:warmup=100,total=5000,min=1e-05".
  std::string ToString() const;

 private:
  Schedule() = default;

  Kind kind_ = Kind::kConstant;
  float lr_ = 0.0f;
  int64_t every_ = 1;    // kStep
  float gamma_ = 1.0f;   // kStep
  int64_t warmup_ = 0;   // kCosine
  int64_t total_ = 1;    // kCosine
  float min_lr_ = 0.0f;  // kCosine
};

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_OPTIM_SCHEDULE_H_
