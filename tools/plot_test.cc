#include "tools/plot.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tools/plot_font.h"
#include "zlib.h"

namespace sparrow {
namespace {

// ---- An independent PNG reader: only what EncodePng promises to write.

uint32_t GetU32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 |
         p[3];
}

struct DecodedPng {
  std::vector<std::string> chunks;  // types, in file order
  Image image;
};

::testing::AssertionResult DecodePng(const std::vector<uint8_t>& png,
                                     DecodedPng* out) {
  static const uint8_t kSignature[8] = {0x89, 'P',  'N',  'G',
                                        '\r', '\n', 0x1A, '\n'};
  if (png.size() < 8 || memcmp(png.data(), kSignature, 8) != 0) {
    return ::testing::AssertionFailure() << "bad signature";
  }
  std::vector<uint8_t> idat;
  size_t pos = 8;
  bool ended = false;
  while (pos < png.size()) {
    if (ended) return ::testing::AssertionFailure() << "bytes after IEND";
    if (png.size() - pos < 12) {
      return ::testing::AssertionFailure() << "truncated chunk at " << pos;
    }
    const uint32_t len = GetU32(&png[pos]);
    if (png.size() - pos - 12 < len) {
      return ::testing::AssertionFailure() << "chunk length " << len;
    }
    const uint8_t* type = &png[pos + 4];
    const uint8_t* data = type + 4;
    const std::string name(reinterpret_cast<const char*>(type), 4);
    const uint32_t want = static_cast<uint32_t>(crc32(0L, type, 4 + len));
    if (GetU32(data + len) != want) {
      return ::testing::AssertionFailure() << name << " CRC mismatch";
    }
    out->chunks.push_back(name);
    if (name == "IHDR") {
      if (len != 13) return ::testing::AssertionFailure() << "IHDR length";
      out->image.width = static_cast<int>(GetU32(data));
      out->image.height = static_cast<int>(GetU32(data + 4));
      if (data[8] != 8 || data[9] != 2 || data[10] != 0 || data[11] != 0 ||
          data[12] != 0) {
        return ::testing::AssertionFailure() << "not 8-bit RGB, plain";
      }
    } else if (name == "IDAT") {
      idat.insert(idat.end(), data, data + len);
    } else if (name == "IEND") {
      if (len != 0) return ::testing::AssertionFailure() << "IEND length";
      ended = true;
    }
    pos += 12 + len;
  }
  if (!ended) return ::testing::AssertionFailure() << "no IEND";
  if (out->chunks.empty() || out->chunks[0] != "IHDR") {
    return ::testing::AssertionFailure() << "IHDR is not first";
  }
  const int w = out->image.width, h = out->image.height;
  const size_t stride = static_cast<size_t>(w) * 3 + 1;
  std::vector<uint8_t> raw(stride * h + 1);  // +1: detects extra data
  uLongf raw_len = raw.size();
  if (uncompress(raw.data(), &raw_len, idat.data(), idat.size()) != Z_OK ||
      raw_len != stride * h) {
    return ::testing::AssertionFailure()
           << "IDAT does not inflate to " << stride * h << " bytes";
  }
  for (int y = 0; y < h; ++y) {
    if (raw[y * stride] != 0) {
      return ::testing::AssertionFailure()
             << "row " << y << " filter " << int{raw[y * stride]};
    }
    out->image.rgb.insert(out->image.rgb.end(), &raw[y * stride + 1],
                          &raw[y * stride + stride]);
  }
  return ::testing::AssertionSuccess();
}

// ---- Helpers.

bool ColorNear(const Image& im, int x, int y, int r, Rgb c) {
  for (int dy = -r; dy <= r; ++dy) {
    for (int dx = -r; dx <= r; ++dx) {
      const int px = x + dx, py = y + dy;
      if (px < 0 || py < 0 || px >= im.width || py >= im.height) continue;
      if (im.At(px, py) == c) return true;
    }
  }
  return false;
}

int CountColor(const Image& im, int x0, int y0, int x1, int y1, Rgb c) {
  int n = 0;
  for (int y = std::max(0, y0); y <= std::min(im.height - 1, y1); ++y) {
    for (int x = std::max(0, x0); x <= std::min(im.width - 1, x1); ++x) {
      n += im.At(x, y) == c;
    }
  }
  return n;
}

Chart EchoChart() {
  Chart c;
  c.title = "Time to 85% accuracy vs echo factor";
  c.x_label = "echo factor";
  c.y_label = "seconds to target";
  c.series.push_back({"before augmentation",
                      {1, 2, 4, 8},
                      {31, 22, 18, 19},
                      {1.5, 1.2, 1.0, 2.0}});
  c.series.push_back({"after augmentation",
                      {1, 2, 4, 8},
                      {31, 20, 15, 14},
                      {1.5, 0.8, 1.1, 1.4}});
  c.series.push_back({"after batching", {1, 2, 4, 8}, {31, 25, 24, 27}, {}});
  c.hline = 31;
  c.hline_label = "no echo";
  return c;
}

Image MustRender(const Chart& chart, ChartGeometry* g = nullptr) {
  Image im;
  const Status s = RenderChart(chart, &im, g);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return im;
}

// ---- PNG encoding.

TEST(EncodePng, RoundTripsARenderedChart) {
  const Image im = MustRender(EchoChart());
  ASSERT_EQ(im.width, 800);
  ASSERT_EQ(im.height, 500);
  DecodedPng png;
  ASSERT_TRUE(DecodePng(EncodePng(im), &png));
  EXPECT_EQ(png.chunks, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  EXPECT_EQ(png.image.width, im.width);
  EXPECT_EQ(png.image.height, im.height);
  EXPECT_EQ(png.image.rgb, im.rgb);
}

TEST(EncodePng, TinyImageHasKnownHeaderAndTrailer) {
  Image im;
  im.width = 2, im.height = 1;
  im.rgb = {255, 0, 0, 0, 0, 255};
  const std::vector<uint8_t> png = EncodePng(im);
  DecodedPng d;
  ASSERT_TRUE(DecodePng(png, &d));
  EXPECT_EQ(d.image.rgb, im.rgb);
  // The IHDR bytes and the IEND chunk every valid PNG ends with (its CRC is
  // the one in the PNG specification's examples).
  const std::vector<uint8_t> ihdr = {0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0,
                                     2, 0, 0, 0,  1,   8,   2,   0,   0, 0};
  ASSERT_GT(png.size(), 8 + ihdr.size() + 12);
  EXPECT_TRUE(std::equal(ihdr.begin(), ihdr.end(), png.begin() + 8));
  const std::vector<uint8_t> iend = {0,   0,   0,    0,    'I',  'E',
                                     'N', 'D', 0xAE, 0x42, 0x60, 0x82};
  EXPECT_TRUE(std::equal(iend.begin(), iend.end(), png.end() - 12));
}

TEST(EncodePng, TheReaderCatchesCorruption) {
  const std::vector<uint8_t> good = EncodePng(MustRender(EchoChart()));
  DecodedPng d;
  ASSERT_TRUE(DecodePng(good, &d));
  std::vector<uint8_t> bad = good;
  bad[8 + 25 + 8 + 4] ^= 1;  // a byte of IDAT's data
  EXPECT_FALSE(DecodePng(bad, &d));
  bad = good;
  bad.resize(bad.size() - 12);  // no IEND
  EXPECT_FALSE(DecodePng(bad, &d));
  bad = good;
  bad[0] = 0x88;
  EXPECT_FALSE(DecodePng(bad, &d));
}

TEST(EncodePng, MalformedImageGivesNoBytes) {
  Image im;
  EXPECT_TRUE(EncodePng(im).empty());  // 0x0
  im.width = 3, im.height = 2;
  im.rgb.assign(3 * 2 * 3 - 1, 0);
  EXPECT_TRUE(EncodePng(im).empty());  // one byte short
  im.rgb.assign(3 * 2 * 3 + 3, 0);
  EXPECT_TRUE(EncodePng(im).empty());  // one pixel long
  im.width = -3;
  EXPECT_TRUE(EncodePng(im).empty());
}

// ---- Rendering.

TEST(RenderChart, SeriesArePlottedAtTheirPointsAndJoined) {
  const Chart chart = EchoChart();
  ChartGeometry g;
  const Image im = MustRender(chart, &g);
  // A later series' marker may hide a point (all placements start at the
  // same echo-1 time); every other point shows its series' colour.
  auto hidden = [&](size_t i, int px, int py) {
    for (size_t j = i + 1; j < chart.series.size(); ++j) {
      for (size_t k = 0; k < chart.series[j].x.size(); ++k) {
        if (std::abs(g.PixelX(chart.series[j].x[k]) - px) <= 9 &&
            std::abs(g.PixelY(chart.series[j].y[k]) - py) <= 9) {
          return true;
        }
      }
    }
    return false;
  };
  int checked = 0;
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const Series& s = chart.series[i];
    for (size_t k = 0; k < s.x.size(); ++k) {
      const int px = g.PixelX(s.x[k]), py = g.PixelY(s.y[k]);
      if (hidden(i, px, py)) continue;
      ++checked;
      EXPECT_TRUE(ColorNear(im, px, py, 1, SeriesColor(i)))
          << "series " << i << " point " << k;
    }
  }
  EXPECT_GE(checked, 9);
  // The last series (drawn on top) is visible midway along each segment.
  const Series& s = chart.series.back();
  for (size_t k = 0; k + 1 < s.x.size(); ++k) {
    const double mx = 0.5 * (s.x[k] + s.x[k + 1]);
    const double my = 0.5 * (s.y[k] + s.y[k + 1]);
    EXPECT_TRUE(ColorNear(im, g.PixelX(mx), g.PixelY(my), 2,
                          SeriesColor(chart.series.size() - 1)))
        << "segment " << k;
  }
}

TEST(RenderChart, SeriesColorsStayInThePlotAndLegend) {
  const Chart chart = EchoChart();
  ChartGeometry g;
  const Image im = MustRender(chart, &g);
  ASSERT_TRUE(g.has_legend);
  const int m = 5;  // a marker's reach beyond the plot edge
  for (int y = 0; y < im.height; ++y) {
    for (int x = 0; x < im.width; ++x) {
      const bool in_plot = x >= g.plot_x0 - m && x <= g.plot_x1 + m &&
                           y >= g.plot_y0 - m && y <= g.plot_y1 + m;
      const bool in_legend = x >= g.legend_x0 && x <= g.legend_x1 &&
                             y >= g.legend_y0 && y <= g.legend_y1;
      if (in_plot || in_legend) continue;
      for (size_t i = 0; i < chart.series.size(); ++i) {
        ASSERT_NE(im.At(x, y), SeriesColor(i)) << x << "," << y;
      }
    }
  }
}

TEST(RenderChart, LegendHoldsEveryLabelledColourAndAvoidsData) {
  Chart chart;
  chart.title = "legend";
  // A peak in the middle, the rest low: the top-right corner is free.
  chart.series.push_back({"s0", {0, 1, 2}, {1, 10, 1}, {}});
  for (int i = 1; i < 4; ++i) {
    chart.series.push_back({"s" + std::to_string(i),
                            {0, 1, 2},
                            {1.0 + i * 0.5, 2.0 + i * 0.5, 1.5 + i * 0.5},
                            {}});
  }
  chart.series[2].label.clear();  // not in the legend
  chart.hline = 0.2;
  chart.hline_label = "ref";
  ChartGeometry g;
  const Image im = MustRender(chart, &g);
  ASSERT_TRUE(g.has_legend);
  EXPECT_GE(g.legend_x0, g.plot_x0);
  EXPECT_LE(g.legend_x1, g.plot_x1);
  EXPECT_GE(g.legend_y0, g.plot_y0);
  EXPECT_LE(g.legend_y1, g.plot_y1);
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const int n = CountColor(im, g.legend_x0, g.legend_y0, g.legend_x1,
                             g.legend_y1, SeriesColor(i));
    if (i == 2) {
      EXPECT_EQ(n, 0) << "unlabelled series in the legend";
    } else {
      EXPECT_GT(n, 20) << "series " << i;
    }
  }
  EXPECT_GT(CountColor(im, g.legend_x0, g.legend_y0, g.legend_x1, g.legend_y1,
                       ReferenceLineColor()),
            0);
  EXPECT_GT(g.legend_x0, (g.plot_x0 + g.plot_x1) / 2);  // top right
  EXPECT_LT(g.legend_y1, (g.plot_y0 + g.plot_y1) / 2);
  for (const Series& s : chart.series) {
    for (size_t k = 0; k < s.x.size(); ++k) {
      const int px = g.PixelX(s.x[k]), py = g.PixelY(s.y[k]);
      EXPECT_FALSE(px >= g.legend_x0 - 4 && px <= g.legend_x1 + 4 &&
                   py >= g.legend_y0 - 4 && py <= g.legend_y1 + 4);
    }
  }
}

