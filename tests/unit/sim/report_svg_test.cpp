// SPDX-License-Identifier: MIT
// The report's SVG plotting: tick labels in human units, axis ranges and scales, where values
// land in the plot, escaping, empty and one-point series, and thinning of long lines.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "sim/report/svg.hpp"

using namespace dartlab::sim;
using Catch::Matchers::Contains;

namespace {

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

svg::LineChart one_line_chart(std::vector<double> x, std::vector<double> y) {
  svg::LineChart chart;
  chart.title = "title";
  chart.x = {"event", svg::Unit::Count, svg::Scale::Linear};
  chart.y = {"mappings", svg::Unit::Count, svg::Scale::Linear};
  chart.lines.push_back({"direct", {"#123456", ""}, "0", std::move(x), std::move(y)});
  return chart;
}

// The d attribute of the first series path.
// (No std::regex: GCC 12's <regex> trips -Wmaybe-uninitialized in the sanitizer build.)
std::string series_path(const std::string& svg_text) {
  const std::size_t tag = svg_text.find("class=\"series\"");
  REQUIRE(tag != std::string::npos);
  const std::size_t d = svg_text.find(" d=\"", tag);
  REQUIRE(d != std::string::npos);
  REQUIRE(d < svg_text.find('>', tag));  // within the same element
  const std::size_t start = d + 4;
  return svg_text.substr(start, svg_text.find('"', start) - start);
}

}  // namespace

TEST_CASE("tick labels read in human units", "[report][svg]") {
  CHECK(svg::tick_label(0, svg::Unit::Bytes) == "0");
  CHECK(svg::tick_label(512, svg::Unit::Bytes) == "512 B");
  CHECK(svg::tick_label(16384, svg::Unit::Bytes) == "16 KiB");
  CHECK(svg::tick_label(256.0 * (1 << 20), svg::Unit::Bytes) == "256 MiB");
  CHECK(svg::tick_label(1536.0 * (1 << 20), svg::Unit::Bytes) == "1.5 GiB");
  CHECK(svg::tick_label(1280.0 * (1 << 20), svg::Unit::Bytes) == "1.25 GiB");
  CHECK(svg::tick_label(950, svg::Unit::Count) == "950");
  CHECK(svg::tick_label(20000, svg::Unit::Count) == "20K");
  CHECK(svg::tick_label(65536, svg::Unit::Count) == "65.5K");
  CHECK(svg::tick_label(1.5e6, svg::Unit::Count) == "1.5M");
  CHECK(svg::tick_label(0.25, svg::Unit::Fraction) == "0.25");
  CHECK(svg::tick_label(1, svg::Unit::Fraction) == "1");
  CHECK(svg::tick_label(double(NAN), svg::Unit::Count) == "?");
}

TEST_CASE("a linear byte axis steps in powers of two and covers its maximum", "[report][svg]") {
  const double max = 1536.0 * (1 << 20);
  const svg::AxisRange r = svg::make_axis({"b", svg::Unit::Bytes, svg::Scale::Linear}, max, max);
  CHECK_FALSE(r.log);
  CHECK(r.lo == 0);
  CHECK(r.hi >= max);
  REQUIRE(r.ticks.size() >= 4);
  REQUIRE(r.ticks.size() <= 9);
  const double step = r.ticks[1].value - r.ticks[0].value;
  CHECK(std::exp2(std::round(std::log2(step))) == step);
  CHECK(r.ticks[1].label == "256 MiB");
  CHECK(r.fraction(max) == Approx(max / r.hi));
  CHECK(r.fraction(-5) == 0);
  CHECK(r.fraction(r.hi * 10) == 1);
}

TEST_CASE("auto scale goes log when values span more than kLogSpan", "[report][svg]") {
  const svg::Axis axis{"m", svg::Unit::Count, svg::Scale::Auto};
  CHECK_FALSE(svg::make_axis(axis, 4000, 1000).log);
  const svg::AxisRange r = svg::make_axis(axis, 65536, 83);
  REQUIRE(r.log);
  CHECK(r.lo == 10);
  CHECK(r.hi == 100000);
  for (const svg::Tick& t : r.ticks) CHECK(std::log10(t.value) == Approx(std::round(std::log10(t.value))));
  CHECK(r.fraction(10) == 0);
  CHECK(r.fraction(1000) == Approx(0.5));
  CHECK(r.fraction(0) == 0);  // below the axis: drawn at its bottom
  // Fractions never go log.
  CHECK_FALSE(svg::make_axis({"f", svg::Unit::Fraction, svg::Scale::Auto}, 1, 0.001).log);
}

TEST_CASE("axes stay small for huge, zero and non-finite ranges", "[report][svg]") {
  for (double max : {0.0, 1.0, 1.8e19, double(INFINITY), double(NAN), -3.0}) {
    for (svg::Unit unit : {svg::Unit::Count, svg::Unit::Bytes, svg::Unit::Fraction}) {
      for (svg::Scale scale : {svg::Scale::Linear, svg::Scale::Log, svg::Scale::Auto}) {
        const svg::AxisRange r = svg::make_axis({"a", unit, scale}, max, 1);
        CHECK(r.hi > r.lo);
        CHECK(std::isfinite(r.hi));
        CHECK(!r.ticks.empty());
        CHECK(r.ticks.size() <= 14);
      }
    }
  }
}

