// The `sparrow` command line: the entry point for every user-facing job.
//
//   bazel run //tools:sparrow -- --help
//   bazel run //tools:sparrow -- version
//   sparrow inspect model.spw                   # tensors, ops, weights, plan
//   sparrow run model.spw --input x.npy --output y.npy
//   sparrow bench model.spw --threads 2 --seconds 5
//   sparrow train --model lenet5 --epochs 5 --export lenet5.spw
//   sparrow eval lenet5.spw                      # accuracy through the runtime
//   sparrow demo                                 # train, export, run, report
//
// docs/CLI.md documents every command. Each subcommand returns an exit code:
// 0 on success, 1 on a failed job (the Status goes to stderr), 2 on a usage
// error (CLI11 prints the message). The model commands live in tools/cli_*.cc.
#include <stdio.h>

#include "CLI/CLI.hpp"
#include "kernels/targets.h"
#include "tools/cli.h"
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
    return Finish("train", TrainCommand(train_options, stdout, stderr));
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
