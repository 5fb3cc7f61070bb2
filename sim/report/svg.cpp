// SPDX-License-Identifier: MIT
// The report's charts (svg.hpp). Past 500 lines on purpose: the line, scatter and bar charts
// share one frame, axis, tick, path-thinning and legend layout, private to this file; split by
// chart, each would have to export them for the others.
#include "sim/report/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace dartlab::sim::svg {

namespace {

constexpr const char* kFont = "system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
constexpr const char* kHostRefColor = "#b91c1c";
constexpr const char* kOtherRefColor = "#6b7280";
constexpr const char* kAxisColor = "#9ca3af";
constexpr const char* kGridColor = "#eceef1";
constexpr const char* kTextColor = "#374151";

// Layout in px, chosen to fit "1.25 GiB" tick labels and one legend row per ~6 entries.
constexpr double kMarginLeft = 70;
constexpr double kMarginRight = 20;
constexpr double kMarginTop = 32;
constexpr double kMarginBottom = 46;
constexpr double kLegendRow = 18;
constexpr double kCharWidth = 7.0;  // average advance of an 11 px sans-serif character (DejaVu: wide)

std::string num(double v) { return fmt::format("{:.1f}", v); }

// Up to `significant` digits, no trailing zeros: 1.5, 768, 0.25.
std::string short_number(double v, int significant) {
  if (v == 0) return "0";
  const int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  const int decimals = std::clamp(significant - 1 - magnitude, 0, 6);
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

double nice_125(double x) {
  if (!(x > 0)) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(x)));
  const double f = x / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

AxisRange linear_axis(Unit unit, double max_value) {
  AxisRange r;
  double hi = max_value > 0 ? max_value : 1;
  double step = 0;
  if (unit == Unit::Bytes && hi >= 1024) {
    step = std::ldexp(1.0, static_cast<int>(std::ceil(std::log2(hi / 6))));
  } else {
    step = nice_125(hi / 5);
    if (unit == Unit::Count) step = std::max(step, 1.0);
  }
  r.lo = 0;
  r.hi = std::ceil(hi / step - 1e-9) * step;
  if (r.hi <= 0) r.hi = step;
  for (int i = 0; i <= 12; ++i) {
    const double v = step * i;
    if (v > r.hi * (1 + 1e-9)) break;
    r.ticks.push_back({v, tick_label(v, unit)});
  }
  return r;
}

AxisRange log_axis(Unit unit, double max_value, double smallest) {
  AxisRange r;
  r.log = true;
  const double base = unit == Unit::Bytes ? 2 : 10;
  const auto log_b = [&](double v) { return std::log(v) / std::log(base); };
  // Half a decade (one doubling) of room below the smallest value of interest, so it stands off
  // the axis; at most 12 decades (or 40 doublings) below the top: more would only squash the plot.
  const double room = unit == Unit::Bytes ? 2 : std::sqrt(10.0);
  const double floor_value = std::max({smallest / room, 1.0, max_value / std::pow(base, unit == Unit::Bytes ? 40 : 12)});
  int lo_exp = static_cast<int>(std::floor(log_b(floor_value) + 1e-9));
  int hi_exp = static_cast<int>(std::ceil(log_b(std::max(max_value, floor_value)) - 1e-9));
  if (hi_exp <= lo_exp) hi_exp = lo_exp + 1;
  r.lo = std::pow(base, lo_exp);
  r.hi = std::pow(base, hi_exp);
  const int span = hi_exp - lo_exp;
  int step = 1;
  for (int s : {1, 2, 5, 10, 20}) {
    step = s;
    if (span / s <= 8) break;
  }
  const int first = static_cast<int>(std::ceil(static_cast<double>(lo_exp) / step)) * step;
  for (int e = first; e <= hi_exp; e += step) {
    const double v = std::pow(base, e);
    r.ticks.push_back({v, tick_label(v, unit)});
    // Few decades: 2 and 5 between them, so a reader can place a value.
    if (unit != Unit::Bytes && span <= 2 && e < hi_exp)
      for (double m : {2.0, 5.0}) r.ticks.push_back({v * m, tick_label(v * m, unit)});
  }
  return r;
}

// Tenths of a pixel: paths are written as integer deltas, so rounding never accumulates.
using Tenths = std::int64_t;
Tenths tenths(double px) { return static_cast<Tenths>(std::llround(px * 10)); }

std::string tenths_text(Tenths t) {
  const Tenths a = t < 0 ? -t : t;
  std::string s = t < 0 ? "-" : "";
  s += std::to_string(a / 10);
  if (a % 10 != 0) s += fmt::format(".{}", a % 10);
  return s;
}

struct Px {
  Tenths x, y;
};

// Appends a point, merging runs of equal y into one horizontal segment.
void push_point(std::vector<Px>& pts, Px p) {
  const std::size_t n = pts.size();
  if (n >= 1 && pts[n - 1].x == p.x && pts[n - 1].y == p.y) return;
  if (n >= 2 && pts[n - 1].y == p.y && pts[n - 2].y == p.y) {
    pts[n - 1].x = p.x;
    return;
  }
  pts.push_back(p);
}

// Keeps each half-pixel column's first, lowest, highest and last point, in the order they came:
// the drawn line is the same, and a million points cost what a thousand do.
std::vector<Px> thin(const std::vector<Px>& in) {
  std::vector<Px> out;
  std::size_t i = 0;
  while (i < in.size()) {
    const Tenths column = in[i].x / 5;
    std::size_t j = i, lo = i, hi = i;
    while (j < in.size() && in[j].x / 5 == column) {
      if (in[j].y < in[lo].y) lo = j;
      if (in[j].y > in[hi].y) hi = j;
      ++j;
    }
    push_point(out, in[i]);
    push_point(out, in[std::min(lo, hi)]);
    push_point(out, in[std::max(lo, hi)]);
    push_point(out, in[j - 1]);
    i = j;
  }
  return out;
}

std::string path_data(const std::vector<Px>& pts) {
  std::string d;
  d.reserve(pts.size() * 9);
  for (std::size_t i = 0; i < pts.size(); ++i) {
    if (i == 0) {
      d += fmt::format("M{} {}", tenths_text(pts[0].x), tenths_text(pts[0].y));
      continue;
    }
    const Tenths dx = pts[i].x - pts[i - 1].x, dy = pts[i].y - pts[i - 1].y;
    if (dy == 0) {
      d += fmt::format("h{}", tenths_text(dx));
    } else if (dx == 0) {
      d += fmt::format("v{}", tenths_text(dy));
    } else {
      d += fmt::format("l{}", tenths_text(dx));
      if (dy > 0) d += ' ';
      d += tenths_text(dy);
    }
  }
  return d;
}

std::string dash_attr(const Style& s) {
  return s.dash.empty() ? std::string() : fmt::format(" stroke-dasharray=\"{}\"", escape(s.dash));
}

std::string key_attr(const std::string& key) {
  return key.empty() ? std::string() : fmt::format(" data-k=\"{}\"", escape(key));
}

// The plot area and the two axes that place values in it.
struct Frame {
  double x0, x1, y0, y1;  // px: left, right, top, bottom
  AxisRange xr, yr;
  double px(double v) const { return x0 + xr.fraction(v) * (x1 - x0); }
  double py(double v) const { return y1 - yr.fraction(v) * (y1 - y0); }
};

void open_svg(std::string& out, const char* kind, const std::string& title, int width, double height) {
  out += fmt::format(
      "<svg class=\"plot\" data-kind=\"{}\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" "
      "aria-label=\"{}\" font-family=\"{}\" font-size=\"11\" fill=\"{}\">\n",
      kind, width, num(height), width, num(height), escape(title), kFont, kTextColor);
  out += fmt::format("<text class=\"title\" x=\"{}\" y=\"20\" font-size=\"13.5\" font-weight=\"600\" fill=\"#111827\">{}</text>\n",
                     num(kMarginLeft), escape(title));
}

void draw_axes(std::string& out, const Frame& f, const Axis& x, const Axis& y) {
  out += "<g class=\"axes\">\n";
  for (const Tick& t : f.yr.ticks) {
    const double py = f.py(t.value);
    out += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\"/>", num(f.x0), num(f.x1), num(py),
                       num(py), kGridColor);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", num(f.x0 - 7), num(py + 3.5),
                       escape(t.label));
  }
  for (const Tick& t : f.xr.ticks) {
    const double px = f.px(t.value);
    out += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\"/>", num(px), num(px), num(f.y0),
                       num(f.y1), kGridColor);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", num(px), num(f.y1 + 15),
                       escape(t.label));
  }
  out += fmt::format("<path d=\"M{} {}V{}H{}\" stroke=\"{}\" fill=\"none\"/>\n", num(f.x0), num(f.y0), num(f.y1),
                     num(f.x1), kAxisColor);
  const auto scale_note = [](const AxisRange& r) { return r.log ? std::string(" (log)") : std::string(); };
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#6b7280\">{}{}</text>\n",
                     num((f.x0 + f.x1) / 2), num(f.y1 + 33), escape(x.title), scale_note(f.xr));
  out += fmt::format(
      "<text transform=\"translate({} {}) rotate(-90)\" text-anchor=\"middle\" fill=\"#6b7280\">{}{}</text>\n",
      num(14), num((f.y0 + f.y1) / 2), escape(y.title), scale_note(f.yr));
  out += "</g>\n";
}

