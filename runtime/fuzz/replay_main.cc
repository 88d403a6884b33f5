// main() for //runtime/fuzz:model_fuzzer when it is not built with libFuzzer
// (the default gcc build): runs the target once on every file named on the
// command line, or on every file in a named directory, and says how far each
// got. A crash or abort stops it, as it would stop libFuzzer.
//
//   bazel run //runtime/fuzz:model_fuzzer -- $PWD/testdata/fuzz/crashes/foo
#include <stdio.h>

#include <string>
#include <vector>

#include "runtime/fuzz/corpus.h"
#include "runtime/fuzz/model_fuzzer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  size_t runs = 0;
  std::vector<uint8_t> bytes;
  for (int i = 1; i < argc; ++i) {
    for (const std::string& file : sparrow::fuzz::ListInputs(argv[i])) {
      if (!sparrow::fuzz::ReadFile(file, &bytes)) {
        fprintf(stderr, "cannot read %s\n", file.c_str());
        return 1;
      }
      const sparrow::fuzz::Reached r = sparrow::fuzz::RunModelInput(
          bytes.data(), bytes.size(),
          sparrow::fuzz::OptionsFromInput(bytes.data(), bytes.size()));
      printf("%s: %zu bytes, %s\n", file.c_str(), bytes.size(),
             sparrow::fuzz::ReachedName(r));
      ++runs;
    }
  }
  printf("ran %zu inputs\n", runs);
  return 0;
}
