// sparrow echo-study: the runs (tools/cli_echo_study.h); the report is in
// tools/cli_echo_report.cc.
#include "tools/cli_echo_study.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tools/cli_echo.h"
#include "tools/cli_train.h"
#include "trainer/data/pipeline.h"
#include "trainer/train.h"

namespace sparrow {
namespace {

using Clock = std::chrono::steady_clock;
using train::Trainer;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Status CheckOptions(const EchoStudyOptions& o) {
  if (o.out_dir.empty()) return InvalidArgument("--out DIR is required");
  if (o.echoes.empty()) return InvalidArgument("--echo: no echo factors");
  for (const std::string& e : o.echoes)
    SPARROW_RETURN_IF_ERROR(ParseEcho(e).status());
  if (o.placements.empty())
    return InvalidArgument("--echo_place: no placements");
  for (const std::string& p : o.placements) {
    if (!data::ParseEchoPlacement(p).ok()) {
      return InvalidArgument(
          "--echo_place '%s': want before_augment, after_augment or batch",
          p.c_str());
    }
  }
  if (!(o.target > 0.0 && o.target <= 1.0)) {
    return InvalidArgument("--target %g: want a test accuracy in (0, 1]",
                           o.target);
  }
  if (o.seeds < 1) return InvalidArgument("--seeds %d: want >= 1", o.seeds);
  if (o.eval_examples < 1)
    return InvalidArgument("--eval_examples 0: want >= 1");
  if (o.max_fresh_epochs < 1) {
    return InvalidArgument("--max_fresh_epochs %d: want >= 1",
                           o.max_fresh_epochs);
  }
  if (!(o.upstream_ratio > 0.0 && o.upstream_ratio <= 1000.0)) {
    return InvalidArgument("--upstream_ratio %g: want (0, 1000]",
                           o.upstream_ratio);
  }
  if (!(o.upstream_cost_us >= 0.0 && o.upstream_cost_us <= 1e7)) {
    return InvalidArgument("--upstream_cost_us %g: want 0..1e7 microseconds",
                           o.upstream_cost_us);
  }
  if (!(o.final_seconds >= 0.0)) {
    return InvalidArgument("--final_seconds %g: want >= 0", o.final_seconds);
  }
  return OkStatus();
}

Status MakeDirectory(const std::string& dir) {
  if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
    return InvalidArgument("--out %s: cannot create the directory: %s",
                           dir.c_str(), strerror(errno));
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return InvalidArgument("--out %s: not a directory", dir.c_str());
  }
  return OkStatus();
}

train::TrainOptions TrainerOptions(const EchoStudyOptions& o, uint64_t seed) {
  train::TrainOptions to;
  to.model = o.model;
  to.batch = o.batch;
  to.optimizer = o.optimizer;
  to.threads = o.threads;
  to.seed = seed;
  return to;
}

StatusOr<std::unique_ptr<Trainer>> MakeTrainer(const EchoStudyOptions& o,
                                               const Dataset& train_set,
                                               uint64_t seed) {
  return Trainer::Create(TrainerOptions(o, seed), train_set.images.data(),
                         train_set.labels.data(), train_set.size(),
                         {kMnistHeight, kMnistWidth, kMnistChannels});
}

// The training step's time per example, in microseconds: TrainBatch on
// consecutive batches of the data (no pipeline), a few untimed first, then
// for about a second.
StatusOr<double> MeasureStepMicros(const EchoStudyOptions& o,
                                   const Dataset& train_set) {
  StatusOr<std::unique_ptr<Trainer>> t =
      MakeTrainer(o, train_set, o.first_seed);
  SPARROW_RETURN_IF_ERROR(t.status());
  const size_t n = train_set.size();
  size_t next = 0, examples = 0;
  auto step = [&]() -> Status {
    const size_t count = std::min(o.batch, n - next);
    SPARROW_RETURN_IF_ERROR((*t)->TrainBatch(train_set.image(next),
                                             train_set.labels.data() + next,
                                             count)
                                .status());
    next = next + count == n ? 0 : next + count;
    examples += count;
    return OkStatus();
  };
  for (int i = 0; i < 3; ++i) SPARROW_RETURN_IF_ERROR(step());
  examples = 0;
  const Clock::time_point t0 = Clock::now();
  int batches = 0;
  double seconds = 0.0;
  while (batches < 20 || seconds < 1.0) {
    SPARROW_RETURN_IF_ERROR(step());
    ++batches;
    seconds = Since(t0);
    if (seconds > 5.0) break;
  }
  return seconds * 1e6 / examples;
}

struct StudyData {
  Dataset train_set, test_set;
  size_t eval_n = 0;
  size_t eval_every = 0;
  double upstream_cost_us = 0.0;
};

// One run: train through the echo pipeline, evaluating every eval_every
// consumed examples, until the target (or the time budget, or the last
// fresh epoch).
StatusOr<StudyRun> RunOne(const EchoStudyOptions& o, const StudyData& d,
                          const std::string& echo, const std::string& placement,
                          uint64_t seed, const std::string& tag,
                          FILE* progress) {
  StudyRun r;
  r.model = o.model;
  r.placement = placement;
  r.echo = echo;
  r.seed = seed;
  StatusOr<std::unique_ptr<Trainer>> trainer =
      MakeTrainer(o, d.train_set, seed);
  SPARROW_RETURN_IF_ERROR(trainer.status());
  Trainer& tr = **trainer;
  EchoFlags f;
  f.enabled = true;
  f.echo = echo;
  f.echo_max = o.echo_max;
  f.place = placement == "any" ? "before_augment" : placement;
  f.shuffle_buffer = o.shuffle_buffer;
  f.augment = o.augment;
  f.upstream_cost_us = d.upstream_cost_us;
  f.cost_mode = o.cost_mode;
  StatusOr<data::PipelineOptions> po = MakePipelineOptions(f, o.batch, seed);
  SPARROW_RETURN_IF_ERROR(po.status());
  po->epochs = o.max_fresh_epochs;
  const size_t n = d.train_set.size();
  StatusOr<std::unique_ptr<data::Pipeline>> p = data::Pipeline::Start(
      *po,
      MnistSource(d.train_set.images.data(), d.train_set.labels.data(), n));
  SPARROW_RETURN_IF_ERROR(p.status());
  PipelineFeed feed(&tr, p->get(), n);
  const bool live = progress != nullptr && isatty(fileno(progress));
  uint64_t next_eval = d.eval_every, evaluated_at = 0;
  double accuracy = 0.0, last_print = 0.0;
  bool evaluated = false;
  // Evaluates on the clock's current point; records the target when reached.
  auto evaluate = [&](bool pipeline_running) {
    // The source is held during the evaluation; only what the stages after
    // it had in hand fills their bounded queues meanwhile.
    if (pipeline_running) (*p)->Pause();
    const uint64_t read_before =
        pipeline_running ? (*p)->metrics().fresh_examples : 0;
    const Clock::time_point t0 = Clock::now();
    accuracy = tr.Evaluate(d.test_set.images.data(), d.test_set.labels.data(),
                           d.eval_n)
                   .accuracy;
    r.eval_seconds += Since(t0);
    if (pipeline_running) {
      r.prefetched_during_eval += (*p)->metrics().fresh_examples - read_before;
      (*p)->Resume();
    }
    ++r.evaluations;
    evaluated = true;
    evaluated_at = feed.totals().consumed;
    const FeedTotals& t = feed.totals();
    if (!r.reached && accuracy >= o.target) {
      r.reached = true;
      r.seconds_to_target = t.seconds;
      r.fresh_to_target = t.fresh;
      r.consumed_to_target = t.consumed;
      r.steps_to_target = t.steps;
    }
  };
  for (;;) {
    Status s = feed.Step();
    if (s.code() == StatusCode::kOutOfRange) break;  // the last fresh epoch
    SPARROW_RETURN_IF_ERROR(s);
    const FeedTotals& t = feed.totals();
    if (!r.reached && t.consumed >= next_eval) {
      evaluate(/*pipeline_running=*/true);
      while (next_eval <= t.consumed) next_eval += d.eval_every;
      if (r.reached && o.final_seconds <= 0) break;
    }
    if (o.final_seconds > 0 && t.seconds >= o.final_seconds) break;
    if (live && t.seconds - last_print >= 1.0) {
      fprintf(progress, "\r%s: %.1f s, fresh %llu, consumed %llu, test %.2f%% ",
              tag.c_str(), t.seconds, static_cast<unsigned long long>(t.fresh),
              static_cast<unsigned long long>(t.consumed), 100 * accuracy);
      fflush(progress);
      last_print = t.seconds;
    }
  }
  r.upstream_rate = (*p)->metrics().upstream_rate;
  (*p)->Stop();
  if (!evaluated || evaluated_at != feed.totals().consumed) {
    evaluate(/*pipeline_running=*/false);
  }
  const FeedTotals& t = feed.totals();
  r.final_accuracy = accuracy;
  r.seconds = t.seconds;
  r.fresh = t.fresh;
  r.consumed = t.consumed;
  r.steps = t.steps;
  r.effective_echo = t.echo();
  r.wait_fraction = t.wait_fraction();
  r.duplicate_rate = t.duplicate_rate();
  return r;
}

std::string RunLine(const std::string& tag, const StudyRun& r, double target) {
  char buf[512];
  if (r.reached) {
    snprintf(buf, sizeof(buf),
             "%s: %.1f%% in %.1f s, %llu fresh, %llu consumed, %llu steps",
             tag.c_str(), 100 * target, r.seconds_to_target,
             static_cast<unsigned long long>(r.fresh_to_target),
             static_cast<unsigned long long>(r.consumed_to_target),
             static_cast<unsigned long long>(r.steps_to_target));
  } else {
    snprintf(buf, sizeof(buf), "%s: %.1f%% NOT reached in %.1f s, %llu fresh",
             tag.c_str(), 100 * target, r.seconds,
             static_cast<unsigned long long>(r.fresh));
  }
  std::string line = buf;
  snprintf(
      buf, sizeof(buf),
      "; final %.2f%% at %.1f s; e %.2f, wait %.1f%%, dup %.1f%%, eval %.1f s",
      100 * r.final_accuracy, r.seconds, r.effective_echo,
      100 * r.wait_fraction, 100 * r.duplicate_rate, r.eval_seconds);
  return line + buf;
}

// What summary.md says about the setup (the upstream cost is filled in by
// the caller).
StudySetup SetupOf(const EchoStudyOptions& o, size_t train_examples,
                   size_t eval_examples, size_t eval_every) {
  StudySetup setup;
  setup.model = o.model;
  setup.optimizer = o.optimizer;
  setup.augment = o.augment;
  setup.cost_mode = o.cost_mode;
  setup.command_line = o.command_line;
  setup.train_examples = train_examples;
  setup.eval_examples = eval_examples;
  setup.batch = o.batch;
  setup.threads = o.threads;
  setup.shuffle_buffer = o.shuffle_buffer;
  setup.eval_every = eval_every;
  setup.target = o.target;
  setup.final_seconds = o.final_seconds;
  setup.echo_max = o.echo_max;
  setup.seeds = o.seeds;
  setup.max_fresh_epochs = o.max_fresh_epochs;
  return setup;
}

// --replot: the report again from runs.csv, nothing trained.
Status Replot(const EchoStudyOptions& o, FILE* out) {
  if (!o.upstream_cost_given) {
    return InvalidArgument(
        "--replot needs --upstream_cost_us (the cost the study ran with: "
        "summary.md says it)");
  }
  StatusOr<std::vector<StudyRun>> runs = ReadRunsCsv(o.out_dir + "/runs.csv");
  SPARROW_RETURN_IF_ERROR(runs.status());
  const size_t train_examples = o.limit > 0 ? o.limit : 60000;
  StudySetup setup =
      SetupOf(o, train_examples, o.eval_examples,
              o.eval_every > 0 ? o.eval_every : train_examples / 4);
  setup.upstream_cost_us = o.upstream_cost_us;
  // The study's own command: this one without --replot.
  const std::string flag = " --replot";
  for (size_t at; (at = setup.command_line.find(flag)) != std::string::npos;) {
    setup.command_line.erase(at, flag.size());
  }
  std::string table;
  SPARROW_RETURN_IF_ERROR(WriteStudyReport(o.out_dir, setup, *runs, &table));
  fprintf(out, "%s\nrewrote summary.csv, summary.md and the plots in %s from "
               "%zu runs\n", table.c_str(), o.out_dir.c_str(), runs->size());
  return OkStatus();
}

}  // namespace