TEST(RenderChart, LegendMovesToAFreeCorner) {
  Chart chart;
  // Rising from lower left to upper right: both of those corners are taken.
  chart.series.push_back({"rising", {0, 10}, {0, 10}, {}});
  ChartGeometry g;
  MustRender(chart, &g);
  ASSERT_TRUE(g.has_legend);
  EXPECT_LT(g.legend_x1, (g.plot_x0 + g.plot_x1) / 2);  // top left
  EXPECT_LT(g.legend_y1, (g.plot_y0 + g.plot_y1) / 2);
}

TEST(RenderChart, LegendGoesOutsideWhenEveryCornerHasData) {
  Chart chart;
  Series zigzag{"zigzag", {}, {}, {}};
  for (int i = 0; i <= 40; ++i) {
    zigzag.x.push_back(i);
    zigzag.y.push_back(i % 2 ? 10 : 0);
  }
  chart.series.push_back(zigzag);
  ChartGeometry g;
  const Image im = MustRender(chart, &g);
  ASSERT_TRUE(g.has_legend);
  EXPECT_GT(g.legend_x0, g.plot_x1);
  EXPECT_LT(g.legend_x1, im.width);
  EXPECT_GT(CountColor(im, g.legend_x0, g.legend_y0, g.legend_x1, g.legend_y1,
                       SeriesColor(0)),
            0);
}

