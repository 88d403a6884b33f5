// Every validation rule of docs/FORMAT.md broken by at least one malformed
// model (runtime/model_test_cases*.cc), built here and committed in
// testdata/models/bad/: the load fails with the rule's Status code and a
// message naming the field and the wrong value.
#include <ctype.h>
#include <dirent.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/model.h"
#include "runtime/model_test_cases.h"
#include "runtime/model_test_models.h"
#include "runtime/model_test_util.h"

namespace sparrow {
namespace {

constexpr char kRegenerate[] =
    "regenerate with: bazel run //runtime:model_testdata_gen";

void ExpectFails(const BadModelCase& c, const Status& s) {
  EXPECT_EQ(s.code(), c.code) << s.ToString();
  for (const std::string& part : c.message_parts) {
    EXPECT_NE(std::string(s.message()).find(part), std::string::npos)
        << "message lacks \"" << part << "\": " << s.message();
  }
}

TEST(ModelMalformed, EveryCaseFailsWithItsCodeAndMessage) {
  for (const BadModelCase& c : BadModelCases()) {
    SCOPED_TRACE(c.name + " (" + c.rule + ")");
    const std::vector<uint8_t> bytes = c.make();
    AlignedBuffer buf(bytes);
    StatusOr<Model> m = Model::FromBuffer(buf.data(), buf.size());
    ASSERT_FALSE(m.ok());
    ExpectFails(c, m.status());
    // The same through the copying path.
    AlignedBuffer odd(bytes, 1);
    StatusOr<Model> copied = Model::FromBuffer(odd.data(), odd.size());
    ASSERT_FALSE(copied.ok());
    EXPECT_EQ(copied.status().ToString(), m.status().ToString());
  }
}

TEST(ModelMalformed, CommittedFilesFailTheSameWay) {
  for (const BadModelCase& c : BadModelCases()) {
    SCOPED_TRACE(c.name + " (" + c.rule + ")");
    const std::string path = Runfile("testdata/models/bad/" + c.name + ".spw");
    std::vector<uint8_t> committed;
    ASSERT_TRUE(ReadFileBytes(path, &committed))
        << path << " is missing; " << kRegenerate;
    EXPECT_TRUE(committed == c.make())
        << path << " differs from what the case builds; " << kRegenerate;
    StatusOr<Model> m = Model::FromFile(path.c_str());
    ASSERT_FALSE(m.ok());
    ExpectFails(c, m.status());
  }
}

// The rule ids of docs/FORMAT.md: first cells of the validation tables.
std::set<std::string> DocumentedRules() {
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(ReadFileBytes(Runfile("docs/FORMAT.md"), &bytes));
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  std::set<std::string> rules;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| ", 0) != 0) continue;
    const size_t end = line.find(" |", 2);
    if (end == std::string::npos) continue;
    const std::string id = line.substr(2, end - 2);
    size_t letters = 0;
    while (letters < id.size() && isupper(static_cast<unsigned char>(id[letters]))) {
      ++letters;
    }
    bool digits = letters > 0 && letters < id.size();
    for (size_t i = letters; i < id.size(); ++i) {
      digits &= isdigit(static_cast<unsigned char>(id[i])) != 0;
    }
    if (digits) rules.insert(id);
  }
  return rules;
}

TEST(ModelMalformed, EveryDocumentedRuleHasACase) {
  const std::set<std::string> rules = DocumentedRules();
  EXPECT_GE(rules.size(), 50u);
  std::map<std::string, int> cases_per_rule;
  std::set<std::string> names;
  for (const BadModelCase& c : BadModelCases()) {
    EXPECT_TRUE(rules.count(c.rule)) << c.name << ": rule " << c.rule
                                     << " is not in docs/FORMAT.md";
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate case " << c.name;
    ++cases_per_rule[c.rule];
  }
  for (const std::string& r : rules) {
    EXPECT_GT(cases_per_rule[r], 0) << "rule " << r << " has no malformed model";
  }
}

TEST(ModelMalformed, BadDirectoryHasNoStrayFiles) {
  std::set<std::string> names;
  for (const BadModelCase& c : BadModelCases()) names.insert(c.name + ".spw");
  const std::string dir = Runfile("testdata/models/bad");
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << dir;
  size_t files = 0;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == ".." || name == "README.md") continue;
    ++files;
    EXPECT_TRUE(names.count(name)) << "stray " << name << "; " << kRegenerate;
  }
  closedir(d);
  EXPECT_EQ(files, names.size());
  std::vector<uint8_t> readme;
  ASSERT_TRUE(ReadFileBytes(dir + "/README.md", &readme));
  const std::string text(readme.begin(), readme.end());
  for (const std::string& name : names) {
    EXPECT_NE(text.find("`" + name + "`"), std::string::npos)
        << "README.md lacks " << name << "; " << kRegenerate;
  }
}

TEST(ModelTestdata, ValidModelsLoadAndAreCurrent) {
  struct Good {
    const char* file;
    ModelBuilder builder;
  };
  const Good good[] = {{"tiny_mlp.spw", test_models::TinyMlp()},
                       {"tiny_sparse_gru.spw", test_models::TinySparseGru()},
                       {"tiny_convnet.spw", test_models::ConvNet()}};
  for (const Good& g : good) {
    SCOPED_TRACE(g.file);
    const std::string path = Runfile(std::string("testdata/models/") + g.file);
    StatusOr<Model> m = Model::FromFile(path.c_str());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    std::vector<uint8_t> committed;
    ASSERT_TRUE(ReadFileBytes(path, &committed));
    EXPECT_TRUE(committed == g.builder.Finish()) << kRegenerate;
  }
}

}  // namespace
}  // namespace sparrow
