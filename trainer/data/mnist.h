// Fashion-MNIST: 28x28 grey images of clothes in 10 classes.
//
//   sparrow::StatusOr<sparrow::Dataset> train = sparrow::LoadFashionMnist(
//       sparrow::kFashionMnistDir, sparrow::Split::kTrain);
//   if (!train.ok()) { fprintf(stderr, "%s\n", train.status().message()); }
//   for (size_t i = 0; i < train->size(); ++i) {
//     const float* x = train->image(i);  // [28, 28, 1], values in [0, 1]
//     const int y = train->label(i);     // 0..9, see FashionMnistClassName
//   }
//
// Layout: images are NHWC like the runtime's tensors (docs/FORMAT.md):
// [N, 28, 28, 1] row-major float, pixel / 255, so 0 is background. The
// directory holds the four files of the original distribution, gzipped or not:
// {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (Debian's
// dataset-fashion-mnist installs them in kFashionMnistDir, and
// testdata/fashion_mnist_subset has a 10-per-class subset in the same layout).
//
// Contract: the files are validated in full (trainer/data/idx.h, then u8
// images of rank 3 and 28x28, u8 labels of rank 1, equal counts of at least
// one, labels 0..9);
// any failure is a Status naming the file and the value. A Dataset owns its
// memory (60000 train images are 188 MB of floats) and is immutable once
// loaded, so any number of threads may read it.
#ifndef SPARROW_TRAINER_DATA_MNIST_H_
#define SPARROW_TRAINER_DATA_MNIST_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "kernels/status.h"
#include "trainer/data/idx.h"

namespace sparrow {

inline constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";
inline constexpr int kMnistHeight = 28;
inline constexpr int kMnistWidth = 28;
inline constexpr int kMnistChannels = 1;
inline constexpr size_t kMnistImageSize =
    kMnistHeight * kMnistWidth * kMnistChannels;  // floats per image
inline constexpr int kMnistClasses = 10;

// "T-shirt/top", "Trouser", ..., "Ankle boot"; "?" outside 0..9.
const char* FashionMnistClassName(int label);

enum class Split { kTrain, kTest };
const char* SplitName(Split split);  // "train", "test"

struct Dataset {
  std::vector<float> images;    // [N, 28, 28, 1], values in [0, 1]
  std::vector<uint8_t> labels;  // [N], values 0..9

  size_t size() const { return labels.size(); }
  // Image i: kMnistImageSize floats, [28, 28, 1]. i < size() (unchecked).
  const float* image(size_t i) const {
    return images.data() + i * kMnistImageSize;
  }
  int label(size_t i) const { return labels[i]; }
};

// The file paths of a split in `dir`, without ".gz"
// ("dir/train-images-idx3-ubyte", "dir/t10k-labels-idx1-ubyte").
std::string MnistImagesPath(const std::string& dir, Split split);
std::string MnistLabelsPath(const std::string& dir, Split split);

// Loads `split` from `dir`; each file is read as `path.gz`, or as `path` when
// only that exists. NOT_FOUND names the missing directory or file (and says
// that tools/bootstrap installs dataset-fashion-mnist); other errors are those
// of ReadIdxFile and MnistFromIdx.
StatusOr<Dataset> LoadFashionMnist(const std::string& dir, Split split);

// Writes `data` to `dir` (which must exist) as the split's two gzipped IDX
// files, pixels as u8 round(x * 255) clamped to 0..255, so a loaded Dataset
// writes back the bytes it came from. INVALID_ARGUMENT when images.size() is
// not size() * kMnistImageSize; the errors of WriteIdxFile.
Status WriteMnist(const Dataset& data, const std::string& dir, Split split);

// Checks a pair of IDX arrays as MNIST images and labels and converts them.
// `images_name` and `labels_name` stand for the files in messages.
// INVALID_ARGUMENT for a wrong dtype, rank or image size, no images, a count
// mismatch or a label > 9.
StatusOr<Dataset> MnistFromIdx(const IdxArray& images, const IdxArray& labels,
                               const std::string& images_name,
                               const std::string& labels_name);

}  // namespace sparrow

#endif  // SPARROW_TRAINER_DATA_MNIST_H_