void draw_y_ref(std::string& out, const Frame& f, const RefLine& r) {
  const double py = f.py(r.value);
  const char* color = r.host ? kHostRefColor : kOtherRefColor;
  out += fmt::format(
      "<g class=\"ref\"><line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\" "
      "stroke-dasharray=\"{}\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{}\" font-weight=\"600\">{}</text></g>\n",
      num(f.x0), num(f.x1), num(py), num(py), color, r.host ? "1.4" : "1", r.host ? "7 4" : "3 3", num(f.x1 - 4),
      num(py - 4), color, escape(r.label));
}

void draw_x_ref(std::string& out, const Frame& f, const RefLine& r) {
  const double px = f.px(r.value);
  const char* color = r.host ? kHostRefColor : kOtherRefColor;
  out += fmt::format(
      "<g class=\"ref\"><line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\" "
      "stroke-dasharray=\"{}\"/><text transform=\"translate({} {}) rotate(-90)\" text-anchor=\"start\" fill=\"{}\" "
      "font-weight=\"600\">{}</text></g>\n",
      num(px), num(px), num(f.y0), num(f.y1), color, r.host ? "1.4" : "1", r.host ? "7 4" : "3 3", num(px - 4),
      num(f.y1 - 4), color, escape(r.label));
}

// One legend item: its width in px.
double legend_item_width(const std::string& name) { return 34 + kCharWidth * static_cast<double>(name.size()); }

