#include "trainer/optim/optimizer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <type_traits>
#include <utility>

#include "hwy/base.h"
#include "kernels/adam.h"
#include "trainer/optim/byte_io.h"
#include "trainer/optim/spec.h"

namespace sparrow {
namespace train {
namespace {

constexpr uint32_t kStateVersion = 1;
constexpr size_t kMaxNameBytes = 4096;

Status CheckRange(const char* opt, const char* field, float v, float lo,
                  bool lo_open, float hi, bool hi_open) {
  const bool ok = isfinite(v) && (lo_open ? v > lo : v >= lo) &&
                  (hi_open ? v < hi : v <= hi);
  if (ok) return OkStatus();
  return InvalidArgument("%s: %s=%g must be finite and in %c%g, %g%c", opt,
                         field, v, lo_open ? '(' : '[', lo, hi,
                         hi_open ? ')' : ']');
}

constexpr float kInf = HUGE_VALF;

Status ValidateAdam(const char* opt, float lr, float beta1, float beta2,
                    float eps, float wd) {
  SPARROW_RETURN_IF_ERROR(CheckRange(opt, "lr", lr, 0, false, kInf, true));
  SPARROW_RETURN_IF_ERROR(CheckRange(opt, "beta1", beta1, 0, false, 1, true));
  SPARROW_RETURN_IF_ERROR(CheckRange(opt, "beta2", beta2, 0, false, 1, true));
  SPARROW_RETURN_IF_ERROR(CheckRange(opt, "eps", eps, 0, true, kInf, true));
  return CheckRange(opt, "weight_decay", wd, 0, false, kInf, true);
}

class Sgd : public Optimizer {
 public:
  explicit Sgd(const SgdOptions& o)
      : Optimizer("sgd", o.lr, o.momentum != 0.0f ? 1 : 0), o_(o) {}

  std::string ToString() const override {
    return "sgd:lr=" + ShortFloat(o_.lr) + ",momentum=" +
           ShortFloat(o_.momentum) + ",wd=" + ShortFloat(o_.weight_decay) +
           ",nesterov=" + (o_.nesterov ? "1" : "0");
  }

 protected:
  void Update(Param& p, float* const* state, int64_t t, float lr) override {
    float* HWY_RESTRICT value = p.value.data();
    const float* HWY_RESTRICT grad = p.grad.data();
    const size_t n = p.Size();
    const float wd = p.decay ? o_.weight_decay : 0.0f;
    const float m = o_.momentum;
    const bool nesterov = o_.nesterov;
    // Branch-free loops per (decay, momentum) case, so each vectorises.
    auto loop = [&](auto decay, auto momentum) {
      constexpr bool kDecay = decltype(decay)::value;
      constexpr bool kMomentum = decltype(momentum)::value;
      float* HWY_RESTRICT buf = kMomentum ? state[0] : nullptr;
      const bool first = t == 1;
      for (size_t i = 0; i < n; ++i) {
        float g = grad[i];
        if constexpr (kDecay) g = g + wd * value[i];
        if constexpr (kMomentum) {
          // torch.optim.SGD clones the first gradient into the buffer.
          buf[i] = first ? g : buf[i] * m + g;
          g = nesterov ? g + m * buf[i] : buf[i];
        }
        value[i] = value[i] - lr * g;
      }
    };
    using Yes = std::true_type;
    using No = std::false_type;
    if (m == 0.0f) {
      wd != 0.0f ? loop(Yes(), No()) : loop(No(), No());
    } else {
      wd != 0.0f ? loop(Yes(), Yes()) : loop(No(), Yes());
    }
  }

 private:
  const SgdOptions o_;
};

// Adam (L2 decay) and AdamW (decoupled decay) share the moment updates.
class Adam : public Optimizer {
 public:
  Adam(const char* kind, bool decoupled, float lr, float beta1, float beta2,
       float eps, float wd)
      : Optimizer(kind, lr, 2),
        decoupled_(decoupled),
        beta1_(beta1),
        beta2_(beta2),
        eps_(eps),
        wd_(wd) {}

