#include "trainer/optim/schedule.h"

#include <math.h>
#include <stdio.h>

#include "hwy/base.h"
#include "trainer/optim/spec.h"

namespace sparrow {
namespace train {
namespace {

Status CheckLr(const char* kind, float lr) {
  if (isfinite(lr) && lr >= 0.0f) return OkStatus();
  return InvalidArgument("%s schedule: lr=%g must be finite and >= 0", kind,
                         lr);
}

}  // namespace

StatusOr<Schedule> Schedule::Constant(float lr) {
  SPARROW_RETURN_IF_ERROR(CheckLr("constant", lr));
  Schedule s;
  s.kind_ = Kind::kConstant;
  s.lr_ = lr;
  return s;
}

StatusOr<Schedule> Schedule::StepDecay(float lr, int64_t every, float gamma) {
  SPARROW_RETURN_IF_ERROR(CheckLr("step", lr));
  if (every < 1) {
    return InvalidArgument("step schedule: every=%lld must be >= 1",
                           static_cast<long long>(every));
  }
  if (!(isfinite(gamma) && gamma > 0.0f && gamma <= 1.0f)) {
    return InvalidArgument("step schedule: gamma=%g must be in (0, 1]", gamma);
  }
  Schedule s;
  s.kind_ = Kind::kStep;
  s.lr_ = lr;
  s.every_ = every;
  s.gamma_ = gamma;
  return s;
}

StatusOr<Schedule> Schedule::Cosine(float lr, int64_t warmup_steps,
                                    int64_t total_steps, float min_lr) {
  SPARROW_RETURN_IF_ERROR(CheckLr("cosine", lr));
  if (warmup_steps < 0) {
    return InvalidArgument("cosine schedule: warmup=%lld must be >= 0",
                           static_cast<long long>(warmup_steps));
  }
  if (total_steps <= warmup_steps) {
    return InvalidArgument(
        "cosine schedule: total=%lld must be greater than warmup=%lld",
        static_cast<long long>(total_steps),
        static_cast<long long>(warmup_steps));
  }
  if (!(isfinite(min_lr) && min_lr >= 0.0f && min_lr <= lr)) {
    return InvalidArgument("cosine schedule: min=%g must be in [0, lr=%g]",
                           min_lr, lr);
  }
  Schedule s;
  s.kind_ = Kind::kCosine;
  s.lr_ = lr;
  s.warmup_ = warmup_steps;
  s.total_ = total_steps;
  s.min_lr_ = min_lr;
  return s;
}

namespace {

StatusOr<Schedule> QuoteSpec(const Spec& spec, StatusOr<Schedule> result) {
  if (result.ok()) return result;
  return spec.Error("%s", result.status().message());
}

}  // namespace

StatusOr<Schedule> Schedule::Parse(const std::string& text, float lr) {
  StatusOr<Spec> parsed = Spec::Parse(text, "schedule");
  if (!parsed.ok()) return parsed.status();
  const Spec& spec = *parsed;
  if (spec.kind() == "constant") {
    SPARROW_RETURN_IF_ERROR(spec.CheckKeys({}));
    return QuoteSpec(spec, Constant(lr));
  }
  if (spec.kind() == "step") {
    SPARROW_RETURN_IF_ERROR(spec.CheckKeys({"every", "gamma"}));
    int64_t every = 0;
    float gamma = 0.1f;
    SPARROW_RETURN_IF_ERROR(spec.GetInt("every", true, &every));
    SPARROW_RETURN_IF_ERROR(spec.GetFloat("gamma", false, &gamma));
    return QuoteSpec(spec, StepDecay(lr, every, gamma));
  }
  if (spec.kind() == "cosine") {
    SPARROW_RETURN_IF_ERROR(spec.CheckKeys({"warmup", "total", "min"}));
    int64_t warmup = 0, total = 0;
    float min_lr = 0.0f;
    SPARROW_RETURN_IF_ERROR(spec.GetInt("total", true, &total));
    SPARROW_RETURN_IF_ERROR(spec.GetInt("warmup", false, &warmup));
    SPARROW_RETURN_IF_ERROR(spec.GetFloat("min", false, &min_lr));
    return QuoteSpec(spec, Cosine(lr, warmup, total, min_lr));
  }
  return spec.Error(
      "unknown schedule \"%s\": expected constant, step or cosine",
      spec.kind().c_str());
}

float Schedule::LearningRate(int64_t step) const {
  HWY_ASSERT(step >= 0);
  const double lr = lr_;
  switch (kind_) {
    case Kind::kConstant:
      return lr_;
    case Kind::kStep:
      return static_cast<float>(
          lr * pow(double{gamma_}, static_cast<double>(step / every_)));
    case Kind::kCosine: {
      if (step < warmup_) {
        return static_cast<float>(lr * static_cast<double>(step + 1) /
                                  static_cast<double>(warmup_));
      }
      if (step >= total_) return min_lr_;
      const double progress = static_cast<double>(step - warmup_) /
                              static_cast<double>(total_ - warmup_);
      const double min_lr = min_lr_;
      return static_cast<float>(min_lr + (lr - min_lr) * 0.5 *
                                             (1.0 + cos(M_PI * progress)));
    }
  }
  HWY_ASSERT(false);
  return 0.0f;
}

std::string Schedule::ToString() const {
  char buf[128];
  switch (kind_) {
    case Kind::kConstant:
      return "constant";
    case Kind::kStep:
      snprintf(buf, sizeof(buf), "step:every=%lld,gamma=%s",
               static_cast<long long>(every_), ShortFloat(gamma_).c_str());
      return buf;
    case Kind::kCosine:
      snprintf(buf, sizeof(buf), "cosine:warmup=%lld,total=%lld,min=%s",
               static_cast<long long>(warmup_), static_cast<long long>(total_),
               ShortFloat(min_lr_).c_str());
      return buf;
  }
  return "?";
}

}  // namespace train
}  // namespace sparrow
