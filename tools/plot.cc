#include "tools/plot.h"

#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "tools/plot_font.h"
#include "trainer/checkpoint.h"  // WriteFileAtomically
#include "zlib.h"

namespace sparrow {
namespace {

using plot_internal::kGlyphHeight;
using plot_internal::kGlyphWidth;
using plot_internal::TextWidth;

constexpr Rgb kWhite{255, 255, 255};
constexpr Rgb kBlack{0, 0, 0};
constexpr Rgb kGrid{228, 228, 228};
constexpr Rgb kLegendBorder{150, 150, 150};
constexpr Rgb kReference{50, 50, 50};
// Matplotlib's tab10 without its grey and olive: distinct on white and from
// the grid, axis and reference-line greys.
constexpr Rgb kPalette[8] = {{31, 119, 180},  {255, 127, 14},  {44, 160, 44},
                             {214, 39, 40},   {148, 103, 189}, {140, 86, 75},
                             {227, 119, 194}, {23, 190, 207}};

constexpr int kPad = 10;                  // pixels around the whole chart
constexpr int kTickLength = 5;            // pixels
constexpr int kMarkerRadius = 4;          // pixels
constexpr int kDashOn = 8, kDashOff = 5;  // pixels
constexpr int kLegendSample = 28;  // pixels of line drawn per legend entry

class Canvas {
 public:
  explicit Canvas(Image* image) : im_(image) {}

  void Set(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= im_->width || y >= im_->height) return;
    uint8_t* p = &im_->rgb[(static_cast<size_t>(y) * im_->width + x) * 3];
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
  }
  void Fill(int x0, int y0, int x1, int y1, Rgb c) {  // inclusive corners
    for (int y = std::max(y0, 0); y <= std::min(y1, im_->height - 1); ++y) {
      for (int x = std::max(x0, 0); x <= std::min(x1, im_->width - 1); ++x) {
        Set(x, y, c);
      }
    }
  }
  // A 2-pixel Bresenham line; dashed when dash_on > 0.
  void Line(int x0, int y0, int x1, int y1, Rgb c, int dash_on = 0,
            int dash_off = 0) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (int step = 0;; ++step) {
      if (dash_on == 0 || step % (dash_on + dash_off) < dash_on) {
        Fill(x0, y0, x0 + 1, y0 + 1, c);
      }
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) err += dy, x0 += sx;
      if (e2 <= dx) err += dx, y0 += sy;
    }
  }
  void Marker(int cx, int cy, Rgb c, bool hollow) {
    const int r = kMarkerRadius, r2 = r * r + r / 2;
    for (int dy = -r; dy <= r; ++dy) {
      for (int dx = -r; dx <= r; ++dx) {
        const int d2 = dx * dx + dy * dy;
        if (d2 > r2) continue;
        Set(cx + dx, cy + dy, hollow && d2 < (r - 1) * (r - 1) ? kWhite : c);
      }
    }
  }
  void Text(int x, int y, const std::string& s, int scale, Rgb c) {
    plot_internal::ForEachTextBlock(
        x, y, s, scale,
        [&](int x0, int y0, int x1, int y1) { Fill(x0, y0, x1, y1, c); });
  }

 private:
  Image* im_;
};

// 1, 2 or 5 x 10^k: the smallest such step >= raw.
double NiceStep(double raw) {
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (raw <= m * p * (1 + 1e-9)) return m * p;
  }
  return 10 * p;
}
double NextNiceStep(double step) { return NiceStep(step * 1.5); }

std::vector<double> Ticks(double lo, double hi, double step) {
  std::vector<double> ticks;
  const double first = std::ceil(lo / step - 1e-9);
  const double last = std::floor(hi / step + 1e-9);
  for (double i = first; i <= last && ticks.size() < 1000; i += 1.0) {
    const double v = i * step;
    ticks.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);  // no "-0"
  }
  return ticks;
}