struct LegendItem {
  std::string name;
  std::string key;
  std::string swatch;  // SVG drawn in [0, 26] x [-5, 5] around the row's centre line
};

// Rows needed to lay out the items in `width` px, as draw_legend does.
int legend_rows(const std::vector<LegendItem>& items, double width) {
  if (items.empty()) return 0;
  int rows = 1;
  double x = 0;
  for (const LegendItem& item : items) {
    const double w = legend_item_width(item.name);
    if (x > 0 && x + w > width) {
      ++rows;
      x = 0;
    }
    x += w;
  }
  return rows;
}

// The SVG's height: title, plot, ticks and axis title, then the legend's rows.
double chart_height(int plot_height_px, int legend_rows) {
  return kMarginTop + plot_height_px + kMarginBottom + legend_rows * kLegendRow + (legend_rows > 0 ? 4 : 0);
}

void draw_legend(std::string& out, const std::vector<LegendItem>& items, double x0, double width, double top) {
  double x = 0, y = top + kLegendRow / 2;
  for (const LegendItem& item : items) {
    const double w = legend_item_width(item.name);
    if (x > 0 && x + w > width) {
      x = 0;
      y += kLegendRow;
    }
    out += fmt::format("<g class=\"legend-item\"{} transform=\"translate({} {})\">{}<text x=\"30\" y=\"3.8\">{}</text></g>\n",
                       key_attr(item.key), num(x0 + x), num(y), item.swatch, escape(item.name));
    x += w;
  }
}

