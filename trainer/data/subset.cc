#include "trainer/data/subset.h"

#include "hwy/base.h"

namespace sparrow {

StatusOr<std::vector<size_t>> StratifiedIndices(
    const std::vector<uint8_t>& labels, size_t per_class) {
  size_t taken[kMnistClasses] = {};
  std::vector<size_t> picks;
  for (size_t i = 0; i < labels.size(); ++i) {
    const int y = labels[i];
    if (y >= kMnistClasses) {
      return InvalidArgument("StratifiedIndices: label[%zu]=%d, want 0..%d", i,
                             y, kMnistClasses - 1);
    }
    if (taken[y] < per_class) {
      ++taken[y];
      picks.push_back(i);
    }
  }
  for (int c = 0; c < kMnistClasses; ++c) {
    if (taken[c] < per_class) {
      return InvalidArgument(
          "StratifiedIndices: class %d (%s) has %zu examples, want "
          "per_class=%zu",
          c, FashionMnistClassName(c), taken[c], per_class);
    }
  }
  return picks;
}

Dataset Subset(const Dataset& data, const std::vector<size_t>& indices) {
  Dataset out;
  out.labels.reserve(indices.size());
  out.images.reserve(indices.size() * kMnistImageSize);
  for (size_t i : indices) {
    HWY_ASSERT(i < data.size());
    out.labels.push_back(data.labels[i]);
    out.images.insert(out.images.end(), data.image(i),
                      data.image(i) + kMnistImageSize);
  }
  return out;
}

}  // namespace sparrow
