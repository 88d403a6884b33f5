// trainer/data/mnist.h and subset.h: the committed subset, the full dataset
// when it is installed, and one test per kind of bad directory or file.
#include "trainer/data/mnist.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "trainer/data/idx.h"
#include "trainer/data/subset.h"

namespace sparrow {
namespace {

using ::testing::HasSubstr;

constexpr char kSubsetDir[] = "testdata/fashion_mnist_subset";

std::string Runfile(const std::string& path) {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* workspace = getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return path;  // run by hand
  return std::string(srcdir) + "/" + workspace + "/" + path;
}

// A fresh empty directory under TEST_TMPDIR.
std::string TempDir(const std::string& name) {
  const char* tmp = getenv("TEST_TMPDIR");
  const std::string dir =
      std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  mkdir(dir.c_str(), 0755);
  return dir;
}

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<size_t> ClassCounts(const Dataset& d) {
  std::vector<size_t> counts(kMnistClasses);
  for (size_t i = 0; i < d.size(); ++i) {
    EXPECT_GE(d.label(i), 0);
    EXPECT_LT(d.label(i), kMnistClasses);
    ++counts[d.label(i)];
  }
  return counts;
}

IdxArray U8(std::vector<uint32_t> dims, uint8_t fill = 3) {
  IdxArray a;
  a.dims = std::move(dims);
  a.data.assign(a.NumElements(), fill);
  return a;
}

// Writes a split from raw arrays (gzipped) and loads it back.
StatusOr<Dataset> WriteAndLoad(const std::string& name, const IdxArray& images,
                               const IdxArray& labels) {
  const std::string dir = TempDir(name);
  EXPECT_TRUE(
      WriteIdxFile(MnistImagesPath(dir, Split::kTest) + ".gz", images, true)
          .ok());
  EXPECT_TRUE(
      WriteIdxFile(MnistLabelsPath(dir, Split::kTest) + ".gz", labels, true)
          .ok());
  return LoadFashionMnist(dir, Split::kTest);
}

void ExpectInvalid(const StatusOr<Dataset>& d,
                   const std::vector<std::string>& parts) {
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument)
      << d.status().ToString();
  for (const std::string& p : parts) {
    EXPECT_THAT(d.status().message(), HasSubstr(p));
  }
}

TEST(MnistTest, ClassNames) {
  EXPECT_STREQ(FashionMnistClassName(0), "T-shirt/top");
  EXPECT_STREQ(FashionMnistClassName(7), "Sneaker");
  EXPECT_STREQ(FashionMnistClassName(9), "Ankle boot");
  EXPECT_STREQ(FashionMnistClassName(10), "?");
  EXPECT_STREQ(FashionMnistClassName(-1), "?");
}

TEST(MnistTest, SubsetHasTenPerClassInBothSplits) {
  for (Split split : {Split::kTrain, Split::kTest}) {
    SCOPED_TRACE(SplitName(split));
    StatusOr<Dataset> d = LoadFashionMnist(Runfile(kSubsetDir), split);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_EQ(d->size(), 100u);
    ASSERT_EQ(d->images.size(), 100 * kMnistImageSize);
    EXPECT_EQ(ClassCounts(*d), std::vector<size_t>(kMnistClasses, 10));
    for (size_t i = 0; i < d->size(); ++i) {
      EXPECT_EQ(d->image(i), d->images.data() + i * kMnistImageSize);
      float max = 0.0f;
      for (size_t j = 0; j < kMnistImageSize; ++j) {
        const float x = d->image(i)[j];
        ASSERT_GE(x, 0.0f);
        ASSERT_LE(x, 1.0f);
        ASSERT_EQ(x * 255.0f, std::round(x * 255.0f)) << "pixel " << j;
        max = std::max(max, x);
      }
      EXPECT_GT(max, 0.5f) << "image " << i << " is nearly blank";
    }
  }
}

TEST(MnistTest, WriteMnistWritesBackTheBytesItLoaded) {
  const std::string dir = TempDir("rewrite");
  for (Split split : {Split::kTrain, Split::kTest}) {
    SCOPED_TRACE(SplitName(split));
    StatusOr<Dataset> d = LoadFashionMnist(Runfile(kSubsetDir), split);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_TRUE(WriteMnist(*d, dir, split).ok());
    for (const std::string& file :
         {MnistImagesPath("", split), MnistLabelsPath("", split)}) {
      StatusOr<IdxArray> committed =
          ReadIdxFile(Runfile(kSubsetDir) + file + ".gz");
      StatusOr<IdxArray> rewritten = ReadIdxFile(dir + file + ".gz");
      ASSERT_TRUE(committed.ok() && rewritten.ok()) << file;
      EXPECT_EQ(rewritten->dims, committed->dims) << file;
      EXPECT_TRUE(rewritten->data == committed->data) << file;
    }
  }
}

TEST(MnistTest, FullDatasetIsBalancedAndSubsetIsItsFirstTenPerClass) {
  if (!IsDir(kFashionMnistDir)) {
    GTEST_SKIP() << kFashionMnistDir << " is absent (tools/bootstrap installs "
                 << "the Debian package dataset-fashion-mnist)";
  }
  const struct {
    Split split;
    size_t n;
  } cases[] = {{Split::kTrain, 60000}, {Split::kTest, 10000}};
  for (const auto& c : cases) {
    SCOPED_TRACE(SplitName(c.split));
    StatusOr<Dataset> full = LoadFashionMnist(kFashionMnistDir, c.split);
    ASSERT_TRUE(full.ok()) << full.status().ToString();
    ASSERT_EQ(full->size(), c.n);
    EXPECT_EQ(ClassCounts(*full),
              std::vector<size_t>(kMnistClasses, c.n / kMnistClasses));

    StatusOr<std::vector<size_t>> picks = StratifiedIndices(full->labels, 10);
    ASSERT_TRUE(picks.ok()) << picks.status().ToString();
    const Dataset expected = Subset(*full, *picks);
    StatusOr<Dataset> committed =
        LoadFashionMnist(Runfile(kSubsetDir), c.split);
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    EXPECT_TRUE(committed->labels == expected.labels)
        << "testdata/fashion_mnist_subset is stale: see its README.md";
    EXPECT_TRUE(committed->images == expected.images)
        << "testdata/fashion_mnist_subset is stale: see its README.md";
  }
}

TEST(MnistTest, ReadsUncompressedFiles) {
  const std::string dir = TempDir("plain");
  ASSERT_TRUE(WriteIdxFile(MnistImagesPath(dir, Split::kTrain),
                           U8({2, 28, 28}, 255), false)
                  .ok());
  ASSERT_TRUE(
      WriteIdxFile(MnistLabelsPath(dir, Split::kTrain), U8({2}, 9), false)
          .ok());
  StatusOr<Dataset> d = LoadFashionMnist(dir, Split::kTrain);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ(d->label(1), 9);
  EXPECT_EQ(d->image(1)[783], 1.0f);
}

TEST(MnistBadFileTest, MissingDirectory) {
  const std::string dir = TempDir("x") + "/no_such_dir";
  StatusOr<Dataset> d = LoadFashionMnist(dir, Split::kTrain);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(d.status().message(), HasSubstr(dir));
  EXPECT_THAT(d.status().message(), HasSubstr("tools/bootstrap"));
  EXPECT_THAT(d.status().message(), HasSubstr("dataset-fashion-mnist"));
}

TEST(MnistBadFileTest, MissingFile) {
  const std::string dir = TempDir("no_labels");
  ASSERT_TRUE(WriteIdxFile(MnistImagesPath(dir, Split::kTest) + ".gz",
                           U8({1, 28, 28}), true)
                  .ok());
  StatusOr<Dataset> d = LoadFashionMnist(dir, Split::kTest);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(d.status().message(),
              HasSubstr(dir + "/t10k-labels-idx1-ubyte.gz"));
  EXPECT_THAT(d.status().message(), HasSubstr("dataset-fashion-mnist"));
}

TEST(MnistBadFileTest, CorruptFileNamesThePath) {
  const std::string dir = TempDir("corrupt");
  const std::string images = MnistImagesPath(dir, Split::kTrain) + ".gz";
  FILE* f = fopen(images.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  fputs("\x1f\x8b not really gzip", f);
  fclose(f);
  ASSERT_TRUE(
      WriteIdxFile(MnistLabelsPath(dir, Split::kTrain), U8({1}), true).ok());
  StatusOr<Dataset> d = LoadFashionMnist(dir, Split::kTrain);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(d.status().message(), HasSubstr(images));
}

TEST(MnistBadFileTest, CountMismatch) {
  ExpectInvalid(WriteAndLoad("count", U8({3, 28, 28}), U8({2})),
                {"t10k-images-idx3-ubyte.gz has 3 images but",
                 "t10k-labels-idx1-ubyte.gz has 2 labels"});
}

TEST(MnistBadFileTest, ImageDimsNot28x28) {
  ExpectInvalid(WriteAndLoad("dims", U8({3, 28, 27}), U8({3})),
                {"images-idx3-ubyte.gz: dims=[3, 28, 27]", "want [N, 28, 28]"});
  ExpectInvalid(WriteAndLoad("rank2", U8({3, 784}), U8({3})),
                {"dims=[3, 784]"});
}

TEST(MnistBadFileTest, WrongDtypeOrRank) {
  IdxArray f32_images;
  f32_images.type = IdxType::kF32;
  f32_images.dims = {1, 28, 28};
  f32_images.data.resize(4 * 784);
  ExpectInvalid(WriteAndLoad("f32", f32_images, U8({1})),
                {"images-idx3-ubyte.gz: dtype=f32, want u8"});
  IdxArray i32_labels;
  i32_labels.type = IdxType::kI32;
  i32_labels.dims = {1};
  i32_labels.data.resize(4);
  ExpectInvalid(WriteAndLoad("i32", U8({1, 28, 28}), i32_labels),
                {"labels-idx1-ubyte.gz: dtype=i32, want u8"});
  ExpectInvalid(WriteAndLoad("labels2d", U8({2, 28, 28}), U8({2, 1})),
                {"labels-idx1-ubyte.gz: dims=[2, 1], want [N]"});
}

TEST(MnistBadFileTest, LabelOutOfRange) {
  IdxArray labels = U8({3}, 9);
  labels.data[1] = 10;
  ExpectInvalid(WriteAndLoad("label", U8({3, 28, 28}), labels),
                {"labels-idx1-ubyte.gz: label[1]=10, want 0..9"});
}

TEST(MnistBadFileTest, NoImages) {
  ExpectInvalid(WriteAndLoad("empty", U8({0, 28, 28}), U8({0})),
                {"dims=[0, 28, 28] hold no images"});
}

TEST(SubsetTest, StratifiedIndicesTakesTheFirstPerClassInOrder) {
  std::vector<uint8_t> labels;
  for (int rep = 0; rep < 3; ++rep) {
    for (int c = kMnistClasses - 1; c >= 0; --c) labels.push_back(c);
  }
  StatusOr<std::vector<size_t>> two = StratifiedIndices(labels, 2);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  std::vector<size_t> want(20);
  for (size_t i = 0; i < 20; ++i) want[i] = i;
  EXPECT_EQ(*two, want);

  StatusOr<std::vector<size_t>> four = StratifiedIndices(labels, 4);
  ASSERT_FALSE(four.ok());
  EXPECT_THAT(four.status().message(),
              HasSubstr("class 0 (T-shirt/top) has 3 examples, want "
                        "per_class=4"));

  labels[5] = 11;
  StatusOr<std::vector<size_t>> bad = StratifiedIndices(labels, 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("label[5]=11"));
}

TEST(SubsetTest, SubsetCopiesTheChosenExamples) {
  Dataset d;
  d.labels = {4, 5, 6};
  d.images.resize(3 * kMnistImageSize);
  for (size_t i = 0; i < d.images.size(); ++i) d.images[i] = i % 7 / 7.0f;
  const Dataset s = Subset(d, {2, 0});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.label(0), 6);
  EXPECT_EQ(s.label(1), 4);
  EXPECT_TRUE(std::equal(s.image(0), s.image(0) + kMnistImageSize, d.image(2)));
  EXPECT_TRUE(std::equal(s.image(1), s.image(1) + kMnistImageSize, d.image(0)));
}

TEST(MnistTest, WriteMnistRejectsMismatchedSizes) {
  Dataset d;
  d.labels = {1, 2};
  d.images.resize(kMnistImageSize);
  const Status s = WriteMnist(d, TempDir("mismatch"), Split::kTrain);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("images.size()=784 for 2 labels"));
}

}  // namespace
}  // namespace sparrow
