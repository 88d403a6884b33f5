// The `sparrow` command line: the entry point for every user-facing job.
//
//   bazel run //tools:sparrow -- --help
//   bazel run //tools:sparrow -- version
//
// Later issues add subcommands (inspect, run, bench, train, demo, ...). Each
// subcommand returns an exit code: 0 on success, 1 on a failed job, 2 on a
// usage error (CLI11 prints the message).
#include <stdio.h>

#include "CLI/CLI.hpp"
#include "kernels/targets.h"
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
  return 0;
}

}  // namespace
}  // namespace sparrow

int main(int argc, char** argv) { return sparrow::Main(argc, argv); }
