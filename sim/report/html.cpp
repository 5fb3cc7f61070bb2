// SPDX-License-Identifier: MIT
#include "sim/report/html.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "base/types.hpp"
#include "sim/common/human_units.hpp"
#include "sim/report/cells.hpp"
#include "sim/report/style.hpp"
#include "sim/report/svg.hpp"
#include "sim/report/timed_section.hpp"

namespace dartlab::sim::report {

namespace {

using svg::escape;

constexpr const char* kDashes[] = {"", "7 3", "2 3", "9 3 2 3"};
constexpr std::size_t kMaxExtraLimitLines = 4;  // configurations' own limits drawn beside the host's

// One trace's results, and how each is drawn.
struct Group {
  std::string trace;
  std::vector<std::size_t> results;  // indices into Data::results
  bool frontier_given = false;       // every result's file said whether it is on the frontier
  std::vector<std::string> darts;    // distinct DART specs, in order
};

struct Drawn {
  std::string label;      // policy, plus what tells its dart (and file) apart within its trace
  std::string dart_short; // the dart spec's items not shared by every dart of the trace
  std::string dart_letter; // "A", "B", ... when the trace has several darts
  svg::Style style;
  bool frontier = false;
};

struct Page {
  const Data& data;
  const Options& options;
  std::vector<Group> groups;
  std::vector<Drawn> drawn;  // per result
  std::map<std::string, std::size_t> policy_colour;
};

void assign_styles(Page& page) {
  const auto& results = page.data.results;
  for (const auto& r : results) page.policy_colour.emplace(r.policy, page.policy_colour.size());
  page.drawn.resize(results.size());
  for (Group& g : page.groups) {
    // Items every dart of this trace shares say nothing: label by the rest.
    std::vector<std::string>& darts = g.darts;
    for (std::size_t i : g.results)
      if (std::find(darts.begin(), darts.end(), results[i].dart) == darts.end()) darts.push_back(results[i].dart);
    std::set<std::string> common;
    for (const std::string& item : split_items(darts.front())) {
      const bool everywhere = std::all_of(darts.begin(), darts.end(), [&](const std::string& d) {
        const auto items = split_items(d);
        return std::find(items.begin(), items.end(), item) != items.end();
      });
      if (everywhere) common.insert(item);
    }
    for (std::size_t i : g.results) {
      const auto& r = results[i];
      Drawn& d = page.drawn[i];
      for (const std::string& item : split_items(r.dart))
        if (common.count(item) == 0) d.dart_short += (d.dart_short.empty() ? "" : ",") + item;
      const std::size_t colour = page.policy_colour[r.policy];
      const std::size_t dart_index =
          static_cast<std::size_t>(std::find(darts.begin(), darts.end(), r.dart) - darts.begin());
      d.style = {kPalette[colour % kPaletteSize], kDashes[(dart_index + colour / kPaletteSize) % std::size(kDashes)]};
      if (darts.size() > 1) d.dart_letter = dart_letter(dart_index);
      d.label = r.policy + (darts.size() > 1 ? " \u00b7 " + d.dart_letter : "");
    }
    // The same configuration from two files: say which file.
    std::map<std::string, std::set<std::size_t>> files_of_label;
    for (std::size_t i : g.results) files_of_label[page.drawn[i].label].insert(results[i].input);
    for (std::size_t i : g.results)
      if (files_of_label[page.drawn[i].label].size() > 1)
        page.drawn[i].label += " [" + basename(page.data.inputs[results[i].input].path) + "]";
  }
}

void find_frontiers(Page& page) {
  const auto& results = page.data.results;
  for (Group& g : page.groups) {
    g.frontier_given = std::all_of(g.results.begin(), g.results.end(), [&](std::size_t i) {
      return page.data.inputs[results[i].input].pareto_given && results[i].pareto.has_value();
    });
    if (g.frontier_given) {
      for (std::size_t i : g.results) page.drawn[i].frontier = *results[i].pareto;
      continue;
    }
    std::vector<ParetoPoint> points;
    for (std::size_t i : g.results)
      points.push_back({results[i].peak_mappings, results[i].peak_mapped_bytes, results[i].failed_maps,
                        results[i].waits ? results[i].waits->count : 0});
    const std::vector<bool> on = pareto_frontier(points);
    for (std::size_t k = 0; k < g.results.size(); ++k) page.drawn[g.results[k]].frontier = on[k];
  }
}

// The lines a chart draws: every result with a series, or when there are too many, the frontier
// first, then the rest in file order.
std::vector<std::size_t> chart_results(const Page& page, const Group& g, std::size_t* without_series) {
  std::vector<std::size_t> with, frontier, rest;
  *without_series = 0;
  for (std::size_t i : g.results) {
    if (!page.data.results[i].series) {
      ++*without_series;
      continue;
    }
    (page.drawn[i].frontier ? frontier : rest).push_back(i);
  }
  with = frontier;
  with.insert(with.end(), rest.begin(), rest.end());
  if (with.size() > page.options.max_lines) with.resize(page.options.max_lines);
  std::sort(with.begin(), with.end());  // legend in file order
  return with;
}

// The host's limit, then each distinct other limit of the drawn results (up to a few).
std::vector<svg::RefLine> limit_lines(const Page& page, const std::vector<std::size_t>& shown, bool slots) {
  std::vector<svg::RefLine> refs;
  const std::uint64_t host = slots ? dartlab::kHostSlots : dartlab::kHostApertureBytes;
  refs.push_back({static_cast<double>(host),
                  slots ? fmt::format("host limit: {} mappings", commas(host))
                        : "host limit: " + svg::tick_label(static_cast<double>(host), svg::Unit::Bytes),
                  true});
  std::set<std::uint64_t> seen{host};
  for (std::size_t i : shown) {
    const auto& lim = page.data.results[i].limits;
    if (!lim || (slots && !lim->slots)) continue;
    const std::uint64_t v = slots ? *lim->slots : lim->aperture_bytes;
    if (seen.count(v) != 0 || refs.size() > kMaxExtraLimitLines) continue;
    seen.insert(v);
    refs.push_back({static_cast<double>(v),
                    slots ? "slots=" + commas(v) : "aperture=" + svg::tick_label(static_cast<double>(v), svg::Unit::Bytes),
                    false});
  }
  return refs;
}

enum class Column { Live, Mapped, Frag, Waiting };

std::string line_chart(const Page& page, const std::vector<std::size_t>& shown, Column column) {
  svg::LineChart chart;
  chart.legend = false;  // one legend for the trace's charts, above them
  chart.x = {"trace event", svg::Unit::Count, svg::Scale::Linear};
  switch (column) {
    case Column::Live:
      chart.title = "Live host mappings";
      chart.y = {"mappings", svg::Unit::Count, svg::Scale::Auto};
      chart.y_refs = limit_lines(page, shown, true);
      break;
    case Column::Mapped:
      chart.title = "Mapped bytes";
      chart.y = {"bytes mapped", svg::Unit::Bytes, svg::Scale::Auto};
      chart.y_refs = limit_lines(page, shown, false);
      break;
    case Column::Frag:
      chart.title = "Aperture fragmentation";
      chart.y = {"1 - largest free / free", svg::Unit::Fraction, svg::Scale::Linear};
      break;
    case Column::Waiting:
      chart.title = "Requests waiting for room (cap)";
      chart.y = {"requests waiting", svg::Unit::Count, svg::Scale::Linear};
      break;
  }
  for (std::size_t i : shown) {
    const Series& s = *page.data.results[i].series;
    const Drawn& d = page.drawn[i];
    if (column == Column::Waiting && s.waiting.empty()) continue;  // never waited: nothing to draw
    const std::vector<double>& y = column == Column::Live     ? s.live_mappings
                                   : column == Column::Mapped ? s.mapped_bytes
                                   : column == Column::Frag   ? s.frag_index
                                                              : s.waiting;
    chart.lines.push_back({d.label, d.style, std::to_string(i), s.event, y});
  }
  if (column == Column::Mapped && !shown.empty()) {
    // What the trace asked for, as served to the configuration that refused least: mapped bytes
    // above it are exposure.
    const std::size_t best = *std::min_element(shown.begin(), shown.end(), [&](std::size_t a, std::size_t b) {
      return page.data.results[a].failed_maps < page.data.results[b].failed_maps;
    });
    const Series& s = *page.data.results[best].series;
    chart.lines.push_back({"requested", {"#6b7280", "2 2"}, "", s.event, s.requested_bytes});
  }
  return svg::render(chart);
}

std::string pareto_chart(const Page& page, const Group& g) {
  svg::ScatterChart chart;
  chart.title = "Pareto: peak mappings vs peak mapped bytes";
  chart.x = {"peak live mappings", svg::Unit::Count, svg::Scale::Auto};
  chart.y = {"peak mapped bytes", svg::Unit::Bytes, svg::Scale::Auto};
  chart.x_refs.push_back({static_cast<double>(dartlab::kHostSlots), fmt::format("{} mappings", commas(dartlab::kHostSlots)), true});
  chart.y_refs.push_back(
      {static_cast<double>(dartlab::kHostApertureBytes), svg::tick_label(static_cast<double>(dartlab::kHostApertureBytes), svg::Unit::Bytes), true});
  for (std::size_t i : g.results) {
    const Result& r = page.data.results[i];
    const Drawn& d = page.drawn[i];
    chart.points.push_back(
        {static_cast<double>(r.peak_mappings), static_cast<double>(r.peak_mapped_bytes), d.label,
         fmt::format("{} | {}\npeak {} mappings, {}\n{} maps refused{}", r.policy, r.dart, commas(r.peak_mappings),
                     human_bytes(r.peak_mapped_bytes), commas(r.failed_maps), d.frontier ? "\non the Pareto frontier" : ""),
         {d.style.color, ""}, std::to_string(i), d.frontier, r.failed_maps != 0});
  }
  return svg::render(chart);
}

std::string results_table(const Page& page, const Group& g) {
  // One DART for the whole trace: said once above the charts, not on every row.
  const bool dart_column = g.darts.size() > 1;
  // Waits only where a result waited (cap): an empty column for every other policy says nothing.
  const bool waits_column = std::any_of(g.results.begin(), g.results.end(), [&](std::size_t i) {
    return page.data.results[i].waits && page.data.results[i].waits->count != 0;
  });
  std::string out = fmt::format(
      "<div class=\"scroll\"><table class=\"results\"><thead><tr><th></th><th>policy</th>{}"
      "<th class=\"n\">peak mappings</th><th class=\"n\">peak mapped</th><th class=\"n\">peak asked</th>"
      "<th class=\"n\">refused</th><th>by reason</th><th>first refusal</th><th class=\"n\">exposure peak / mean</th>"
      "<th class=\"n\">reuse hits</th><th class=\"n\">align. viol.</th>"
      "<th class=\"n\">frag. peak / final</th>{}<th title=\"on the Pareto frontier\">Pareto</th></tr></thead><tbody>\n",
      dart_column ? "<th title=\"the DART configuration, as in the legend above the charts\">DART</th>" : "",
      waits_column ? "<th class=\"n\" title=\"cap: requests that waited for room; the longest wait, in trace events; "
                     "waits an unmap cancelled\">waits / longest / cancelled</th>"
                   : "");
  for (std::size_t i : g.results) {
    const Result& r = page.data.results[i];
    const Drawn& d = page.drawn[i];
    const double slot_limit =
        r.limits ? (r.limits->slots ? static_cast<double>(*r.limits->slots) : 0) : static_cast<double>(dartlab::kHostSlots);
    const double byte_limit = static_cast<double>(r.limits ? r.limits->aperture_bytes : dartlab::kHostApertureBytes);
    const std::string frag =
        r.frag_index_peak || r.frag_index_final
            ? fmt::format("{} / {}", r.frag_index_peak ? fmt::format("{:.3f}", *r.frag_index_peak) : "&ndash;",
                          r.frag_index_final ? fmt::format("{:.3f}", *r.frag_index_final) : "&ndash;")
            : "&ndash;";
    out += fmt::format("<tr data-k=\"{}\"><td>{}</td><td class=\"policy\">{}</td>", i, swatch(d.style), escape(r.policy));
    if (dart_column)
      // The letter alone: the legend above the charts spells each DART out.
      out += fmt::format("<td class=\"c\" title=\"{}\"><b>{}</b></td>", escape(r.dart), d.dart_letter);
    out += gauge(commas(r.peak_mappings), static_cast<double>(r.peak_mappings), slot_limit,
                 commas(static_cast<std::uint64_t>(slot_limit)) + " mappings");
    out += gauge(human_bytes(r.peak_mapped_bytes), static_cast<double>(r.peak_mapped_bytes), byte_limit,
                 human_bytes(static_cast<std::uint64_t>(byte_limit)));
    out += fmt::format("<td class=\"n\">{}</td><td class=\"n{}\">{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td>",
                       human_bytes(r.peak_requested_bytes), r.failed_maps != 0 ? " bad" : "", commas(r.failed_maps),
                       reasons_text(r), first_failure_text(r));
    out += fmt::format("<td class=\"n\">{} / {}</td>", r.exposure_peak_bytes ? human_bytes(*r.exposure_peak_bytes) : "&ndash;",
                       r.exposure_mean_bytes ? human_bytes(static_cast<std::uint64_t>(*r.exposure_mean_bytes)) : "&ndash;");
    out += optional_count_cell(r.reuse_hits);
    out += optional_count_cell(r.alignment_violations);
    out += fmt::format("<td class=\"n\">{}</td>", frag);
    if (waits_column)
      out += r.waits ? fmt::format("<td class=\"n\">{} / {} / {}</td>", commas(r.waits->count),
                                   commas(r.waits->longest_events), commas(r.waits->cancelled))
                     : "<td class=\"n na\" title=\"not in this input\">&ndash;</td>";
    out += fmt::format("<td class=\"c\">{}</td></tr>\n", d.frontier ? "&#9670;" : "");
  }
  return out + "</tbody></table></div>\n";
}

// Colour = policy, dash = DART: one key for all of a trace's charts.
std::string section_legend(const Page& page, const Group& g, bool lines) {
  std::string out = "<div class=\"legend\"><span class=\"lg-title\">policy</span>";
  std::set<std::string> seen;
  for (std::size_t i : g.results) {
    const Result& r = page.data.results[i];
    if (!seen.insert(r.policy).second) continue;
    out += fmt::format("<span class=\"lg\">{}{}</span>", swatch({page.drawn[i].style.color, ""}), escape(r.policy));
  }
  if (g.darts.size() > 1) {
    out += "<span class=\"lg-title\">DART</span>";
    for (std::size_t k = 0; k < g.darts.size(); ++k) {
      const auto it = std::find_if(g.results.begin(), g.results.end(),
                                   [&](std::size_t i) { return page.data.results[i].dart == g.darts[k]; });
      out += fmt::format("<span class=\"lg\" title=\"{}\">{}<b>{}</b> {}</span>", escape(g.darts[k]),
                         swatch({"#374151", page.drawn[*it].style.dash}), dart_letter(k),
                         escape(page.drawn[*it].dart_short));
    }
  }
  if (lines) out += fmt::format("<span class=\"lg\">{}requested bytes</span>", swatch({"#6b7280", "2 2"}));
  return out + "</div>\n";
}

std::string trace_section(const Page& page, const Group& g, std::size_t index) {
  const auto& results = page.data.results;
  std::uint64_t events = 0;
  for (std::size_t i : g.results) events = std::max(events, results[i].events);
  std::set<std::size_t> files;
  for (std::size_t i : g.results) files.insert(results[i].input);
  std::string out = fmt::format("<section class=\"trace\" id=\"trace-{}\"><h2>{}</h2>\n<p class=\"meta\">", index, escape(g.trace));
  if (events != 0) out += fmt::format("{} events &middot; ", commas(events));
  out += fmt::format("{} result{} &middot; from ", g.results.size(), g.results.size() == 1 ? "" : "s");
  bool first = true;
  for (std::size_t f : files) {
    out += fmt::format("{}<code>{}</code>", first ? "" : ", ", escape(page.data.inputs[f].path));
    first = false;
  }
  if (g.darts.size() == 1) out += fmt::format(" &middot; DART <code>{}</code>", escape(g.darts.front()));
  out += "</p>\n";

  std::size_t without_series = 0;
  const std::vector<std::size_t> shown = chart_results(page, g, &without_series);
  out += section_legend(page, g, !shown.empty());
  out += "<div class=\"charts\">\n";
  if (!shown.empty()) {
    out += "<figure>" + line_chart(page, shown, Column::Live) + "</figure>\n";
    out += "<figure>" + line_chart(page, shown, Column::Mapped) + "</figure>\n";
    out += "<figure>" + line_chart(page, shown, Column::Frag) + "</figure>\n";
    // Waits over the trace, when a shown run waited (cap policies).
    if (std::any_of(shown.begin(), shown.end(), [&](std::size_t i) { return !results[i].series->waiting.empty(); }))
      out += "<figure>" + line_chart(page, shown, Column::Waiting) + "</figure>\n";
  }
  out += "<figure>" + pareto_chart(page, g) + "</figure>\n</div>\n";
  const std::size_t with_series = g.results.size() - without_series;
  if (shown.size() < with_series)
    out += fmt::format("<p class=\"note\">The line charts show {} of {} results: the Pareto frontier first. Every result is "
                       "in the table and the Pareto plot.</p>\n",
                       shown.size(), with_series);
  if (without_series != 0)
    out += fmt::format("<p class=\"note\">{} of {} results carry no time series (\"series\"), so only the Pareto plot and the "
                       "table show them: replay them with a newer dartlab to see them over the trace.</p>\n",
                       without_series, g.results.size());
  out += fmt::format("<p class=\"note\">Pareto frontier (&#9670;): {}. Hover over a row, a line or a point to pick it "
                     "out.</p>\n",
                     g.frontier_given ? "as the sweep says"
                                      : "computed here: no other result is as good on peak mappings, peak mapped bytes, "
                                        "refused maps and (cap) waits at once and better on one");
  out += results_table(page, g);
  return out + "</section>\n";
}

std::string failures_section(const Page& page) {
  const auto& results = page.data.results;
  std::vector<std::size_t> failed;
  for (std::size_t i = 0; i < results.size(); ++i)
    if (results[i].failed_maps != 0) failed.push_back(i);
  // Most refusals first; then the earliest first refusal; then by name, so the order is stable.
  std::sort(failed.begin(), failed.end(), [&](std::size_t a, std::size_t b) {
    const Result& x = results[a];
    const Result& y = results[b];
    if (x.failed_maps != y.failed_maps) return x.failed_maps > y.failed_maps;
    const std::uint64_t ex = x.first_failure ? x.first_failure->event : ~std::uint64_t{0};
    const std::uint64_t ey = y.first_failure ? y.first_failure->event : ~std::uint64_t{0};
    if (ex != ey) return ex < ey;
    return std::tie(x.trace, x.policy, x.dart, a) < std::tie(y.trace, y.policy, y.dart, b);
  });
  std::string out = "<section id=\"failures\"><h2>Refused maps</h2>\n";
  if (failed.empty()) return out + "<p class=\"ok\">No configuration refused a map.</p></section>\n";
  out += fmt::format("<p class=\"meta\">{} of {} results refused maps; most refusals first.</p>\n", failed.size(), results.size());
  out += "<div class=\"scroll\"><table class=\"failures\"><thead><tr><th></th><th>trace</th><th>policy</th><th>dart</th>"
         "<th class=\"n\">refused</th><th class=\"n\">of requests</th><th>by reason</th><th>first refusal</th></tr></thead><tbody>\n";
  for (std::size_t i : failed) {
    const Result& r = results[i];
    out += fmt::format(
        "<tr data-k=\"{}\"><td>{}</td><td>{}</td><td class=\"policy\">{}</td><td class=\"dart\" title=\"{}\"><b>{}</b> {}</td>"
        "<td class=\"n bad\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>\n",
        i, swatch(page.drawn[i].style), escape(r.trace), escape(r.policy), escape(r.dart), page.drawn[i].dart_letter,
        breakable_spec(page.drawn[i].dart_short.empty() ? r.dart : page.drawn[i].dart_short), commas(r.failed_maps),
        r.requests != 0 ? fmt::format("{:.2f}%", 100.0 * static_cast<double>(r.failed_maps) / static_cast<double>(r.requests))
                        : std::string("&ndash;"),
        reasons_text(r), first_failure_text(r));
  }
  return out + "</tbody></table></div></section>\n";
}

std::string inputs_section(const Page& page) {
  std::string out = "<section id=\"inputs\"><h2>Inputs</h2>\n<div class=\"scroll\"><table class=\"inputs\"><thead><tr>"
                    "<th>file</th><th>kind</th><th class=\"n\">results</th><th>sweep</th><th>hash</th><th>shard</th>"
                    "<th class=\"n\">points</th><th>frontier</th></tr></thead><tbody>\n";
  for (const Input& in : page.data.inputs) {
    const bool sweep = in.sweep.has_value();
    out += fmt::format(
        "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td><code>{}</code></td><td>{}</td>"
        "<td class=\"n\">{}</td><td>{}</td></tr>\n",
        escape(in.path), sweep ? "sweep" : in.timed != 0 ? "replay --timed" : "replay", commas(in.results + in.timed),
        sweep ? escape(in.sweep->name) : "&ndash;",
        sweep ? escape(in.sweep->hash) : "", sweep ? escape(in.sweep->shard) : "",
        sweep && in.sweep->points ? commas(*in.sweep->points) : "", in.pareto_given ? "given" : "computed here");
  }
  return out + "</tbody></table></div></section>\n";
}

}  // namespace

std::vector<bool> pareto_frontier(std::span<const ParetoPoint> points) {
  // Sorted by mappings, a point can only be dominated by one before it (or tied with it).
  std::vector<std::size_t> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(points[a].mappings, points[a].bytes, points[a].failed, points[a].waits) <
           std::tie(points[b].mappings, points[b].bytes, points[b].failed, points[b].waits);
  });
  std::vector<bool> on(points.size(), true);
  std::vector<std::size_t> kept;  // frontier so far: only these can dominate later points
  for (std::size_t i : order) {
    const ParetoPoint& p = points[i];
    for (std::size_t j : kept) {
      const ParetoPoint& q = points[j];
      const bool no_worse = q.mappings <= p.mappings && q.bytes <= p.bytes && q.failed <= p.failed && q.waits <= p.waits;
      const bool better = q.mappings < p.mappings || q.bytes < p.bytes || q.failed < p.failed || q.waits < p.waits;
      if (no_worse && better) {
        on[i] = false;
        break;
      }
    }
    if (on[i]) kept.push_back(i);
  }
  return on;
}

