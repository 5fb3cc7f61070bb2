// SPDX-License-Identifier: MIT
// Small inline-SVG charts for the HTML report: line charts over events, a scatter plot and stacked
// bars, with axes, ticks in human units (K/M, KiB/MiB/GiB, ns/us/ms), reference lines (the host's
// limits) and a legend.
// Output is an <svg> element meant to sit inside an HTML page (no xmlns needed there); every text
// it carries is escaped. Colours and dashes are given by the caller.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dartlab::sim::svg {

// Text safe inside HTML/SVG text and quoted attributes: & < > " ' become entities.
std::string escape(std::string_view text);

enum class Unit { Count, Bytes, Fraction, Nanos };
enum class Scale { Auto, Linear, Log };

// A tick or axis label: counts "950", "20K", "1.5M"; bytes "0", "256 MiB", "1.5 GiB"; fractions "0.25";
// times (in ns) "500 ns", "1.5 us", "12 ms".
std::string tick_label(double value, Unit unit);

struct Axis {
  std::string title;
  Unit unit = Unit::Count;
  Scale scale = Scale::Auto;
};

struct Tick {
  double value = 0;
  std::string label;
};

// An axis after its decisions: the range shown, linear or log, the ticks.
struct AxisRange {
  double lo = 0;
  double hi = 1;
  bool log = false;
  std::vector<Tick> ticks;
  // Where value falls in [0, 1] along the axis; clamped (log: values <= lo sit at 0).
  double fraction(double value) const;
};

// Covers [0 or lo, max_value]. `smallest_of_interest`: the smallest positive value a reader needs
// to tell apart (a line's peak, a point); Auto picks log when max_value exceeds it kLogSpan-fold,
// and a log axis starts at the nice value at or below it (lower values are drawn at the bottom).
inline constexpr double kLogSpan = 10;  // a guess at where linear plots squash the small lines flat
AxisRange make_axis(const Axis& axis, double max_value, double smallest_of_interest);

struct Style {
  std::string color = "#4e79a7";
  std::string dash;  // SVG stroke-dasharray, "" = solid
};

struct Line {
  std::string name;  // legend and tooltip
  Style style;
  std::string key;   // data-k attribute for hover highlighting; "" for none
  std::vector<double> x, y;  // equal lengths, x ascending
};

// A horizontal (or, in scatter plots, vertical) line at a limit, labelled.
struct RefLine {
  double value = 0;
  std::string label;
  bool host = true;  // the host's own limit (drawn strong) rather than a configuration's
};

struct LegendEntry {
  std::string name;
  Style style;
  std::string key;
};

struct LineChart {
  std::string title;
  Axis x, y;
  std::vector<Line> lines;
  std::vector<RefLine> y_refs;
  bool legend = true;
  int width_px = 640;
  int plot_height_px = 220;  // the plot area; title, ticks and legend add to the SVG's height
};

struct ScatterPoint {
  double x = 0, y = 0;
  std::string label;    // drawn beside the point when there are few
  std::string tooltip;  // shown on hover (SVG <title>)
  Style style;
  std::string key;
  bool frontier = false;  // ringed, and joined to the other frontier points
  bool failed = false;    // drawn as a cross instead of a dot
};

struct ScatterChart {
  std::string title;
  Axis x, y;
  std::vector<ScatterPoint> points;
  std::vector<RefLine> x_refs, y_refs;
  std::vector<LegendEntry> legend;  // colours; the markers' meanings are added after them
  std::size_t max_labels = 16;      // beyond this many points, labels are left to tooltips
  int width_px = 640;
  int plot_height_px = 260;
};

// Horizontal bars, one per row, each cut into segments stacked left to right (one colour per
// segment kind, named in the legend): where a run's time went, how a latency spreads.
struct BarSegment {
  std::string name;
  Style style;
};

struct Bar {
  std::string label;            // written above the bar
  std::string key;              // data-k for hover highlighting; "" for none
  std::vector<double> values;   // one per segment, >= 0
};

struct BarChart {
  std::string title;
  Axis x;  // linear always: stacked lengths add up
  std::vector<BarSegment> segments;
  std::vector<Bar> bars;
  int width_px = 640;
};

// One <svg class="plot" ...> element each. Lines are thinned to at most a few points per pixel
// column (keeping each column's extremes), so any number of points costs the same bytes.
std::string render(const LineChart& chart);
std::string render(const ScatterChart& chart);
std::string render(const BarChart& chart);

}  // namespace dartlab::sim::svg