TEST(RenderChart, LegendCoversDataOnlyWhenNothingElseFits) {
  Chart chart;
  Series zigzag{"a label far too long to sit beside the plot area", {}, {}, {}};
  for (int i = 0; i <= 40; ++i) {
    zigzag.x.push_back(i);
    zigzag.y.push_back(i % 2 ? 10 : 0);
  }
  chart.series.push_back(zigzag);
  ChartGeometry g;
  MustRender(chart, &g);
  ASSERT_TRUE(g.has_legend);
  EXPECT_GE(g.legend_x0, g.plot_x0);
  EXPECT_LE(g.legend_x1, g.plot_x1);
}

TEST(RenderChart, NoLabelsNoLegend) {
  Chart chart;
  chart.series.push_back({"", {0, 1}, {0, 1}, {}});
  ChartGeometry g;
  MustRender(chart, &g);
  EXPECT_FALSE(g.has_legend);
}

TEST(RenderChart, ErrorBarsReachYPlusAndMinusErr) {
  Chart chart;
  chart.series.push_back({"", {1, 2}, {5, 5}, {2, 0}});
  ChartGeometry g;
  const Image im = MustRender(chart, &g);
  const Rgb c = SeriesColor(0);
  const int px = g.PixelX(1);
  ASSERT_GT(g.PixelY(5) - g.PixelY(7), 20);  // far beyond the marker
  EXPECT_TRUE(ColorNear(im, px, g.PixelY(7), 1, c));
  EXPECT_TRUE(ColorNear(im, px, g.PixelY(3), 1, c));
  EXPECT_TRUE(ColorNear(im, px + 4, g.PixelY(7), 1, c));  // the cap
  EXPECT_GT(g.y_max, 7);
  // The point with err 0 has no bar.
  EXPECT_FALSE(ColorNear(im, g.PixelX(2), g.PixelY(7), 2, c));
  EXPECT_FALSE(ColorNear(im, g.PixelX(2), g.PixelY(3), 2, c));
}

