// Replays the fuzz seed corpus through the fuzz target in every normal test
// run: any input that crashes or aborts fails this test. Also checks that the
// seeds reach what they are there for (valid models all the way to Invoke,
// malformed ones rejected by the loader), so the target cannot silently stop
// exercising the interpreter.
#include <stdint.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/fuzz/corpus.h"
#include "runtime/fuzz/model_fuzzer.h"

namespace sparrow {
namespace fuzz {
namespace {

// Runfiles directories (see data in BUILD).
constexpr char kGoodModels[] = "testdata/models";
constexpr char kBadModels[] = "testdata/models/bad";
constexpr char kSeeds[] = "testdata/fuzz/model";

std::vector<std::string> Files(const char* dir, const char* suffix) {
  std::vector<std::string> out;
  for (const std::string& f : ListInputs(dir)) {
    const std::string s = suffix;
    if (f.size() >= s.size() &&
        f.compare(f.size() - s.size(), s.size(), s) == 0) {
      out.push_back(f);
    }
  }
  return out;
}

std::vector<uint8_t> Read(const std::string& path) {
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(ReadFile(path, &bytes)) << path;
  return bytes;
}

// Every combination of the per-input choices.
std::vector<FuzzOptions> AllOptions() {
  std::vector<FuzzOptions> all;
  for (int bits = 0; bits < 32; ++bits) {
    FuzzOptions o;
    o.copy = bits & 1;
    o.fuse = bits & 2;
    o.fast = bits & 4;
    o.odd_arena = bits & 8;
    o.wild_values = bits & 16;
    all.push_back(o);
  }
  return all;
}

TEST(ModelFuzzerCorpus, ValidModelsRunToInvoke) {
  const std::vector<std::string> files = Files(kGoodModels, ".spw");
  ASSERT_GE(files.size(), 3u);
  for (const std::string& f : files) {
    const std::vector<uint8_t> bytes = Read(f);
    for (const FuzzOptions& o : AllOptions()) {
      const Reached r = RunModelInput(bytes.data(), bytes.size(), o);
      // Wild i32 values may hit an Embedding index check (kPrepared).
      if (o.wild_values && r == Reached::kPrepared) continue;
      EXPECT_EQ(r, Reached::kInvoked)
          << f << " reached " << ReachedName(r) << " (copy=" << o.copy
          << " fuse=" << o.fuse << " fast=" << o.fast
          << " odd_arena=" << o.odd_arena << ")";
    }
  }
}

TEST(ModelFuzzerCorpus, MalformedModelsAreRejected) {
  const std::vector<std::string> files = Files(kBadModels, ".spw");
  ASSERT_GE(files.size(), 50u);
  for (const std::string& f : files) {
    const std::vector<uint8_t> bytes = Read(f);
    for (bool copy : {false, true}) {
      FuzzOptions o;
      o.copy = copy;
      EXPECT_EQ(RunModelInput(bytes.data(), bytes.size(), o),
                Reached::kRejected)
          << f << " copy=" << copy;
    }
  }
}

// The extra seeds (and regressions once they are fixed) run as libFuzzer
// would run them: options from their last byte. Reaching the end is the test.
TEST(ModelFuzzerCorpus, SeedsDoNotCrash) {
  const std::vector<std::string> files = ListInputs(kSeeds);
  ASSERT_GE(files.size(), 1u);
  for (const std::string& f : files) {
    const std::vector<uint8_t> bytes = Read(f);
    EXPECT_EQ(LLVMFuzzerTestOneInput(bytes.data(), bytes.size()), 0) << f;
  }
}

}  // namespace
}  // namespace fuzz
}  // namespace sparrow
