// The training input pipeline with data echoing (Choi et al., 2019;
// docs/ECHOING.md): a chain of stages, each on its own thread, joined by
// bounded queues, that turns an in-memory labelled image dataset into
// mini-batches for the training step.
//
//   source (read + decode, + simulated cost) -> augment -> batch -> Next()
//
// An echo stage repeats the items of one place in that chain e times, then a
// shuffle buffer mixes the copies:
//   kBeforeAugment  example-level, between source and augment: each copy is
//                   augmented afresh (its own random crop/flip/noise);
//   kAfterAugment   example-level, between augment and batch: copies are
//                   identical;
//   kAfterBatch     batch-level, after batching: whole batches repeat
//                   (the shuffle buffer then holds batches).
//
//   PipelineOptions o;
//   o.echo = 2.5;                                   // or o.echo_auto = true
//   o.placement = EchoPlacement::kBeforeAugment;
//   o.shuffle_buffer = 1024;
//   o.epochs = 3;                                   // fresh passes
//   StatusOr<std::unique_ptr<Pipeline>> p = Pipeline::Start(o, source);
//   Batch b;
//   for (;;) {
//     Status s = (*p)->Next(&b);
//     if (s.code() == StatusCode::kOutOfRange) break;   // all epochs done
//     if (!s.ok()) return s;                            // a stage failed
//     step(b.images.data(), b.labels.data(), b.size());
//   }
//
// Contract:
// - Epochs are passes over the fresh data: epoch k reads every example once,
//   in the permutation drawn from (seed, k) (the same as Trainer's).
//   An end-of-epoch mark follows the last fresh example of each epoch through
//   every stage; echo, shuffle buffer and batcher flush at it, so no item of
//   epoch k is delivered in a batch of epoch k+1, and the last batch of an
//   epoch may be short. For integer e every fresh example is delivered
//   exactly e times per epoch; for fractional e each is delivered floor(e) or
//   ceil(e) times, ceil(e) with probability e - floor(e).
// - Deterministic: for fixed options (echo_auto off) and data, the sequence
//   of batches is the same on every run, whatever the timing; augmentation
//   is seeded per (seed, epoch, fresh index, copy), echo counts and shuffle
//   choices by their own seeded streams.
// - With echo_auto, e follows the measured rates and the order depends on
//   timing (not deterministic).
// - The shuffle buffer never holds more than shuffle_buffer items; each
//   queue never more than its capacity (back-pressure blocks the producer).
// - Stop() (and the destructor) shut every stage down and join the threads
//   without deadlock, also while stages are blocked on full or empty queues.
//   A failing stage stops the pipeline; its Status is what Next() returns
//   from then on.
#ifndef SPARROW_TRAINER_DATA_PIPELINE_H_
#define SPARROW_TRAINER_DATA_PIPELINE_H_

#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/status.h"

