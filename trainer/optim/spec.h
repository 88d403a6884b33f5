// "kind:key=value,key=value" specs, as the command line names optimizers and
// learning-rate schedules.
//
//   using sparrow::train::Spec;
//   sparrow::StatusOr<Spec> spec =
//       Spec::Parse("cosine:warmup=100,total=5000", "schedule");
//   if (!spec.ok()) return spec.status();
//   int64_t warmup = 0;                                   // the default
//   SPARROW_RETURN_IF_ERROR(spec->GetInt("warmup", false, &warmup));
//   SPARROW_RETURN_IF_ERROR(spec->CheckKeys({"warmup", "total", "min"}));
//
// Grammar: a lower-case kind, then optionally ':' and one or more key=value
// pairs separated by ','. No spaces, no empty keys or values, no repeated
// keys. Every error is INVALID_ARGUMENT and quotes the whole spec, the `what`
// it is ("schedule", "optimizer") and the offending key or value. Values are
// parsed on request, so a caller names its keys' types and defaults in one
// place. Thread-compatible (const methods only after Parse).
#ifndef SPARROW_TRAINER_OPTIM_SPEC_H_
#define SPARROW_TRAINER_OPTIM_SPEC_H_

#include <stdint.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "kernels/status.h"

namespace sparrow {
namespace train {

class Spec {
 public:
  static StatusOr<Spec> Parse(const std::string& text, const char* what);

  const std::string& kind() const { return kind_; }
  const std::string& text() const { return text_; }
  bool Has(const char* key) const;

  // Each leaves *value untouched when the key is absent and `required` is
  // false. Floats must be finite once rounded to float; ints are decimal and
  // fit int64; bools are 0, 1, false or true.
  Status GetFloat(const char* key, bool required, float* value) const;
  Status GetInt(const char* key, bool required, int64_t* value) const;
  Status GetBool(const char* key, bool required, bool* value) const;

  // INVALID_ARGUMENT naming the first key not in `allowed`, and listing them.
  Status CheckKeys(std::initializer_list<const char*> allowed) const;

  // INVALID_ARGUMENT "<what> \"<text>\": <message>".
  Status Error(const char* format, ...) const
      __attribute__((format(printf, 2, 3)));

 private:
  const std::string* Find(const char* key, bool required, Status* s) const;

  std::string text_;
  std::string what_;
  std::string kind_;
  std::vector<std::pair<std::string, std::string>> args_;
};

// The shortest "%g" form of v that reads back as the same float ("0.001",
// not "0.00100000005"), for specs that round-trip and stay readable.
std::string ShortFloat(float v);

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_OPTIM_SPEC_H_