std::string TickLabel(double v, double step) {
  char buf[64];
  if (step >= 1e6 || step < 1e-5) {
    snprintf(buf, sizeof(buf), "%g", v);
  } else {
    const int decimals =
        std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
    snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  }
  return buf;
}

// The smallest nice step giving ticks at least min_gap pixels apart along an
// axis len pixels long; with label_scale > 0 (a horizontal axis) also wide
// enough that tick labels stay two characters apart.
double PickStep(double lo, double hi, int len, int min_gap, int label_scale) {
  double step = NiceStep((hi - lo) * std::min(0.5, min_gap / (len + 1.0)));
  for (int tries = 0; tries < 20; ++tries, step = NextNiceStep(step)) {
    if (label_scale == 0) break;
    int widest = 0;
    for (double t : Ticks(lo, hi, step)) {
      widest = std::max(widest, TextWidth(TickLabel(t, step), label_scale));
    }
    if (widest + 12 * label_scale <= step / (hi - lo) * len) break;
  }
  return step;
}

// Widens [*lo, *hi] to a plottable range: never empty, padded by 5%, except
// at a zero the axis starts from.
void PadRange(double* lo, double* hi, bool from_zero) {
  const double mag = std::max(std::fabs(*lo), std::fabs(*hi));
  if (*hi - *lo <= mag * 1e-9) {  // one value, up to rounding
    const double mid = 0.5 * (*lo + *hi);
    const double half = mid == 0.0 ? 1.0 : std::fabs(mid) * 0.1;
    *lo = from_zero && mid == 0.0 ? 0.0 : mid - half;
    *hi = mid + half;
    return;
  }
  const double pad = 0.05 * (*hi - *lo);
  if (!(from_zero && *lo == 0.0)) *lo -= pad;
  if (!(from_zero && *hi == 0.0)) *hi += pad;
}

Status CheckValues(const Series& s, size_t i, const char* field,
                   const std::vector<double>& v, bool non_negative) {
  for (size_t k = 0; k < v.size(); ++k) {
    const bool finite = std::isfinite(v[k]);
    if (!finite || (non_negative && v[k] < 0)) {
      return InvalidArgument("series %zu (\"%s\"): %s[%zu] = %g is %s", i,
                             s.label.c_str(), field, k, v[k],
                             finite ? "negative" : "not finite");
    }
  }
  return OkStatus();
}

struct LegendEntry {
  std::string label;
  Rgb color;
  bool reference;  // the dashed hline rather than a series
  bool hollow;
};

struct Layout {
  ChartGeometry g;
  int text_scale = 1, title_scale = 2;
  double x_step = 1, y_step = 1;  // between ticks
  std::vector<LegendEntry> legend;
  int legend_w = 0, legend_h = 0, legend_row = 0;
};

void SizeLegend(const Chart& chart, Layout* l) {
  for (size_t i = 0; i < chart.series.size(); ++i) {
    if (chart.series[i].label.empty()) continue;
    l->legend.push_back({chart.series[i].label, SeriesColor(i), false, i >= 8});
  }
  if (std::isfinite(chart.hline) && !chart.hline_label.empty()) {
    l->legend.push_back({chart.hline_label, kReference, true, false});
  }
  int label_w = 0;
  for (const LegendEntry& e : l->legend) {
    label_w = std::max(label_w, TextWidth(e.label, l->text_scale));
  }
  const int ch = kGlyphHeight * l->text_scale;
  l->legend_row = std::max(ch, 2 * kMarkerRadius + 1) + 6;
  l->legend_w = 8 + kLegendSample + 8 + label_w + 8;
  l->legend_h = 8 + static_cast<int>(l->legend.size()) * l->legend_row - 6 + 8;
}