TEST(RenderChart, ReferenceLineIsDashed) {
  Chart chart;
  chart.series.push_back({"", {0, 1}, {1, 2}, {}});
  chart.hline = 5;  // above the data: the range must grow to show it
  ChartGeometry g;
  const Image im = MustRender(chart, &g);
  ASSERT_GE(g.y_max, 5);
  const int py = g.PixelY(5);
  int on = 0, off = 0;
  for (int x = g.plot_x0 + 2; x < g.plot_x1 - 2; ++x) {
    (im.At(x, py) == ReferenceLineColor() ? on : off)++;
  }
  EXPECT_GT(on, (g.plot_x1 - g.plot_x0) / 3);
  EXPECT_GT(off, (g.plot_x1 - g.plot_x0) / 5);
}

TEST(RenderChart, OnePointGetsARangeAroundIt) {
  for (double v : {0.0, 4.0, -3.0, 1e-12, 7e9}) {
    Chart chart;
    chart.y_from_zero = false;
    chart.series.push_back({"one", {v}, {v}, {}});
    ChartGeometry g;
    const Image im = MustRender(chart, &g);
    EXPECT_LT(g.x_min, v);
    EXPECT_GT(g.x_max, v);
    EXPECT_LT(g.y_min, v);
    EXPECT_GT(g.y_max, v);
    EXPECT_FALSE(g.x_ticks.empty()) << v;
    EXPECT_FALSE(g.y_ticks.empty()) << v;
    EXPECT_TRUE(ColorNear(im, g.PixelX(v), g.PixelY(v), 0, SeriesColor(0)));
  }
}

