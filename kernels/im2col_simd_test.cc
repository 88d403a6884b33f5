// The float Im2Col / Col2ImAdd (kernels/im2col-inl.h) on every compiled target
// against the templates of kernels/im2col.h, bit for bit: each output element
// is one copy (or one add, in the same row order) in both. Geometries cover
// channel counts around the vector lengths (runs of 1 .. 3N+1 floats, so whole
// vectors, masked tails and scalar tails), dilation (runs of c floats),
// padding on every side, strides and chunked rows; guard floats after the
// output catch a tail that writes too far.
#include <stddef.h>
#include <stdint.h>

#include <random>
#include <vector>

#include "kernels/im2col.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/im2col_simd_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/test_util-inl.h"
#include "kernels/im2col-inl.h"

// Highway 1.0.3 has no HWY_AFTER_TEST (newer versions do).
#ifndef HWY_AFTER_TEST
#define HWY_AFTER_TEST() static_assert(true, "")
#endif

#ifndef SPARROW_KERNELS_IM2COL_SIMD_TEST_HELPERS_
#define SPARROW_KERNELS_IM2COL_SIMD_TEST_HELPERS_
namespace sparrow {
namespace im2col_simd_test {

inline std::vector<ConvGeometry> Geometries() {
  std::vector<ConvGeometry> out;
  const size_t channels[] = {1, 3, 6, 16, 17, 33};
  struct K {
    size_t kh, kw;
    int64_t s, dil, pad;
  };
  const K ks[] = {{5, 5, 1, 1, 0}, {5, 5, 1, 1, 2}, {3, 3, 2, 1, 1},
                  {3, 2, 1, 2, 1}, {1, 1, 1, 1, 0}};
  for (size_t c : channels) {
    for (const K& k : ks) {
      ConvGeometry g;
      g.n = 2, g.h = 9, g.w = 7, g.c = c, g.kh = k.kh, g.kw = k.kw;
      g.stride_h = g.stride_w = k.s;
      g.dilation_h = g.dilation_w = k.dil;
      g.pad_top = g.pad_left = k.pad;
      const int64_t ekh = k.dil * (static_cast<int64_t>(k.kh) - 1) + 1;
      const int64_t ekw = k.dil * (static_cast<int64_t>(k.kw) - 1) + 1;
      g.oh = static_cast<size_t>((9 + 2 * k.pad - ekh) / k.s + 1);
      g.ow = static_cast<size_t>((7 + 2 * k.pad - ekw) / k.s + 1);
      out.push_back(g);
    }
  }
  return out;
}

inline std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = uni(rng);
  return v;
}

}  // namespace im2col_simd_test
}  // namespace sparrow
#endif  // SPARROW_KERNELS_IM2COL_SIMD_TEST_HELPERS_

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {

void TestIm2ColMatchesTemplate() {
  constexpr size_t kGuard = 64;
  for (const ConvGeometry& g : im2col_simd_test::Geometries()) {
    const size_t rows = g.PatchRows(), cols = g.PatchCols();
    const std::vector<float> x = im2col_simd_test::Random(g.n * g.h * g.w * g.c, 1);
    std::vector<float> want(rows * cols + kGuard, 7.0f), got = want;
    // Two chunks, as the trainer calls it.
    const size_t mid = rows / 3;
    Im2Col<float>(g, x.data(), 0, mid, want.data());
    Im2Col<float>(g, x.data(), mid, rows, want.data() + mid * cols);
    Im2ColImpl(g, x.data(), 0, mid, got.data());
    Im2ColImpl(g, x.data(), mid, rows, got.data() + mid * cols);
    ASSERT_EQ(got, want) << "c=" << g.c << " k=" << g.kh << "x" << g.kw
                         << " stride=" << g.stride_w
                         << " dilation=" << g.dilation_w
                         << " pad=" << g.pad_left;
  }
}

void TestCol2ImMatchesTemplate() {
  constexpr size_t kGuard = 64;
  for (const ConvGeometry& g : im2col_simd_test::Geometries()) {
    const size_t rows = g.PatchRows(), cols = g.PatchCols();
    const std::vector<float> d = im2col_simd_test::Random(rows * cols, 2);
    // dx starts non-zero: Col2ImAdd accumulates.
    std::vector<float> want = im2col_simd_test::Random(g.n * g.h * g.w * g.c + kGuard, 3);
    std::vector<float> got = want;
    const size_t mid = rows / 2;
    Col2ImAdd<float>(g, d.data(), 0, mid, want.data());
    Col2ImAdd<float>(g, d.data() + mid * cols, mid, rows, want.data());
    Col2ImAddImpl(g, d.data(), 0, mid, got.data());
    Col2ImAddImpl(g, d.data() + mid * cols, mid, rows, got.data());
    ASSERT_EQ(got, want) << "c=" << g.c << " k=" << g.kh << "x" << g.kw
                         << " stride=" << g.stride_w
                         << " dilation=" << g.dilation_w
                         << " pad=" << g.pad_left;
  }
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparrow {
HWY_BEFORE_TEST(Im2ColSimdTest);
HWY_EXPORT_AND_TEST_P(Im2ColSimdTest, TestIm2ColMatchesTemplate);
HWY_EXPORT_AND_TEST_P(Im2ColSimdTest, TestCol2ImMatchesTemplate);
HWY_AFTER_TEST();

// The overloads a float caller reaches without naming a target.
TEST(Im2ColSimdApiTest, FloatOverloadIsDispatched) {
  const ConvGeometry g = im2col_simd_test::Geometries()[7];
  const std::vector<float> x = im2col_simd_test::Random(g.n * g.h * g.w * g.c, 4);
  std::vector<float> want(g.PatchRows() * g.PatchCols()), got(want.size());
  Im2Col<float>(g, x.data(), 0, g.PatchRows(), want.data());
  Im2Col(g, x.data(), 0, g.PatchRows(), got.data());
  EXPECT_EQ(got, want);
}

}  // namespace sparrow
#endif  // HWY_ONCE
