// Activations and softmax: Sparrow's two tiers against std::, Eigen, Highway's
// contrib math and LPCNet's AVX2 tanh approximation, on the same data in one
// binary. Each case also reports the max error of its implementation over a
// dense grid (counters max_abs_err and max_ulp, vs double), so speed and
// accuracy are read from the same table. The *Backward cases (dx += dy
// act'(x), the trainer's) run against Eigen and the trainer's former loops.
//   bazel run -c opt //bench:activation_bench -- --benchmark_min_time=0.2
#include <math.h>
#include <stddef.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "bench/activation_bench.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"

// Peer: Highway's contrib math (Tanh, Exp), in a loop compiled per target.
HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace bench {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class Func>
HWY_INLINE void HwyLoop(const float* in, float* out, size_t n, Func func) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(func(d, hn::LoadU(d, in + i)), d, out + i);
  if (i < n) {
    HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)] = {0};
    std::copy(in + i, in + n, buf);
    hn::Store(func(d, hn::Load(d, buf)), d, buf);
    std::copy(buf, buf + (n - i), out + i);
  }
}

void HwyTanh(const float* in, float* out, size_t n) {
  HwyLoop(in, out, n, [](auto d, auto v) HWY_ATTR { return hn::Tanh(d, v); });
}
void HwyExp(const float* in, float* out, size_t n) {
  HwyLoop(in, out, n, [](auto d, auto v) HWY_ATTR { return hn::Exp(d, v); });
}
void HwySigmoid(const float* in, float* out, size_t n) {
  HwyLoop(in, out, n, [](auto d, auto v) HWY_ATTR {
    const auto one = hn::Set(d, 1.0f);
    return hn::Div(one, hn::Add(one, hn::Exp(d, hn::Neg(v))));
  });
}
void HwyGelu(const float* in, float* out, size_t n) {
  HwyLoop(in, out, n, [](auto d, auto x) HWY_ATTR {
    const auto u = hn::Mul(hn::Set(d, 0.7978845608f),
                           hn::MulAdd(hn::Mul(hn::Set(d, 0.044715f), x),
                                      hn::Mul(x, x), x));
    return hn::Mul(hn::Mul(hn::Set(d, 0.5f), x),
                   hn::Add(hn::Set(d, 1.0f), hn::Tanh(d, u)));
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace bench
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <immintrin.h>

#include <Eigen/Core>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "kernels/activations.h"
#include "kernels/activations_scalar.h"

namespace sparrow {
namespace bench {
namespace {

HWY_EXPORT(HwyTanh);
HWY_EXPORT(HwyExp);
HWY_EXPORT(HwySigmoid);
HWY_EXPORT(HwyGelu);

using ArrayFn = void (*)(const float* in, float* out, size_t n);

// ------------------------------ Peers

// LPCNet's AVX2 tanh approximation, re-implemented from its published formula:
// tanh(x) ~ x (N0 + N1 x^2 + N2 x^4) / (D0 + D1 x^2 + D2 x^4), the division
// by the 12-bit hardware reciprocal estimate, the result clamped to [-1, 1].
constexpr float kLpcN0 = 952.52801514f, kLpcN1 = 96.39235687f,
                kLpcN2 = 0.60863042f;
constexpr float kLpcD0 = 952.72399902f, kLpcD1 = 413.36801147f,
                kLpcD2 = 11.88600922f;

__attribute__((target("avx2,fma"))) inline __m256 LpcnetTanh8(__m256 x) {
  const __m256 x2 = _mm256_mul_ps(x, x);
  __m256 num = _mm256_fmadd_ps(_mm256_set1_ps(kLpcN2), x2, _mm256_set1_ps(kLpcN1));
  num = _mm256_mul_ps(_mm256_fmadd_ps(num, x2, _mm256_set1_ps(kLpcN0)), x);
  __m256 den = _mm256_fmadd_ps(_mm256_set1_ps(kLpcD2), x2, _mm256_set1_ps(kLpcD1));
  den = _mm256_fmadd_ps(den, x2, _mm256_set1_ps(kLpcD0));
  const __m256 y = _mm256_mul_ps(num, _mm256_rcp_ps(den));
  return _mm256_max_ps(_mm256_set1_ps(-1.0f), _mm256_min_ps(_mm256_set1_ps(1.0f), y));
}

// The tail (n % 8) goes through a zero-padded vector, as LPCNet pads its
// buffers to a multiple of 8.
__attribute__((target("avx2,fma"))) void LpcnetTanh(const float* in, float* out,
                                                     size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, LpcnetTanh8(_mm256_loadu_ps(in + i)));
  if (i < n) {
    float buf[8] = {0};
    std::copy(in + i, in + n, buf);
    _mm256_storeu_ps(buf, LpcnetTanh8(_mm256_loadu_ps(buf)));
    std::copy(buf, buf + (n - i), out + i);
  }
}

// LPCNet's sigmoid: 0.5 + 0.5 tanh(x / 2) with the same approximation.
__attribute__((target("avx2,fma"))) void LpcnetSigmoid(const float* in,
                                                        float* out, size_t n) {
  const __m256 half = _mm256_set1_ps(0.5f);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 t = LpcnetTanh8(_mm256_mul_ps(half, _mm256_loadu_ps(in + i)));
    _mm256_storeu_ps(out + i, _mm256_fmadd_ps(half, t, half));
  }
  for (; i < n; ++i) {
    float buf[8] = {in[i]};
    _mm256_storeu_ps(buf, _mm256_fmadd_ps(half, LpcnetTanh8(_mm256_mul_ps(half, _mm256_loadu_ps(buf))), half));
    out[i] = buf[0];
  }
}

void StdTanh(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = std::tanh(in[i]);
}
void StdExp(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = std::exp(in[i]);
}
void StdSigmoid(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = 1.0f / (1.0f + std::exp(-in[i]));
}
void StdGelu(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float x = in[i];
    out[i] = 0.5f * x * (1.0f + std::tanh(0.7978845608f * (x + 0.044715f * x * x * x)));
  }
}
void StdSoftmax(const float* in, float* out, size_t n) {
  float max = in[0];
  for (size_t i = 1; i < n; ++i) max = std::max(max, in[i]);
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) sum += out[i] = std::exp(in[i] - max);
  const float inv = 1.0f / sum;
  for (size_t i = 0; i < n; ++i) out[i] *= inv;
}

using EigenIn = Eigen::Map<const Eigen::ArrayXf>;
using EigenOut = Eigen::Map<Eigen::ArrayXf>;
void EigenTanh(const float* in, float* out, size_t n) {
  EigenOut(out, n) = EigenIn(in, n).tanh();
}
void EigenExp(const float* in, float* out, size_t n) {
  EigenOut(out, n) = EigenIn(in, n).exp();
}
void EigenSigmoid(const float* in, float* out, size_t n) {
  EigenOut(out, n) = EigenIn(in, n).logistic();
}
void EigenGelu(const float* in, float* out, size_t n) {
  const EigenIn x(in, n);
  EigenOut(out, n) =
      0.5f * x * (1.0f + (0.7978845608f * (x + 0.044715f * x.cube())).tanh());
}
void EigenSoftmax(const float* in, float* out, size_t n) {
  const EigenIn x(in, n);
  EigenOut y(out, n);
  y = (x - x.maxCoeff()).exp();
  y *= 1.0f / y.sum();
}

// ------------------------------ Ours

void SparrowTanhPrecise(const float* in, float* out, size_t n) { Tanh(in, out, n); }
void SparrowTanhFast(const float* in, float* out, size_t n) {
  Tanh(in, out, n, Accuracy::kFast);
}
void SparrowSigmoidPrecise(const float* in, float* out, size_t n) { Sigmoid(in, out, n); }
void SparrowSigmoidFast(const float* in, float* out, size_t n) {
  Sigmoid(in, out, n, Accuracy::kFast);
}
void SparrowExp(const float* in, float* out, size_t n) { Exp(in, out, n); }
void SparrowGeluPrecise(const float* in, float* out, size_t n) { Gelu(in, out, n); }
void SparrowGeluFast(const float* in, float* out, size_t n) {
  Gelu(in, out, n, Accuracy::kFast);
}
void SparrowSoftmax(const float* in, float* out, size_t n) { Softmax(in, out, n); }

void HwyTanhD(const float* in, float* out, size_t n) { HWY_DYNAMIC_DISPATCH(HwyTanh)(in, out, n); }
void HwyExpD(const float* in, float* out, size_t n) { HWY_DYNAMIC_DISPATCH(HwyExp)(in, out, n); }
void HwySigmoidD(const float* in, float* out, size_t n) {
  HWY_DYNAMIC_DISPATCH(HwySigmoid)(in, out, n);
}
void HwyGeluD(const float* in, float* out, size_t n) { HWY_DYNAMIC_DISPATCH(HwyGelu)(in, out, n); }

// ------------------------------ Backward: dx += dy * act'(x)

// x: forward input, y = act(x): forward output (the trainer saves both).
using BackwardFn = void (*)(const float* x, const float* y, const float* dy,
                            float* dx, size_t n);

constexpr float kGeluC = 0.7978845608f, kGeluA = 0.044715f;

// The trainer's former float loops (trainer/layers.h ActivationBackward), with
// trainer/BUILD's TRAINER_COPTS (-fvect-cost-model=dynamic) as the trainer
// compiled them: Tanh and Sigmoid vectorise for SSE2, Relu stays branchy.
#define SPARROW_TRAINER_LOOP __attribute__((optimize("vect-cost-model=dynamic")))
SPARROW_TRAINER_LOOP void ScalarReluBackward(const float* HWY_RESTRICT x, const float*,
                                             const float* HWY_RESTRICT dy,
                                             float* HWY_RESTRICT dx, size_t n) {
  for (size_t i = 0; i < n; ++i) dx[i] += x[i] > 0.0f ? dy[i] : 0.0f;
}
SPARROW_TRAINER_LOOP void ScalarTanhBackward(const float*, const float* HWY_RESTRICT y,
                                             const float* HWY_RESTRICT dy,
                                             float* HWY_RESTRICT dx, size_t n) {
  for (size_t i = 0; i < n; ++i) dx[i] += dy[i] * (1.0f - y[i] * y[i]);
}
SPARROW_TRAINER_LOOP void ScalarSigmoidBackward(const float*, const float* HWY_RESTRICT y,
                                                const float* HWY_RESTRICT dy,
                                                float* HWY_RESTRICT dx, size_t n) {
  for (size_t i = 0; i < n; ++i) dx[i] += dy[i] * (y[i] * (1.0f - y[i]));
}
SPARROW_TRAINER_LOOP void ScalarGeluBackward(const float* HWY_RESTRICT x, const float*,
                                             const float* HWY_RESTRICT dy,
                                             float* HWY_RESTRICT dx, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    dx[i] += dy[i] * ActivationDerivativeRef(Activation::kGelu, x[i], 0.0f);
  }
}
#undef SPARROW_TRAINER_LOOP

void EigenReluBackward(const float* x, const float*, const float* dy, float* dx,
                       size_t n) {
  EigenOut(dx, n) += (EigenIn(x, n) > 0.0f).select(EigenIn(dy, n), 0.0f);
}
void EigenTanhBackward(const float*, const float* y, const float* dy, float* dx,
                       size_t n) {
  const EigenIn yv(y, n);
  EigenOut(dx, n) += EigenIn(dy, n) * (1.0f - yv * yv);
}
void EigenSigmoidBackward(const float*, const float* y, const float* dy,
                          float* dx, size_t n) {
  const EigenIn yv(y, n);
  EigenOut(dx, n) += EigenIn(dy, n) * (yv * (1.0f - yv));
}
void EigenGeluBackward(const float* x, const float*, const float* dy, float* dx,
                       size_t n) {
  const EigenIn xv(x, n);
  const Eigen::ArrayXf s = (2.0f * kGeluC * (xv + kGeluA * xv.cube())).logistic();
  EigenOut(dx, n) += EigenIn(dy, n) *
                     (s + xv * s * (1.0f - s) * (2.0f * kGeluC) *
                              (1.0f + 3.0f * kGeluA * xv.square()));
}

void SparrowReluBackward(const float* x, const float* y, const float* dy,
                         float* dx, size_t n) {
  ActivateBackward(Activation::kRelu, x, y, dy, dx, n);
}
void SparrowTanhBackward(const float* x, const float* y, const float* dy,
                         float* dx, size_t n) {
  ActivateBackward(Activation::kTanh, x, y, dy, dx, n);
}
void SparrowSigmoidBackward(const float* x, const float* y, const float* dy,
                            float* dx, size_t n) {
  ActivateBackward(Activation::kSigmoid, x, y, dy, dx, n);
}
void SparrowGeluBackward(const float* x, const float* y, const float* dy,
                         float* dx, size_t n) {
  ActivateBackward(Activation::kGelu, x, y, dy, dx, n);
}

// ------------------------------ Accuracy of each implementation

struct Errors {
  double max_abs = 0.0, max_ulp = 0.0;
};

double Ulps(float y, double exact) {
  if (static_cast<float>(exact) == y) return 0.0;
  if (!std::isfinite(y) || !std::isfinite(static_cast<float>(exact))) return 1e30;
  int e;
  std::frexp(std::fabs(exact), &e);
  return std::fabs(y - exact) / std::ldexp(1.0, std::max(e - 24, -149));
}

// Max errors over 2^20 evenly spaced points of [lo, hi], vs double.
Errors MeasureErrors(ArrayFn fn, double (*ref)(double), float lo, float hi) {
  const size_t n = size_t{1} << 20;
  std::vector<float> x(n), y(n);
  for (size_t i = 0; i < n; ++i) x[i] = lo + (hi - lo) * (static_cast<double>(i) / (n - 1));
  fn(x.data(), y.data(), n);
  Errors e;
  for (size_t i = 0; i < n; ++i) {
    const double exact = ref(x[i]);
    e.max_abs = std::max(e.max_abs, std::fabs(y[i] - exact));
    e.max_ulp = std::max(e.max_ulp, Ulps(y[i], exact));
  }
  return e;
}

double TanhD(double x) { return TanhRef(x); }
double SigmoidD(double x) { return SigmoidRef(x); }
double ExpD(double x) { return ExpRef(x); }
double GeluD(double x) { return GeluRef(x); }

// ------------------------------ Cases

constexpr size_t kN = 4096;

// Element-wise op: `n` floats uniform in [lo, hi], errors measured over
// [err_lo, err_hi] (the range where the function is not saturated).
void Register(const char* name, ArrayFn fn, double (*ref)(double), float lo,
              float hi, float err_lo, float err_hi) {
  auto errors = std::make_shared<Errors>();  // measured once, on first use
  auto measured = std::make_shared<bool>(false);
  benchmark::RegisterBenchmark(name, [=](benchmark::State& state) {
    const size_t n = static_cast<size_t>(state.range(0));
    auto in = RandomFloats(n, lo, hi, 1234);
    auto out = hwy::AllocateAligned<float>(n);
    for (auto _ : state) {
      fn(in.get(), out.get(), n);
      benchmark::DoNotOptimize(out.get());
      benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
    if (ref != nullptr) {
      if (!*measured) *errors = MeasureErrors(fn, ref, err_lo, err_hi);
      *measured = true;
      state.counters["max_abs_err"] = errors->max_abs;
      state.counters["max_ulp"] = errors->max_ulp;
    }
  })->Arg(kN);
}

// LeNet-5's conv1 output at batch 64 (64 x 28 x 28 x 6), and an L1-resident
// size (3 streams of 2048 floats = 24 KiB).
constexpr size_t kLeNetConv1 = 301056, kL1 = 2048;

// Backward case: x uniform in [-4, 4], y = act(x) (precise), dy in [-1, 1],
// dx starting in [-1, 1] and accumulating (a zero-mean random walk, so it
// stays finite). Bytes: x or y, dy and dx read, dx written (16 per element).
void RegisterBackward(const char* name, BackwardFn fn, Activation act) {
  benchmark::RegisterBenchmark(name, [=](benchmark::State& state) {
    const size_t n = static_cast<size_t>(state.range(0));
    auto x = RandomFloats(n, -4.0f, 4.0f, 1234);
    auto dy = RandomFloats(n, -1.0f, 1.0f, 5678);
    auto dx = RandomFloats(n, -1.0f, 1.0f, 9012);
    auto y = hwy::AllocateAligned<float>(n);
    Activate(act, Accuracy::kPrecise, x.get(), y.get(), n);
    for (auto _ : state) {
      fn(x.get(), y.get(), dy.get(), dx.get(), n);
      benchmark::DoNotOptimize(dx.get());
      benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * 16));
  })->Arg(kLeNetConv1)->Arg(kL1);
}

const bool kRegistered = [] {
  struct Impl {
    const char* name;
    ArrayFn fn;
  };
  for (const Impl& i : {Impl{"BM_Tanh_sparrow_precise", SparrowTanhPrecise},
                        Impl{"BM_Tanh_sparrow_fast", SparrowTanhFast},
                        Impl{"BM_Tanh_std", StdTanh}, Impl{"BM_Tanh_eigen", EigenTanh},
                        Impl{"BM_Tanh_hwy", HwyTanhD}, Impl{"BM_Tanh_lpcnet", LpcnetTanh}}) {
    Register(i.name, i.fn, TanhD, -5.0f, 5.0f, -10.0f, 10.0f);
  }
  for (const Impl& i : {Impl{"BM_Sigmoid_sparrow_precise", SparrowSigmoidPrecise},
                        Impl{"BM_Sigmoid_sparrow_fast", SparrowSigmoidFast},
                        Impl{"BM_Sigmoid_std", StdSigmoid},
                        Impl{"BM_Sigmoid_eigen", EigenSigmoid},
                        Impl{"BM_Sigmoid_hwy", HwySigmoidD},
                        Impl{"BM_Sigmoid_lpcnet", LpcnetSigmoid}}) {
    Register(i.name, i.fn, SigmoidD, -10.0f, 10.0f, -20.0f, 20.0f);
  }
  for (const Impl& i : {Impl{"BM_Exp_sparrow", SparrowExp}, Impl{"BM_Exp_std", StdExp},
                        Impl{"BM_Exp_eigen", EigenExp}, Impl{"BM_Exp_hwy", HwyExpD}}) {
    Register(i.name, i.fn, ExpD, -10.0f, 10.0f, -87.0f, 88.0f);
  }
  for (const Impl& i : {Impl{"BM_Gelu_sparrow_precise", SparrowGeluPrecise},
                        Impl{"BM_Gelu_sparrow_fast", SparrowGeluFast},
                        Impl{"BM_Gelu_std", StdGelu}, Impl{"BM_Gelu_eigen", EigenGelu},
                        Impl{"BM_Gelu_hwy", HwyGeluD}}) {
    Register(i.name, i.fn, GeluD, -5.0f, 5.0f, -6.0f, 6.0f);
  }
  struct BackwardImpl {
    const char* name;
    BackwardFn fn;
    Activation act;
  };
  for (const BackwardImpl& i : {
           BackwardImpl{"BM_ReluBackward_sparrow", SparrowReluBackward, Activation::kRelu},
           BackwardImpl{"BM_ReluBackward_eigen", EigenReluBackward, Activation::kRelu},
           BackwardImpl{"BM_ReluBackward_scalar", ScalarReluBackward, Activation::kRelu},
           BackwardImpl{"BM_TanhBackward_sparrow", SparrowTanhBackward, Activation::kTanh},
           BackwardImpl{"BM_TanhBackward_eigen", EigenTanhBackward, Activation::kTanh},
           BackwardImpl{"BM_TanhBackward_scalar", ScalarTanhBackward, Activation::kTanh},
           BackwardImpl{"BM_SigmoidBackward_sparrow", SparrowSigmoidBackward,
                        Activation::kSigmoid},
           BackwardImpl{"BM_SigmoidBackward_eigen", EigenSigmoidBackward,
                        Activation::kSigmoid},
           BackwardImpl{"BM_SigmoidBackward_scalar", ScalarSigmoidBackward,
                        Activation::kSigmoid},
           BackwardImpl{"BM_GeluBackward_sparrow", SparrowGeluBackward, Activation::kGelu},
           BackwardImpl{"BM_GeluBackward_eigen", EigenGeluBackward, Activation::kGelu},
           BackwardImpl{"BM_GeluBackward_scalar", ScalarGeluBackward, Activation::kGelu}}) {
    RegisterBackward(i.name, i.fn, i.act);
  }
  for (const Impl& i : {Impl{"BM_Softmax_sparrow", SparrowSoftmax},
                        Impl{"BM_Softmax_std", StdSoftmax},
                        Impl{"BM_Softmax_eigen", EigenSoftmax}}) {
    Register(i.name, i.fn, nullptr, -10.0f, 10.0f, 0.0f, 0.0f);
  }
  return true;
}();

}  // namespace
}  // namespace bench
}  // namespace sparrow
#endif  // HWY_ONCE