// Places the plot area and picks the ticks; x/y_min/max are already set.
Status PlaceAxes(const Chart& chart, bool legend_outside, Layout* l) {
  ChartGeometry& g = l->g;
  const int s = l->text_scale, ch = kGlyphHeight * s;
  int top = kPad;
  if (!chart.title.empty()) top += kGlyphHeight * l->title_scale + 10;
  if (!chart.y_label.empty()) top += ch + 8;
  int bottom = kPad + kTickLength + 4 + ch;
  if (!chart.x_label.empty()) bottom += ch + 8;
  g.plot_y0 = top;
  g.plot_y1 = chart.height - 1 - bottom;
  const int plot_h = g.plot_y1 - g.plot_y0;
  l->y_step = PickStep(g.y_min, g.y_max, plot_h, 2 * ch + 16, 0);
  g.y_ticks = Ticks(g.y_min, g.y_max, l->y_step);
  int label_w = 0;
  for (double t : g.y_ticks) {
    label_w = std::max(label_w, TextWidth(TickLabel(t, l->y_step), s));
  }
  g.plot_x0 = kPad + label_w + 6 + kTickLength;
  g.plot_x1 = chart.width - 1 - 3 * kPad;
  if (legend_outside) g.plot_x1 -= l->legend_w + kPad;
  const int plot_w = g.plot_x1 - g.plot_x0;
  if (plot_w < 40 || plot_h < 40) {
    return InvalidArgument(
        "chart %dx%d leaves a %dx%d plot area for its labels and legend; "
        "make it larger",
        chart.width, chart.height, plot_w, plot_h);
  }
  l->x_step = PickStep(g.x_min, g.x_max, plot_w, 60, s);
  g.x_ticks = Ticks(g.x_min, g.x_max, l->x_step);
  return OkStatus();
}

void DrawFrame(const Chart& chart, const Layout& l, Canvas* c) {
  const ChartGeometry& g = l.g;
  const int s = l.text_scale, ch = kGlyphHeight * s;
  for (double t : g.y_ticks) {
    const int py = g.PixelY(t);
    c->Fill(g.plot_x0 + 1, py, g.plot_x1, py, kGrid);
    c->Fill(g.plot_x0 - kTickLength, py, g.plot_x0 - 1, py, kBlack);
    const std::string label = TickLabel(t, l.y_step);
    c->Text(g.plot_x0 - kTickLength - 4 - TextWidth(label, s), py - ch / 2,
            label, s, kBlack);
  }
  const int label_y = g.plot_y1 + kTickLength + 4;
  for (double t : g.x_ticks) {
    const int px = g.PixelX(t);
    c->Fill(px, g.plot_y0, px, g.plot_y1 - 1, kGrid);
    c->Fill(px, g.plot_y1 + 1, px, g.plot_y1 + kTickLength, kBlack);
    const std::string label = TickLabel(t, l.x_step);
    const int w = TextWidth(label, s);
    const int x = std::min(std::max(px - w / 2, 0), chart.width - w);
    c->Text(x, label_y, label, s, kBlack);
  }
  c->Fill(g.plot_x0, g.plot_y0, g.plot_x0, g.plot_y1, kBlack);  // y axis
  c->Fill(g.plot_x0, g.plot_y1, g.plot_x1, g.plot_y1, kBlack);  // x axis
  const int title_w = TextWidth(chart.title, l.title_scale);
  c->Text(std::max(0, (chart.width - title_w) / 2), kPad, chart.title,
          l.title_scale, kBlack);
  c->Text(kPad, g.plot_y0 - ch - 8, chart.y_label, s, kBlack);
  const int x_label_w = TextWidth(chart.x_label, s);
  c->Text(std::max(0, (g.plot_x0 + g.plot_x1 - x_label_w) / 2),
          label_y + ch + 8, chart.x_label, s, kBlack);
}

