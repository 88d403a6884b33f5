// Writes the stratified Fashion-MNIST subset in testdata/fashion_mnist_subset:
// the first PER_CLASS examples of each class of both splits, in file order, as
// gzipped IDX files in the original layout (see its README.md).
//
//   bazel run //trainer/data:make_subset -- /usr/share/datasets/fashion-mnist
//       $PWD/testdata/fashion_mnist_subset 10   (one command line)
#include <stdio.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "trainer/data/mnist.h"
#include "trainer/data/subset.h"

namespace sparrow {
namespace {

int Fail(const Status& s) {
  fprintf(stderr, "make_subset: %s\n", s.ToString().c_str());
  return 1;
}

int Main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: make_subset SRC_DIR DST_DIR PER_CLASS\n");
    return 2;
  }
  const std::string src = argv[1], dst = argv[2];
  char* end = nullptr;
  const long per_class = strtol(argv[3], &end, 10);
  if (*end != '\0' || per_class < 1 || per_class > 1000) {
    fprintf(stderr, "make_subset: PER_CLASS=%s, want 1..1000\n", argv[3]);
    return 2;
  }
  for (Split split : {Split::kTrain, Split::kTest}) {
    StatusOr<Dataset> full = LoadFashionMnist(src, split);
    if (!full.ok()) return Fail(full.status());
    StatusOr<std::vector<size_t>> picks =
        StratifiedIndices(full->labels, static_cast<size_t>(per_class));
    if (!picks.ok()) return Fail(picks.status());
    const Status s = WriteMnist(Subset(*full, *picks), dst, split);
    if (!s.ok()) return Fail(s);
    printf("%s: %zu of %zu examples, last index %zu -> %s.gz\n",
           SplitName(split), picks->size(), full->size(), picks->back(),
           MnistImagesPath(dst, split).c_str());
  }
  return 0;
}

}  // namespace
}  // namespace sparrow

int main(int argc, char** argv) { return sparrow::Main(argc, argv); }
