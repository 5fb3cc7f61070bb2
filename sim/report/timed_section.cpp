// SPDX-License-Identifier: MIT
#include "sim/report/timed_section.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sim/common/human_units.hpp"
#include "sim/report/cells.hpp"
#include "sim/report/svg.hpp"

namespace dartlab::sim::report {

using svg::escape;

// Runs of `dartlab replay --timed`: where the simulated time went, the host's time by step, the
// map latency's spread, and a row of figures per run.
std::string timed_section(std::span<const TimedRun> runs) {
  // DARTs by letter, spelled out under the charts: their specs are too long for a bar's label.
  std::vector<std::string> darts;
  for (const TimedRun& t : runs)
    if (std::find(darts.begin(), darts.end(), t.dart) == darts.end()) darts.push_back(t.dart);
  const auto letter = [&](const TimedRun& t) {
    return dart_letter(static_cast<std::size_t>(std::find(darts.begin(), darts.end(), t.dart) - darts.begin()));
  };
  const auto label = [&](const TimedRun& t) {
    return fmt::format("{} · {} · {} · DART {}", basename(t.trace), t.policy, t.link, letter(t));
  };
  std::string out = "<section id=\"timed\"><h2>Timed runs</h2>\n";
  out += fmt::format("<p class=\"meta\">{} run{} of <code>dartlab replay --timed</code>: the device waits for each map "
                     "and unmap, then moves its data over the link through the DART.</p>\n",
                     runs.size(), runs.size() == 1 ? "" : "s");
  svg::BarChart time, host, latency;
  time.title = "Simulated time: the device waiting for mappings, and moving data";
  time.x = {"simulated time", svg::Unit::Nanos};
  time.segments = {{"mapping", {kPalette[2], ""}}, {"transfers h2d", {kPalette[0], ""}}, {"transfers d2h", {kPalette[3], ""}}};
  host.title = "The host's time by step";
  host.x = {"host time", svg::Unit::Nanos};
  latency.title = "Map latency: up to p50, to p99, to the longest";
  latency.x = {"latency of one map", svg::Unit::Nanos};
  latency.segments = {{"to p50", {kPalette[4], ""}}, {"p50 to p99", {kPalette[5], ""}}, {"p99 to max", {kPalette[2], ""}}};
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const TimedRun& t = runs[i];
    const std::string key = fmt::format("t{}", i);
    time.bars.push_back({label(t), key, {t.mapping_ns, t.transfer_h2d_ns, t.transfer_d2h_ns}});
    svg::Bar hb{label(t), key, {}};
    for (const auto& [step, ns] : t.host_ns) {
      std::size_t s = 0;  // steps in the order the first run gives them
      while (s < host.segments.size() && host.segments[s].name != step) ++s;
      if (s == host.segments.size()) host.segments.push_back({step, {kPalette[s % kPaletteSize], ""}});
      if (hb.values.size() <= s) hb.values.resize(s + 1, 0);
      hb.values[s] = ns;
    }
    host.bars.push_back(std::move(hb));
    latency.bars.push_back({label(t), key, {t.map_p50_ns, t.map_p99_ns - t.map_p50_ns, t.map_max_ns - t.map_p99_ns}});
  }
  out += "<div class=\"charts\">";
  for (const svg::BarChart* chart : {&time, &host, &latency})
    out += "<figure>" + svg::render(*chart) + "</figure>";
  out += "</div>\n<p class=\"note\">";
  for (const std::string& d : darts)
    out += fmt::format("DART <b>{}</b>: <code>{}</code><br>", dart_letter(&d - darts.data()), breakable_spec(d));
  out += "</p>\n<div class=\"scroll\"><table class=\"timed\"><thead><tr><th>trace</th><th>policy</th><th>link</th><th>dart</th>"
         "<th class=\"n\">simulated</th><th class=\"n\">mapping</th><th class=\"n\">DMA h2d / d2h</th>"
         "<th class=\"n\">IOTLB hits</th><th class=\"n\">map p50 / p99 / max</th><th class=\"n\">host maps</th>"
         "<th class=\"n\">flushes</th><th class=\"n\">refused</th><th class=\"n\">faults</th></tr></thead><tbody>\n";
  constexpr double kGiB = 1ULL << 30;
  const auto ns_text = [](double ns) { return svg::tick_label(ns, svg::Unit::Nanos); };
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const TimedRun& t = runs[i];
    const std::string flushes =
        t.flush_timeouts && *t.flush_timeouts != 0
            ? fmt::format("{} <span class=\"bad\" title=\"flushes that hit the busy-poll timeout: their time is cut off "
                          "there\">({} timed out)</span>",
                          commas(t.flushes), commas(*t.flush_timeouts))
            : commas(t.flushes);
    out += fmt::format(
        "<tr data-k=\"t{}\"><td>{}</td><td class=\"policy\">{}</td><td>{}</td><td class=\"c\" title=\"{}\"><b>{}</b></td>"
        "<td class=\"n\">{}</td><td class=\"n\">{:.0f}%</td><td class=\"n\">{} / {}</td><td class=\"n\">{:.1f}%</td>"
        "<td class=\"n\">{} / {} / {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n{}\">{}</td>"
        "<td class=\"n{}\">{}</td></tr>\n",
        i, escape(t.trace), escape(t.policy), escape(t.link), escape(t.dart), letter(t), ns_text(t.simulated_ns),
        t.simulated_ns > 0 ? 100.0 * t.mapping_ns / t.simulated_ns : 0.0, human_rate(t.dma_gib_per_s_h2d * kGiB),
        human_rate(t.dma_gib_per_s_d2h * kGiB), 100.0 * t.iotlb_hit_rate, ns_text(t.map_p50_ns), ns_text(t.map_p99_ns),
        ns_text(t.map_max_ns), commas(t.host_maps), flushes, t.failed_maps != 0 ? " bad" : "", commas(t.failed_maps),
        t.faults != 0 ? " bad" : "", commas(t.faults));
  }
  return out + "</tbody></table></div></section>\n";
}

}  // namespace dartlab::sim::report