// Says "no data" in an empty plot, draws the legend under the axes, closes the element.
void close_svg(std::string& out, const Frame& f, bool any_point, const std::vector<LegendItem>& legend) {
  if (!any_point)
    out += fmt::format("<text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#9ca3af\">no data</text>\n",
                       num((f.x0 + f.x1) / 2), num((f.y0 + f.y1) / 2));
  draw_legend(out, legend, f.x0, f.x1 - f.x0, f.y1 + kMarginBottom - 4);
  out += "</svg>\n";
}

std::string line_swatch(const Style& s) {
  return fmt::format("<line x1=\"0\" x2=\"24\" y1=\"0\" y2=\"0\" stroke=\"{}\" stroke-width=\"2.5\"{}/>", escape(s.color),
                     dash_attr(s));
}

std::string cross(double x, double y, double r, const std::string& color) {
  return fmt::format("<path d=\"M{} {}l{} {}m0 -{}l-{} {}\" stroke=\"{}\" stroke-width=\"2.4\" stroke-linecap=\"round\"/>",
                     num(x - r), num(y - r), num(2 * r), num(2 * r), num(2 * r), num(2 * r), num(2 * r), escape(color));
}

bool finite(double v) { return std::isfinite(v); }

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

// value in the largest of `units` (each `step` times the one before) that keeps it at or above 1:
// "1.5" + "M", "256" + " MiB", "12" + " us".
template <std::size_t N>
std::string scaled_label(double value, double step, const char* const (&units)[N], const char* separator) {
  if (value == 0) return "0";
  std::size_t u = 0;
  double v = value;
  while (std::fabs(v) >= step && u + 1 < N) {
    v /= step;
    ++u;
  }
  return short_number(v, 3) + separator + units[u];
}

}  // namespace

