// `sparrow bench MODEL.spw`: Invoke() latency on random inputs, per step.
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "tools/cli.h"

namespace sparrow {
namespace {

using Clock = std::chrono::steady_clock;

// Samples kept for the percentiles. Longer runs keep a uniform random subset
// (reservoir sampling), so memory stays bounded and the percentiles unbiased;
// min and mean see every iteration.
constexpr size_t kMaxSamples = 1 << 20;

double Us(uint64_t ns) { return static_cast<double>(ns) * 1e-3; }

uint64_t Median(std::vector<uint64_t>* v) {
  std::sort(v->begin(), v->end());
  return Percentile(*v, 50.0);
}

void WriteInputs(const Interpreter& interp,
                 const std::vector<NpyArray>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorView v = interp.input(i);
    if (v.bytes != 0) memcpy(v.data, inputs[i].data(), v.bytes);
  }
}

// Prints "\r..." progress at most once a second, on a terminal only as an
// updating line; to a file or pipe a line every 5 seconds.
class Progress {
 public:
  explicit Progress(FILE* f)
      : f_(f),
        tty_(f != nullptr && isatty(fileno(f))),
        start_(Clock::now()),
        next_(start_ + std::chrono::seconds(1)) {}

  void Update(size_t done, size_t total, double seconds) {
    if (f_ == nullptr) return;
    const Clock::time_point now = Clock::now();
    if (now < next_) return;
    next_ = now + std::chrono::seconds(tty_ ? 1 : 5);
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    if (total != 0) {
      fprintf(f_, "%sbench: %zu/%zu iterations, %.0f s", tty_ ? "\r" : "", done,
              total, elapsed);
    } else {
      fprintf(f_, "%sbench: %zu iterations, %.1f/%.1f s", tty_ ? "\r" : "",
              done, elapsed, seconds);
    }
    fprintf(f_, tty_ ? "" : "\n");
    fflush(f_);
    printed_ = true;
  }
  void Done() {
    if (f_ != nullptr && printed_ && tty_) fprintf(f_, "\n");
  }

 private:
  FILE* f_;
  bool tty_;
  bool printed_ = false;
  Clock::time_point start_, next_;
};

}  // namespace

Status Bench(const BenchOptions& options, FILE* out, FILE* progress_file) {
  if (options.iterations == 0 && !(options.seconds > 0.0)) {
    return InvalidArgument("--seconds is %g; must be > 0", options.seconds);
  }
  StatusOr<Model> model = LoadModel(options.model.model);
  SPARROW_RETURN_IF_ERROR(model.status());
  const Model& m = model.value();
  StatusOr<std::vector<NpyArray>> inputs = RandomInputs(m, options.seed);
  SPARROW_RETURN_IF_ERROR(inputs.status());
  StatusOr<Interpreter> created =
      Interpreter::Create(m, MakeInterpreterOptions(options.model));
  SPARROW_RETURN_IF_ERROR(created.status());
  Interpreter& interp = created.value();
  const std::vector<PlanStep>& steps = interp.steps();
  const size_t num_steps = steps.size();
  std::vector<uint64_t> step_ns(std::max<size_t>(num_steps, 1));

  for (size_t i = 0; i < options.warmup; ++i) {
    WriteInputs(interp, *inputs);
    SPARROW_RETURN_IF_ERROR(interp.Invoke(step_ns.data()));
  }

  std::vector<uint64_t> total_ns;      // [samples]
  std::vector<uint64_t> sample_steps;  // [samples, num_steps]
  std::mt19937 reservoir_rng(options.seed);
  uint64_t min_ns = UINT64_MAX;
  double sum_ns = 0.0;
  size_t done = 0;
  Progress progress(progress_file);
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(options.seconds));
  for (;;) {
    if (options.iterations != 0 ? done >= options.iterations
                                : (done > 0 && Clock::now() >= deadline)) {
      break;
    }
    WriteInputs(interp, *inputs);  // untimed: the caller's copy, not ours
    const Clock::time_point t0 = Clock::now();
    SPARROW_RETURN_IF_ERROR(interp.Invoke(step_ns.data()));
    const uint64_t ns = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0)
            .count());
    min_ns = std::min(min_ns, ns);
    sum_ns += static_cast<double>(ns);
    size_t slot = total_ns.size();
    if (slot < kMaxSamples) {
      total_ns.push_back(ns);
      sample_steps.insert(sample_steps.end(), step_ns.begin(),
                          step_ns.begin() + num_steps);
    } else {
      slot = static_cast<size_t>(reservoir_rng() % (done + 1));
      if (slot < kMaxSamples) {
        total_ns[slot] = ns;
        std::copy(step_ns.begin(), step_ns.begin() + num_steps,
                  sample_steps.begin() + slot * num_steps);
      }
    }
    ++done;
    progress.Update(done, options.iterations, options.seconds);
  }
  progress.Done();
  const double wall =
      std::chrono::duration<double>(Clock::now() - start).count();

  fprintf(out, "bench: %s\n", options.model.model.c_str());
  fprintf(out,
          "  %zu thread%s, fusion %s, %s activations; %zu warm-up + %zu "
          "timed invokes in %.2f s; random inputs, seed %u\n",
          interp.num_threads(), interp.num_threads() == 1 ? "" : "s",
          options.model.fuse ? "on" : "off",
          options.model.fast ? "fast" : "precise", options.warmup, done, wall,
          options.seed);
  std::vector<uint64_t> sorted = total_ns;
  std::sort(sorted.begin(), sorted.end());
  fprintf(out,
          "latency (us): p50 %.2f  p90 %.2f  p99 %.2f  min %.2f  mean %.2f  "
          "max %.2f\n",
          Us(Percentile(sorted, 50)), Us(Percentile(sorted, 90)),
          Us(Percentile(sorted, 99)), Us(min_ns),
          sum_ns / static_cast<double>(done) * 1e-3, Us(sorted.back()));

  // Median of each step over the samples; shares of the sum of medians.
  std::vector<uint64_t> medians(num_steps);
  uint64_t sum_medians = 0;
  std::vector<uint64_t> column(total_ns.size());
  for (size_t s = 0; s < num_steps; ++s) {
    for (size_t k = 0; k < total_ns.size(); ++k) {
      column[k] = sample_steps[k * num_steps + s];
    }
    medians[s] = Median(&column);
    sum_medians += medians[s];
  }
  fprintf(out, "steps (median us, share of the steps' total):\n");
  for (size_t s = 0; s < num_steps; ++s) {
    const double share =
        sum_medians == 0 ? 0.0 : 100.0 * medians[s] / sum_medians;
    fprintf(out, "  step %zu: %9.2f us %5.1f%%  %s\n", s, Us(medians[s]), share,
            steps[s].kernel.c_str());
  }
  if (num_steps == 0) fprintf(out, "  (the plan has no steps)\n");
  const uint64_t p50 = Percentile(sorted, 50);
  if (p50 >= sum_medians) {
    fprintf(out, "  outside steps (p50 - sum of medians): %.2f us\n",
            Us(p50 - sum_medians));
  }
  return OkStatus();
}

}  // namespace sparrow
