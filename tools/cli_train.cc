// sparrow train / eval / demo.
#include "tools/cli_train.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "runtime/interpreter.h"
#include "runtime/model.h"
#include "tools/cli.h"
#include "tools/cli_echo.h"
#include "trainer/checkpoint.h"
#include "trainer/data/pipeline.h"
#include "trainer/data/mnist.h"
#include "trainer/export.h"
#include "trainer/train.h"

namespace sparrow {
namespace {

using train::Trainer;

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// One epoch's report: the trainer's statistics and what the step consumed
// (the plain path: every example once, no waiting).
struct EpochRow {
  train::EpochStats stats;
  FeedTotals fed;
};

// Appends one CSV line (and the header when the file is new). A file that
// exists must have this version's header, so columns never shift.
Status AppendMetrics(const std::string& path, const EpochRow& row,
                     int64_t step, const train::Metrics& test) {
  const bool fresh = !FileExists(path);
  if (!fresh) {
    FILE* in = fopen(path.c_str(), "r");
    char line[512] = {0};
    const bool read = in != nullptr && fgets(line, sizeof(line), in) != nullptr;
    if (in != nullptr) fclose(in);
    if (read && std::string(line) != std::string(kMetricsHeader) + "\n") {
      return InvalidArgument(
          "--metrics %s: the file's header is not this version's (%s); "
          "use a new file",
          path.c_str(), kMetricsHeader);
    }
  }
  FILE* f = fopen(path.c_str(), "a");
  if (f == nullptr) {
    return InvalidArgument("--metrics %s: cannot open for appending: %s",
                           path.c_str(), strerror(errno));
  }
  if (fresh) fprintf(f, "%s\n", kMetricsHeader);
  const train::EpochStats& s = row.stats;
  fprintf(f, "%lld,%lld,%.6f,%.6f,%.6f,%.6f,%.3f,%.1f,%llu,%llu,%.4f,%.6f,%.6f\n",
          static_cast<long long>(s.epoch), static_cast<long long>(step), s.loss,
          s.accuracy, test.loss, test.accuracy, s.seconds,
          s.examples_per_second,
          static_cast<unsigned long long>(row.fed.fresh),
          static_cast<unsigned long long>(row.fed.consumed), row.fed.echo(),
          row.fed.duplicate_rate(), row.fed.wait_fraction());
  const bool ok = fflush(f) == 0 && !ferror(f);
  fclose(f);
  if (!ok) return InvalidArgument("--metrics %s: write failed", path.c_str());
  return OkStatus();
}

struct Trained {
  std::unique_ptr<Trainer> trainer;
  Dataset train_set, test_set;
  train::Metrics test;
};

// After an epoch: evaluate, report, log, checkpoint.
Status EndEpoch(const TrainCommandOptions& o, const EpochRow& row, Trained* t,
                FILE* out) {
  Trainer& tr = *t->trainer;
  const train::EpochStats& s = row.stats;
  t->test = tr.Evaluate(t->test_set.images.data(), t->test_set.labels.data(),
                        t->test_set.size());
  fprintf(out,
          "epoch %lld/%d: train loss %.4f acc %.2f%% | test loss %.4f acc "
          "%.2f%% | %.0f examples/s, %.1f s",
          static_cast<long long>(s.epoch), o.epochs, s.loss, 100 * s.accuracy,
          t->test.loss, 100 * t->test.accuracy, s.examples_per_second,
          s.seconds);
  if (o.echo.enabled) {
    fprintf(out, " | fresh %llu, consumed %llu, e %.2f, dup %.1f%%, wait %.1f%%",
            static_cast<unsigned long long>(row.fed.fresh),
            static_cast<unsigned long long>(row.fed.consumed), row.fed.echo(),
            100 * row.fed.duplicate_rate(), 100 * row.fed.wait_fraction());
  }
  fprintf(out, "\n");
  fflush(out);
  if (!o.metrics.empty()) {
    SPARROW_RETURN_IF_ERROR(AppendMetrics(o.metrics, row, tr.step(), t->test));
  }
  if (!o.checkpoint.empty()) {
    train::TrainingState state;
    state.epoch = tr.epoch();
    state.step = tr.step();
    SPARROW_RETURN_IF_ERROR(train::WriteCheckpoint(
        o.checkpoint, state, tr.net().param_ptrs(), tr.optimizer()));
  }
  return OkStatus();
}

// The remaining epochs through data::Pipeline, which starts at the trainer's
// epoch (a resumed run continues with the same permutations).
Status TrainThroughPipeline(const TrainCommandOptions& o, Trained* t,
                            FILE* out, FILE* progress) {
  Trainer& tr = *t->trainer;
  if (tr.epoch() >= o.epochs) return OkStatus();
  StatusOr<data::PipelineOptions> po = MakePipelineOptions(o.echo, o.batch, o.seed);
  SPARROW_RETURN_IF_ERROR(po.status());
  po->epochs = o.epochs - tr.epoch();
  po->first_epoch = tr.epoch();
  const size_t n = t->train_set.size();
  StatusOr<std::unique_ptr<data::Pipeline>> p = data::Pipeline::Start(
      *po, MnistSource(t->train_set.images.data(), t->train_set.labels.data(), n));
  SPARROW_RETURN_IF_ERROR(p.status());
  fprintf(out, "pipeline: %s\n", DescribePipeline(*po).c_str());
  PipelineFeed feed(&tr, p->get(), n);
  FeedTotals epoch_start;
  double last_print = -1.0;
  for (;;) {
    Status s = feed.Step();
    if (s.code() == StatusCode::kOutOfRange) break;
    SPARROW_RETURN_IF_ERROR(s);
    if (feed.batch().epoch != tr.epoch()) {
      return Internal("pipeline delivered a batch of epoch %lld during epoch %lld",
                      static_cast<long long>(feed.batch().epoch),
                      static_cast<long long>(tr.epoch()));
    }
    EpochRow row;
    row.fed = feed.totals().Minus(epoch_start);
    const bool last = feed.batch().last_of_epoch;
    if (progress != nullptr && (row.fed.seconds - last_print >= 0.25 || last)) {
      PrintFeedProgress(progress, tr.epoch() + 1, row.fed, n,
                        (*p)->metrics().echo_factor);
      last_print = row.fed.seconds;
    }
    if (!last) continue;
    if (progress != nullptr) fprintf(progress, "\n");
    tr.SetCounters(tr.epoch() + 1, tr.step());
    row.stats.epoch = tr.epoch();
    row.stats.loss = row.fed.loss();
    row.stats.accuracy = row.fed.accuracy();
    row.stats.seconds = row.fed.seconds;
    row.stats.examples_per_second =
        row.fed.seconds > 0 ? row.fed.consumed / row.fed.seconds : 0.0;
    (*p)->Pause();  // no free prefetch while evaluating and checkpointing
    SPARROW_RETURN_IF_ERROR(EndEpoch(o, row, t, out));
    (*p)->Resume();
    epoch_start = feed.totals();
    last_print = -1.0;
  }
  if (tr.epoch() < o.epochs) {
    return Internal("pipeline ended after epoch %lld of %d",
                    static_cast<long long>(tr.epoch()), o.epochs);
  }
  return OkStatus();
}

// Loads the data, builds (or resumes) the trainer and runs the epochs.
StatusOr<Trained> RunTraining(const TrainCommandOptions& o, FILE* out,
                              FILE* progress) {
  Trained t;
  SPARROW_RETURN_IF_ERROR(
      LoadTrainAndTest(o.data, o.limit, &t.train_set, &t.test_set));
  train::TrainOptions to;
  to.model = o.model;
  to.batch = o.batch;
  to.optimizer = o.optimizer;
  to.schedule = o.schedule;
  to.threads = o.threads;
  to.seed = o.seed;
  to.progress = o.progress ? progress : nullptr;
  StatusOr<std::unique_ptr<Trainer>> trainer =
      Trainer::Create(to, t.train_set.images.data(), t.train_set.labels.data(),
                      t.train_set.size(), {kMnistHeight, kMnistWidth, kMnistChannels});
  SPARROW_RETURN_IF_ERROR(trainer.status());
  t.trainer = std::move(trainer).value();
  Trainer& tr = *t.trainer;
  fprintf(out, "model %s: %zu parameters, %zu training and %zu test examples, "
               "batch %zu, %s, %zu thread(s)\n%s",
          o.model.c_str(), tr.net().NumParameters(), t.train_set.size(),
          t.test_set.size(), o.batch, tr.optimizer().ToString().c_str(),
          o.threads, tr.net().Summary().c_str());
  if (o.resume && !o.checkpoint.empty() && FileExists(o.checkpoint)) {
    train::TrainingState state;
    SPARROW_RETURN_IF_ERROR(train::ReadCheckpoint(
        o.checkpoint, tr.net().param_ptrs(), &tr.optimizer(), &state));
    tr.SetCounters(state.epoch, state.step);
    fprintf(out, "resumed from %s at epoch %lld, step %lld\n",
            o.checkpoint.c_str(), static_cast<long long>(state.epoch),
            static_cast<long long>(state.step));
  }
  if (o.echo.enabled) {
    SPARROW_RETURN_IF_ERROR(
        TrainThroughPipeline(o, &t, out, o.progress ? progress : nullptr));
  }
  while (tr.epoch() < o.epochs) {
    StatusOr<train::EpochStats> s = tr.TrainEpoch();
    SPARROW_RETURN_IF_ERROR(s.status());
    EpochRow row;
    row.stats = *s;
    row.fed.consumed = row.fed.fresh = t.train_set.size();
    row.fed.seconds = s->seconds;
    SPARROW_RETURN_IF_ERROR(EndEpoch(o, row, &t, out));
  }
  if (tr.epoch() >= o.epochs && t.test.examples == 0) {
    t.test = tr.Evaluate(t.test_set.images.data(), t.test_set.labels.data(),
                         t.test_set.size());
  }
  return t;
}

struct EvalResult {
  double accuracy = 0.0;
  size_t examples = 0;
  double median_us = 0.0, mean_us = 0.0;  // per Invoke
  size_t batch = 1;
  size_t arena_bytes = 0;
};

// The runtime on the test images: groups of the model's batch N.
StatusOr<EvalResult> EvalModel(const std::string& path, const Dataset& test,
                               size_t threads) {
  StatusOr<Model> model = LoadModel(path);
  SPARROW_RETURN_IF_ERROR(model.status());
  InterpreterOptions io;
  io.threads = threads;
  StatusOr<Interpreter> interp = Interpreter::Create(*model, io);
  SPARROW_RETURN_IF_ERROR(interp.status());
  const TensorView in = interp->input(0);
  const TensorView out = interp->output(0);
  if (in.dtype != schema::DType::F32 || in.shape.empty() ||
      in.num_elements % kMnistImageSize != 0 ||
      in.num_elements / kMnistImageSize != static_cast<size_t>(in.shape[0])) {
    return InvalidArgument(
        "%s: input 0 '%s' has shape %s; want [N, 28, 28, 1] (or [N, 784]) f32",
        path.c_str(), in.name, ShapeString(in.shape).c_str());
  }
  const size_t batch = static_cast<size_t>(in.shape[0]);
  if (out.shape.empty() || static_cast<size_t>(out.shape[0]) != batch ||
      out.num_elements / batch < 2) {
    return InvalidArgument("%s: output 0 '%s' has shape %s; want [%zu, classes]",
                           path.c_str(), out.name, ShapeString(out.shape).c_str(),
                           batch);
  }
  const size_t classes = out.num_elements / batch;
  EvalResult r;
  r.batch = batch;
  r.arena_bytes = interp->ArenaBytesUsed();
  std::vector<double> us;
  size_t correct = 0;
  for (size_t b = 0; b < test.size(); b += batch) {
    const size_t count = std::min(batch, test.size() - b);
    memset(in.data, 0, in.bytes);
    memcpy(in.data, test.image(b), count * kMnistImageSize * sizeof(float));
    const auto t0 = std::chrono::steady_clock::now();
    SPARROW_RETURN_IF_ERROR(interp->Invoke());
    us.push_back(std::chrono::duration<double, std::micro>(
                     std::chrono::steady_clock::now() - t0)
                     .count());
    for (size_t i = 0; i < count; ++i) {
      correct += train::ArgMax(out.f32() + i * classes, classes) ==
                 test.label(b + i);
    }
  }
  r.examples = test.size();
  r.accuracy = r.examples ? static_cast<double>(correct) / r.examples : 0.0;
  std::sort(us.begin(), us.end());
  if (!us.empty()) {
    r.median_us = us[us.size() / 2];
    double sum = 0;
    for (double u : us) sum += u;
    r.mean_us = sum / us.size();
  }
  return r;
}

}  // namespace

StatusOr<Dataset> LoadMnistSplit(const std::string& dir, Split split,
                                 size_t limit) {
  StatusOr<Dataset> d = LoadFashionMnist(dir, split);
  SPARROW_RETURN_IF_ERROR(d.status());
  if (limit > 0 && limit < d->size()) {
    d->images.resize(limit * kMnistImageSize);
    d->labels.resize(limit);
  }
  return d;
}

Status LoadTrainAndTest(const std::string& dir, size_t limit, Dataset* train,
                        Dataset* test) {
  StatusOr<Dataset> train_set = LoadMnistSplit(dir, Split::kTrain, limit);
  SPARROW_RETURN_IF_ERROR(train_set.status());
  StatusOr<Dataset> test_set = LoadMnistSplit(dir, Split::kTest, 0);
  SPARROW_RETURN_IF_ERROR(test_set.status());
  *train = std::move(train_set).value();
  *test = std::move(test_set).value();
  return OkStatus();
}

Status TrainCommand(const TrainCommandOptions& o, FILE* out, FILE* progress) {
  if (o.resume && o.checkpoint.empty()) {
    return InvalidArgument("--resume needs --checkpoint PATH");
  }
  StatusOr<Trained> t = RunTraining(o, out, progress);
  SPARROW_RETURN_IF_ERROR(t.status());
  if (!o.export_path.empty()) {
    train::ExportOptions eo;
    eo.description = "sparrow train --model " + o.model;
    SPARROW_RETURN_IF_ERROR(train::ExportNet(t->trainer->net(), eo, o.export_path));
    fprintf(out, "exported %s\n", o.export_path.c_str());
  }
  return OkStatus();
}

Status EvalCommand(const EvalCommandOptions& o, FILE* out) {
  StatusOr<Dataset> test = LoadMnistSplit(o.data, Split::kTest, o.limit);
  SPARROW_RETURN_IF_ERROR(test.status());
  StatusOr<EvalResult> r = EvalModel(o.model, *test, o.threads);
  SPARROW_RETURN_IF_ERROR(r.status());
  fprintf(out,
          "%s on %zu test examples: accuracy %.2f%%; Invoke (batch %zu) median "
          "%.1f us, mean %.1f us; arena %zu bytes\n",
          o.model.c_str(), r->examples, 100 * r->accuracy, r->batch,
          r->median_us, r->mean_us, r->arena_bytes);
  return OkStatus();
}

Status DemoCommand(const DemoOptions& d, FILE* out, FILE* progress) {
  const auto start = std::chrono::steady_clock::now();
  TrainCommandOptions o;
  o.model = d.model;
  o.epochs = d.epochs;
  o.threads = d.threads;
  o.data = d.data;
  StatusOr<Trained> t = RunTraining(o, out, progress);
  SPARROW_RETURN_IF_ERROR(t.status());
  const std::string path = d.out_dir + "/sparrow_demo_" + d.model + ".spw";
  train::ExportOptions eo;
  eo.description = "sparrow demo: " + d.model + " on Fashion-MNIST";
  SPARROW_RETURN_IF_ERROR(train::ExportNet(t->trainer->net(), eo, path));
  struct stat st;
  const size_t file_bytes = stat(path.c_str(), &st) == 0 ? st.st_size : 0;
  StatusOr<EvalResult> r = EvalModel(path, t->test_set, d.threads);
  SPARROW_RETURN_IF_ERROR(r.status());
  const double seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  fprintf(out,
          "\nsparrow demo: %s trained %d epoch(s) on Fashion-MNIST in %.0f s\n"
          "  test accuracy   %.2f%% (trainer), %.2f%% (runtime, %zu images)\n"
          "  model file      %s, %zu bytes\n"
          "  latency         %.1f us per image (median Invoke), %.1f us mean\n"
          "  arena           %zu bytes\n",
          d.model.c_str(), d.epochs, seconds, 100 * t->test.accuracy,
          100 * r->accuracy, r->examples, path.c_str(), file_bytes,
          r->median_us, r->mean_us, r->arena_bytes);
  return OkStatus();
}

}  // namespace sparrow