std::string tick_label(double value, Unit unit) {
  if (!std::isfinite(value)) return "?";
  static constexpr const char* kBytes[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  static constexpr const char* kCounts[] = {"", "K", "M", "G", "T", "P", "E"};
  static constexpr const char* kTimes[] = {"ns", "us", "ms", "s"};
  switch (unit) {
    case Unit::Fraction: return short_number(std::round(value * 1000) / 1000, 3);
    case Unit::Bytes: return scaled_label(value, 1024, kBytes, " ");
    case Unit::Count: return scaled_label(value, 1000, kCounts, "");
    case Unit::Nanos: return scaled_label(value, 1000, kTimes, " ");
  }
  return "?";
}

double AxisRange::fraction(double value) const {
  if (!std::isfinite(value)) return 0;
  double f = 0;
  if (log) {
    if (value <= lo) return 0;
    f = (std::log(value) - std::log(lo)) / (std::log(hi) - std::log(lo));
  } else {
    f = (value - lo) / (hi - lo);
  }
  return std::clamp(f, 0.0, 1.0);
}

AxisRange make_axis(const Axis& axis, double max_value, double smallest_of_interest) {
  if (!std::isfinite(max_value) || max_value < 0) max_value = 0;
  if (!std::isfinite(smallest_of_interest) || smallest_of_interest <= 0) smallest_of_interest = max_value;
  bool log = axis.scale == Scale::Log;
  if (axis.scale == Scale::Auto)
    log = axis.unit != Unit::Fraction && max_value > 0 && max_value / smallest_of_interest > kLogSpan;
  if (log && max_value > 0) return log_axis(axis.unit, max_value, smallest_of_interest);
  return linear_axis(axis.unit, max_value);
}

std::string render(const LineChart& chart) {
  double max_x = 0, max_y = 0, smallest = std::numeric_limits<double>::infinity();
  for (const Line& line : chart.lines) {
    double peak = 0;
    const std::size_t n = std::min(line.x.size(), line.y.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (finite(line.x[i])) max_x = std::max(max_x, line.x[i]);
      if (finite(line.y[i])) peak = std::max(peak, line.y[i]);
    }
    max_y = std::max(max_y, peak);
    if (peak > 0) smallest = std::min(smallest, peak);
  }
  for (const RefLine& r : chart.y_refs) {
    if (!finite(r.value)) continue;
    max_y = std::max(max_y, r.value);
    if (r.value > 0) smallest = std::min(smallest, r.value);
  }

  std::vector<LegendItem> legend;
  if (chart.legend)
    for (const Line& line : chart.lines) legend.push_back({line.name, line.key, line_swatch(line.style)});
  const double height = chart_height(chart.plot_height_px, legend_rows(legend, chart.width_px - kMarginLeft - kMarginRight));
  Frame f{kMarginLeft, chart.width_px - kMarginRight, kMarginTop, kMarginTop + chart.plot_height_px,
          make_axis(Axis{chart.x.title, chart.x.unit, chart.x.scale == Scale::Auto ? Scale::Linear : chart.x.scale},
                    max_x, max_x),
          make_axis(chart.y, max_y, smallest)};

  std::string out;
  open_svg(out, "line", chart.title, chart.width_px, height);
  draw_axes(out, f, chart.x, chart.y);
  for (const RefLine& r : chart.y_refs)
    if (finite(r.value)) draw_y_ref(out, f, r);

  bool any_point = false;
  std::vector<Px> pts;
  for (const Line& line : chart.lines) {
    pts.clear();
    const std::size_t n = std::min(line.x.size(), line.y.size());
    for (std::size_t i = 0; i < n; ++i)
      if (finite(line.x[i]) && finite(line.y[i])) pts.push_back({tenths(f.px(line.x[i])), tenths(f.py(line.y[i]))});
    if (pts.empty()) continue;
    any_point = true;
    const std::vector<Px> drawn = thin(pts);
    if (drawn.size() == 1) {
      out += fmt::format("<circle class=\"series\"{} cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"><title>{}</title></circle>\n",
                         key_attr(line.key), tenths_text(drawn[0].x), tenths_text(drawn[0].y), escape(line.style.color),
                         escape(line.name));
      continue;
    }
    out += fmt::format(
        "<path class=\"series\"{} d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\" stroke-linejoin=\"round\"{}>"
        "<title>{}</title></path>\n",
        key_attr(line.key), path_data(drawn), escape(line.style.color), dash_attr(line.style), escape(line.name));
  }
  close_svg(out, f, any_point, legend);
  return out;
}

std::string render(const ScatterChart& chart) {
  double max_x = 0, max_y = 0;
  double min_x = std::numeric_limits<double>::infinity(), min_y = min_x;
  for (const ScatterPoint& p : chart.points) {
    if (!finite(p.x) || !finite(p.y)) continue;
    max_x = std::max(max_x, p.x);
    max_y = std::max(max_y, p.y);
    if (p.x > 0) min_x = std::min(min_x, p.x);
    if (p.y > 0) min_y = std::min(min_y, p.y);
  }
  for (const RefLine& r : chart.x_refs)
    if (finite(r.value)) max_x = std::max(max_x, r.value);
  for (const RefLine& r : chart.y_refs)
    if (finite(r.value)) max_y = std::max(max_y, r.value);

  std::vector<LegendItem> legend;
  for (const LegendEntry& e : chart.legend)
    legend.push_back({e.name, e.key, fmt::format("<circle cx=\"12\" cy=\"0\" r=\"4.5\" fill=\"{}\"/>", escape(e.style.color))});
  legend.push_back({"no refusals", "", "<circle cx=\"12\" cy=\"0\" r=\"4.5\" fill=\"#6b7280\"/>"});
  legend.push_back({"maps refused", "", cross(12, 0, 4, "#6b7280")});
  legend.push_back({"Pareto frontier", "",
                    "<line x1=\"0\" x2=\"24\" y1=\"0\" y2=\"0\" stroke=\"#111827\" stroke-width=\"1.4\"/>"
                    "<circle cx=\"12\" cy=\"0\" r=\"7\" fill=\"#fff\" stroke=\"#111827\" stroke-width=\"1.4\"/>"});
  const double height = chart_height(chart.plot_height_px, legend_rows(legend, chart.width_px - kMarginLeft - kMarginRight));
  Frame f{kMarginLeft, chart.width_px - kMarginRight, kMarginTop, kMarginTop + chart.plot_height_px,
          make_axis(chart.x, max_x, min_x), make_axis(chart.y, max_y, min_y)};

  std::string out;
  open_svg(out, "scatter", chart.title, chart.width_px, height);
  // Past the host's limits: shaded, so the feasible corner reads at a glance.
  for (const RefLine& r : chart.x_refs)
    if (r.host && finite(r.value) && f.px(r.value) < f.x1)
      out += fmt::format("<rect class=\"beyond\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fdf2f2\"/>\n",
                         num(f.px(r.value)), num(f.y0), num(f.x1 - f.px(r.value)), num(f.y1 - f.y0));
  for (const RefLine& r : chart.y_refs)
    if (r.host && finite(r.value) && f.py(r.value) > f.y0)
      out += fmt::format("<rect class=\"beyond\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fdf2f2\"/>\n",
                         num(f.x0), num(f.y0), num(f.x1 - f.x0), num(f.py(r.value) - f.y0));
  draw_axes(out, f, chart.x, chart.y);
  for (const RefLine& r : chart.x_refs)
    if (finite(r.value)) draw_x_ref(out, f, r);
  for (const RefLine& r : chart.y_refs)
    if (finite(r.value)) draw_y_ref(out, f, r);

  std::vector<const ScatterPoint*> frontier;
  for (const ScatterPoint& p : chart.points)
    if (p.frontier && finite(p.x) && finite(p.y)) frontier.push_back(&p);
  std::sort(frontier.begin(), frontier.end(), [](const ScatterPoint* a, const ScatterPoint* b) {
    return a->x != b->x ? a->x < b->x : a->y > b->y;
  });
  if (frontier.size() >= 2) {
    std::vector<Px> pts;
    for (const ScatterPoint* p : frontier) push_point(pts, {tenths(f.px(p->x)), tenths(f.py(p->y))});
    out += fmt::format("<path class=\"frontier\" d=\"{}\" fill=\"none\" stroke=\"#111827\" stroke-width=\"1.4\"/>\n",
                       path_data(pts));
  }

  // Labels go at the first of four corners around their point that no earlier label took.
  struct Box {
    double x0, y0, x1, y1;
  };
  std::vector<Box> taken;
  const bool labels = chart.points.size() <= chart.max_labels;
  for (const ScatterPoint& p : chart.points)  // labels keep off the markers too
    if (finite(p.x) && finite(p.y)) taken.push_back({f.px(p.x) - 8, f.py(p.y) - 8, f.px(p.x) + 8, f.py(p.y) + 8});
  std::string label_svg;
  bool any_point = false;
  for (const ScatterPoint& p : chart.points) {
    if (!finite(p.x) || !finite(p.y)) continue;
    any_point = true;
    const double x = f.px(p.x), y = f.py(p.y);
    out += fmt::format("<g class=\"series\"{}><title>{}</title>", key_attr(p.key), escape(p.tooltip));
    if (p.frontier)
      out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"8\" fill=\"#fff\" stroke=\"#111827\" stroke-width=\"1.4\"/>", num(x),
                         num(y));
    if (p.failed)
      out += cross(x, y, 4.5, p.style.color);
    else
      out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"4.5\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"0.8\"/>", num(x),
                         num(y), escape(p.style.color));
    out += "</g>\n";
    if (!labels || p.label.empty()) continue;
    const double w = kCharWidth * 0.95 * static_cast<double>(p.label.size()), h = 11;
    // Right of the point first, then above or below it, then left: a label reads as its point's.
    const Box options[] = {{x + 9, y - 7 - h, x + 9 + w, y - 7},       {x + 9, y + 7, x + 9 + w, y + 7 + h},
                           {x + 10, y - h / 2, x + 10 + w, y + h / 2}, {x - w / 2, y - 10 - h, x + w / 2, y - 10},
                           {x - w / 2, y + 10, x + w / 2, y + 10 + h}, {x - 9 - w, y - 7 - h, x - 9, y - 7},
                           {x - 9 - w, y + 7, x - 9, y + 7 + h},       {x - 10 - w, y - h / 2, x - 10, y + h / 2}};
    for (const Box& b : options) {
      if (b.x0 < f.x0 || b.x1 > f.x1 + kMarginRight || b.y0 < f.y0 - 4 || b.y1 > f.y1) continue;
      const bool clash = std::any_of(taken.begin(), taken.end(), [&](const Box& t) {
        return b.x0 < t.x1 && t.x0 < b.x1 && b.y0 < t.y1 && t.y0 < b.y1;
      });
      if (clash) continue;
      taken.push_back(b);
      label_svg += fmt::format("<text class=\"label\"{} x=\"{}\" y=\"{}\" font-size=\"10.5\">{}</text>\n", key_attr(p.key),
                               num(b.x0), num(b.y1 - 2), escape(p.label));
      break;
    }
  }
  out += label_svg;
  close_svg(out, f, any_point, legend);
  return out;
}

