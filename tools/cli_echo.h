// Data echoing on the command line (docs/ECHOING.md): the flags that put
// `sparrow train` on the input pipeline (trainer/data/pipeline.h), and the
// loop that feeds a Trainer from it while keeping the step's own account.
//
//   EchoFlags f;
//   f.enabled = true;
//   f.echo = "2";                       // or "auto"
//   f.place = "after_augment";
//   StatusOr<data::PipelineOptions> po = MakePipelineOptions(f, 64,
//   /*seed=*/1); po->epochs = 3; StatusOr<std::unique_ptr<data::Pipeline>> p =
//   data::Pipeline::Start(*po, src); PipelineFeed feed(trainer, p->get(), n);
//   for (;;) {
//     Status s = feed.Step();                     // Next() + TrainBatch()
//     if (s.code() == StatusCode::kOutOfRange) break;
//     if (!s.ok()) return s;
//     if (feed.batch().last_of_epoch) { /* evaluate: not on the clock */ }
//   }
//
// Contract:
// - The parse functions accept exactly what docs/ECHOING.md lists and name
//   the flag and value otherwise (INVALID_ARGUMENT); the command line runs
//   them as validators, so a bad value is a usage error (exit 2).
// - PipelineFeed's clock runs only inside Step(): whatever the caller does
//   between steps (evaluation, printing) is not counted, though the
//   pipeline's stages keep prefetching meanwhile, up to their queues.
// - Its counters are what the step consumed, not what the source read ahead:
//   `fresh` counts distinct examples (by Batch::ids) delivered so far.
// - Not thread-safe; the trainer and the pipeline must outlive the feed.
#ifndef SPARROW_TOOLS_CLI_ECHO_H_
#define SPARROW_TOOLS_CLI_ECHO_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "kernels/status.h"
#include "trainer/data/pipeline.h"
#include "trainer/train.h"

namespace sparrow {

// The pipeline flags of `sparrow train`, as given (strings are parsed by the
// functions below).
struct EchoFlags {
  bool enabled = false;    // any flag given: train through the pipeline
  std::string echo = "1";  // --echo: a real >= 1, or "auto"
  double echo_max = 8.0;   // --echo_max: the bound for auto
  std::string place = "before_augment";  // --echo_place
  size_t shuffle_buffer = 1024;          // --shuffle_buffer, in examples
  std::string augment = "on";  // --augment: on | off | pad=P,flip=0|1,noise=S
  double upstream_cost_us = 0.0;  // --upstream_cost_us: SIMULATED, per example
  std::string cost_mode = "sleep";  // --cost_mode: sleep | spin
};

struct EchoSetting {
  bool automatic = false;  // "auto"
  double factor = 1.0;     // e when not automatic
};

// "auto", or a real in [1, kMaxEcho].
inline constexpr double kMaxEcho = 1000.0;
StatusOr<EchoSetting> ParseEcho(const std::string& text);
// "on" (AugmentOptions' defaults), "off", or a comma list of pad=P (0..8),
// flip=0|1, noise=S (0..1) over the defaults.
StatusOr<data::AugmentOptions> ParseAugment(const std::string& text);
StatusOr<data::CostMode> ParseCostMode(const std::string& text);

// The pipeline options for these flags (epochs and first_epoch are left for
// the caller). --shuffle_buffer counts examples; with batch-level echoing the
// buffer holds batches, so it gets shuffle_buffer / batch of them.
StatusOr<data::PipelineOptions> MakePipelineOptions(const EchoFlags& flags,
                                                    size_t batch,
                                                    uint64_t seed);

// "echo 2 before_augment, shuffle buffer 1024 examples, augment pad=2,flip=1,
// noise=0.02, upstream cost 300 us/example (SIMULATED, sleep)".
std::string DescribePipeline(const data::PipelineOptions& options);

// A dataset split in memory as the pipeline's source (no read hook).
data::SourceData MnistSource(const float* images, const uint8_t* labels,
                             size_t n);

// What the step consumed: totals since the feed began, or the difference of
// two (per epoch).
struct FeedTotals {
  uint64_t consumed = 0;    // examples trained on
  uint64_t fresh = 0;       // distinct examples among them
  uint64_t duplicates = 0;  // examples whose id appeared before in their batch
  uint64_t steps = 0;
  uint64_t correct = 0;       // training predictions that were right
  double loss_sum = 0.0;      // summed over examples
  double seconds = 0.0;       // inside Step(): waiting plus training
  double wait_seconds = 0.0;  // inside Pipeline::Next()

  double echo() const {
    return fresh ? static_cast<double>(consumed) / fresh : 0.0;
  }
  double duplicate_rate() const {
    return consumed ? static_cast<double>(duplicates) / consumed : 0.0;
  }
  double wait_fraction() const {
    return seconds > 0 ? wait_seconds / seconds : 0.0;
  }
  double loss() const { return consumed ? loss_sum / consumed : 0.0; }
  double accuracy() const {
    return consumed ? static_cast<double>(correct) / consumed : 0.0;
  }
  FeedTotals Minus(const FeedTotals& earlier) const;
};

class PipelineFeed {
 public:
  // n: the dataset's size (Batch::ids are epoch * n + index).
  PipelineFeed(train::Trainer* trainer, data::Pipeline* pipeline, size_t n);

  // Takes the next batch and one optimizer step on it. OUT_OF_RANGE after the
  // last epoch; otherwise the pipeline's or TrainBatch's error.
  Status Step();
  const data::Batch& batch() const { return batch_; }  // the last one trained
  const train::BatchStats& last() const { return last_; }
  const FeedTotals& totals() const { return totals_; }

 private:
  train::Trainer* trainer_;
  data::Pipeline* pipeline_;
  size_t n_;
  data::Batch batch_;
  train::BatchStats last_;
  FeedTotals totals_;
  std::vector<uint8_t> seen_;  // [n]: delivered in epoch seen_epoch_
  int64_t seen_epoch_ = -1;
  std::vector<uint64_t> sorted_ids_;
};

// The pipeline path's progress line ("\r", no newline): the bar and ETA
// follow the epoch's fresh examples (the passes are fresh passes).
void PrintFeedProgress(FILE* out, int64_t epoch, const FeedTotals& epoch_totals,
                       size_t n, double echo_in_effect);

}  // namespace sparrow

#endif  // SPARROW_TOOLS_CLI_ECHO_H_