TEST(RenderChart, ConstantSeriesDoesNotCollapseTheAxis) {
  Chart chart;
  chart.series.push_back({"flat", {1, 2, 3}, {0, 0, 0}, {}});
  ChartGeometry g;
  MustRender(chart, &g);
  EXPECT_EQ(g.y_min, 0);  // y_from_zero, nothing negative
  EXPECT_GT(g.y_max, 0);
  chart.y_from_zero = false;
  chart.series[0].y = {8, 8, 8};
  const Image im = MustRender(chart, &g);
  EXPECT_LT(g.y_min, 8);
  EXPECT_GT(g.y_max, 8);
  EXPECT_TRUE(ColorNear(im, g.PixelX(2), g.PixelY(8), 0, SeriesColor(0)));
}

TEST(RenderChart, YFromZero) {
  Chart chart;
  chart.series.push_back({"", {0, 1}, {10, 20}, {}});
  ChartGeometry g;
  MustRender(chart, &g);
  EXPECT_EQ(g.y_min, 0);
  EXPECT_EQ(g.y_ticks.front(), 0);
  chart.y_from_zero = false;
  MustRender(chart, &g);
  EXPECT_GT(g.y_min, 9);
  EXPECT_LT(g.y_min, 10);
}

// Ticks are k * step, step = {1, 2, 5} x 10^e, inside the axis range.
void ExpectNiceTicks(const std::vector<double>& ticks, double lo, double hi) {
  ASSERT_GE(ticks.size(), 2u) << lo << ".." << hi;
  const double step = ticks[1] - ticks[0];
  const double p = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  const double m = step / p;
  EXPECT_TRUE(std::fabs(m - 1) < 1e-6 || std::fabs(m - 2) < 1e-6 ||
              std::fabs(m - 5) < 1e-6)
      << "step " << step;
  for (size_t i = 0; i < ticks.size(); ++i) {
    EXPECT_GE(ticks[i], lo - 1e-9 * step);
    EXPECT_LE(ticks[i], hi + 1e-9 * step);
    const double k = ticks[i] / step;
    EXPECT_NEAR(k, std::round(k), 1e-6) << ticks[i];
    if (i > 0) {
      EXPECT_NEAR(ticks[i] - ticks[i - 1], step, 1e-9 * step);
    }
  }
}

