// Test-only: runs a validated Model op by op in double precision with plain
// loops written for obviousness (no fusion, no SIMD, no arena), so tests can
// check runtime/interpreter.h against it on any model.
//
//   sparrow::ReferenceInterpreter ref(model);
//   ref.SetInput(0, x);                       // f32 / i32 values as double
//   ASSERT_TRUE(ref.Invoke().ok());
//   const std::vector<double>& y = ref.Output(0);
//
// Semantics are those of docs/FORMAT.md: NHWC activations, PyTorch GRU gate
// order (r, z, n), state tensors carried across Invoke() (a FullSequence GRU
// leaves its last h in its state), NumPy broadcasting for Add/Mul. Weights
// are read as stored (bf16 widened exactly; block-sparse expanded).
#ifndef SPARROW_RUNTIME_TESTING_REFERENCE_INTERPRETER_H_
#define SPARROW_RUNTIME_TESTING_REFERENCE_INTERPRETER_H_

#include <stddef.h>

#include <vector>

#include "kernels/status.h"
#include "runtime/model.h"

namespace sparrow {

class ReferenceInterpreter {
 public:
  explicit ReferenceInterpreter(const Model& model);

  void SetInput(size_t i, const std::vector<double>& values);
  Status Invoke();
  void ResetState();
  const std::vector<double>& Output(size_t i) const;
  const std::vector<double>& Tensor(size_t t) const { return values_[t]; }

 private:
  Status RunOp(size_t i);
  std::vector<double> Constant(int32_t t) const;

  const Model& model_;
  std::vector<std::vector<double>> values_;  // per tensor
};

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_TESTING_REFERENCE_INTERPRETER_H_
