// Reading fuzz inputs from disk, for the replay main and the corpus test.
//
//   for (const std::string& f :
//   sparrow::fuzz::ListInputs("testdata/fuzz/model"))
//     if (sparrow::fuzz::ReadFile(f, &bytes)) LLVMFuzzerTestOneInput(...);
//
// Contract: plain POSIX calls, no exceptions; not for untrusted paths.
#ifndef SPARROW_RUNTIME_FUZZ_CORPUS_H_
#define SPARROW_RUNTIME_FUZZ_CORPUS_H_

#include <stdint.h>

#include <string>
#include <vector>

namespace sparrow {
namespace fuzz {

// The regular files directly inside `path`, sorted (symlinks are followed,
// as in a runfiles tree), or {path} when it is not a directory.
std::vector<std::string> ListInputs(const std::string& path);

// The whole file; false if it cannot be opened or read.
bool ReadFile(const std::string& path, std::vector<uint8_t>* bytes);

}  // namespace fuzz
}  // namespace sparrow

#endif  // SPARROW_RUNTIME_FUZZ_CORPUS_H_
