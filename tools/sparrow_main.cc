// The `sparrow` command line: the entry point for every user-facing job.
//
//   bazel run //tools:sparrow -- --help
//   bazel run //tools:sparrow -- version
//   sparrow inspect model.spw                   # tensors, ops, weights, plan
//   sparrow run model.spw --input x.npy --output y.npy
//   sparrow bench model.spw --threads 2 --seconds 5
//   sparrow train --model lenet5 --epochs 5 --export lenet5.spw
//   sparrow train --model mlp --echo 2 --upstream_cost_us 300   # echoing
//   sparrow echo-study --out /tmp/study          # e x placement x seeds
//   sparrow eval lenet5.spw                      # accuracy through the runtime
//   sparrow demo                                 # train, export, run, report
//
// docs/CLI.md documents every command. Each subcommand returns an exit code:
// 0 on success, 1 on a failed job (the Status goes to stderr), 2 on a usage
// error (CLI11 prints the message). The model commands live in tools/cli_*.cc.
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "kernels/targets.h"
#include "tools/cli.h"
#include "tools/cli_echo.h"
#include "tools/cli_echo_study.h"
#include "tools/cli_train.h"
#include "tools/version.h"

namespace sparrow {
namespace {

int RunVersion() {
  printf("sparrow %s\n", SPARROW_VERSION);
  printf("kernels: dispatch target %s; compiled targets: %s\n",
         DispatchTargetName(), CompiledTargetNames());
#if defined(__clang__)
  printf("compiler: clang %s\n", __clang_version__);
#elif defined(__GNUC__)
  printf("compiler: gcc %d.%d.%d\n", __GNUC__, __GNUC_MINOR__,
         __GNUC_PATCHLEVEL__);
#endif
  return 0;
}

// Exit code of a model command: 0, or 1 with the Status on stderr.
int Finish(const char* command, const Status& s) {
  fflush(stdout);
  if (s.ok()) return 0;
  fprintf(stderr, "sparrow %s: %s\n", command, s.ToString().c_str());
  return 1;
}

// A count given on the command line: at least 1.
CLI::Range Count() { return CLI::Range(1, 1000000000); }

// --threads, --no-fuse and --fast: how the model is prepared.
void AddModelOptions(CLI::App* sub, ModelOptions* o, bool with_fast) {
  sub->add_option("model", o->model, "Model file (.spw)")->required();
  sub->add_option("--threads,-t", o->threads,
                  "Threads including the caller's (default 1)")
      ->check(CLI::Range(1, 1024));
  sub->add_flag_callback(
      "--no-fuse", [o] { o->fuse = false; },
      "Run every op as its own step (no fused kernels)");
  if (with_fast) {
    sub->add_flag("--fast", o->fast,
                  "Fast activations (tanh/sigmoid within 1e-4)");
  }
}

// A check that runs one of tools/cli_echo.h's parsers: its message becomes
// the usage error (exit 2).
template <typename Parse>
CLI::Validator StatusCheck(Parse parse, const char* description) {
  return CLI::Validator(
      [parse](std::string& value) -> std::string {
        const Status s = parse(value).status();
        if (s.ok()) return std::string();
        // CLI11 names the flag itself: "--echo: '0.5': want ...".
        std::string m = s.message();
        if (m.compare(0, 2, "--") == 0 && m.find(' ') != std::string::npos) {
          m = m.substr(m.find(' ') + 1);
        }
        return m;
      },
      description);
}

CLI::Validator EchoCheck() { return StatusCheck(ParseEcho, "E|auto"); }
CLI::Validator AugmentCheck() {
  return StatusCheck(ParseAugment, "on|off|pad=P,flip=0|1,noise=S");
}
CLI::IsMember PlacementCheck() {
  return CLI::IsMember({"before_augment", "after_augment", "batch"});
}
CLI::IsMember CostModeCheck() { return CLI::IsMember({"sleep", "spin"}); }

// The pipeline flags `train` and `echo-study` share; returns them, so the
// caller can tell whether any was given.
std::vector<CLI::Option*> AddPipelineFlags(CLI::App* sub, EchoFlags* f,
                                           size_t* shuffle_buffer,
                                           std::string* augment,
                                           std::string* cost_mode,
                                           double* echo_max) {
  std::vector<CLI::Option*> added;
  if (f != nullptr) {
    added.push_back(sub->add_option(
        "--echo", f->echo,
        "Data echoing: repeat each example E times (a real >= 1) or 'auto' "
        "(E = step rate / upstream rate, up to --echo_max); trains through the "
        "input pipeline (docs/ECHOING.md)")->check(EchoCheck()));
  }
  added.push_back(sub->add_option(
      "--echo_max", *echo_max,
      "Upper bound of e for --echo auto (default 8)")->check(CLI::Range(1.0, kMaxEcho)));
  if (f != nullptr) {
    added.push_back(sub->add_option("--echo_place", f->place,
                                    "Where to echo: before_augment (default), "
                                    "after_augment, batch")
                        ->check(PlacementCheck()));
  }
  added.push_back(sub->add_option(
      "--shuffle_buffer", *shuffle_buffer,
      "Shuffle buffer after the echo stage, in examples (batch-level echoing "
      "holds N/batch batches); 0 = none (default 1024)")
      ->check(CLI::Range(0, 1 << 24)));
  added.push_back(sub->add_option(
      "--augment", *augment,
      "Augmentation in the pipeline: on (crop with pad 2, flip, noise 0.02), "
      "off, or pad=P,flip=0|1,noise=S (default on)")->check(AugmentCheck()));
  if (f != nullptr) {
    added.push_back(sub->add_option(
        "--upstream_cost_us", f->upstream_cost_us,
        "SIMULATION of slow storage/decoding: extra microseconds per fresh "
        "example in the pipeline's source (default 0)")
        ->check(CLI::Range(0.0, 1e7)));
  }
  added.push_back(sub->add_option(
      "--cost_mode", *cost_mode,
      "SIMULATION of the upstream cost: sleep (slow storage, core free) or "
      "spin (slow decoding, core busy) (default sleep)")->check(CostModeCheck()));
  return added;
}

// argv as one line a shell would split back into it (for echo-study's report).
std::string CommandLine(int argc, char** argv) {
  std::string line = "sparrow";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    bool plain = !a.empty();
    for (char c : a) {
      plain = plain && (isalnum(static_cast<unsigned char>(c)) ||
                        strchr("_./=:,+-@%", c) != nullptr);
    }
    line += " ";
    if (plain) {
      line += a;
      continue;
    }
    line += "'";
    for (char c : a) line += c == '\'' ? std::string("'\\''") : std::string(1, c);
    line += "'";
  }
  return line;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "Sparrow: small neural networks made fast, small and cheap on CPUs.\n"
      "Kernels benchmarks: bazel run -c opt //bench:compare"};
  app.name("sparrow");
  app.require_subcommand(1);
  bool show_version_flag = false;
  app.add_flag("--version", show_version_flag, "Print the version and exit");
  CLI::App* version =
      app.add_subcommand("version", "Print version and SIMD dispatch target");