  std::string ToString() const override {
    return std::string(kind()) + ":lr=" + ShortFloat(lr()) + ",beta1=" +
           ShortFloat(beta1_) + ",beta2=" + ShortFloat(beta2_) + ",eps=" +
           ShortFloat(eps_) + ",wd=" + ShortFloat(wd_);
  }

 protected:
  void Update(Param& p, float* const* state, int64_t t, float lr) override {
    float* HWY_RESTRICT value = p.value.data();
    const float* HWY_RESTRICT grad = p.grad.data();
    float* HWY_RESTRICT m1 = state[0];
    float* HWY_RESTRICT m2 = state[1];
    const size_t n = p.Size();
    const float wd = p.decay ? wd_ : 0.0f;
    // As torch.optim: Python doubles, rounded to float where they meet the
    // float tensors.
    const double b1 = beta1_, b2 = beta2_;
    const double bias1 = 1.0 - pow(b1, static_cast<double>(t));
    const double bias2 = 1.0 - pow(b2, static_cast<double>(t));
    AdamCoefficients c;
    c.beta1 = beta1_;
    c.beta2 = beta2_;
    c.one_minus_beta1 = static_cast<float>(1.0 - b1);
    c.one_minus_beta2 = static_cast<float>(1.0 - b2);
    c.neg_step_size = static_cast<float>(-(lr / bias1));
    c.bias2_sqrt = static_cast<float>(sqrt(bias2));
    c.eps = eps_;
    c.shrink = static_cast<float>(1.0 - double{lr} * wd);
    c.l2 = wd;
    c.decay = wd == 0.0f    ? AdamDecay::kNone
              : decoupled_ ? AdamDecay::kDecoupled
                           : AdamDecay::kL2;
    // The SIMD kernel performs the reference's float operations in order
    // (kernels/adam.h), so the bits do not depend on the target.
    AdamUpdate(c, value, grad, m1, m2, n);
  }

