// im2col against the definition of a convolution, and col2im as its exact
// adjoint (<Im2Col(x), d> == <x, Col2ImAdd(d)>), over strides, dilations,
// asymmetric padding and chunked rows.
#include "kernels/im2col.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace sparrow {
namespace {

std::vector<ConvGeometry> Geometries() {
  std::vector<ConvGeometry> out;
  struct G {
    size_t n, h, w, c, kh, kw;
    int64_t sh, sw, dh, dw, pt, pb, pl, pr;
  };
  const G gs[] = {{1, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
                  {2, 9, 8, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 2},
                  {1, 4, 6, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
                  {3, 7, 3, 4, 2, 3, 3, 1, 1, 1, 1, 0, 0, 2},
                  {1, 1, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}};
  for (const G& g : gs) {
    ConvGeometry c;
    c.n = g.n, c.h = g.h, c.w = g.w, c.c = g.c, c.kh = g.kh, c.kw = g.kw;
    c.stride_h = g.sh, c.stride_w = g.sw, c.dilation_h = g.dh;
    c.dilation_w = g.dw, c.pad_top = g.pt, c.pad_left = g.pl;
    const int64_t ekh = g.dh * (static_cast<int64_t>(g.kh) - 1) + 1;
    const int64_t ekw = g.dw * (static_cast<int64_t>(g.kw) - 1) + 1;
    c.oh = static_cast<size_t>((static_cast<int64_t>(g.h) + g.pt + g.pb - ekh) / g.sh + 1);
    c.ow = static_cast<size_t>((static_cast<int64_t>(g.w) + g.pl + g.pr - ekw) / g.sw + 1);
    out.push_back(c);
  }
  return out;
}

TEST(Im2Col, MatchesTheConvolutionDefinition) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> uni(-1, 1);
  for (const ConvGeometry& g : Geometries()) {
    std::vector<double> x(g.n * g.h * g.w * g.c);
    for (double& v : x) v = uni(rng);
    std::vector<double> cols(g.PatchRows() * g.PatchCols(), 99.0);
    // In two chunks, to check the row offset.
    const size_t mid = g.PatchRows() / 2;
    Im2Col(g, x.data(), 0, mid, cols.data());
    Im2Col(g, x.data(), mid, g.PatchRows(), cols.data() + mid * g.PatchCols());
    for (size_t img = 0; img < g.n; ++img)
      for (size_t oy = 0; oy < g.oh; ++oy)
        for (size_t ox = 0; ox < g.ow; ++ox)
          for (size_t ky = 0; ky < g.kh; ++ky)
            for (size_t kx = 0; kx < g.kw; ++kx)
              for (size_t ch = 0; ch < g.c; ++ch) {
                const int64_t iy = static_cast<int64_t>(oy) * g.stride_h -
                                   g.pad_top + ky * g.dilation_h;
                const int64_t ix = static_cast<int64_t>(ox) * g.stride_w -
                                   g.pad_left + kx * g.dilation_w;
                const bool in = iy >= 0 && iy < static_cast<int64_t>(g.h) &&
                                ix >= 0 && ix < static_cast<int64_t>(g.w);
                const double want =
                    in ? x[((img * g.h + iy) * g.w + ix) * g.c + ch] : 0.0;
                const size_t row = (img * g.oh + oy) * g.ow + ox;
                const size_t col = (ky * g.kw + kx) * g.c + ch;
                ASSERT_EQ(cols[row * g.PatchCols() + col], want)
                    << "row " << row << " col " << col;
              }
  }
}

TEST(Im2Col, Col2ImIsTheAdjoint) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> uni(-1, 1);
  for (const ConvGeometry& g : Geometries()) {
    std::vector<double> x(g.n * g.h * g.w * g.c), d(g.PatchRows() * g.PatchCols());
    for (double& v : x) v = uni(rng);
    for (double& v : d) v = uni(rng);
    std::vector<double> cols(d.size());
    Im2Col(g, x.data(), 0, g.PatchRows(), cols.data());
    std::vector<double> dx(x.size(), 0.0);
    Col2ImAdd(g, d.data(), 0, g.PatchRows(), dx.data());
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < d.size(); ++i) lhs += cols[i] * d[i];
    for (size_t i = 0; i < x.size(); ++i) rhs += x[i] * dx[i];
    EXPECT_NEAR(lhs, rhs, 1e-12 * (1 + std::abs(lhs)));
  }
}

TEST(Im2Col, PointwiseIsTheIdentity) {
  const ConvGeometry g = Geometries()[2];
  ASSERT_TRUE(g.IsPointwise());
  std::vector<float> x(g.n * g.h * g.w * g.c), cols(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  Im2Col(g, x.data(), 0, g.PatchRows(), cols.data());
  EXPECT_EQ(cols, x);
  EXPECT_FALSE(Geometries()[0].IsPointwise());
}

}  // namespace
}  // namespace sparrow
