// Turns benchmark results into //bench:compare's table: our cases against the
// best peer of the same op and shape, with ratios and the goals we track.
//
//   std::vector<CaseResult> results = ...;  // one per case (median run)
//   std::vector<TableRow> rows = BuildTable(results, DefaultGoals());
//   PrintTable(rows, stdout);
//
// Pure functions; no benchmark library types, so the logic is unit-tested.
#ifndef SPARROW_BENCH_COMPARE_TABLE_H_
#define SPARROW_BENCH_COMPARE_TABLE_H_

#include <stdio.h>

#include <string>
#include <vector>

namespace sparrow {
namespace bench {

// One benchmark case, e.g. function "BM_Gemv_sparrow_f32", args "1152/384".
struct CaseResult {
  std::string function_name;
  std::string args;
  double rate = 0.0;       // FLOPS counter, or items/s when there is none.
  bool is_flops = true;    // Unit of `rate`.
  double time_us = 0.0;    // Wall time per iteration.
};

// "BM_<Op>_<impl>" -> op and impl. Returns false for names not in that form.
bool ParseCaseName(const std::string& function_name, std::string* op,
                   std::string* impl);

// A target from the issue tracker: `impl` of `op` must reach `min_ratio`
// times `peer` (empty peer: the best peer in the group).
//
// A peer that cannot run in this binary (torch.nn.GRUCell runs in Python,
// bench/torch_gru.py) is an external measurement: peer_time_us > 0 is its
// time per call, `peer` its label, and the ratio is peer_time_us over our
// measured time per call. Such a figure is only meaningful for the shape and
// machine it was measured on, so these goals name their `args`.
struct Goal {
  std::string op;
  std::string impl;
  std::string peer;
  double min_ratio;
  std::string args = "";      // Only this shape ("384/384/100"); "": any.
  double peer_time_us = 0.0;  // > 0: external peer's time per call (us).
};

std::vector<Goal> DefaultGoals();

struct TableRow {
  std::string group;  // "<Op>/<args>"
  std::string impl;
  double rate = 0.0;
  bool is_flops = true;
  double time_us = 0.0;
  bool ours = false;
  // For our rows: ratio to the best peer of the group, and its name.
  double ratio_to_best_peer = 0.0;
  std::string best_peer;
  // Goal check for our rows, when a goal applies ("" otherwise):
  // e.g. ">=1.20x eigen: met".
  std::string goal;
  bool goal_met = false;
};

// Groups by op and args, keeps the input's order of groups and rows.
std::vector<TableRow> BuildTable(const std::vector<CaseResult>& results,
                                 const std::vector<Goal>& goals);

// Returns the number of goals missed.
int PrintTable(const std::vector<TableRow>& rows, FILE* out);

}  // namespace bench
}  // namespace sparrow

#endif  // SPARROW_BENCH_COMPARE_TABLE_H_
