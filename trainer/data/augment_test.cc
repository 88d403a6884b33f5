// trainer/data/augment.h: the identity cases, flips, crop shifts, noise
// statistics, and determinism per (seed, epoch, index, copy).
#include "trainer/data/augment.h"

#include <math.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace sparrow {
namespace data {
namespace {

// [h, w, c] with distinct, nonzero values: 1 + the flat index.
std::vector<float> Ramp(int h, int w, int c) {
  std::vector<float> v(static_cast<size_t>(h) * w * c);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 1.0f + i;
  return v;
}

float At(const std::vector<float>& v, int w, int c, int y, int x, int k) {
  return v[(static_cast<size_t>(y) * w + x) * c + k];
}

AugmentOptions Plain() {
  AugmentOptions o;
  o.pad = 0;
  o.flip = false;
  o.noise_stddev = 0.0f;
  return o;
}

TEST(AugmentTest, NoPadNoFlipNoNoiseIsIdentity) {
  const int h = 5, w = 7, c = 3;
  const std::vector<float> in = Ramp(h, w, c);
  std::vector<float> out(in.size(), -1.0f);
  for (uint64_t index = 0; index < 20; ++index) {
    AugmentExample(in.data(), h, w, c, Plain(), 1, 0, index, 0, out.data());
    ASSERT_EQ(out, in) << index;
  }
  AugmentOptions off;  // the defaults, but disabled
  off.enabled = false;
  AugmentExample(in.data(), h, w, c, off, 1, 0, 0, 0, out.data());
  EXPECT_EQ(out, in);
}

TEST(AugmentTest, FlipTwiceIsIdentityAndFlipMirrors) {
  for (int w : {1, 2, 5, 8}) {
    const int h = 3, c = 2;
    const std::vector<float> in = Ramp(h, w, c);
    std::vector<float> v = in;
    FlipHorizontal(v.data(), h, w, c);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int k = 0; k < c; ++k) {
          ASSERT_EQ(At(v, w, c, y, x, k), At(in, w, c, y, w - 1 - x, k));
        }
      }
    }
    FlipHorizontal(v.data(), h, w, c);
    EXPECT_EQ(v, in) << w;
  }
}

TEST(AugmentTest, CropShiftsContentAndPadsWithZeros) {
  const int h = 6, w = 6, c = 1, pad = 2;
  const std::vector<float> in = Ramp(h, w, c);
  std::vector<float> out(in.size());
  for (int dy = 0; dy <= 2 * pad; ++dy) {
    for (int dx = 0; dx <= 2 * pad; ++dx) {
      CropWithPadding(in.data(), h, w, c, pad, dy, dx, out.data());
      for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
          const int sy = y + dy - pad, sx = x + dx - pad;
          const bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
          ASSERT_EQ(At(out, w, c, y, x, 0), inside ? At(in, w, c, sy, sx, 0) : 0)
              << dy << "," << dx << " at " << y << "," << x;
        }
      }
    }
  }
  // The centred crop is the identity; a shift by one moves row 1 to row 0.
  CropWithPadding(in.data(), h, w, c, pad, pad, pad, out.data());
  EXPECT_EQ(out, in);
  CropWithPadding(in.data(), h, w, c, pad, pad + 1, pad, out.data());
  EXPECT_EQ(At(out, w, c, 0, 3, 0), At(in, w, c, 1, 3, 0));
  EXPECT_EQ(At(out, w, c, h - 1, 3, 0), 0.0f);
}

TEST(AugmentTest, DrawsCoverTheRangeAndFlipHalfTheTime) {
  AugmentOptions o = Plain();
  o.pad = 2;
  o.flip = true;
  std::set<int> dys, dxs;
  int flips = 0;
  const int kDraws = 4000;  // flips: 2000 +- 32 (1 sigma); 200 is 6 sigma
  for (int i = 0; i < kDraws; ++i) {
    const AugmentDraw d = DrawAugment(o, 3, 1, i, 0);
    ASSERT_GE(d.dy, 0);
    ASSERT_LE(d.dy, 2 * o.pad);
    ASSERT_GE(d.dx, 0);
    ASSERT_LE(d.dx, 2 * o.pad);
    dys.insert(d.dy);
    dxs.insert(d.dx);
    flips += d.flip;
  }
  EXPECT_EQ(dys.size(), 5u);
  EXPECT_EQ(dxs.size(), 5u);
  EXPECT_NEAR(flips, kDraws / 2, 200);
  o.flip = false;
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(DrawAugment(o, 3, 1, i, 0).flip);
}

