// The `sparrow` command line: the entry point for every user-facing job.
//
//   bazel run //tools:sparrow -- --help
//   bazel run //tools:sparrow -- version
//   sparrow inspect model.spw                   # tensors, ops, weights, plan
//   sparrow run model.spw --input x.npy --output y.npy
//   sparrow bench model.spw --threads 2 --seconds 5
//
// docs/CLI.md documents every command. Each subcommand returns an exit code:
// 0 on success, 1 on a failed job (the Status goes to stderr), 2 on a usage
// error (CLI11 prints the message). The model commands live in tools/cli_*.cc.
#include <stdio.h>

#include "CLI/CLI.hpp"
#include "kernels/targets.h"
#include "tools/cli.h"
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
  return 0;
}

}  // namespace
}  // namespace sparrow

int main(int argc, char** argv) { return sparrow::Main(argc, argv); }
