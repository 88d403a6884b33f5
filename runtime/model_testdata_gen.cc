// Writes the committed model files of testdata/models/: the valid small
// models and one malformed model per case of runtime/model_test_cases.h
// (testdata/models/bad/, with a README listing the rule each file breaks).
//
//   bazel run //runtime:model_testdata_gen            # into the workspace
//   bazel run //runtime:model_testdata_gen -- /tmp/x  # anywhere else
//
// //runtime:model_test checks that the committed files equal what this
// writes, so rerun it after changing the builder, the test models or a case.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "runtime/model.h"
#include "runtime/model_builder.h"
#include "runtime/model_test_cases.h"
#include "runtime/model_test_models.h"

namespace sparrow {
namespace {

struct GoodModel {
  const char* file;
  ModelBuilder (*make)();
};

ModelBuilder Mlp() { return test_models::TinyMlp(); }

const GoodModel kGoodModels[] = {
    {"tiny_mlp.spw", Mlp},
    {"tiny_sparse_gru.spw", test_models::TinySparseGru},
    {"tiny_convnet.spw", test_models::ConvNet},
};

bool MakeDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return true;
  fprintf(stderr, "cannot create %s: %s\n", dir.c_str(), strerror(errno));
  return false;
}

bool WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = fopen(path.c_str(), "wb");
  if (f == nullptr) {
    fprintf(stderr, "cannot write %s: %s\n", path.c_str(), strerror(errno));
    return false;
  }
  const bool ok = fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return fclose(f) == 0 && ok;
}

// Removes bad/*.spw files that no case writes any more.
void RemoveStale(const std::string& dir, const std::set<std::string>& keep) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".spw") == 0 &&
        keep.count(name) == 0) {
      printf("removing stale %s/%s\n", dir.c_str(), name.c_str());
      unlink((dir + "/" + name).c_str());
    }
  }
  closedir(d);
}

std::string Readme(const std::vector<BadModelCase>& cases) {
  std::string s =
      "# Malformed models\n\n"
      "One file per case of `runtime/model_test_cases*.cc`, each breaking one\n"
      "validation rule of [docs/FORMAT.md](../../../docs/FORMAT.md) in an\n"
      "otherwise valid model. `//runtime:model_test` loads every file and\n"
      "checks the Status code and that the message names the field and value.\n"
      "Written by `bazel run //runtime:model_testdata_gen`; do not edit.\n\n"
      "| file | rule | code | what is wrong |\n"
      "|------|------|------|---------------|\n";
  for (const BadModelCase& c : cases) {
    s += "| `" + c.name + ".spw` | " + c.rule + " | " + StatusCodeName(c.code) +
         " | " + c.what + " |\n";
  }
  return s;
}

int Main(int argc, char** argv) {
  std::string dir;
  if (argc > 1) {
    dir = argv[1];
  } else if (const char* ws = getenv("BUILD_WORKSPACE_DIRECTORY")) {
    dir = std::string(ws) + "/testdata/models";
  } else {
    fprintf(stderr, "usage: model_testdata_gen [DIR] (or run with bazel run)\n");
    return 2;
  }
  if (!MakeDir(dir) || !MakeDir(dir + "/bad")) return 1;
  for (const GoodModel& g : kGoodModels) {
    const std::string path = dir + "/" + g.file;
    const Status s = g.make().WriteFile(path.c_str());
    if (!s.ok()) {
      fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    // A valid model must load: catch a broken test model here already.
    StatusOr<Model> m = Model::FromFile(path.c_str());
    if (!m.ok()) {
      fprintf(stderr, "%s does not load: %s\n", path.c_str(),
              m.status().ToString().c_str());
      return 1;
    }
    printf("wrote %s\n", path.c_str());
  }
  const std::vector<BadModelCase> cases = BadModelCases();
  std::set<std::string> names;
  for (const BadModelCase& c : cases) {
    const std::string file = c.name + ".spw";
    if (!names.insert(file).second) {
      fprintf(stderr, "duplicate case name %s\n", c.name.c_str());
      return 1;
    }
    if (!WriteBytes(dir + "/bad/" + file, c.make())) return 1;
  }
  RemoveStale(dir + "/bad", names);
  const std::string readme = Readme(cases);
  if (!WriteBytes(dir + "/bad/README.md",
                  std::vector<uint8_t>(readme.begin(), readme.end()))) {
    return 1;
  }
  printf("wrote %zu malformed models and README.md to %s/bad\n", cases.size(),
         dir.c_str());
  return 0;
}

}  // namespace
}  // namespace sparrow

int main(int argc, char** argv) { return sparrow::Main(argc, argv); }