void DrawData(const Chart& chart, const ChartGeometry& g, Canvas* c) {
  if (std::isfinite(chart.hline)) {
    const int py = g.PixelY(chart.hline);
    c->Line(g.plot_x0 + 1, py, g.plot_x1 - 1, py, kReference, kDashOn,
            kDashOff);
  }
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const Series& s = chart.series[i];
    const Rgb color = SeriesColor(i);
    for (size_t k = 0; k < s.y_err.size(); ++k) {
      if (s.y_err[k] == 0.0) continue;
      const int px = g.PixelX(s.x[k]);
      const int top = g.PixelY(s.y[k] + s.y_err[k]);
      const int bot = g.PixelY(s.y[k] - s.y_err[k]);
      c->Line(px, top, px, bot, color);
      c->Line(px - 4, top, px + 4, top, color);
      c->Line(px - 4, bot, px + 4, bot, color);
    }
    for (size_t k = 0; k + 1 < s.x.size(); ++k) {
      c->Line(g.PixelX(s.x[k]), g.PixelY(s.y[k]), g.PixelX(s.x[k + 1]),
              g.PixelY(s.y[k + 1]), color);
    }
  }
  // Markers last, so no later series' line hides an earlier one's points.
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const Series& s = chart.series[i];
    for (size_t k = 0; k < s.x.size(); ++k) {
      c->Marker(g.PixelX(s.x[k]), g.PixelY(s.y[k]), SeriesColor(i), i >= 8);
    }
  }
}

void DrawLegend(const Layout& l, int x0, int y0, Canvas* c) {
  c->Fill(x0, y0, x0 + l.legend_w - 1, y0 + l.legend_h - 1, kLegendBorder);
  c->Fill(x0 + 1, y0 + 1, x0 + l.legend_w - 2, y0 + l.legend_h - 2, kWhite);
  const int ch = kGlyphHeight * l.text_scale;
  for (size_t i = 0; i < l.legend.size(); ++i) {
    const LegendEntry& e = l.legend[i];
    const int row_y = y0 + 8 + static_cast<int>(i) * l.legend_row;
    const int mid = row_y + (l.legend_row - 6) / 2;
    const int sx = x0 + 8;
    if (e.reference) {
      c->Line(sx, mid, sx + kLegendSample - 1, mid, e.color, kDashOn, kDashOff);
    } else {
      c->Line(sx, mid, sx + kLegendSample - 1, mid, e.color);
      c->Marker(sx + kLegendSample / 2, mid, e.color, e.hollow);
    }
    c->Text(sx + kLegendSample + 8, mid - ch / 2 + 1, e.label, l.text_scale,
            kBlack);
  }
}

// Pixels inside the rectangle (grown by 4) that are not background or grid.
int CoveredPixels(const Image& im, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = std::max(0, y0 - 4); y <= std::min(im.height - 1, y1 + 4); ++y) {
    for (int x = std::max(0, x0 - 4); x <= std::min(im.width - 1, x1 + 4);
         ++x) {
      const Rgb p = im.At(x, y);
      n += p != kWhite && p != kGrid;
    }
  }
  return n;
}

void Render(const Chart& chart, const Layout& l, Image* im) {
  im->rgb.assign(static_cast<size_t>(im->width) * im->height * 3, 255);
  Canvas c(im);
  DrawFrame(chart, l, &c);
  DrawData(chart, l.g, &c);
}

