// Tests only: the committed Fashion-MNIST subset (testdata/fashion_mnist_subset,
// 10 examples per class per split), loaded once per process. The test target
// needs "//testdata/fashion_mnist_subset" in its data.
//
//   const sparrow::Dataset& train = sparrow::FashionMnistSubset(Split::kTrain);
#ifndef SPARROW_TRAINER_DATA_TEST_SUBSET_H_
#define SPARROW_TRAINER_DATA_TEST_SUBSET_H_

#include <utility>

#include "hwy/base.h"
#include "trainer/data/mnist.h"

namespace sparrow {

inline const Dataset& FashionMnistSubset(Split split) {
  static const Dataset* const kSplits[2] = {
      [] {
        StatusOr<Dataset> d =
            LoadFashionMnist("testdata/fashion_mnist_subset", Split::kTrain);
        HWY_ASSERT(d.ok());
        return new Dataset(std::move(d).value());
      }(),
      [] {
        StatusOr<Dataset> d =
            LoadFashionMnist("testdata/fashion_mnist_subset", Split::kTest);
        HWY_ASSERT(d.ok());
        return new Dataset(std::move(d).value());
      }()};
  return *kSplits[split == Split::kTrain ? 0 : 1];
}

}  // namespace sparrow

#endif  // SPARROW_TRAINER_DATA_TEST_SUBSET_H_
