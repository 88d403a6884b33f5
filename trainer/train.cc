#include "trainer/train.h"

#include <string.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "runtime/thread_pool.h"
#include "trainer/data/pipeline.h"  // EpochPermutation
#include "trainer/loss.h"

namespace sparrow {
namespace train {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

Status Diverged(double loss, int64_t step) {
  return Status(StatusCode::kFailedPrecondition,
                "training diverged: loss is " + std::to_string(loss) +
                    " at step " + std::to_string(step) +
                    " (lower the learning rate)");
}

void Progress(FILE* out, int64_t epoch, size_t done, size_t total,
              double seconds, double loss) {
  if (out == nullptr) return;
  const int width = 30;
  const int filled = total ? static_cast<int>(width * done / total) : width;
  char bar[width + 1];
  for (int i = 0; i < width; ++i) bar[i] = i < filled ? '=' : ' ';
  bar[width] = '\0';
  const double rate = seconds > 0 ? done / seconds : 0.0;
  const double eta = rate > 0 ? (total - done) / rate : 0.0;
  fprintf(out, "\repoch %lld [%s] %3d%% %7.0f ex/s  loss %.4f  ETA %4.0fs ",
          static_cast<long long>(epoch), bar,
          total ? static_cast<int>(100 * done / total) : 100, rate, loss, eta);
  fflush(out);
}

}  // namespace

int ArgMax(const float* v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i) {
    if (v[i] > v[best]) best = i;
  }
  return static_cast<int>(best);
}

struct Trainer::Slice {
  NetWorkspace ws;
  std::vector<float> x;
  std::vector<int32_t> labels;
  std::vector<float> probs;
  double loss = 0.0;
  size_t correct = 0;
};

Trainer::Trainer(const TrainOptions& options, Net net)
    : options_(options), net_(std::move(net)) {}
Trainer::~Trainer() = default;

StatusOr<std::unique_ptr<Trainer>> Trainer::Create(const TrainOptions& options,
                                                   const float* images,
                                                   const uint8_t* labels,
                                                   size_t n, const Shape& input) {
  if (options.batch < 1) return InvalidArgument("batch=%zu, want >= 1", options.batch);
  if (options.threads < 1 || options.threads > 256) {
    return InvalidArgument("threads=%zu, want 1..256", options.threads);
  }
  if (n == 0) return InvalidArgument("no training examples");
  StatusOr<Net> net = Net::FromSpec(options.model, input, options.seed);
  SPARROW_RETURN_IF_ERROR(net.status());
  if (net->output_shape().size() != 1) {
    return InvalidArgument("model '%s' ends in %s; classification needs [classes]",
                           options.model.c_str(),
                           ShapeString(net->output_shape()).c_str());
  }
  const int classes = net->output_shape()[0];
  for (size_t i = 0; i < n; ++i) {
    if (labels[i] >= classes) {
      return InvalidArgument("label[%zu]=%u but the model has %d classes", i,
                             labels[i], classes);
    }
  }
  std::unique_ptr<Trainer> t(new Trainer(options, std::move(net).value()));
  StatusOr<std::unique_ptr<Optimizer>> opt = Optimizer::Create(options.optimizer);
  SPARROW_RETURN_IF_ERROR(opt.status());
  t->optimizer_ = std::move(opt).value();
  StatusOr<Schedule> sched = Schedule::Parse(options.schedule, t->optimizer_->lr());
  SPARROW_RETURN_IF_ERROR(sched.status());
  t->schedule_ = std::make_unique<Schedule>(*sched);
  if (options.threads > 1) {
    ThreadPool::Options po;
    po.threads = options.threads;
    po.pin = options.threads <= std::thread::hardware_concurrency();
    StatusOr<std::unique_ptr<ThreadPool>> pool = ThreadPool::Create(po);
    SPARROW_RETURN_IF_ERROR(pool.status());
    t->pool_ = std::move(pool).value();
  }
  for (size_t i = 0; i < options.threads; ++i) {
    t->slices_.push_back(std::make_unique<Slice>());
  }
  t->images_ = images;
  t->labels_ = labels;
  t->n_ = n;
  return t;
}

