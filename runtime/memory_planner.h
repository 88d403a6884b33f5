// Places activation buffers in the arena's head so that buffers whose
// lifetimes do not overlap share memory.
//
//   std::vector<sparrow::BufferLifetime> buffers = {
//       {.bytes = 4096, .first_step = 0, .last_step = 1},   // graph input
//       {.bytes = 2048, .first_step = 1, .last_step = 2},
//       {.bytes = 4096, .first_step = 2, .last_step = 2}};  // graph output
//   sparrow::StatusOr<sparrow::MemoryPlan> plan = sparrow::PlanMemory(buffers);
//   if (!plan.ok()) return plan.status();
//   SPARROW_RETURN_IF_ERROR(arena.SetHeadBytes(plan->head_bytes));
//   uint8_t* input = arena.head() + plan->offsets[0];  // shares with [2]
//
// Contract:
// - Steps are op indices in execution order. A buffer is alive from
//   first_step to last_step inclusive: the op that writes it first through
//   the last op that reads it. The caller makes graph inputs live from step 0
//   and graph outputs to the last step, and gives op scratch (im2col) the
//   single step of its op. Two buffers may share memory only when their step
//   ranges are disjoint, so an op's inputs and outputs never alias.
// - In-place ops and aliasing (Reshape as a view, Concat writing into its
//   output's slices) are out of scope: every buffer gets its own bytes for
//   its whole lifetime.
// - Output: offsets[i] is buffer i's byte offset from the head's start, a
//   multiple of kArenaAlignment (64); head_bytes is the extent of the plan, a
//   multiple of 64. Sizes are rounded up to 64 before planning. Zero-byte
//   buffers get offset 0 and occupy nothing.
// - Quality: head_bytes >= lower_bound, the most (rounded) bytes alive at
//   any one step, which no plan can beat. PlanMemory runs a greedy placement
//   (each buffer at the lowest gap among the buffers alive with it) under
//   ten fixed orders/fit rules, then under up to 64 pseudo-randomly jittered
//   size orders, and keeps the smallest head, stopping at the lower bound.
//   docs/RUNTIME.md lists the ratios measured on realistic graphs.
// - Deterministic: the same input gives the same plan on every machine (no
//   hashing, no clocks; the jitter is a fixed SplitMix64 sequence).
// - Cost: O(rounds * n^2) time, O(n) memory, for n buffers: about 1 ms for
//   a few hundred buffers, a few hundred ms for 4000 (the jitter rounds
//   shrink as n grows). It allocates (std::vector): planning happens at
//   prepare time, never in Invoke().
// - Errors: INVALID_ARGUMENT for a negative step or last_step < first_step,
//   OUT_OF_RANGE when the sizes overflow size_t; each names the buffer.
// - Thread-safe: pure functions of their arguments.
#ifndef SPARROW_RUNTIME_MEMORY_PLANNER_H_
#define SPARROW_RUNTIME_MEMORY_PLANNER_H_

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "kernels/status.h"

namespace sparrow {

struct BufferLifetime {
  size_t bytes = 0;
  int32_t first_step = 0;  // op index, inclusive
  int32_t last_step = 0;   // op index, inclusive
};

// The order in which the greedy places buffers.
enum class PlanOrder : uint8_t {
  kSize,       // Largest first (TFLite Micro's greedy by size).
  kArea,       // Largest bytes * steps alive first.
  kLifetime,   // Longest-lived first, so long skips settle at the bottom.
  kFirstUse,   // By first step (a linear scan), largest first within a step.
  kPressure,   // Buffers alive at the most crowded steps first.
  kJitteredSize,  // kSize with sizes scaled by a pseudo-random 1..2.
};
// Where a buffer goes among the gaps left by buffers alive at the same time.
enum class PlanFit : uint8_t {
  kFirst,  // The lowest offset that fits.
  kBest,   // The smallest gap that fits (lowest offset on ties).
};

struct PlanStrategy {
  PlanOrder order;
  PlanFit fit;
};
// "size/first" etc.; for logs and `sparrow inspect`.
const char* PlanStrategyName(PlanStrategy strategy);

struct PlannerOptions {
  // Strategies to try, in this order; the first with the smallest head wins.
  // Empty: DefaultPlanStrategies().
  std::vector<PlanStrategy> strategies;
  // Then up to this many kJitteredSize/first rounds, each with its own fixed
  // jitter; fewer for large graphs (the work stays near 1e8 buffer visits).
  uint32_t jitter_rounds = 64;
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // [buffers] bytes from the head's start
  size_t head_bytes = 0;        // bytes, multiple of 64
  size_t lower_bound = 0;       // bytes; head_bytes >= lower_bound
  PlanStrategy strategy{PlanOrder::kSize, PlanFit::kFirst};  // The winner.
  uint32_t jitter_round = 0;  // Its round, for kJitteredSize.
};

// Every order with both fit rules, the order PlanMemory tries them in.
const std::vector<PlanStrategy>& DefaultPlanStrategies();

StatusOr<MemoryPlan> PlanMemory(const std::vector<BufferLifetime>& buffers,
                                const PlannerOptions& options = {});

// The most bytes (each size rounded up to 64) alive at any one step.
StatusOr<size_t> LowerBound(const std::vector<BufferLifetime>& buffers);

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_MEMORY_PLANNER_H_