namespace sparrow {
namespace data {

enum class EchoPlacement { kBeforeAugment, kAfterAugment, kAfterBatch };
// "before_augment", "after_augment", "batch".
const char* EchoPlacementName(EchoPlacement p);
StatusOr<EchoPlacement> ParseEchoPlacement(const std::string& name);

struct AugmentOptions {
  bool enabled = true;
  int pad = 2;              // random crop of HxW from the zero-padded image
  bool flip = true;         // horizontal flip with probability 1/2
  float noise_stddev = 0.02f;  // Gaussian noise added to every value
};

// How the simulated upstream cost is paid (--upstream_cost_us): sleeping
// models slow storage or network (the core is free meanwhile); spinning
// models slow decoding (the core is busy). A simulation, labelled as such.
enum class CostMode { kSleep, kSpin };

struct PipelineOptions {
  size_t batch = 64;
  uint64_t seed = 1;
  int64_t epochs = 1;          // fresh passes; 0 = until Stop()
  int64_t first_epoch = 0;     // permutation index of the first pass (resume)
  double echo = 1.0;           // e >= 1, real
  bool echo_auto = false;      // e = clamp(step rate / upstream rate, 1, echo_max)
  double echo_max = 8.0;       // bound for echo_auto (>= 1)
  EchoPlacement placement = EchoPlacement::kBeforeAugment;
  size_t shuffle_buffer = 0;   // items after the echo stage; 0 or 1 = no shuffle
  AugmentOptions augment;
  double upstream_cost_us = 0.0;  // extra per-example cost in the source
  CostMode cost_mode = CostMode::kSleep;
  size_t queue_examples = 512; // capacity of each example queue
  size_t queue_batches = 4;    // capacity of each batch queue
};

// The data: n examples of height*width*channels floats (NHWC) and a label.
// Must outlive the pipeline.
struct SourceData {
  const float* images = nullptr;
  const uint8_t* labels = nullptr;
  size_t n = 0;
  int height = 0, width = 0, channels = 0;
  // Optional: called by the source thread for every fresh example before it
  // is decoded (tests inject failures with it); an error stops the pipeline.
  std::function<Status(int64_t epoch, size_t index)> read_hook;
};

struct Batch {
  std::vector<float> images;     // [size, h, w, c]
  std::vector<uint8_t> labels;   // [size]
  std::vector<uint64_t> ids;     // per example: epoch * n + dataset index
  int64_t epoch = 0;             // the fresh pass its examples come from
  bool last_of_epoch = false;    // the epoch's final batch
  size_t size() const { return labels.size(); }
};

struct PipelineMetrics {
  uint64_t fresh_examples = 0;     // read by the source
  uint64_t consumed_examples = 0;  // handed out by Next()
  uint64_t batches = 0;
  double echo_factor = 1.0;        // in effect now (auto: the latest estimate)
  double duplicate_rate = 0.0;     // of delivered examples, the fraction whose
                                   // id already appeared in the same batch
  double wait_fraction = 0.0;      // time blocked in Next() / time since Start
                                   // (paused time left out of both)
  double upstream_rate = 0.0;      // fresh examples/s the source sustains
  double step_rate = 0.0;          // examples/s the consumer takes when not waiting
  size_t shuffle_high_water = 0;   // most items the shuffle buffer held at once
};

class Pipeline {
 public:
  // INVALID_ARGUMENT for a bad option (batch 0, echo < 1, echo_max < 1,
  // empty data, pad < 0, a zero queue capacity, negative cost).
  static StatusOr<std::unique_ptr<Pipeline>> Start(const PipelineOptions& options,
                                                   const SourceData& data);
  ~Pipeline();  // Stop()
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // The next batch (blocks). OUT_OF_RANGE after the last epoch; a failed
  // stage's Status; CANCELLED after Stop() (kernels/status.h has no such
  // code yet: FAILED_PRECONDITION with a message starting "CANCELLED").
  // `out`'s old buffers are recycled. Call from one thread at a time;
  // Stop() and metrics() may be called from any thread.
  Status Next(Batch* out);
  // Shuts down and joins; idempotent.
  void Stop();
  // Holds the source before its next read (the stages after it drain into
  // their bounded queues, so at most the queues' capacity is prefetched),
  // e.g. while the model is evaluated; Resume() lets it go on. Paused time
  // counts in no rate: wait_fraction, step_rate, upstream_rate and
  // echo_auto's estimate all leave it out. Idempotent; any thread.
  void Pause();
  void Resume();
  PipelineMetrics metrics() const;
  const PipelineOptions& options() const;

 private:
  struct Impl;
  explicit Pipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The epoch permutation shared with Trainer (SplitMix64-driven Fisher-Yates).
std::vector<size_t> EpochPermutation(size_t n, uint64_t seed, int64_t epoch);

}  // namespace data
}  // namespace sparrow

#endif  // SPARROW_TRAINER_DATA_PIPELINE_H_