void Trainer::RunBatch(const float* images, const uint8_t* labels,
                       const size_t* idx, size_t count, bool train,
                       double* loss, size_t* correct) {
  const size_t parts = std::min(options_.threads, count);
  const size_t in = NumElements(net_.input_shape());
  const size_t classes = static_cast<size_t>(net_.output_shape()[0]);
  auto work = [&](size_t t) {
    if (t >= parts) return;
    Slice& s = *slices_[t];
    const size_t begin = count * t / parts, end = count * (t + 1) / parts;
    const size_t m = end - begin;
    s.x.resize(m * in);
    s.labels.resize(m);
    s.probs.resize(m * classes);
    for (size_t i = 0; i < m; ++i) {
      memcpy(s.x.data() + i * in, images + idx[begin + i] * in, in * sizeof(float));
      s.labels[i] = labels[idx[begin + i]];
    }
    net_.Forward(s.x.data(), m, &s.ws, train, static_cast<uint64_t>(step_), begin);
    s.loss = SoftmaxCrossEntropyForward(s.probs.data(), s.ws.output(),
                                        s.labels.data(), m, classes) * m;
    s.correct = 0;
    for (size_t i = 0; i < m; ++i) {
      s.correct += ArgMax(s.ws.output() + i * classes, classes) == s.labels[i];
    }
    if (!train) return;
    // d(mean over the whole batch) = d(mean over the slice) * m / count.
    SoftmaxCrossEntropyBackward(s.ws.output_grad(), s.probs.data(),
                                s.labels.data(), m, classes);
    const float scale = static_cast<float>(m) / static_cast<float>(count);
    float* g = s.ws.output_grad();
    for (size_t i = 0; i < m * classes; ++i) g[i] *= scale;
    net_.Backward(m, &s.ws, train, static_cast<uint64_t>(step_), begin);
  };
  if (pool_ != nullptr && parts > 1) {
    pool_->Run(work);
  } else {
    for (size_t t = 0; t < parts; ++t) work(t);
  }
  *loss = 0.0;
  *correct = 0;
  for (size_t t = 0; t < parts; ++t) {
    *loss += slices_[t]->loss;
    *correct += slices_[t]->correct;
  }
  if (!train) return;
  net_.TakeGrads(&slices_[0]->ws);
  for (size_t t = 1; t < parts; ++t) net_.AccumulateGrads(&slices_[t]->ws);
  optimizer_->Step(net_.param_ptrs(), schedule_->LearningRate(step_));
  ++step_;
}

StatusOr<EpochStats> Trainer::TrainEpoch() {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<size_t> order = data::EpochPermutation(n_, options_.seed, epoch_);
  EpochStats stats;
  stats.epoch = epoch_ + 1;
  double loss_sum = 0.0;
  size_t correct_sum = 0, done = 0;
  double last_print = -1.0;
  for (size_t b = 0; b < n_; b += options_.batch) {
    const size_t count = std::min(options_.batch, n_ - b);
    double loss;
    size_t correct;
    RunBatch(images_, labels_, order.data() + b, count, /*train=*/true, &loss,
             &correct);
    if (!std::isfinite(loss)) return Diverged(loss, step_);
    loss_sum += loss;
    correct_sum += correct;
    done += count;
    const double t = Seconds(start);
    if (t - last_print >= 0.25 || done == n_) {
      Progress(options_.progress, stats.epoch, done, n_, t, loss_sum / done);
      last_print = t;
    }
  }
  if (options_.progress) fprintf(options_.progress, "\n");
  ++epoch_;
  stats.loss = loss_sum / n_;
  stats.accuracy = static_cast<double>(correct_sum) / n_;
  stats.seconds = Seconds(start);
  stats.examples_per_second = stats.seconds > 0 ? n_ / stats.seconds : 0.0;
  return stats;
}

StatusOr<BatchStats> Trainer::TrainBatch(const float* images,
                                         const uint8_t* labels, size_t count) {
  if (count == 0) return InvalidArgument("TrainBatch: count=0, want >= 1");
  const int classes = net_.output_shape()[0];
  for (size_t i = 0; i < count; ++i) {
    if (labels[i] >= classes) {
      return InvalidArgument("TrainBatch: label[%zu]=%u but the model has %d classes",
                             i, labels[i], classes);
    }
  }
  while (identity_.size() < count) identity_.push_back(identity_.size());
  double loss;
  BatchStats stats;
  RunBatch(images, labels, identity_.data(), count, /*train=*/true, &loss,
           &stats.correct);
  if (!std::isfinite(loss)) return Diverged(loss, step_);
  stats.loss = loss / count;
  return stats;
}

Metrics Trainer::Evaluate(const float* images, const uint8_t* labels, size_t n) {
  std::vector<size_t> idx(std::min(options_.batch, n));
  Metrics m;
  double loss_sum = 0.0;
  size_t correct_sum = 0;
  for (size_t b = 0; b < n; b += options_.batch) {
    const size_t count = std::min(options_.batch, n - b);
    for (size_t i = 0; i < count; ++i) idx[i] = b + i;
    double loss;
    size_t correct;
    RunBatch(images, labels, idx.data(), count, /*train=*/false, &loss, &correct);
    loss_sum += loss;
    correct_sum += correct;
  }
  m.examples = n;
  m.loss = n ? loss_sum / n : 0.0;
  m.accuracy = n ? static_cast<double>(correct_sum) / n : 0.0;
  return m;
}

std::vector<int> Trainer::Predict(const float* images, size_t n) {
  const size_t in = NumElements(net_.input_shape());
  const size_t classes = static_cast<size_t>(net_.output_shape()[0]);
  std::vector<int> out(n);
  NetWorkspace& ws = slices_[0]->ws;
  for (size_t b = 0; b < n; b += options_.batch) {
    const size_t count = std::min(options_.batch, n - b);
    net_.Forward(images + b * in, count, &ws, /*training=*/false, 0);
    for (size_t i = 0; i < count; ++i) {
      out[b + i] = ArgMax(ws.output() + i * classes, classes);
    }
  }
  return out;
}

}  // namespace train
}  // namespace sparrow