std::string render(const BarChart& chart) {
  // Each row: its label, then its bar under it.
  constexpr double kRow = 30, kBar = 13, kLabel = 11;
  double max_total = 0;
  for (const Bar& b : chart.bars) {
    double total = 0;
    for (const double v : b.values)
      if (finite(v) && v > 0) total += v;
    max_total = std::max(max_total, total);
  }
  std::vector<LegendItem> legend;
  for (const BarSegment& s : chart.segments)
    legend.push_back({s.name, "", fmt::format("<rect x=\"4\" y=\"-5\" width=\"18\" height=\"10\" fill=\"{}\"/>",
                                              escape(s.style.color))});
  const int plot_height = static_cast<int>(kRow * static_cast<double>(std::max<std::size_t>(chart.bars.size(), 1)) + 6);
  const double height = chart_height(plot_height, legend_rows(legend, chart.width_px - kMarginLeft - kMarginRight));
  Frame f{kMarginLeft, chart.width_px - kMarginRight, kMarginTop, kMarginTop + plot_height,
          make_axis(Axis{chart.x.title, chart.x.unit, Scale::Linear}, max_total, max_total), AxisRange{}};
  f.yr.ticks.clear();  // rows, not values: no y ticks

  std::string out;
  open_svg(out, "bar", chart.title, chart.width_px, height);
  draw_axes(out, f, chart.x, Axis{});
  bool any_bar = false;
  for (std::size_t row = 0; row < chart.bars.size(); ++row) {
    const Bar& b = chart.bars[row];
    const double top = f.y0 + 6 + kRow * static_cast<double>(row);
    out += fmt::format("<g class=\"series\"{}><text class=\"label\" x=\"{}\" y=\"{}\" font-size=\"10.5\">{}</text>",
                       key_attr(b.key), num(f.x0 + 2), num(top + kLabel - 2), escape(b.label));
    double at = 0;
    for (std::size_t s = 0; s < b.values.size() && s < chart.segments.size(); ++s) {
      const double v = b.values[s];
      if (!finite(v) || v <= 0) continue;
      const double x0 = f.px(at), x1 = f.px(at + v);
      at += v;
      any_bar = true;
      out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}: {} {}</title></rect>",
                         num(x0), num(top + kLabel + 1), num(std::max(x1 - x0, 0.5)), num(kBar),
                         escape(chart.segments[s].style.color), escape(b.label), escape(chart.segments[s].name),
                         escape(tick_label(v, chart.x.unit)));
    }
    out += "</g>\n";
  }
  close_svg(out, f, any_bar, legend);
  return out;
}

}  // namespace dartlab::sim::svg
