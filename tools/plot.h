// PNG line charts with no dependency beyond zlib: what `sparrow echo-study`
// draws its "time to target vs echo factor" plots with.
//
//   sparrow::Chart chart;
//   chart.title = "Time to 85% accuracy";
//   chart.x_label = "echo factor";
//   chart.y_label = "seconds";
//   chart.series.push_back({"after augmentation", {1, 2, 4}, {30, 21, 17},
//   {}}); chart.hline = 30;  // the no-echo baseline, dashed chart.hline_label
//   = "no echo"; SPARROW_RETURN_IF_ERROR(sparrow::WritePngChart(chart,
//   "echo.png"));
//
// Contract:
// - A chart is validated before anything is drawn: at least one series; each
//   series has at least one point, x and y of one size, y_err empty or of y's
//   size and non-negative; every value finite; hline NaN (none) or finite;
//   width in [kMinChartWidth, kMaxChartSide] and height in [kMinChartHeight,
//   kMaxChartSide]. A bad chart gives InvalidArgument naming the series (index
//   and label), the field and the index and value.
// - Axes are linear. The ranges cover every point, error bar and the hline,
//   padded by 5% (y starts exactly at 0 when y_from_zero holds and no value is
//   negative); a single point or a constant series gets a range around its
//   value, never a zero-width one. Ticks are at multiples of 1, 2 or 5 x 10^k.
// - Series i is drawn in SeriesColor(i): 8 fixed colours, then again with
//   hollow markers. Series with an empty label are left out of the legend; no
//   legend is drawn when no entry remains. The legend goes in the plot corner
//   that covers the fewest drawn data pixels, or right of the plot when every
//   corner would cover some.
// - Text is ASCII in a built-in 5x7 font; other bytes draw as '?'. Text that
//   does not fit is clipped at the image border, not wrapped.
// - WritePngChart is atomic: it writes and fsyncs a temporary file beside
//   `path` and renames it over `path`, so `path` holds the old file or the
//   whole new one, never a part.
// - Plain functions, no shared state: safe to call from any thread.
#ifndef SPARROW_TOOLS_PLOT_H_
#define SPARROW_TOOLS_PLOT_H_

#include <stdint.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/status.h"

namespace sparrow {

constexpr int kMinChartWidth = 200;   // pixels
constexpr int kMinChartHeight = 150;  // pixels
constexpr int kMaxChartSide = 8192;   // pixels

struct Series {
  std::string label;
  std::vector<double> x, y;
  std::vector<double> y_err;  // empty, or one half-height per y: error bars
};

struct Chart {
  std::string title, x_label, y_label;  // y_label is drawn above the y axis
  std::vector<Series> series;
  int width = 800, height = 500;  // pixels
  bool y_from_zero = true;
  // A dashed horizontal reference line at this y, unless NaN.
  double hline = std::numeric_limits<double>::quiet_NaN();
  std::string hline_label;  // its legend entry; none when empty
};

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb& o) const {
    return r == o.r && g == o.g && b == o.b;
  }
  bool operator!=(const Rgb& o) const { return !(*this == o); }
};

// An 8-bit RGB image, rows top to bottom.
struct Image {
  int width = 0, height = 0;  // pixels
  std::vector<uint8_t> rgb;   // [height, width, 3]

  Rgb At(int x, int y) const {  // x in [0, width), y in [0, height)
    const uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
    return Rgb{p[0], p[1], p[2]};
  }
};

// Where RenderChart put things, for tests and callers that annotate.
struct ChartGeometry {
  int plot_x0 = 0, plot_y0 = 0, plot_x1 = 0, plot_y1 = 0;  // inclusive pixels
  double x_min = 0, x_max = 0, y_min = 0, y_max = 0;  // data at the plot edges
  std::vector<double> x_ticks, y_ticks;               // data values
  bool has_legend = false;
  int legend_x0 = 0, legend_y0 = 0, legend_x1 = 0, legend_y1 = 0;  // inclusive

  int PixelX(double x) const {  // the column data x is drawn at
    return plot_x0 + static_cast<int>(std::lround(
                         (x - x_min) / (x_max - x_min) * (plot_x1 - plot_x0)));
  }
  int PixelY(double y) const {  // the row data y is drawn at
    return plot_y1 - static_cast<int>(std::lround(
                         (y - y_min) / (y_max - y_min) * (plot_y1 - plot_y0)));
  }
};

// Series i's colour: a fixed palette of 8, repeating.
Rgb SeriesColor(size_t i);
// The dashed reference line's colour.
Rgb ReferenceLineColor();

// Checks `chart` (the contract above) without drawing.
Status ValidateChart(const Chart& chart);

// Draws `chart` into *out (resized to chart.width x chart.height). On error
// *out is left unchanged. `geometry`, when not null, receives the layout.
Status RenderChart(const Chart& chart, Image* out,
                   ChartGeometry* geometry = nullptr);

// A PNG file's bytes: 8-bit RGB, no interlace, filter 0 on every row, one
// IDAT. Empty when `image` is malformed (a side outside [1, kMaxChartSide] or
// rgb not width*height*3 bytes) or zlib fails.
std::vector<uint8_t> EncodePng(const Image& image);

// RenderChart, EncodePng, then an atomic write to `path`. File errors name
// `path` and the system's reason.
Status WritePngChart(const Chart& chart, const std::string& path);

}  // namespace sparrow

#endif  // SPARROW_TOOLS_PLOT_H_