  InspectOptions inspect_options;
  CLI::App* inspect = app.add_subcommand(
      "inspect", "Print a model's tensors, ops, weights and prepared plan");
  AddModelOptions(inspect, &inspect_options, /*with_fast=*/false);

  RunOptions run_options;
  CLI::App* run = app.add_subcommand(
      "run", "Run a model once on .npy inputs and write .npy outputs");
  AddModelOptions(run, &run_options.model, /*with_fast=*/true);
  run->add_option("--input,-i", run_options.inputs,
                  "Input .npy (f32, or i32 for i32 inputs), one per graph "
                  "input, in order")
      ->required()
      ->allow_extra_args(false);
  run->add_option("--output,-o", run_options.outputs,
                  "Output .npy (f32), one per graph output, in order")
      ->required()
      ->allow_extra_args(false);
  run->add_option("--repeat", run_options.repeat,
                  "Invoke this many times (state carries over); writes the "
                  "last outputs")
      ->check(Count());

  BenchOptions bench_options;
  CLI::App* bench = app.add_subcommand(
      "bench", "Time Invoke() on random inputs: latency percentiles, steps");
  AddModelOptions(bench, &bench_options.model, /*with_fast=*/true);
  CLI::Option* iterations =
      bench
          ->add_option("--iterations,-n", bench_options.iterations,
                       "Timed invokes (default: run for --seconds)")
          ->check(Count());
  CLI::Option* seconds =
      bench
          ->add_option("--seconds,-s", bench_options.seconds,
                       "Seconds of timed invokes (default 1)")
          ->check(CLI::Range(1e-3, 1e6));
  iterations->excludes(seconds);
  bench
      ->add_option("--warmup", bench_options.warmup,
                   "Untimed invokes first (default 10)")
      ->check(CLI::Range(0, 1000000000));
  bench->add_option("--seed", bench_options.seed,
                    "Seed of the random inputs (default 1)");
  TrainCommandOptions train_options;
  CLI::App* train = app.add_subcommand(
      "train", "Train a model on Fashion-MNIST (progress, metrics, checkpoints)");
  train->add_option("--model,-m", train_options.model,
                    "lenet5, mlp, or a spec such as \"flatten linear(10)\"");
  train->add_option("--data", train_options.data,
                    "Directory of the Fashion-MNIST IDX files");
  train->add_option("--epochs,-e", train_options.epochs, "Epochs (default 1)")
      ->check(CLI::Range(1, 100000));
  train->add_option("--batch,-b", train_options.batch, "Batch size (default 64)")
      ->check(CLI::Range(1, 1 << 20));
  train->add_option("--optimizer", train_options.optimizer,
                    "sgd|adam|adamw[:lr=..,...] (default adam)");
  train->add_option("--schedule", train_options.schedule,
                    "constant | step:every=N,gamma=F | cosine:total=N,warmup=N,min=F");
  train->add_option("--threads,-t", train_options.threads, "Threads (default 1)")
      ->check(CLI::Range(1, 256));
  train->add_option("--seed", train_options.seed, "Seed (default 1)");
  train->add_option("--limit", train_options.limit,
                    "Train on the first N examples only");
  train->add_option("--checkpoint", train_options.checkpoint,
                    "Checkpoint written atomically after every epoch");
  train->add_flag("--resume", train_options.resume,
                  "Continue from --checkpoint if it exists");
  train->add_option("--metrics", train_options.metrics, "Append per-epoch CSV");
  train->add_option("--export", train_options.export_path,
                    "Write the trained model (.spw) at the end");
  train->add_flag_callback(
      "--quiet,-q", [&] { train_options.progress = false; }, "No progress bar");
  EchoFlags& echo = train_options.echo;
  const std::vector<CLI::Option*> pipeline_flags =
      AddPipelineFlags(train, &echo, &echo.shuffle_buffer, &echo.augment,
                       &echo.cost_mode, &echo.echo_max);

