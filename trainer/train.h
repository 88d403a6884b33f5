// The training loop: mini-batches of a labelled image dataset through a Net
// with softmax cross-entropy, an optimizer and a learning-rate schedule,
// batch-parallel over a pinned thread pool, deterministic given the seed and
// the thread count.
//
//   TrainOptions o;
//   o.model = "lenet5";
//   o.optimizer = "adam:lr=0.001";
//   StatusOr<std::unique_ptr<Trainer>> t = Trainer::Create(o, train.images,
//       train.labels, {28, 28, 1});
//   for (int e = 0; e < 3; ++e) {
//     StatusOr<EpochStats> s = (*t)->TrainEpoch();     // progress on stderr
//     Metrics m = (*t)->Evaluate(test_x, test_y, n);
//   }
//   // Or one step on batches from elsewhere (the data pipeline):
//   StatusOr<BatchStats> b = (*t)->TrainBatch(x, y, count);
//
// Contract:
// - Examples are visited in a fresh permutation each epoch, drawn from
//   (seed, epoch) alone, so a resumed run sees the same batches.
// - A batch is cut into `threads` contiguous slices; thread i runs forward
//   and backward on slice i into its own workspace; the gradients are then
//   summed in thread order and the optimizer steps once. Same seed, same
//   thread count: the same parameters bit for bit. Different thread counts
//   differ only by float summation order.
// - TrainBatch(x, y, count) is the step TrainEpoch takes for each of its
//   batches: the same examples in the same order give the same parameters
//   bit for bit. It reads x and y only during the call.
// - The trainer keeps pointers to the images and labels: they must outlive
//   it. It allocates its workspaces once (the last partial batch of an
//   epoch resizes them).
#ifndef SPARROW_TRAINER_TRAIN_H_
#define SPARROW_TRAINER_TRAIN_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <memory>
#include <string>
#include <vector>

#include "kernels/status.h"
#include "trainer/net.h"
#include "trainer/optim/optimizer.h"
#include "trainer/optim/schedule.h"

namespace sparrow {
class ThreadPool;

namespace train {

struct TrainOptions {
  std::string model = "lenet5";       // a spec or built-in name (net.h)
  size_t batch = 64;
  std::string optimizer = "adam";     // optimizer.h spec, e.g. "sgd:lr=0.1"
  std::string schedule = "constant";  // schedule.h spec
  size_t threads = 1;                 // >= 1; pinned when <= physical cores
  uint64_t seed = 1;
  FILE* progress = nullptr;           // progress line (stderr), or null
};

struct EpochStats {
  int64_t epoch = 0;
  double loss = 0.0;       // mean training loss over the epoch's batches
  double accuracy = 0.0;   // training accuracy of the forward passes
  double seconds = 0.0;
  double examples_per_second = 0.0;
};

struct BatchStats {
  double loss = 0.0;  // mean training loss over the batch
  size_t correct = 0;  // forward passes that predicted the label
};

struct Metrics {
  double loss = 0.0;
  double accuracy = 0.0;
  size_t examples = 0;
};

class Trainer {
 public:
  // images: [n, input] floats, labels: [n] in [0, classes).
  static StatusOr<std::unique_ptr<Trainer>> Create(const TrainOptions& options,
                                                   const float* images,
                                                   const uint8_t* labels,
                                                   size_t n, const Shape& input);
  ~Trainer();

  // One pass over the data (one optimizer step per batch).
  StatusOr<EpochStats> TrainEpoch();
  // One optimizer step on exactly these examples: images [count, input],
  // labels [count] in [0, classes). INVALID_ARGUMENT for count 0 or a label
  // out of range; FAILED_PRECONDITION when the loss is not finite (as
  // TrainEpoch). Does not count epochs (SetCounters does).
  StatusOr<BatchStats> TrainBatch(const float* images, const uint8_t* labels,
                                  size_t count);
  // Forward passes only (no dropout), in batches.
  Metrics Evaluate(const float* images, const uint8_t* labels, size_t n);
  // Predicted classes of n examples.
  std::vector<int> Predict(const float* images, size_t n);

  Net& net() { return net_; }
  const Net& net() const { return net_; }
  Optimizer& optimizer() { return *optimizer_; }
  const TrainOptions& options() const { return options_; }
  int64_t epoch() const { return epoch_; }  // epochs completed
  int64_t step() const { return step_; }    // optimizer steps taken
  // For checkpoints: the counters to restore on resume.
  void SetCounters(int64_t epoch, int64_t step) {
    epoch_ = epoch;
    step_ = step;
  }

 private:
  Trainer(const TrainOptions& options, Net net);
  // Forward + loss (+ backward when training) of examples idx[0..count) of
  // (images, labels), split across the threads; returns the summed loss and
  // the number of correct predictions.
  void RunBatch(const float* images, const uint8_t* labels, const size_t* idx,
                size_t count, bool train, double* loss, size_t* correct);

  TrainOptions options_;
  Net net_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<Schedule> schedule_;
  std::unique_ptr<ThreadPool> pool_;
  const float* images_ = nullptr;
  const uint8_t* labels_ = nullptr;
  size_t n_ = 0;
  int64_t epoch_ = 0, step_ = 0;
  std::vector<size_t> identity_;  // 0, 1, ...: TrainBatch's index
  struct Slice;
  std::vector<std::unique_ptr<Slice>> slices_;  // one per thread
};

// Index of the largest of n values (the first on ties).
int ArgMax(const float* v, size_t n);

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_TRAIN_H_
