// //bench:compare — the headline table: Sparrow's kernels against the peers on
// this machine, from one run of one binary, with ratios and goals.
//
//   bazel run -c opt //bench:compare
//   bazel run -c opt //bench:compare -- --benchmark_filter=Gemv   # a subset
//
// Every case is repeated and the median is reported; peers run on one thread.
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/compare_table.h"
#include "benchmark/benchmark.h"
#include "kernels/targets.h"

namespace sparrow {
namespace bench {
namespace {

// The headline shapes of issue 2's targets; the per-family binaries run more.
constexpr const char kDefaultFilter[] =
    "^BM_(Gemv_.*/(1152/384|3072/1024|4096/4096)"
    "|FusedLinear_.*/1152/384"
    "|Gemm_.*/64/(256/256|512/512|1024/1024)"
    "|GemmNN_.*/64/512/512|GemmTN_.*/64/512/512"
    "|(Tanh|Sigmoid|Exp|Gelu|Softmax)_.*/4096"
    "|GruStep_.*"
    "|SparseGruStep_.*"
    "|SpMV_.*)$";

// Collects the median of each case and shows progress on stderr.
class CollectingReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) {
        fprintf(stderr, "  %s failed: %s\n", run.benchmark_name().c_str(),
                run.error_message.c_str());
        continue;
      }
      if (run.run_type != Run::RT_Aggregate || run.aggregate_name != "median") {
        continue;
      }
      CaseResult r;
      r.function_name = run.run_name.function_name;
      r.args = run.run_name.args;
      auto flops = run.counters.find("FLOPS");
      auto items = run.counters.find("items_per_second");
      if (flops != run.counters.end()) {
        r.rate = flops->second.value;
      } else if (items != run.counters.end()) {
        r.rate = items->second.value;
        r.is_flops = false;
      }
      r.time_us = run.GetAdjustedRealTime() /
                  benchmark::GetTimeUnitMultiplier(run.time_unit) * 1e6;
      results_.push_back(r);
      fprintf(stderr, "\r  %3zu cases measured, last %-48s", results_.size(),
              run.run_name.str().c_str());
      fflush(stderr);
    }
  }

  void Finalize() override { fprintf(stderr, "\n"); }

  const std::vector<CaseResult>& results() const { return results_; }

 private:
  std::vector<CaseResult> results_;
};

int Main(int argc, char** argv) {
  InitPeersSingleThreaded();
  // Our defaults first; flags given by the user come later and win.
  std::vector<std::string> args = {
      argv[0],
      std::string("--benchmark_filter=") + kDefaultFilter,
      "--benchmark_min_time=0.05",
      "--benchmark_repetitions=5",
      "--benchmark_report_aggregates_only=true",
  };
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(&a[0]);
  int cargc = static_cast<int>(cargs.size());
  benchmark::Initialize(&cargc, cargs.data());
  if (benchmark::ReportUnrecognizedArguments(cargc, cargs.data())) return 1;

  printf("Sparrow vs peers, one core, median of 5 repetitions.\n");
  printf("Dispatch target: %s (compiled: %s)\n\n", DispatchTargetName(),
         CompiledTargetNames());
  fflush(stdout);
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (reporter.results().empty()) {
    fprintf(stderr, "no benchmark matched the filter\n");
    return 1;
  }
  const std::vector<TableRow> rows =
      BuildTable(reporter.results(), DefaultGoals());
  const int missed = PrintTable(rows, stdout);
  printf("\n%d goal(s) missed. Figures and commands: docs/PERFORMANCE.md\n",
         missed);
  return 0;
}

}  // namespace
}  // namespace bench
}  // namespace sparrow

int main(int argc, char** argv) { return sparrow::bench::Main(argc, argv); }
