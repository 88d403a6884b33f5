// `sparrow echo-study` (docs/ECHOING.md, "How echo-study measures"): trains
// the same model to a target test accuracy for every echo factor and
// placement under a SIMULATED upstream cost, over several seeds, and writes
// runs.csv, summary.csv, two PNG plots and summary.md to a directory.
//
//   EchoStudyOptions o;
//   o.echoes = {"1", "4"};
//   o.placements = {"before_augment"};
//   o.seeds = 1;
//   o.target = 0.80;
//   o.out_dir = "/tmp/study";
//   Status s = EchoStudyCommand(o, stdout, stderr);
//
// Contract:
// - e = 1 runs once per seed (placement "any"): without echoing the
//   placements do not differ.
// - A run's clock is its PipelineFeed's (tools/cli_echo.h): waiting plus
//   training; evaluations are off the clock, with the pipeline paused
//   (Pipeline::Pause) meanwhile; runs.csv counts what the source still read.
// - runs.csv is rewritten (atomically) after every run, so an interrupted
//   study keeps what it measured; the other files are written at the end.
// - Errors name the flag or file; a run that fails ends the study with its
//   Status.
#ifndef SPARROW_TOOLS_CLI_ECHO_STUDY_H_
#define SPARROW_TOOLS_CLI_ECHO_STUDY_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "kernels/status.h"
#include "trainer/data/mnist.h"

namespace sparrow {

struct EchoStudyOptions {
  std::string model = "mlp";
  std::string data = kFashionMnistDir;
  size_t limit = 0;  // first N training examples (0: all)
  size_t batch = 64;
  std::string optimizer = "adam";
  size_t threads = 1;
  std::vector<std::string> echoes = {"1", "2", "3", "4", "6", "auto"};
  double echo_max = 8.0;
  std::vector<std::string> placements = {"before_augment", "after_augment",
                                         "batch"};
  size_t shuffle_buffer = 1024;  // examples (as `train --shuffle_buffer`)
  std::string augment = "on";
  // The simulated upstream cost: upstream_cost_us when given (0 too: no
  // bottleneck), else upstream_ratio x the measured training step time per
  // example.
  bool upstream_cost_given = false;
  double upstream_cost_us = 0.0;
  double upstream_ratio = 4.0;
  std::string cost_mode = "sleep";
  int seeds = 3;  // seeds first_seed, first_seed + 1, ...
  uint64_t first_seed = 1;
  double target = 0.84;   // test accuracy (mlp, augmented: ~5 fresh epochs)
  size_t eval_every = 0;  // consumed examples; 0: training examples / 4
  size_t eval_examples = 10000;  // the first N test examples
  int max_fresh_epochs = 12;     // a run that has not reached the target stops
  double final_seconds = 0;  // > 0: every run trains this long (clock above)
                             // and reports its final accuracy then
  std::string out_dir;       // required
  std::string command_line;  // for summary.md
  bool progress = true;
  // Train nothing: read out_dir/runs.csv (written by an earlier study) and
  // write summary.csv, the plots and summary.md again from it. The other
  // flags describe the setup in summary.md, so pass the study's own.
  bool replot = false;
};

Status EchoStudyCommand(const EchoStudyOptions& options, FILE* out,
                        FILE* progress);

// --- Between the study and its report (tools/cli_echo_report.cc) ---------

struct StudyRun {
  std::string model, placement, echo;  // echo as given: "2", "auto"
  uint64_t seed = 0;
  double effective_echo = 0.0;  // consumed / fresh over the run
  bool reached = false;
  double seconds_to_target = 0.0;  // on the run's clock
  uint64_t fresh_to_target = 0, consumed_to_target = 0, steps_to_target = 0;
  double final_accuracy = 0.0;  // at the end of the run
  double seconds = 0.0;         // the run's clock at its end
  uint64_t fresh = 0, consumed = 0, steps = 0;
  double wait_fraction = 0.0, duplicate_rate = 0.0;
  int evaluations = 0;
  double eval_seconds = 0.0;            // off the clock
  uint64_t prefetched_during_eval = 0;  // fresh examples the source read then
  double upstream_rate = 0.0;           // fresh examples/s the source sustained
                                        // (PipelineMetrics), at the run's end
};

// What summary.md reports about the setup.
struct StudySetup {
  std::string model, optimizer, augment, cost_mode, command_line;
  size_t train_examples = 0, eval_examples = 0, batch = 0, threads = 0;
  size_t shuffle_buffer = 0, eval_every = 0;
  double step_us = 0.0;  // measured per example (0: not measured)
  double upstream_cost_us = 0.0;
  double upstream_ratio = 0.0;  // 0 when the cost was given directly
  double target = 0.0, final_seconds = 0.0, echo_max = 0.0;
  int seeds = 0, max_fresh_epochs = 0;
};

// runs.csv (atomically), and back: DATA_LOSS naming the line and column of
// a malformed row, INVALID_ARGUMENT for another header.
Status WriteRunsCsv(const std::string& path, const std::vector<StudyRun>& runs);
StatusOr<std::vector<StudyRun>> ReadRunsCsv(const std::string& path);
// summary.csv, time_to_target.png, fresh_to_target.png (each left out when
// no configuration reached the target) and summary.md in `dir`; *table gets
// summary.md's markdown table.
Status WriteStudyReport(const std::string& dir, const StudySetup& setup,
                        const std::vector<StudyRun>& runs, std::string* table);

}  // namespace sparrow

#endif  // SPARROW_TOOLS_CLI_ECHO_STUDY_H_