  EchoStudyOptions study;
  CLI::App* echo_study = app.add_subcommand(
      "echo-study",
      "Time and fresh examples to a target accuracy for each echo factor and "
      "placement, under a SIMULATED upstream cost (docs/ECHOING.md)");
  echo_study->add_option("--out", study.out_dir,
                         "Directory for runs.csv, summary.csv, summary.md and "
                         "the PNG plots")
      ->required();
  echo_study->add_option("--model,-m", study.model, "Model (default mlp)");
  echo_study->add_option("--data", study.data,
                         "Directory of the Fashion-MNIST IDX files");
  echo_study->add_option("--limit", study.limit,
                         "Train on the first N examples only");
  echo_study->add_option("--batch,-b", study.batch, "Batch size (default 64)")
      ->check(CLI::Range(1, 1 << 20));
  echo_study->add_option("--optimizer", study.optimizer,
                         "sgd|adam|adamw[:lr=..,...] (default adam)");
  echo_study->add_option("--threads,-t", study.threads, "Threads (default 1)")
      ->check(CLI::Range(1, 256));
  echo_study->add_option("--echo", study.echoes,
                         "Echo factors, comma-separated reals >= 1 or auto "
                         "(default 1,2,3,4,6,auto)")
      ->delimiter(',')
      ->check(EchoCheck());
  echo_study->add_option("--echo_place", study.placements,
                         "Placements, comma-separated (default "
                         "before_augment,after_augment,batch)")
      ->delimiter(',')
      ->check(PlacementCheck());
  AddPipelineFlags(echo_study, nullptr, &study.shuffle_buffer, &study.augment,
                   &study.cost_mode, &study.echo_max);
  CLI::Option* cost = echo_study->add_option(
      "--upstream_cost_us", study.upstream_cost_us,
      "SIMULATION of slow storage/decoding: extra microseconds per fresh "
      "example (default: --upstream_ratio x the measured step)")
      ->check(CLI::Range(0.0, 1e7));
  CLI::Option* ratio = echo_study->add_option(
      "--upstream_ratio", study.upstream_ratio,
      "Simulated upstream cost as a multiple of the measured training step "
      "time per example (default 4)")
      ->check(CLI::Range(0.01, 1000.0));
  cost->excludes(ratio);
  echo_study->add_option("--seeds", study.seeds, "Seeds per configuration (default 3)")
      ->check(CLI::Range(1, 1000));
  echo_study->add_option("--seed", study.first_seed, "First seed (default 1)");
  echo_study->add_option("--target", study.target,
                         "Target test accuracy, 0..1 (default 0.84)")
      ->check(CLI::Range(1e-6, 1.0));
  echo_study->add_option("--eval_every", study.eval_every,
                         "Evaluate every N consumed examples (default: a "
                         "quarter of the training set)")
      ->check(CLI::Range(static_cast<size_t>(1), static_cast<size_t>(1) << 40));
  echo_study->add_option("--eval_examples", study.eval_examples,
                         "Evaluate on the first N test examples (default 10000)")
      ->check(CLI::Range(1, 1000000000));
  echo_study->add_option("--max_fresh_epochs", study.max_fresh_epochs,
                         "Stop a run that has not reached the target after N "
                         "fresh epochs (default 12)")
      ->check(CLI::Range(1, 100000));
  echo_study->add_option("--final_seconds", study.final_seconds,
                         "Train every run for S seconds (its clock) and report "
                         "the final accuracy then (default: stop at the target)")
      ->check(CLI::Range(0.0, 1e7));
  echo_study->add_flag_callback(
      "--quiet,-q", [&] { study.progress = false; }, "No per-run lines");
  echo_study->add_flag("--replot", study.replot,
                       "Train nothing: rewrite summary.csv, summary.md and the "
                       "plots from --out's runs.csv (pass the study's flags, "
                       "with --upstream_cost_us)");

