#include "trainer/data/mnist.h"

#include <sys/stat.h>

#include <cmath>
#include <utility>

namespace sparrow {
namespace {

constexpr char kInstallHint[] =
    "tools/bootstrap installs the Debian package dataset-fashion-mnist";

bool Exists(const std::string& path, bool dir) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return false;
  return dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

// `path`.gz, else `path`.
StatusOr<IdxArray> ReadOne(const std::string& path, std::string* used) {
  const std::string gz = path + ".gz";
  if (Exists(gz, false)) {
    *used = gz;
  } else if (Exists(path, false)) {
    *used = path;
  } else {
    return NotFound("%s: no such file (nor %s); %s", gz.c_str(), path.c_str(),
                    kInstallHint);
  }
  return ReadIdxFile(*used);
}

std::string Prefix(Split split) {
  return split == Split::kTrain ? "train" : "t10k";
}

}  // namespace

const char* FashionMnistClassName(int label) {
  static constexpr const char* kNames[kMnistClasses] = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return label >= 0 && label < kMnistClasses ? kNames[label] : "?";
}

const char* SplitName(Split split) {
  return split == Split::kTrain ? "train" : "test";
}

std::string MnistImagesPath(const std::string& dir, Split split) {
  return dir + "/" + Prefix(split) + "-images-idx3-ubyte";
}

std::string MnistLabelsPath(const std::string& dir, Split split) {
  return dir + "/" + Prefix(split) + "-labels-idx1-ubyte";
}

StatusOr<Dataset> MnistFromIdx(const IdxArray& images, const IdxArray& labels,
                               const std::string& images_name,
                               const std::string& labels_name) {
  const char* in = images_name.c_str();
  const char* ln = labels_name.c_str();
  if (images.type != IdxType::kU8) {
    return InvalidArgument("%s: dtype=%s, want u8 images", in,
                           IdxTypeName(images.type));
  }
  if (images.dims.size() != 3 || images.dims[1] != kMnistHeight ||
      images.dims[2] != kMnistWidth) {
    return InvalidArgument("%s: dims=%s, want [N, %d, %d] images", in,
                           IdxDimsString(images.dims).c_str(), kMnistHeight,
                           kMnistWidth);
  }
  if (labels.type != IdxType::kU8) {
    return InvalidArgument("%s: dtype=%s, want u8 labels", ln,
                           IdxTypeName(labels.type));
  }
  if (labels.dims.size() != 1) {
    return InvalidArgument("%s: dims=%s, want [N] labels", ln,
                           IdxDimsString(labels.dims).c_str());
  }
  const size_t n = images.dims[0];
  if (n == 0)
    return InvalidArgument("%s: dims=%s hold no images", in,
                           IdxDimsString(images.dims).c_str());
  if (labels.dims[0] != n) {
    return InvalidArgument("%s has %zu images but %s has %u labels", in, n, ln,
                           labels.dims[0]);
  }
  for (size_t i = 0; i < n; ++i) {
    if (labels.data[i] >= kMnistClasses) {
      return InvalidArgument("%s: label[%zu]=%d, want 0..%d", ln, i,
                             labels.data[i], kMnistClasses - 1);
    }
  }
  Dataset d;
  d.labels = labels.data;
  d.images.resize(n * kMnistImageSize);
  for (size_t i = 0; i < d.images.size(); ++i) {
    d.images[i] = images.data[i] / 255.0f;  // exact: 255 -> 1.0f
  }
  return d;
}

Status WriteMnist(const Dataset& data, const std::string& dir, Split split) {
  const size_t n = data.size();
  if (data.images.size() != n * kMnistImageSize || n > UINT32_MAX) {
    return InvalidArgument(
        "WriteMnist: images.size()=%zu for %zu labels, want "
        "%zu floats",
        data.images.size(), n, n * kMnistImageSize);
  }
  IdxArray images;
  images.dims = {static_cast<uint32_t>(n), kMnistHeight, kMnistWidth};
  images.data.resize(data.images.size());
  for (size_t i = 0; i < data.images.size(); ++i) {
    float x = data.images[i];
    if (!(x > 0.0f)) x = 0.0f;  // also NaN
    if (x > 1.0f) x = 1.0f;
    images.data[i] = static_cast<uint8_t>(std::lround(x * 255.0f));
  }
  IdxArray labels;
  labels.dims = {static_cast<uint32_t>(n)};
  labels.data = data.labels;
  SPARROW_RETURN_IF_ERROR(
      WriteIdxFile(MnistImagesPath(dir, split) + ".gz", images, true));
  return WriteIdxFile(MnistLabelsPath(dir, split) + ".gz", labels, true);
}

StatusOr<Dataset> LoadFashionMnist(const std::string& dir, Split split) {
  if (!Exists(dir, true)) {
    return NotFound("%s: no such directory (the Fashion-MNIST %s split); %s",
                    dir.c_str(), SplitName(split), kInstallHint);
  }
  std::string images_path, labels_path;
  StatusOr<IdxArray> images =
      ReadOne(MnistImagesPath(dir, split), &images_path);
  if (!images.ok()) return images.status();
  StatusOr<IdxArray> labels =
      ReadOne(MnistLabelsPath(dir, split), &labels_path);
  if (!labels.ok()) return labels.status();
  return MnistFromIdx(*images, *labels, images_path, labels_path);
}

}  // namespace sparrow