std::string render_html(const Data& data, const Options& options) {
  Page page{data, options, {}, {}, {}};
  std::map<std::string, std::size_t> group_of;
  for (std::size_t i = 0; i < data.results.size(); ++i) {
    const auto [it, added] = group_of.emplace(data.results[i].trace, page.groups.size());
    if (added) page.groups.push_back({data.results[i].trace, {}, false, {}});
    page.groups[it->second].results.push_back(i);
  }
  assign_styles(page);
  find_frontiers(page);

  std::size_t failed = 0;
  for (const Result& r : data.results) failed += r.failed_maps != 0;

  std::string out;
  out.reserve(64 * 1024 + data.results.size() * 4096);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n";
  out += fmt::format("<title>{}</title>\n<script>{}</script>\n<style>{}</style>\n</head>\n<body>\n", escape(options.title),
                     page_error_hook(), page_style());
  std::string counts;
  if (!data.results.empty() || data.timed.empty())
    counts = fmt::format("{} result{} over {} trace{}", data.results.size(), data.results.size() == 1 ? "" : "s",
                         page.groups.size(), page.groups.size() == 1 ? "" : "s");
  if (!data.timed.empty())
    counts += fmt::format("{}{} timed run{}", counts.empty() ? "" : ", ", data.timed.size(), data.timed.size() == 1 ? "" : "s");
  out += fmt::format("<header><h1>{}</h1><p>{} from {} file{} &middot; {} with refused maps</p>\n", escape(options.title),
                     counts, data.inputs.size(), data.inputs.size() == 1 ? "" : "s", failed);
  // Mapped bytes are counted in each result's DART pages: name them (the host's when none says).
  std::set<std::uint64_t> pages;
  for (const Result& r : data.results) pages.insert(r.limits ? r.limits->page_bytes : dartlab::kHostPageBytes);
  if (pages.empty()) pages.insert(dartlab::kHostPageBytes);
  std::string page_text;
  for (const std::uint64_t p : pages)
    page_text += (page_text.empty() ? "" : " / ") + svg::tick_label(static_cast<double>(p), svg::Unit::Bytes);
  out += fmt::format("<div class=\"limits\"><span>host: {} mappings</span><span>host: {} mapped at once</span>"
                     "<span title=\"mapped bytes count whole DART pages\">{} pages</span></div></header>\n",
                     commas(dartlab::kHostSlots), svg::tick_label(static_cast<double>(dartlab::kHostApertureBytes), svg::Unit::Bytes),
                     page_text);
  out += "<nav>";
  for (std::size_t g = 0; g < page.groups.size(); ++g)
    out += fmt::format("<a href=\"#trace-{}\">{}</a>", g, escape(basename(page.groups[g].trace)));
  if (!data.timed.empty()) out += "<a href=\"#timed\">timed runs</a>";
  out += "<a href=\"#failures\">refused maps</a><a href=\"#inputs\">inputs</a><a href=\"#terms\">terms</a></nav>\n<main>\n";
  if (page.groups.empty() && data.timed.empty())
    out += "<section><p class=\"note\">The inputs hold no results.</p></section>\n";
  for (std::size_t g = 0; g < page.groups.size(); ++g) out += trace_section(page, page.groups[g], g);
  if (!data.timed.empty()) out += timed_section(page.data.timed);
  out += failures_section(page);
  out += inputs_section(page);
  out += "<section id=\"terms\"><h2>Terms</h2><dl>"
         "<dt>mappings</dt><dd>host mappings live at once, each one of the host's slots</dd>"
         "<dt>mapped / asked</dt><dd>bytes mapped in the DART, in whole pages of its own size, vs bytes the trace's "
         "live requests cover</dd>"
         "<dt>exposure</dt><dd>bytes mapped beyond bytes requested: memory the device can reach that nobody asked for</dd>"
         "<dt>reuse hits</dt><dd>requests served by a host mapping kept after its last user left</dd>"
         "<dt>align. violations</dt><dd>requests whose DMA address breaks their <code>align=</code></dd>"
         "<dt>fragmentation</dt><dd>1 &minus; largest free extent / free bytes of the DART aperture</dd>"
         "<dt>refused</dt><dd>maps the DART turned down, by reason: slots, aperture (bytes), fragmented, invalid</dd>"
         "</dl></section>\n</main>\n";
  out += "<footer>Made by <code>dartlab report</code>. Self-contained: no scripts, fonts or images from elsewhere.</footer>\n";
  out += fmt::format("<script>{}</script>\n</body></html>\n", page_script());
  return out;
}

}  // namespace dartlab::sim::report