  EvalCommandOptions eval_options;
  CLI::App* eval = app.add_subcommand(
      "eval", "Accuracy and latency of a model on the Fashion-MNIST test set");
  eval->add_option("model", eval_options.model, "Model file (.spw)")->required();
  eval->add_option("--data", eval_options.data,
                   "Directory of the Fashion-MNIST IDX files");
  eval->add_option("--threads,-t", eval_options.threads, "Threads (default 1)")
      ->check(CLI::Range(1, 1024));
  eval->add_option("--limit", eval_options.limit, "First N test examples only");

  DemoOptions demo_options;
  CLI::App* demo = app.add_subcommand(
      "demo", "Train on Fashion-MNIST, export, run through the runtime, report");
  demo->add_option("--model,-m", demo_options.model, "Model (default lenet5)");
  demo->add_option("--epochs,-e", demo_options.epochs, "Epochs (default 2)")
      ->check(CLI::Range(1, 1000));
  demo->add_option("--threads,-t", demo_options.threads, "Threads (default 1)")
      ->check(CLI::Range(1, 256));
  demo->add_option("--data", demo_options.data,
                   "Directory of the Fashion-MNIST IDX files");
  demo->add_option("--out-dir", demo_options.out_dir,
                   "Where the exported model goes (default /tmp)");

  bool known = argc <= 1 || argv[1][0] == '-';
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (argc > 1 && sub->get_name() == argv[1]) known = true;
  }
  if (!known) {
    fprintf(stderr, "sparrow: unknown subcommand '%s' (see sparrow --help)\n",
            argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (show_version_flag) return RunVersion();
    // Help is a success; every other parse error is a usage error.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (version->parsed()) return RunVersion();
  if (inspect->parsed()) {
    return Finish("inspect", Inspect(inspect_options, stdout));
  }
  if (run->parsed()) return Finish("run", RunModel(run_options, stdout));
  if (bench->parsed()) {
    return Finish("bench", Bench(bench_options, stdout, stderr));
  }
  if (train->parsed()) {
    for (const CLI::Option* f : pipeline_flags) echo.enabled |= f->count() > 0;
    return Finish("train", TrainCommand(train_options, stdout, stderr));
  }
  if (echo_study->parsed()) {
    study.upstream_cost_given = cost->count() > 0;
    study.command_line = CommandLine(argc, argv);
    return Finish("echo-study", EchoStudyCommand(study, stdout, stderr));
  }
  if (eval->parsed()) return Finish("eval", EvalCommand(eval_options, stdout));
  if (demo->parsed()) {
    return Finish("demo", DemoCommand(demo_options, stdout, stderr));
  }
  return 0;
}

}  // namespace
}  // namespace sparrow

int main(int argc, char** argv) { return sparrow::Main(argc, argv); }