// The first plot corner where the legend covers no drawn pixel; else beside
// the plot (drawn again, narrower) unless that leaves it under 60% of its
// width; else over the data in the least covered corner.
Status PlaceLegend(const Chart& chart, Layout* l, Image* im) {
  ChartGeometry& g = l->g;
  const int w = l->legend_w, h = l->legend_h;
  const int left = g.plot_x0 + 8, right = g.plot_x1 - 8 - w + 1;
  const int top = g.plot_y0 + 8, bottom = g.plot_y1 - 8 - h + 1;
  const int corners[4][2] = {
      {right, top}, {left, top}, {right, bottom}, {left, bottom}};
  const bool fits = right >= left && bottom >= top;
  int best = -1, best_covered = 0;
  for (int i = 0; fits && i < 4 && (best < 0 || best_covered > 0); ++i) {
    const int x = corners[i][0], y = corners[i][1];
    const int covered = CoveredPixels(*im, x, y, x + w - 1, y + h - 1);
    if (best < 0 || covered < best_covered) best = i, best_covered = covered;
  }
  int x0 = best >= 0 ? corners[best][0] : 0,
      y0 = best >= 0 ? corners[best][1] : 0;
  if (best < 0 || best_covered > 0) {
    Layout beside = *l;
    if (h <= chart.height - g.plot_y0 - kPad &&
        PlaceAxes(chart, true, &beside).ok() &&
        10 * (beside.g.plot_x1 - beside.g.plot_x0) >=
            6 * (g.plot_x1 - g.plot_x0)) {
      *l = std::move(beside);
      Render(chart, *l, im);
      x0 = g.plot_x1 + kPad, y0 = g.plot_y0;
    } else if (best < 0) {
      return InvalidArgument(
          "the legend (%zu entries, %dx%d pixels) does not fit in the %dx%d "
          "chart; make it larger or the labels shorter",
          l->legend.size(), w, h, chart.width, chart.height);
    }
  }
  Canvas c(im);
  DrawLegend(*l, x0, y0, &c);
  g.has_legend = true;
  g.legend_x0 = x0, g.legend_y0 = y0;
  g.legend_x1 = x0 + w - 1, g.legend_y1 = y0 + h - 1;
  return OkStatus();
}

void PutU32(uint32_t v, std::vector<uint8_t>* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(v >> shift);
}

void AppendChunk(const char* type, const uint8_t* data, size_t n,
                 std::vector<uint8_t>* out) {
  PutU32(static_cast<uint32_t>(n), out);
  const uint8_t* t = reinterpret_cast<const uint8_t*>(type);
  out->insert(out->end(), t, t + 4);
  out->insert(out->end(), data, data + n);
  uLong crc = crc32(0L, t, 4);
  // Not with n == 0: crc32(crc, Z_NULL, 0) returns zlib's initial value.
  if (n > 0) crc = crc32(crc, data, static_cast<uInt>(n));
  PutU32(static_cast<uint32_t>(crc), out);
}

}  // namespace

Rgb SeriesColor(size_t i) { return kPalette[i % 8]; }
Rgb ReferenceLineColor() { return kReference; }

Status ValidateChart(const Chart& chart) {
  if (chart.width < kMinChartWidth || chart.width > kMaxChartSide ||
      chart.height < kMinChartHeight || chart.height > kMaxChartSide) {
    return InvalidArgument("chart size %dx%d outside [%d, %d] x [%d, %d]",
                           chart.width, chart.height, kMinChartWidth,
                           kMaxChartSide, kMinChartHeight, kMaxChartSide);
  }
  if (chart.series.empty()) {
    return InvalidArgument("chart \"%s\" has no series", chart.title.c_str());
  }
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const Series& s = chart.series[i];
    const char* label = s.label.c_str();
    if (s.x.empty() && s.y.empty()) {
      return InvalidArgument("series %zu (\"%s\") has no points", i, label);
    }
    if (s.x.size() != s.y.size()) {
      return InvalidArgument("series %zu (\"%s\"): x has %zu values, y has %zu",
                             i, label, s.x.size(), s.y.size());
    }
    if (!s.y_err.empty() && s.y_err.size() != s.y.size()) {
      return InvalidArgument(
          "series %zu (\"%s\"): y_err has %zu values, y has %zu (y_err must "
          "be empty or match y)",
          i, label, s.y_err.size(), s.y.size());
    }
    SPARROW_RETURN_IF_ERROR(CheckValues(s, i, "x", s.x, false));
    SPARROW_RETURN_IF_ERROR(CheckValues(s, i, "y", s.y, false));
    SPARROW_RETURN_IF_ERROR(CheckValues(s, i, "y_err", s.y_err, true));
  }
  if (std::isinf(chart.hline)) {
    return InvalidArgument("hline = %g is not finite (NaN means none)",
                           chart.hline);
  }
  return OkStatus();
}

