// Test-only: activation lifetimes of realistic and random graphs, for the
// memory planner's tests.
#ifndef SPARROW_RUNTIME_MEMORY_PLANNER_GRAPHS_H_
#define SPARROW_RUNTIME_MEMORY_PLANNER_GRAPHS_H_

#include <stddef.h>
#include <stdint.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "runtime/memory_planner.h"

namespace sparrow {

// Builds a graph op by op, in execution order, and derives each activation's
// lifetime as the interpreter will: written at its producing op (graph
// inputs at step 0), alive through its last reader (graph outputs through
// the last op). Weights live in the model, not the head, so they are not
// tensors here.
class GraphBuilder {
 public:
  int Input(size_t bytes);
  // An op reading `inputs` and writing one new tensor of `out_bytes`;
  // `scratch_bytes` > 0 adds scratch (im2col, gate buffers) alive only
  // during this op. Returns the new tensor.
  int Op(std::initializer_list<int> inputs, size_t out_bytes,
         size_t scratch_bytes = 0);
  int Op(const std::vector<int>& inputs, size_t out_bytes,
         size_t scratch_bytes = 0);
  void Output(int tensor) { outputs_.push_back(tensor); }

  // `with_scratch` false leaves op scratch out (an interpreter that puts it
  // in the tail, or kernels that need none).
  std::vector<BufferLifetime> Lifetimes(bool with_scratch = true) const;
  int NumOps() const { return static_cast<int>(ops_.size()); }

 private:
  struct OpRecord {
    std::vector<int> inputs;
    int output;
    size_t scratch_bytes;
  };
  std::vector<size_t> tensor_bytes_;
  std::vector<int> producer_;  // -1 for graph inputs.
  std::vector<OpRecord> ops_;
  std::vector<int> outputs_;
};

struct TestGraph {
  std::string name;
  std::vector<BufferLifetime> buffers;
};

// MLP, LeNet-5, GRU sequence model, residual net, U-Net, DenseNet blocks,
// Inception modules, Transformer encoder, MobileNetV2; float32 activations.
// Graphs with op scratch come twice: with it, and without ("-noscratch").
std::vector<TestGraph> RealisticGraphs();

// A random DAG of `num_ops` ops: one or two inputs each (mostly the latest
// tensor, sometimes one far back), log-uniform sizes from 1 byte to 1 MiB,
// unaligned, and scratch on some ops. Deterministic in `seed`.
std::vector<BufferLifetime> RandomGraph(uint32_t seed, int num_ops);

// Random intervals over `steps` steps, not derived from a graph.
std::vector<BufferLifetime> RandomIntervals(uint32_t seed, int count,
                                            int steps);

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_MEMORY_PLANNER_GRAPHS_H_
