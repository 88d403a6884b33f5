#include "runtime/topology.h"

#include <sched.h>
#include <stdio.h>

#include <algorithm>
#include <map>
#include <utility>

#include "hwloc.h"

namespace sparrow {
namespace {

CpuTopology Fallback(const char* why) {
  std::vector<CpuCore> cores;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &set)) continue;
      CpuCore core;
      core.cpus.push_back(cpu);
      cores.push_back(core);
    }
  }
  if (cores.empty()) {  // Not even the affinity mask: assume one CPU.
    CpuCore core;
    core.cpus.push_back(0);
    cores.push_back(core);
  }
  return CpuTopology::FromCores(std::move(cores),
                                std::string("fallback: ") + why);
}

// Index of the ancestor of `obj` of `type` (or -1), counted in `ids`.
int AncestorIndex(hwloc_topology_t topo, hwloc_obj_type_t type, hwloc_obj_t obj,
                  std::map<const void*, int>* ids) {
  hwloc_obj_t anc = hwloc_get_ancestor_obj_by_type(topo, type, obj);
  if (anc == nullptr) return -1;
  auto it = ids->find(anc);
  if (it != ids->end()) return it->second;
  const int id = static_cast<int>(ids->size());
  (*ids)[anc] = id;
  return id;
}

}  // namespace

CpuTopology CpuTopology::FromCores(std::vector<CpuCore> cores,
                                   std::string source) {
  CpuTopology t;
  t.cores = std::move(cores);
  t.source = std::move(source);
  int max_socket = -1, max_l3 = -1;
  for (const CpuCore& c : t.cores) {
    max_socket = std::max(max_socket, c.socket);
    max_l3 = std::max(max_l3, c.l3_group);
  }
  t.num_sockets = max_socket + 1;
  t.num_l3_groups = max_l3 + 1;
  return t;
}

CpuTopology CpuTopology::Detect() {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0) return Fallback("hwloc init failed");
  if (hwloc_topology_load(topo) != 0) {
    hwloc_topology_destroy(topo);
    return Fallback("hwloc load failed");
  }
  std::vector<CpuCore> cores;
  std::map<const void*, int> socket_ids, l3_ids;
  const int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  for (int i = 0; i < n; ++i) {
    hwloc_obj_t core_obj = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, i);
    if (core_obj == nullptr || core_obj->cpuset == nullptr) continue;
    CpuCore core;
    for (int cpu = hwloc_bitmap_first(core_obj->cpuset); cpu >= 0;
         cpu = hwloc_bitmap_next(core_obj->cpuset, cpu)) {
      core.cpus.push_back(cpu);
    }
    if (core.cpus.empty()) continue;
    core.socket = std::max(
        0, AncestorIndex(topo, HWLOC_OBJ_PACKAGE, core_obj, &socket_ids));
    core.l3_group = std::max(
        0, AncestorIndex(topo, HWLOC_OBJ_L3CACHE, core_obj, &l3_ids));
    cores.push_back(std::move(core));
  }
  hwloc_topology_destroy(topo);
  if (cores.empty()) return Fallback("hwloc reported no cores");
  std::stable_sort(cores.begin(), cores.end(),
                   [](const CpuCore& a, const CpuCore& b) {
                     return a.socket < b.socket;
                   });
  return FromCores(std::move(cores), "hwloc");
}

std::vector<int> CpuTopology::OneCpuPerCore(int socket) const {
  std::vector<int> cpus;
  for (const CpuCore& c : cores) {
    if (c.socket == socket && !c.cpus.empty()) cpus.push_back(c.cpus[0]);
  }
  return cpus;
}

int CpuTopology::NumCores(int socket) const {
  int n = 0;
  for (const CpuCore& c : cores) n += c.socket == socket ? 1 : 0;
  return n;
}

std::string CpuTopology::Describe() const {
  size_t logical = 0;
  for (const CpuCore& c : cores) logical += c.cpus.size();
  char buf[160];
  snprintf(buf, sizeof(buf),
           "%d socket%s, %zu core%s, %zu logical CPU%s, %d L3 group%s (%s)",
           num_sockets, num_sockets == 1 ? "" : "s", cores.size(),
           cores.size() == 1 ? "" : "s", logical, logical == 1 ? "" : "s",
           num_l3_groups, num_l3_groups == 1 ? "" : "s", source.c_str());
  return buf;
}

}  // namespace sparrow