TEST(RenderChart, TicksAreNice) {
  const std::vector<std::vector<double>> ys = {
      {0, 1}, {1, 16}, {0.001, 0.0035}, {-50, 2000}, {1e6, 3e6}, {-7, -2}};
  for (const std::vector<double>& y : ys) {
    for (int width : {800, 300}) {
      Chart chart;
      chart.width = width;
      chart.y_from_zero = false;
      chart.series.push_back({"", y, y, {}});
      ChartGeometry g;
      MustRender(chart, &g);
      ExpectNiceTicks(g.x_ticks, g.x_min, g.x_max);
      ExpectNiceTicks(g.y_ticks, g.y_min, g.y_max);
    }
  }
}

TEST(RenderChart, MarkersBeyondThePaletteAreHollow) {
  Chart chart;
  for (int i = 0; i < 9; ++i) {
    chart.series.push_back({"", {0.0 + i}, {1.0 + i}, {}});
  }
  ChartGeometry g;
  const Image im = MustRender(chart, &g);
  const int px = g.PixelX(8), py = g.PixelY(9);
  EXPECT_EQ(im.At(px, py), (Rgb{255, 255, 255}));
  EXPECT_EQ(im.At(px + 4, py), SeriesColor(8));
  EXPECT_EQ(SeriesColor(8), SeriesColor(0));
  EXPECT_EQ(im.At(g.PixelX(0), g.PixelY(1)), SeriesColor(0));  // filled
}

TEST(RenderChart, PaletteColoursAreClearlyDifferent) {
  const std::vector<Rgb> others = {
      {255, 255, 255}, {0, 0, 0}, ReferenceLineColor()};
  auto dist = [](Rgb a, Rgb b) {
    return std::abs(a.r - b.r) + std::abs(a.g - b.g) + std::abs(a.b - b.b);
  };
  for (size_t i = 0; i < 8; ++i) {
    for (size_t j = i + 1; j < 8; ++j) {
      EXPECT_GT(dist(SeriesColor(i), SeriesColor(j)), 60) << i << " " << j;
    }
    for (Rgb o : others) EXPECT_GT(dist(SeriesColor(i), o), 100) << i;
  }
}

TEST(RenderChart, TextIsDrawn) {
  Chart chart;
  chart.series.push_back({"", {0, 1}, {0, 1}, {}});
  ChartGeometry g;
  const Image plain = MustRender(chart, &g);
  const int band = g.plot_y0 - 1;  // title and y label live above the plot
  EXPECT_EQ(CountColor(plain, 0, 0, plain.width - 1, band, Rgb{0, 0, 0}), 0);
  chart.title = "A";
  const Image a = MustRender(chart);
  chart.title = "B";
  const Image b = MustRender(chart, &g);
  EXPECT_GT(CountColor(a, 0, 0, a.width - 1, g.plot_y0 - 1, Rgb{0, 0, 0}), 0);
  EXPECT_NE(a.rgb, b.rgb);
  EXPECT_EQ(MustRender(chart).rgb, b.rgb);  // deterministic
}