TEST(AugmentTest, NoiseHasTheRequestedMoments) {
  const size_t n = 1 << 18;
  const float stddev = 0.05f;
  std::vector<float> v(n, 0.0f);
  AddGaussianNoise(v.data(), n, stddev, 12345);
  double sum = 0.0, sq = 0.0, peak = 0.0;
  for (float x : v) {
    sum += x;
    sq += static_cast<double>(x) * x;
    peak = std::max(peak, std::fabs(static_cast<double>(x)));
  }
  const double mean = sum / n;
  const double sd = std::sqrt(sq / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 3 * stddev / std::sqrt(static_cast<double>(n)));
  EXPECT_NEAR(sd, stddev, 0.01 * stddev);
  EXPECT_LE(peak, std::sqrt(12.0) * stddev * 1.0001);
  EXPECT_GT(peak, 2.5 * stddev);  // tails are there, not a uniform
}

TEST(AugmentTest, AugmentIsCropThenFlipThenNoise) {
  const int h = 4, w = 5, c = 2;
  const std::vector<float> in = Ramp(h, w, c);
  AugmentOptions o;
  o.pad = 1;
  o.flip = true;
  o.noise_stddev = 0.1f;
  for (uint64_t index = 0; index < 16; ++index) {
    const AugmentDraw d = DrawAugment(o, 9, 2, index, 1);
    std::vector<float> want(in.size()), got(in.size());
    CropWithPadding(in.data(), h, w, c, o.pad, d.dy, d.dx, want.data());
    if (d.flip) FlipHorizontal(want.data(), h, w, c);
    AddGaussianNoise(want.data(), want.size(), o.noise_stddev, d.noise_seed);
    AugmentExample(in.data(), h, w, c, o, 9, 2, index, 1, got.data());
    ASSERT_EQ(got, want) << index;
  }
}

TEST(AugmentTest, SameSeedSameOutputOtherKeysDiffer) {
  const int h = 8, w = 8, c = 1;
  const std::vector<float> in = Ramp(h, w, c);
  AugmentOptions o;  // defaults: pad 2, flip, noise 0.02
  std::vector<float> a(in.size()), b(in.size());
  AugmentExample(in.data(), h, w, c, o, 1, 2, 3, 4, a.data());
  AugmentExample(in.data(), h, w, c, o, 1, 2, 3, 4, b.data());
  EXPECT_EQ(a, b);
  // Change one key at a time: the noise alone makes them differ.
  const uint64_t keys[4][4] = {
      {2, 2, 3, 4}, {1, 3, 3, 4}, {1, 2, 4, 4}, {1, 2, 3, 5}};
  for (const auto& k : keys) {
    AugmentExample(in.data(), h, w, c, o, k[0], k[1], k[2],
                   static_cast<uint32_t>(k[3]), b.data());
    EXPECT_NE(a, b) << k[0] << k[1] << k[2] << k[3];
  }
}

TEST(AugmentTest, NoiseHasTheRequestedMeanAndStddev) {
  // 100001 values (odd: the last pair is half used): the mean's standard
  // error is 0.5/316 = 0.0016, the stddev's about 0.0011.
  std::vector<float> v(100001, 0.0f);
  AddGaussianNoise(v.data(), v.size(), 0.5f, 42);
  double sum = 0.0, sum2 = 0.0;
  for (float x : v) {
    sum += x;
    sum2 += static_cast<double>(x) * x;
  }
  const double mean = sum / v.size();
  const double stddev = sqrt(sum2 / v.size() - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(stddev, 0.5, 0.01);
  EXPECT_NE(v.back(), 0.0f);
  // Zero stddev leaves the values alone.
  std::vector<float> w(10, 1.0f);
  AddGaussianNoise(w.data(), w.size(), 0.0f, 42);
  EXPECT_EQ(w, std::vector<float>(10, 1.0f));
}

}  // namespace
}  // namespace data
}  // namespace sparrow
