// Internal to runtime/model.cc: parsing and validating a model file in steps.
// docs/FORMAT.md ("Validation rules") lists the rules each step applies; the
// rule ids there (H1, B3, ...) are quoted next to the code that checks them.
//
// Every step trusts only what the steps before it established: ValidateHeader
// runs the FlatBuffers Verifier, so later steps may follow the FlatBuffer's
// offsets; ValidateBuffers checks buffer ranges before ValidateTensors uses
// them; ValidateOps checks indices before ValidateGraph follows them.
#ifndef SPARROW_RUNTIME_MODEL_VALIDATE_H_
#define SPARROW_RUNTIME_MODEL_VALIDATE_H_

#include <stddef.h>
#include <stdint.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "kernels/status.h"
#include "runtime/model.h"
#include "runtime/schema/model_generated.h"
#include "runtime/span.h"

namespace sparrow {
namespace model_internal {

// Limits beyond those of docs/FORMAT.md's rules, for the Verifier.
constexpr uint32_t kMaxTableDepth = 8;       // Model > Op > options is 3
constexpr uint32_t kMaxTables = 1u << 22;    // tables in one file
constexpr uint64_t kMaxTensorBytes = uint64_t{1} << 48;
constexpr int64_t kMaxWindow = 65535;        // kernel, stride, dilation
constexpr size_t kMaxConcatInputs = 1u << 16;

struct ParsedModel {
  const uint8_t* data = nullptr;  // 64-byte aligned
  size_t size = 0;
  uint64_t data_section = 0;  // first byte after the FlatBuffer, 64-aligned
  const schema::Model* root = nullptr;
  std::vector<TensorInfo> tensors;
  std::vector<BufferInfo> buffers;
  std::vector<OpInfo> ops;
  std::vector<uint8_t> is_input;  // per tensor: a model input
  Span<const int32_t> inputs, outputs;
};

// All steps in order. `data` must be 64-byte aligned.
Status ParseModel(const uint8_t* data, size_t size, ParsedModel* m);

Status ValidateHeader(ParsedModel* m);   // H*: size, identifier, Verifier,
                                         // version
Status ValidateBuffers(ParsedModel* m);  // B*
Status ValidateTensors(ParsedModel* m);  // T*, Q*
Status ValidateInputs(ParsedModel* m);   // I1-I3
Status ValidateOps(ParsedModel* m);      // O*, per-op rules (model_ops.cc)
Status ValidateGraph(ParsedModel* m);    // G*, I4-I6

// Message pieces.
std::string Quoted(const char* name);  // 'fc1.weight', escaped and clipped
std::string TensorRef(const ParsedModel& m, int32_t t);  // tensor 7 'w'
std::string OpRef(const ParsedModel& m, size_t op);  // op 3 (FullyConnected)
std::string ShapeString(Span<const int32_t> shape);  // [10,300]
std::string ShapeString(const std::vector<int64_t>& shape);

}  // namespace model_internal
}  // namespace sparrow

#endif  // SPARROW_RUNTIME_MODEL_VALIDATE_H_
