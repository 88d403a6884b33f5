// Stratified subsets of a Dataset: the same number of examples per class.
//
//   sparrow::StatusOr<std::vector<size_t>> idx =
//       sparrow::StratifiedIndices(train.labels, /*per_class=*/10);
//   if (!idx.ok()) return idx.status();  // a class has fewer than 10
//   sparrow::Dataset small = sparrow::Subset(train, *idx);
//
// Contract: deterministic, no randomness. The picks are the first `per_class`
// examples of each class in the dataset's order, returned in that order, so a
// subset keeps the interleaving of the full set. The functions only read their
// arguments and are thread-safe.
#ifndef SPARROW_TRAINER_DATA_SUBSET_H_
#define SPARROW_TRAINER_DATA_SUBSET_H_

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "kernels/status.h"
#include "trainer/data/mnist.h"

namespace sparrow {

// Indices (ascending) of the first `per_class` examples of each of the
// kMnistClasses classes. INVALID_ARGUMENT when a class has fewer, or a label
// is outside 0..kMnistClasses-1.
StatusOr<std::vector<size_t>> StratifiedIndices(
    const std::vector<uint8_t>& labels, size_t per_class);

// The examples `indices` of `data`, in that order. Every index must be below
// data.size() (checked with HWY_ASSERT: a caller bug, not bad input).
Dataset Subset(const Dataset& data, const std::vector<size_t>& indices);

}  // namespace sparrow

#endif  // SPARROW_TRAINER_DATA_SUBSET_H_
