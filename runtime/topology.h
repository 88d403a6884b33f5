// The machine's CPU topology: sockets, physical cores, SMT siblings and L3
// groups, as far as this process may run on them.
//
//   sparrow::CpuTopology topo = sparrow::CpuTopology::Detect();
//   std::vector<int> cpus = topo.OneCpuPerCore(/*socket=*/0);  // pin targets
//   printf("%s\n", topo.Describe().c_str());
//
// Contract: Detect() reads hwloc (restricted to the CPUs this process is
// allowed to use). When hwloc reports nothing usable it falls back to one
// socket whose every allowed logical CPU is a core of its own, and says so in
// `source`. The result is a plain value; safe to copy and share.
#ifndef SPARROW_RUNTIME_TOPOLOGY_H_
#define SPARROW_RUNTIME_TOPOLOGY_H_

#include <string>
#include <vector>

namespace sparrow {

struct CpuCore {
  int socket = 0;         // Index into CpuTopology's sockets (0-based).
  int l3_group = 0;       // Cores with the same value share an L3 cache.
  std::vector<int> cpus;  // Logical CPU ids (OS numbering), SMT siblings.
};

struct CpuTopology {
  std::vector<CpuCore> cores;  // Physical cores, ordered by socket then id.
  int num_sockets = 0;
  int num_l3_groups = 0;
  std::string source;  // "hwloc" or "fallback: <why>".

  static CpuTopology Detect();
  // For tests: a topology described by hand.
  static CpuTopology FromCores(std::vector<CpuCore> cores, std::string source);

  // The first logical CPU of each physical core on `socket`, in order: where
  // to pin one worker per core. Empty if the socket does not exist.
  std::vector<int> OneCpuPerCore(int socket) const;
  int NumCores(int socket) const;
  // "1 socket, 2 cores, 2 logical CPUs, 1 L3 group (hwloc)".
  std::string Describe() const;
};

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_TOPOLOGY_H_