TEST_CASE("a line chart places its values in the plot area and draws axes, legend and limits", "[report][svg]") {
  svg::LineChart chart = one_line_chart({0, 100}, {0, 100});
  chart.y_refs.push_back({100, "host limit: 100", true});
  const std::string out = svg::render(chart);
  CHECK_THAT(out, Contains("<svg class=\"plot\" data-kind=\"line\""));
  // Linear axes from 0 to 100: the line runs from the plot's bottom left corner to its top right.
  // Plot area: x 70..620, y 32..252 (margins in report_svg.cpp).
  const std::string d = series_path(out);
  CHECK(d.rfind("M70 252", 0) == 0);
  CHECK(d == "M70 252l550-220");
  CHECK_THAT(out, Contains(">host limit: 100</text>"));
  CHECK_THAT(out, Contains(">mappings</text>"));  // y axis title
  CHECK_THAT(out, Contains(">direct</text>"));    // legend
  CHECK_THAT(out, Contains("data-k=\"0\""));
  CHECK(count(out, "class=\"legend-item\"") == 1);
}

TEST_CASE("every text in a chart is escaped", "[report][svg]") {
  svg::LineChart chart = one_line_chart({1, 2}, {3, 4});
  chart.title = "<b>\"t\" & 'u'</b>";
  chart.lines[0].name = "<script>alert(1)</script>";
  chart.lines[0].key = "\"><x";
  chart.lines[0].style.color = "red\" onload=\"x";
  chart.y_refs.push_back({2, "<ref>", false});
  const std::string out = svg::render(chart);
  CHECK(out.find("<script") == std::string::npos);
  CHECK(out.find("<b>") == std::string::npos);
  CHECK(out.find("<ref>") == std::string::npos);
  CHECK(out.find("\"><x") == std::string::npos);
  CHECK(out.find("onload=\"") == std::string::npos);
  CHECK_THAT(out, Contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK_THAT(out, Contains("&quot;t&quot; &amp; &#39;u&#39;"));
  CHECK(svg::escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;");
}

TEST_CASE("an empty chart says so, and a one-point line is a dot", "[report][svg]") {
  svg::LineChart empty;
  empty.title = "nothing";
  const std::string e = svg::render(empty);
  CHECK_THAT(e, Contains("no data"));
  CHECK(e.find("class=\"series\"") == std::string::npos);

  svg::LineChart no_points = one_line_chart({}, {});
  CHECK_THAT(svg::render(no_points), Contains("no data"));

  const std::string one = svg::render(one_line_chart({5}, {7}));
  CHECK_THAT(one, Contains("<circle class=\"series\""));
  CHECK(one.find("no data") == std::string::npos);
}

TEST_CASE("long lines are thinned per pixel column but keep their peaks", "[report][svg]") {
  std::vector<double> x, y;
  for (int i = 1; i <= 200000; ++i) {
    x.push_back(i);
    y.push_back(i == 123457 ? 1000 : (i % 7) * 10);  // one spike far above a jagged floor
  }
  const std::string out = svg::render(one_line_chart(x, y));
  const std::string d = series_path(out);
  CHECK(d.size() < 40000);  // 550 px columns at 4 points each, not 200,000 points
  // The spike reaches the top of the plot (y = 32): the path's running y must hit it.
  double px = 0, py = 0, min_y = 1e9;
  // Walk the path's commands (M x y, l dx dy, h dx, v dy; L/H/V never appear in it).
  std::size_t i = 0;
  const auto number = [&d, &i] {
    std::size_t used = 0;
    const double v = std::stod(d.substr(i), &used);  // skips the blank between two numbers
    i += used;
    return v;
  };
  while (i < d.size()) {
    const char c = d[i++];
    if (c == 'M') {
      px = number();
      py = number();
    } else if (c == 'l') {
      px += number();
      py += number();
    } else if (c == 'h') {
      px += number();
    } else if (c == 'v') {
      py += number();
    } else {
      continue;
    }
    min_y = std::min(min_y, py);
  }
  CHECK(min_y == Approx(32).margin(0.11));
  CHECK(px == Approx(620).margin(0.11));  // and it ends at the right edge
}

TEST_CASE("a scatter plot joins its frontier, crosses failures, and labels points", "[report][svg]") {
  svg::ScatterChart chart;
  chart.title = "pareto";
  chart.x = {"maps", svg::Unit::Count, svg::Scale::Auto};
  chart.y = {"bytes", svg::Unit::Bytes, svg::Scale::Auto};
  chart.points.push_back({100, 1e9, "window:1M", "tip a", {"#111111", ""}, "0", true, false});
  chart.points.push_back({4000, 1e8, "direct", "tip b", {"#222222", ""}, "1", true, false});
  chart.points.push_back({5000, 2e9, "<bad>", "tip <c>", {"#333333", ""}, "2", false, true});
  chart.x_refs.push_back({65536, "65,536 mappings", true});
  chart.y_refs.push_back({1536.0 * (1 << 20), "1.5 GiB", true});
  chart.legend.push_back({"direct", {"#222222", ""}, ""});
  const std::string out = svg::render(chart);
  CHECK_THAT(out, Contains("data-kind=\"scatter\""));
  CHECK(count(out, "class=\"frontier\"") == 1);
  CHECK(count(out, "<g class=\"series\"") == 3);
  CHECK(count(out, "stroke-linecap=\"round\"") >= 1);  // the refused point's cross
  CHECK_THAT(out, Contains(">window:1M</text>"));
  CHECK_THAT(out, Contains("&lt;bad&gt;"));
  CHECK_THAT(out, Contains("tip &lt;c&gt;"));
  CHECK(out.find("<bad>") == std::string::npos);
  CHECK_THAT(out, Contains("Pareto frontier"));
  CHECK_THAT(out, Contains("class=\"beyond\""));  // past the host's limits is shaded

  chart.max_labels = 2;  // too many to label: tooltips only
  CHECK(svg::render(chart).find(">window:1M</text>") == std::string::npos);
}