TEST(RenderChart, SmallestChartRenders) {
  Chart chart = EchoChart();
  chart.width = kMinChartWidth;
  chart.height = kMinChartHeight;
  chart.series.resize(1);
  chart.series[0].label = "s";
  chart.hline_label.clear();
  Image im;
  const Status s = RenderChart(chart, &im);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(PlotFont, EveryPrintableGlyphIsDistinctAndFits) {
  using plot_internal::Glyph;
  std::set<std::vector<uint8_t>> seen;
  for (int c = 33; c <= 126; ++c) {
    const uint8_t* g = Glyph(static_cast<char>(c));
    std::vector<uint8_t> cols(g, g + plot_internal::kGlyphWidth);
    const bool descends =
        std::string("gjpqy").find(char(c)) != std::string::npos;
    int on = 0, below = 0;
    for (uint8_t col : cols) {
      on += col != 0;
      below += (col & 0x80) != 0;  // row 7: under the baseline
    }
    EXPECT_EQ(below > 0, descends) << char(c);
    EXPECT_GT(on, 0) << char(c);
    EXPECT_TRUE(seen.insert(cols).second) << "duplicate glyph " << char(c);
  }
  for (int i = 0; i < plot_internal::kGlyphWidth; ++i) {
    EXPECT_EQ(Glyph(' ')[i], 0);
  }
  // 'g' must not read as '9' (it did before it had a descender).
  auto rows = [&](char c) {
    int bits = 0;
    for (int i = 0; i < plot_internal::kGlyphWidth; ++i) bits |= Glyph(c)[i];
    return bits;
  };
  EXPECT_EQ(rows('g') & 0x03, 0);  // starts at the x-height, row 2
  EXPECT_NE(rows('9') & 0x03, 0);
  EXPECT_EQ(Glyph('\x01'), Glyph('?'));
  EXPECT_EQ(Glyph('\xE9'), Glyph('?'));
}

// ---- Bad input.

TEST(RenderChart, BadChartsNameTheProblem) {
  struct Case {
    const char* name;
    std::function<void(Chart*)> mutate;
    const char* message;
  };
  const double nan = std::nan("");
  const std::vector<Case> cases = {
      {"no series", [](Chart* c) { c->series.clear(); }, "has no series"},
      {"empty series",
       [](Chart* c) { c->series[1].x.clear(), c->series[1].y.clear(); },
       "series 1 (\"after augmentation\") has no points"},
      {"x/y sizes", [](Chart* c) { c->series[0].y.pop_back(); },
       "series 0 (\"before augmentation\"): x has 4 values, y has 3"},
      {"y_err size", [](Chart* c) { c->series[1].y_err.pop_back(); },
       "y_err has 3 values, y has 4"},
      {"x nan", [nan](Chart* c) { c->series[2].x[1] = nan; },
       "series 2 (\"after batching\"): x[1] = nan is not finite"},
      {"y inf", [](Chart* c) { c->series[0].y[3] = HUGE_VAL; },
       "y[3] = inf is not finite"},
      {"y_err nan", [nan](Chart* c) { c->series[0].y_err[0] = nan; },
       "y_err[0] = nan is not finite"},
      {"y_err negative", [](Chart* c) { c->series[0].y_err[2] = -1; },
       "y_err[2] = -1 is negative"},
      {"hline inf", [](Chart* c) { c->hline = -HUGE_VAL; },
       "hline = -inf is not finite"},
      {"too narrow", [](Chart* c) { c->width = kMinChartWidth - 1; },
       "chart size 199x500"},
      {"too tall", [](Chart* c) { c->height = kMaxChartSide + 1; },
       "chart size 800x8193"},
      {"span overflows",
       [](Chart* c) {
         c->series[0].y[0] = -1.7e308, c->series[0].y[1] = 1.7e308;
       },
       "too wide to plot"},
      {"legend too wide",
       [](Chart* c) {
         c->width = kMinChartWidth, c->height = 400;
         c->series.resize(1);
       },
       "does not fit in the 200x400 chart"},
      {"legend too big",
       [](Chart* c) {
         c->width = kMinChartWidth, c->height = kMinChartHeight;
         for (int i = 0; i < 12; ++i) c->series.push_back(c->series[0]);
       },
       "does not fit in the 200x150 chart"},
  };
  for (const Case& tc : cases) {
    Chart chart = EchoChart();
    tc.mutate(&chart);
    Image im;
    im.width = 7;  // must be left alone on error
    const Status s = RenderChart(chart, &im);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << tc.name;
    EXPECT_NE(std::string(s.message()).find(tc.message), std::string::npos)
        << tc.name << ": " << s.message();
    EXPECT_EQ(im.width, 7) << tc.name;
    EXPECT_TRUE(im.rgb.empty()) << tc.name;
  }
}

// ---- Files.

std::string TmpDir() {
  const char* d = getenv("TEST_TMPDIR");
  return d != nullptr ? d : "/tmp";
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::vector<uint8_t> bytes;
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return bytes;
  uint8_t buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
    bytes.insert(bytes.end(), buf, buf + n);
  }
  fclose(f);
  return bytes;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  return names;
}

