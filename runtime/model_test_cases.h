// Malformed models, one or more per validation rule of docs/FORMAT.md (tests
// only). runtime/model_test.cc loads each one built here and its committed
// copy in testdata/models/bad/ (written by //runtime:model_testdata_gen) and
// checks the Status code and that the message names the field.
//
//   for (const sparrow::BadModelCase& c : sparrow::BadModelCases()) {
//     std::vector<uint8_t> bytes = c.make();   // a .spw breaking c.rule
//   }
#ifndef SPARROW_RUNTIME_MODEL_TEST_CASES_H_
#define SPARROW_RUNTIME_MODEL_TEST_CASES_H_

#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

#include "kernels/status.h"
#include "runtime/model_builder.h"

namespace sparrow {

struct BadModelCase {
  std::string name;  // file stem in testdata/models/bad/, e.g. "b1_offset"
  std::string rule;  // the rule id in docs/FORMAT.md, e.g. "B1"
  StatusCode code;
  // Each must appear in the message: the field and the wrong value.
  std::vector<std::string> message_parts;
  std::string what;  // one line for testdata/models/bad/README.md
  std::function<std::vector<uint8_t>()> make;
};

// Ways to make a case's bytes from a valid base model (test_models::*).
namespace bad_models {

using Base = ModelBuilder (*)();
using Make = std::function<std::vector<uint8_t>()>;

// Change the builder (add tensors, rewire ops, edit fields), then Finish.
inline Make WithBuilder(Base base, std::function<void(ModelBuilder&)> edit) {
  return [base, edit] {
    ModelBuilder b = base();
    edit(b);
    return b.Finish();
  };
}
// Change fields of the model table.
inline Make WithModel(Base base, std::function<void(schema::ModelT&)> edit) {
  return WithBuilder(base, [edit](ModelBuilder& b) { edit(b.model()); });
}
// Change fields after Finish has placed the buffers (offsets, sizes).
inline Make AfterLayout(Base base, std::function<void(schema::ModelT&)> edit) {
  return [base, edit] {
    return base().Finish([&edit](schema::ModelT* m) { edit(*m); });
  };
}
// Change the finished bytes.
inline Make WithBytes(Base base,
                      std::function<void(std::vector<uint8_t>&)> edit) {
  return [base, edit] {
    std::vector<uint8_t> bytes = base().Finish();
    edit(bytes);
    return bytes;
  };
}

}  // namespace bad_models

// Header, buffer, tensor, quantization, input/output and graph rules.
std::vector<BadModelCase> BadModelCasesFile();
// Op rules (O*, FC1, GRU1, ...).
std::vector<BadModelCase> BadModelCasesOps();
// Both, in that order.
std::vector<BadModelCase> BadModelCases();

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_MODEL_TEST_CASES_H_