Status RenderChart(const Chart& chart, Image* out, ChartGeometry* geometry) {
  SPARROW_RETURN_IF_ERROR(ValidateChart(chart));
  Layout l;
  l.text_scale = chart.width >= 640 && chart.height >= 400 ? 2 : 1;
  l.title_scale = l.text_scale + 1;
  // A title wider than the chart is drawn smaller (down to 1x) rather than
  // cut off at the edges.
  while (l.title_scale > 1 &&
         TextWidth(chart.title, l.title_scale) > chart.width - 2 * kPad) {
    --l.title_scale;
  }
  ChartGeometry& g = l.g;
  g.x_min = g.y_min = HUGE_VAL;
  g.x_max = g.y_max = -HUGE_VAL;
  for (const Series& s : chart.series) {
    for (size_t k = 0; k < s.x.size(); ++k) {
      const double e = s.y_err.empty() ? 0.0 : s.y_err[k];
      g.x_min = std::min(g.x_min, s.x[k]), g.x_max = std::max(g.x_max, s.x[k]);
      g.y_min = std::min(g.y_min, s.y[k] - e);
      g.y_max = std::max(g.y_max, s.y[k] + e);
    }
  }
  if (std::isfinite(chart.hline)) {
    g.y_min = std::min(g.y_min, chart.hline);
    g.y_max = std::max(g.y_max, chart.hline);
  }
  if (chart.y_from_zero) g.y_min = std::min(g.y_min, 0.0);
  if (chart.y_from_zero) g.y_max = std::max(g.y_max, 0.0);
  PadRange(&g.x_min, &g.x_max, false);
  PadRange(&g.y_min, &g.y_max, chart.y_from_zero);
  if (!std::isfinite(g.x_max - g.x_min) || !std::isfinite(g.y_max - g.y_min)) {
    return InvalidArgument(
        "values span x [%g, %g], y [%g, %g]: too wide to plot", g.x_min,
        g.x_max, g.y_min, g.y_max);
  }
  SizeLegend(chart, &l);

  Image im;
  im.width = chart.width, im.height = chart.height;
  SPARROW_RETURN_IF_ERROR(PlaceAxes(chart, false, &l));
  Render(chart, l, &im);
  if (!l.legend.empty()) SPARROW_RETURN_IF_ERROR(PlaceLegend(chart, &l, &im));
  *out = std::move(im);
  if (geometry != nullptr) *geometry = g;
  return OkStatus();
}

std::vector<uint8_t> EncodePng(const Image& image) {
  const int w = image.width, h = image.height;
  if (w < 1 || h < 1 || w > kMaxChartSide || h > kMaxChartSide ||
      image.rgb.size() != static_cast<size_t>(w) * h * 3) {
    return {};
  }
  const size_t stride = static_cast<size_t>(w) * 3;
  std::vector<uint8_t> raw;  // each row: filter type 0 (none), then pixels
  raw.reserve((stride + 1) * h);
  for (int y = 0; y < h; ++y) {
    raw.push_back(0);
    const uint8_t* row = &image.rgb[y * stride];
    raw.insert(raw.end(), row, row + stride);
  }
  uLongf zlen = compressBound(raw.size());
  std::vector<uint8_t> z(zlen);
  if (compress2(z.data(), &zlen, raw.data(), raw.size(), Z_BEST_COMPRESSION) !=
      Z_OK) {
    return {};
  }
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  PutU32(w, &ihdr);
  PutU32(h, &ihdr);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit RGB, deflate, no interlace
  AppendChunk("IHDR", ihdr.data(), ihdr.size(), &png);
  AppendChunk("IDAT", z.data(), zlen, &png);
  AppendChunk("IEND", nullptr, 0, &png);
  return png;
}

Status WritePngChart(const Chart& chart, const std::string& path) {
  if (path.empty()) return InvalidArgument("PNG path is empty");
  Image image;
  SPARROW_RETURN_IF_ERROR(RenderChart(chart, &image));
  const std::vector<uint8_t> png = EncodePng(image);
  if (png.empty()) return Internal("%s: PNG encoding failed", path.c_str());
  return train::WriteFileAtomically(path, png);  // temp file, fsync, rename
}

}  // namespace sparrow