TEST(WritePngChart, WritesTheEncodedChartAndReplacesAtomically) {
  const std::string dir = TmpDir() + "/write_ok";
  mkdir(dir.c_str(), 0777);
  const std::string path = dir + "/chart.png";
  Chart chart = EchoChart();
  ASSERT_TRUE(WritePngChart(chart, path).ok());
  std::vector<uint8_t> bytes = ReadFile(path);
  EXPECT_EQ(bytes, EncodePng(MustRender(chart)));
  DecodedPng d;
  EXPECT_TRUE(DecodePng(bytes, &d));

  chart.series.pop_back();  // overwrite with a different chart
  ASSERT_TRUE(WritePngChart(chart, path).ok());
  EXPECT_EQ(ReadFile(path), EncodePng(MustRender(chart)));
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"chart.png"});
}

TEST(WritePngChart, FailuresLeaveNoFile) {
  const std::string dir = TmpDir() + "/write_bad";
  mkdir(dir.c_str(), 0777);
  const Chart chart = EchoChart();

  const std::string missing = dir + "/no/such/dir/chart.png";
  Status s = WritePngChart(chart, missing);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(s.message()).find(missing), std::string::npos)
      << s.message();

  const std::string is_dir = dir + "/a_directory";
  mkdir(is_dir.c_str(), 0777);
  s = WritePngChart(chart, is_dir);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find(is_dir), std::string::npos)
      << s.message();

  s = WritePngChart(chart, "");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_STREQ(s.message(), "PNG path is empty");

  Chart bad = chart;
  bad.series.clear();
  s = WritePngChart(bad, dir + "/bad.png");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"a_directory"});
}

// The charts `sparrow echo-study` draws. Written under $PLOT_SAMPLE_DIR when
// set (to look at by eye), else under the test's temporary directory.
TEST(WritePngChart, EchoStudySamples) {
  const char* env = getenv("PLOT_SAMPLE_DIR");
  const std::string dir = env != nullptr ? env : TmpDir();
  ASSERT_TRUE(WritePngChart(EchoChart(), dir + "/plot_sample.png").ok());
  Chart fresh;
  fresh.title = "Fresh examples to 85% accuracy";
  fresh.x_label = "echo factor";
  fresh.y_label = "fresh examples (thousands)";
  fresh.series.push_back(
      {"before augmentation", {1, 2, 4, 8}, {120, 75, 52, 48}, {}});
  fresh.series.push_back(
      {"after augmentation", {1, 2, 4, 8}, {120, 64, 38, 27}, {}});
  fresh.series.push_back(
      {"after batching", {1, 2, 4, 8}, {120, 90, 80, 85}, {}});
  fresh.hline = 120;
  fresh.hline_label = "no echo";
  ASSERT_TRUE(WritePngChart(fresh, dir + "/plot_sample_fresh.png").ok());
  Chart small = fresh;
  small.width = 400, small.height = 260;
  ASSERT_TRUE(WritePngChart(small, dir + "/plot_sample_small.png").ok());
}

}  // namespace
}  // namespace sparrow
