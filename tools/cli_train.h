// The trainer's commands of the `sparrow` command line (docs/CLI.md):
// `train`, `eval` and `demo`, as plain functions (tools/sparrow_main.cc
// parses the flags into these options).
//
//   sparrow::TrainCommandOptions o;
//   o.model = "lenet5";
//   o.epochs = 3;
//   o.export_path = "/tmp/lenet5.spw";
//   sparrow::Status s = sparrow::TrainCommand(o, stdout, stderr);
//   o.echo.enabled = true;   // through the data-echoing pipeline instead
//   o.echo.echo = "2";       // (tools/cli_echo.h, docs/ECHOING.md)
//
// Contract: as tools/cli.h. Every error a user can cause (missing or corrupt
// dataset files, a bad model spec or optimizer spec, a checkpoint of another
// model, an unwritable path) is a Status naming the file or flag and value.
// Reports go to `out`, progress bars to `progress` (may be null). Files are
// written atomically: a checkpoint interrupted mid-write never replaces a
// good one.
#ifndef SPARROW_TOOLS_CLI_TRAIN_H_
#define SPARROW_TOOLS_CLI_TRAIN_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <string>

#include "kernels/status.h"
#include "tools/cli_echo.h"
#include "trainer/data/mnist.h"

namespace sparrow {

struct TrainCommandOptions {
  std::string model = "lenet5";  // a built-in name or a spec (trainer/net.h)
  std::string data = "/usr/share/datasets/fashion-mnist";
  int epochs = 1;
  size_t batch = 64;
  std::string optimizer = "adam";     // trainer/optim/optimizer.h spec
  std::string schedule = "constant";  // trainer/optim/schedule.h spec
  size_t threads = 1;
  uint64_t seed = 1;
  size_t limit = 0;               // use only the first N training examples
  std::string checkpoint;         // written after every epoch ("" = none)
  bool resume = false;            // continue from `checkpoint` if it exists
  std::string metrics;            // per-epoch metrics CSV ("" = none)
  std::string export_path;        // .spw written at the end ("" = none)
  bool progress = true;
  // When echo.enabled, batches come from data::Pipeline (an epoch is a fresh
  // pass; the test split is evaluated after each epoch's last batch);
  // otherwise Trainer::TrainEpoch runs as before.
  EchoFlags echo;
};

// Trains on the dataset's training split, evaluates on its test split after
// every epoch, and optionally checkpoints, logs metrics and exports. The
// metrics CSV's columns are kMetricsHeader's.
Status TrainCommand(const TrainCommandOptions& options, FILE* out,
                    FILE* progress);

inline constexpr char kMetricsHeader[] =
    "epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,seconds,"
    "examples_per_second,fresh_examples,consumed_examples,echo_factor,"
    "duplicate_rate,wait_fraction";

// The first `limit` examples (0: all) of a Fashion-MNIST split in `dir`.
StatusOr<Dataset> LoadMnistSplit(const std::string& dir, Split split,
                                 size_t limit);
// The first `limit` training examples (0: all) and the whole test split.
Status LoadTrainAndTest(const std::string& dir, size_t limit, Dataset* train,
                        Dataset* test);

struct EvalCommandOptions {
  std::string model;  // .spw with one input [N, 28, 28, 1] and logits/probs
  std::string data = "/usr/share/datasets/fashion-mnist";
  size_t threads = 1;
  size_t limit = 0;  // evaluate only the first N test examples
};

// Runs the model through the runtime on the test split: accuracy and the
// per-Invoke latency.
Status EvalCommand(const EvalCommandOptions& options, FILE* out);

struct DemoOptions {
  std::string model = "lenet5";
  int epochs = 2;
  size_t threads = 1;
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::string out_dir = "/tmp";  // where the exported model is written
};

// Trains a small model, exports it, runs it through the runtime on the test
// set and prints accuracy, model size, latency and arena bytes.
Status DemoCommand(const DemoOptions& options, FILE* out, FILE* progress);

}  // namespace sparrow

#endif  // SPARROW_TOOLS_CLI_TRAIN_H_