Status EchoStudyCommand(const EchoStudyOptions& o, FILE* out, FILE* progress) {
  SPARROW_RETURN_IF_ERROR(CheckOptions(o));
  if (o.replot) return Replot(o, out);
  SPARROW_RETURN_IF_ERROR(MakeDirectory(o.out_dir));
  if (!o.progress) progress = nullptr;
  StudyData d;
  SPARROW_RETURN_IF_ERROR(
      LoadTrainAndTest(o.data, o.limit, &d.train_set, &d.test_set));
  d.eval_n = std::min(o.eval_examples, d.test_set.size());
  d.eval_every = o.eval_every > 0 ? o.eval_every
                                  : std::max<size_t>(1, d.train_set.size() / 4);
  StudySetup setup = SetupOf(o, d.train_set.size(), d.eval_n, d.eval_every);
  if (o.upstream_cost_given) {
    d.upstream_cost_us = o.upstream_cost_us;
    fprintf(out, "upstream cost %g us/example (given; SIMULATED, %s)\n",
            d.upstream_cost_us, o.cost_mode.c_str());
  } else {
    StatusOr<double> step_us = MeasureStepMicros(o, d.train_set);
    SPARROW_RETURN_IF_ERROR(step_us.status());
    setup.step_us = *step_us;
    setup.upstream_ratio = o.upstream_ratio;
    d.upstream_cost_us = o.upstream_ratio * *step_us;
    fprintf(out,
            "measured training step: %.1f us/example (%s, batch %zu, %zu "
            "thread(s)); upstream cost %g x that = %.1f us/example (SIMULATED, "
            "%s)\n",
            *step_us, o.model.c_str(), o.batch, o.threads, o.upstream_ratio,
            d.upstream_cost_us, o.cost_mode.c_str());
  }
  setup.upstream_cost_us = d.upstream_cost_us;
  // Seeds outermost, so slow drifts of a shared machine spread over every
  // configuration; e = 1 once per seed.
  struct Config {
    std::string echo, placement;
    uint64_t seed;
  };
  std::vector<Config> configs;
  for (int k = 0; k < o.seeds; ++k) {
    for (const std::string& e : o.echoes) {
      const EchoSetting s = ParseEcho(e).value();
      if (!s.automatic && s.factor == 1.0) {
        configs.push_back({e, "any", o.first_seed + k});
        continue;
      }
      for (const std::string& p : o.placements) {
        configs.push_back({e, p, o.first_seed + k});
      }
    }
  }
  fprintf(out,
          "%zu runs: %s on %zu examples, target %.2f%% test accuracy on %zu "
          "test examples, evaluated every %zu consumed examples, at most %d "
          "fresh epochs%s\n",
          configs.size(), o.model.c_str(), d.train_set.size(), 100 * o.target,
          d.eval_n, d.eval_every, o.max_fresh_epochs,
          o.final_seconds > 0 ? ", each run trained for --final_seconds" : "");
  fflush(out);
  std::vector<StudyRun> runs;
  const std::string runs_csv = o.out_dir + "/runs.csv";
  for (size_t i = 0; i < configs.size(); ++i) {
    const Config& c = configs[i];
    char tag[160];
    snprintf(tag, sizeof(tag), "[%zu/%zu] %s e=%s seed %llu", i + 1,
             configs.size(), c.placement.c_str(), c.echo.c_str(),
             static_cast<unsigned long long>(c.seed));
    StatusOr<StudyRun> r =
        RunOne(o, d, c.echo, c.placement, c.seed, tag, progress);
    SPARROW_RETURN_IF_ERROR(r.status());
    runs.push_back(std::move(r).value());
    SPARROW_RETURN_IF_ERROR(WriteRunsCsv(runs_csv, runs));
    if (progress != nullptr) {
      fprintf(progress, "%s%s\n", isatty(fileno(progress)) ? "\r\033[K" : "",
              RunLine(tag, runs.back(), o.target).c_str());
      fflush(progress);
    }
  }
  // The report is a function of runs.csv as written (rounded), so --replot
  // reproduces it exactly.
  StatusOr<std::vector<StudyRun>> written = ReadRunsCsv(runs_csv);
  SPARROW_RETURN_IF_ERROR(written.status());
  std::string table;
  SPARROW_RETURN_IF_ERROR(WriteStudyReport(o.out_dir, setup, *written, &table));
  fprintf(out,
          "\n%s\nwrote runs.csv, summary.csv, summary.md and the plots to %s\n",
          table.c_str(), o.out_dir.c_str());
  return OkStatus();
}

}  // namespace sparrow
