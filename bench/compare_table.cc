#include "bench/compare_table.h"

#include <map>

namespace sparrow {
namespace bench {

bool ParseCaseName(const std::string& function_name, std::string* op,
                   std::string* impl) {
  const std::string prefix = "BM_";
  if (function_name.compare(0, prefix.size(), prefix) != 0) return false;
  const size_t sep = function_name.find('_', prefix.size());
  if (sep == std::string::npos || sep == prefix.size() ||
      sep + 1 >= function_name.size()) {
    return false;
  }
  *op = function_name.substr(prefix.size(), sep - prefix.size());
  *impl = function_name.substr(sep + 1);
  return true;
}

std::vector<Goal> DefaultGoals() {
  // From issue 2's targets. Ratios are of rates (higher is better).
  return {
      {"Gemv", "sparrow_f32", "", 1.2},
      {"Gemv", "sparrow_bf16", "", 2.0},
      {"Gemm", "sparrow", "openblas", 0.8},
      {"GemmNN", "sparrow", "openblas", 0.8},
      {"GemmTN", "sparrow", "openblas", 0.8},
      {"Tanh", "sparrow_precise", "eigen", 1.0},
      {"Tanh", "sparrow_fast", "lpcnet", 1.5},
      // Issue 3 (block-sparse).
      {"SpMV", "sparrow_f32", "lpcnet", 3.0},
      {"SpMV", "sparrow_bf16", "sparrow_f32", 1.5},
      // Sparse GRU step, hidden 384, 10% density: >= 10x torch.nn.GRUCell
      // (dense, one thread), measured at 426 us per step by
      // bench/torch_gru.py (docs/PERFORMANCE.md); not in this binary.
      {"SparseGruStep", "sparrow_f32", "torch.nn.GRUCell 426us (external)",
       10.0, "384/384/100", 426.0},
  };
}

static bool IsOurs(const std::string& impl) {
  return impl == "sparrow" || impl.compare(0, 8, "sparrow_") == 0;
}

std::vector<TableRow> BuildTable(const std::vector<CaseResult>& results,
                                 const std::vector<Goal>& goals) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<TableRow>> groups;
  std::map<std::string, std::string> group_op, group_args;
  for (const CaseResult& r : results) {
    std::string op, impl;
    if (!ParseCaseName(r.function_name, &op, &impl)) continue;
    const std::string group = r.args.empty() ? op : op + "/" + r.args;
    if (groups.find(group) == groups.end()) order.push_back(group);
    group_op[group] = op;
    group_args[group] = r.args;
    TableRow row;
    row.group = group;
    row.impl = impl;
    row.rate = r.rate;
    row.is_flops = r.is_flops;
    row.time_us = r.time_us;
    row.ours = IsOurs(impl);
    groups[group].push_back(row);
  }

  std::vector<TableRow> table;
  for (const std::string& group : order) {
    std::vector<TableRow>& rows = groups[group];
    const TableRow* best = nullptr;
    for (const TableRow& row : rows) {
      if (!row.ours && (best == nullptr || row.rate > best->rate)) best = &row;
    }
    for (TableRow& row : rows) {
      if (row.ours && best != nullptr && best->rate > 0.0) {
        row.ratio_to_best_peer = row.rate / best->rate;
        row.best_peer = best->impl;
      }
      if (!row.ours) continue;
      for (const Goal& goal : goals) {
        if (goal.op != group_op[group] || goal.impl != row.impl) continue;
        if (!goal.args.empty() && goal.args != group_args[group]) continue;
        double ratio;
        if (goal.peer_time_us > 0.0) {
          if (row.time_us <= 0.0) continue;
          ratio = goal.peer_time_us / row.time_us;
        } else {
          const TableRow* peer = best;
          if (!goal.peer.empty()) {
            peer = nullptr;
            for (const TableRow& p : rows) {
              if (p.impl == goal.peer) peer = &p;
            }
          }
          if (peer == nullptr || peer->rate <= 0.0) continue;
          ratio = row.rate / peer->rate;
        }
        row.goal_met = ratio >= goal.min_ratio;
        char buf[96];
        snprintf(buf, sizeof(buf), ">=%.2fx %s: %.2fx %s", goal.min_ratio,
                 goal.peer.empty() ? "best peer" : goal.peer.c_str(), ratio,
                 row.goal_met ? "met" : "MISSED");
        row.goal = buf;
      }
    }
    table.insert(table.end(), rows.begin(), rows.end());
  }
  return table;
}

static std::string FormatRate(double rate, bool is_flops) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%8.2f %s", rate * 1e-9,
           is_flops ? "GFLOP/s" : "G/s    ");
  return buf;
}

int PrintTable(const std::vector<TableRow>& rows, FILE* out) {
  int missed = 0;
  fprintf(out, "%-26s %-18s %18s %11s  %-26s %s\n", "case", "impl", "rate",
          "time/call", "ours vs best peer", "goal");
  std::string last_group;
  for (const TableRow& row : rows) {
    if (row.group != last_group && !last_group.empty()) fprintf(out, "\n");
    last_group = row.group;
    char ratio[64] = "";
    if (row.ours && !row.best_peer.empty()) {
      snprintf(ratio, sizeof(ratio), "%.2fx %s", row.ratio_to_best_peer,
               row.best_peer.c_str());
    }
    fprintf(out, "%-26s %-18s %18s %9.2fus  %-26s %s\n", row.group.c_str(),
            row.impl.c_str(), FormatRate(row.rate, row.is_flops).c_str(),
            row.time_us, ratio, row.goal.c_str());
    if (!row.goal.empty() && !row.goal_met) ++missed;
  }
  return missed;
}

}  // namespace bench
}  // namespace sparrow