 private:
  const bool decoupled_;
  const float beta1_, beta2_, eps_, wd_;
};

}  // namespace

Status Validate(const SgdOptions& o) {
  SPARROW_RETURN_IF_ERROR(CheckRange("sgd", "lr", o.lr, 0, false, kInf, true));
  SPARROW_RETURN_IF_ERROR(
      CheckRange("sgd", "momentum", o.momentum, 0, false, 1, true));
  SPARROW_RETURN_IF_ERROR(
      CheckRange("sgd", "weight_decay", o.weight_decay, 0, false, kInf, true));
  if (o.nesterov && o.momentum == 0.0f) {
    return InvalidArgument("sgd: nesterov needs momentum > 0, got momentum=0");
  }
  return OkStatus();
}

Status Validate(const AdamOptions& o) {
  return ValidateAdam("adam", o.lr, o.beta1, o.beta2, o.eps, o.weight_decay);
}

Status Validate(const AdamWOptions& o) {
  return ValidateAdam("adamw", o.lr, o.beta1, o.beta2, o.eps, o.weight_decay);
}

StatusOr<std::unique_ptr<Optimizer>> Optimizer::Create(const SgdOptions& o) {
  SPARROW_RETURN_IF_ERROR(Validate(o));
  return StatusOr<std::unique_ptr<Optimizer>>(std::make_unique<Sgd>(o));
}

StatusOr<std::unique_ptr<Optimizer>> Optimizer::Create(const AdamOptions& o) {
  SPARROW_RETURN_IF_ERROR(Validate(o));
  return StatusOr<std::unique_ptr<Optimizer>>(std::make_unique<Adam>(
      "adam", false, o.lr, o.beta1, o.beta2, o.eps, o.weight_decay));
}

StatusOr<std::unique_ptr<Optimizer>> Optimizer::Create(const AdamWOptions& o) {
  SPARROW_RETURN_IF_ERROR(Validate(o));
  return StatusOr<std::unique_ptr<Optimizer>>(std::make_unique<Adam>(
      "adamw", true, o.lr, o.beta1, o.beta2, o.eps, o.weight_decay));
}

namespace {

// Quotes the spec in Validate's errors.
StatusOr<std::unique_ptr<Optimizer>> QuoteSpec(
    const Spec& spec, StatusOr<std::unique_ptr<Optimizer>> result) {
  if (result.ok()) return result;
  return spec.Error("%s", result.status().message());
}

StatusOr<std::unique_ptr<Optimizer>> CreateFromSpec(const Spec& spec) {
  if (spec.kind() == "sgd") {
    SgdOptions o;
    SPARROW_RETURN_IF_ERROR(
        spec.CheckKeys({"lr", "momentum", "wd", "nesterov"}));
    SPARROW_RETURN_IF_ERROR(spec.GetFloat("lr", false, &o.lr));
    SPARROW_RETURN_IF_ERROR(spec.GetFloat("momentum", false, &o.momentum));
    SPARROW_RETURN_IF_ERROR(spec.GetFloat("wd", false, &o.weight_decay));
    SPARROW_RETURN_IF_ERROR(spec.GetBool("nesterov", false, &o.nesterov));
    return QuoteSpec(spec, Optimizer::Create(o));
  }
  if (spec.kind() != "adam" && spec.kind() != "adamw") {
    return spec.Error("unknown optimizer \"%s\": expected sgd, adam or adamw",
                      spec.kind().c_str());
  }
  SPARROW_RETURN_IF_ERROR(
      spec.CheckKeys({"lr", "beta1", "beta2", "eps", "wd"}));
  // AdamOptions and AdamWOptions differ only in the default weight decay.
  AdamWOptions o;
  if (spec.kind() == "adam") o.weight_decay = AdamOptions().weight_decay;
  SPARROW_RETURN_IF_ERROR(spec.GetFloat("lr", false, &o.lr));
  SPARROW_RETURN_IF_ERROR(spec.GetFloat("beta1", false, &o.beta1));
  SPARROW_RETURN_IF_ERROR(spec.GetFloat("beta2", false, &o.beta2));
  SPARROW_RETURN_IF_ERROR(spec.GetFloat("eps", false, &o.eps));
  SPARROW_RETURN_IF_ERROR(spec.GetFloat("wd", false, &o.weight_decay));
  if (spec.kind() == "adamw") return QuoteSpec(spec, Optimizer::Create(o));
  return QuoteSpec(spec, Optimizer::Create(AdamOptions{o.lr, o.beta1, o.beta2,
                                                       o.eps, o.weight_decay}));
}

}  // namespace

StatusOr<std::unique_ptr<Optimizer>> Optimizer::Create(
    const std::string& text) {
  StatusOr<Spec> spec = Spec::Parse(text, "optimizer");
  if (!spec.ok()) return spec.status();
  return CreateFromSpec(*spec);
}

void Optimizer::Bind(const std::vector<Param*>& params) {
  slots_.clear();
  slots_.resize(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    slots_[i].name = params[i]->name;
    slots_[i].size = params[i]->Size();
    slots_[i].buffers.assign(static_cast<size_t>(buffers_) * slots_[i].size,
                             0.0f);
  }
  bound_ = true;
}

void Optimizer::Step(const std::vector<Param*>& params, float lr) {
  HWY_ASSERT(isfinite(lr) && lr >= 0.0f);
  if (!bound_) Bind(params);
  // The state is keyed by position: a different model is a caller bug.
  HWY_ASSERT(params.size() == slots_.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const Param& p = *params[i];
    HWY_ASSERT(p.name == slots_[i].name);
    HWY_ASSERT(p.Size() == slots_[i].size);
    HWY_ASSERT(p.value.size() == p.Size() && p.grad.size() == p.Size());
  }
  ++steps_;
  float* state[2] = {nullptr, nullptr};
  for (size_t i = 0; i < params.size(); ++i) {
    Slot& slot = slots_[i];
    for (int b = 0; b < buffers_; ++b) {
      state[b] = slot.buffers.data() + static_cast<size_t>(b) * slot.size;
    }
    Update(*params[i], state, steps_, lr);
  }
}

size_t Optimizer::StateBytes() const {
  size_t bytes = 4 + 4 + strlen(kind_) + 4 + 8 + 4;
  for (const Slot& s : slots_) {
    bytes += 4 + s.name.size() + 8 + s.buffers.size() * sizeof(float);
  }
  return bytes;
}

void Optimizer::SaveState(std::vector<uint8_t>* out) const {
  const size_t start = out->size();
  ByteWriter w(out);
  w.U32(kStateVersion);
  w.String(kind_);
  w.U32(static_cast<uint32_t>(buffers_));
  w.I64(steps_);
  w.U32(static_cast<uint32_t>(slots_.size()));
  for (const Slot& s : slots_) {
    w.String(s.name);
    w.U64(s.size);
    w.Floats(s.buffers.data(), s.buffers.size());
  }
  HWY_ASSERT(out->size() - start == StateBytes());
}

Status Optimizer::LoadState(const uint8_t* data, size_t size,
                            const std::vector<Param*>& params) {
  ByteReader r(data, size, "optimizer state");
  uint32_t version, buffers, count;
  std::string kind;
  int64_t steps;
  SPARROW_RETURN_IF_ERROR(r.U32("version", &version));
  if (version != kStateVersion) {
    return InvalidArgument("optimizer state: version=%u, expected %u", version,
                           kStateVersion);
  }
  SPARROW_RETURN_IF_ERROR(r.String("kind", 16, &kind));
  if (kind != kind_) {
    return InvalidArgument(
        "optimizer state: kind=\"%s\", but this optimizer is \"%s\"",
        kind.c_str(), kind_);
  }
  SPARROW_RETURN_IF_ERROR(r.U32("buffers", &buffers));
  if (buffers != static_cast<uint32_t>(buffers_)) {
    return InvalidArgument(
        "optimizer state: %s with buffers=%u per param, this %s has %d "
        "(momentum on one side only?)",
        kind_, buffers, kind_, buffers_);
  }
  SPARROW_RETURN_IF_ERROR(r.I64("steps", &steps));
  if (steps < 0) {
    return InvalidArgument("optimizer state: steps=%lld must be >= 0",
                           static_cast<long long>(steps));
  }
  SPARROW_RETURN_IF_ERROR(r.U32("num_params", &count));
  if (count != params.size()) {
    return InvalidArgument(
        "optimizer state: num_params=%u, the model has %zu params", count,
        params.size());
  }
  std::vector<Slot> slots(count);
  for (size_t i = 0; i < count; ++i) {
    Slot& s = slots[i];
    const Param& p = *params[i];
    SPARROW_RETURN_IF_ERROR(r.String("param name", kMaxNameBytes, &s.name));
    if (s.name != p.name) {
      return InvalidArgument(
          "optimizer state: param %zu is \"%s\", the model's is \"%s\"", i,
          s.name.c_str(), p.name.c_str());
    }
    uint64_t n;
    SPARROW_RETURN_IF_ERROR(r.U64("param size", &n));
    if (n != p.Size()) {
      return InvalidArgument(
          "optimizer state: param \"%s\" has size=%llu, the model's has %zu",
          p.name.c_str(), static_cast<unsigned long long>(n), p.Size());
    }
    s.size = p.Size();
    // Bounded by the model's size, which was just checked.
    s.buffers.resize(static_cast<size_t>(buffers_) * s.size);
    SPARROW_RETURN_IF_ERROR(
        r.Floats("param state", s.buffers.size(), s.buffers.data()));
    for (size_t j = 0; j < s.buffers.size(); ++j) {
      const float v = s.buffers[j];
      // Adam's second moment (buffer 1) is a running mean of squares.
      const bool second_moment = buffers_ == 2 && j >= s.size;
      if (!isfinite(v) || (second_moment && v < 0.0f)) {
        return InvalidArgument(
            "optimizer state: param \"%s\" buffer %zu element %zu is %g",
            p.name.c_str(), j / s.size, j % s.size, v);
      }
    }
  }
  SPARROW_RETURN_IF_ERROR(r.ExpectEnd());
  slots_ = std::move(slots);
  steps_ = steps;
  bound_ = true;
  return OkStatus();
}

}  // namespace train
}  // namespace sparrow
