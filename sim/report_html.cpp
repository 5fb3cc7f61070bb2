// SPDX-License-Identifier: MIT
#include "sim/report_html.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "models/dart/dart_config.hpp"
#include "base/types.hpp"
#include "sim/report_svg.hpp"
#include "sim/results_output.hpp"

namespace dartlab::sim::report {

namespace {

using svg::escape;

// Tableau 10: distinct hues that stay apart for the common colour-vision deficiencies.
constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
constexpr std::size_t kPaletteSize = std::size(kPalette);
constexpr const char* kDashes[] = {"", "7 3", "2 3", "9 3 2 3"};
constexpr std::size_t kMaxExtraLimitLines = 4;  // configurations' own limits drawn beside the host's

const dart::DartConfig kHost{};  // the host's limits: 65,536 mappings, 1.5 GiB (observed; dart_config.hpp)

std::string commas(std::uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string swatch(const svg::Style& s) {
  return fmt::format("<svg class=\"sw\" width=\"26\" height=\"10\"><line x1=\"1\" x2=\"25\" y1=\"5\" y2=\"5\" stroke=\"{}\" "
                     "stroke-width=\"2.6\"{}/></svg>",
                     escape(s.color), s.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", escape(s.dash)));
}

std::string basename(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::vector<std::string> split_items(const std::string& spec) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', start), spec.size());
    items.push_back(spec.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

// A DART spec that may break after its commas in a narrow cell.
std::string breakable_spec(const std::string& spec) {
  std::string out;
  for (const std::string& item : split_items(spec)) out += (out.empty() ? "" : ",<wbr>") + escape(item);
  return out;
}

// DARTs of one trace are told apart by letter in labels (A..Z, then numbers), by dash in lines.
std::string dart_letter(std::size_t index) {
  return index < 26 ? std::string(1, static_cast<char>('A' + index)) : std::to_string(index + 1);
}

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
  const std::uint64_t host = slots ? kHost.slots : kHost.aperture_bytes;
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
  chart.x_refs.push_back({static_cast<double>(kHost.slots), fmt::format("{} mappings", commas(kHost.slots)), true});
  chart.y_refs.push_back(
      {static_cast<double>(kHost.aperture_bytes), svg::tick_label(static_cast<double>(kHost.aperture_bytes), svg::Unit::Bytes), true});
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

// A number and a bar of its share of a limit, red when at or past it.
std::string gauge(const std::string& text, double value, double limit, const std::string& limit_text) {
  if (!(limit > 0)) return fmt::format("<td class=\"n\">{}</td>", text);
  const double pct = value / limit * 100;
  return fmt::format(
      "<td class=\"n\" title=\"{:.1f}% of {}\">{}<span class=\"bar{}\"><i style=\"width:{:.1f}%\"></i></span></td>", pct,
      escape(limit_text), text, pct >= 100 ? " over" : "", std::min(pct, 100.0));
}

std::string optional_count_cell(const std::optional<std::uint64_t>& v) {
  if (!v) return "<td class=\"n na\" title=\"not in this input\">&ndash;</td>";
  return fmt::format("<td class=\"n\">{}</td>", commas(*v));
}

// " (kIOReturnNoSpace)": the host's name of a reason dartlab names, when it has one.
std::string host_code_suffix(std::string_view reason) {
  for (int i = 0; i < dartlab::kMapErrorCount; ++i) {
    const auto e = static_cast<dartlab::MapError>(i);
    if (dartlab::to_string(e) == reason && !dartlab::host_return_code(e).empty())
      return fmt::format(" ({})", dartlab::host_return_code(e));
  }
  return {};
}

std::string reasons_text(const Result& r) {
  std::string out;
  for (const auto& [reason, count] : r.failures_by_reason)
    if (count != 0)
      out += fmt::format("{}<span class=\"reason\">{} {}{}</span>", out.empty() ? "" : " ", escape(reason), commas(count),
                         host_code_suffix(reason));
  return out;
}

std::string first_failure_text(const Result& r) {
  if (!r.first_failure) return "&ndash;";
  const FirstFailure& f = *r.first_failure;
  return fmt::format("<span{}>{} at event {}{}</span>", f.line ? fmt::format(" title=\"trace line {}\"", commas(*f.line)) : "",
                     escape(f.reason), commas(f.event), host_code_suffix(f.reason));
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
        r.limits ? (r.limits->slots ? static_cast<double>(*r.limits->slots) : 0) : static_cast<double>(kHost.slots);
    const double byte_limit = static_cast<double>(r.limits ? r.limits->aperture_bytes : kHost.aperture_bytes);
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

// Runs of `dartlab replay --timed`: where the simulated time went, the host's time by step, the
// map latency's spread, and a row of figures per run.
std::string timed_section(const Page& page) {
  const auto& runs = page.data.timed;
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

constexpr const char* kStyle = R"(
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bad:#b91c1c;--accent:#4e79a7}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:#f6f7f9}
header{background:#1f2937;color:#f9fafb;padding:22px 32px 18px}
header h1{margin:0 0 4px;font-size:22px;font-weight:650;letter-spacing:.1px}
header p{margin:0;color:#cbd5e1;font-size:13px}
header .limits{margin-top:10px;display:flex;gap:10px;flex-wrap:wrap}
header .limits span{background:#374151;border-radius:4px;padding:3px 9px;font-size:12.5px;color:#e5e7eb}
nav{padding:10px 32px;background:#fff;border-bottom:1px solid var(--line);font-size:13px}
nav a{color:var(--accent);text-decoration:none;margin-right:16px}
main{padding:8px 32px 40px;max-width:1500px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:18px 22px;margin:18px 0}
h2{margin:0 0 2px;font-size:17px;font-weight:650;word-break:break-all}
.meta{margin:0 0 12px;color:var(--muted);font-size:12.5px}
.note{color:var(--muted);font-size:12.5px;margin:6px 0}
.ok{color:#15803d}
.legend{display:flex;flex-wrap:wrap;align-items:center;gap:4px 14px;font-size:12.5px;margin:4px 0 2px}
.lg{display:inline-flex;align-items:center;gap:5px;white-space:nowrap}
.lg-title{color:var(--muted);font-size:11.5px;text-transform:uppercase;letter-spacing:.4px;margin-left:6px}
.lg-title:first-child{margin-left:0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px 22px;margin:8px 0 6px}
figure{margin:0}
svg.plot{width:100%;height:auto;display:block;overflow:visible}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:12px;margin-top:10px;width:100%}
th{text-align:left;font-weight:600;color:var(--muted);border-bottom:2px solid var(--line);padding:6px 6px;white-space:nowrap}
td{border-bottom:1px solid var(--line);padding:5px 6px;vertical-align:middle;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.c{text-align:center;color:var(--fg)}
td.na{color:#c0c4cc}
td.bad{color:var(--bad);font-weight:600}
td.dart{max-width:190px;white-space:normal;color:#374151}
td.wrap{white-space:normal;min-width:90px}
td.policy{font-weight:600}
.dim{color:var(--muted)}
.reason{display:inline-block;white-space:nowrap;background:#fef2f2;color:var(--bad);border-radius:3px;padding:0 5px;font-size:11.5px}
.bar{display:block;height:3px;background:#eef0f3;border-radius:2px;margin-top:2px;min-width:56px}
.bar i{display:block;height:3px;background:#7c93b3;border-radius:2px}
.bar.over i{background:var(--bad)}
tr.hl td{background:#fff7db}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.legend-item,.series,tr[data-k]{cursor:default}
body.hovering svg .series:not(.hl),body.hovering svg .legend-item[data-k]:not(.hl),body.hovering svg .label:not(.hl){opacity:.15}
svg .series.hl path,svg path.series.hl{stroke-width:3}
footer{color:var(--muted);font-size:12px;padding:0 32px 30px}
dl{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;font-size:13px}
dt{font-weight:600}dd{margin:0;color:#374151}
@media print{body{background:#fff}section{border:none}nav{display:none}}
)";

// Hover highlighting, and a self-check the rendering test reads: how many plots drew something.
constexpr const char* kScript = R"(
(function(){
  function mark(k,on){
    document.body.classList.toggle('hovering',on);
    document.querySelectorAll('[data-k="'+k+'"]').forEach(function(e){e.classList.toggle('hl',on);});
  }
  document.querySelectorAll('[data-k]').forEach(function(e){
    var k=e.getAttribute('data-k');
    if(!/^[0-9]+$/.test(k))return;
    e.addEventListener('mouseenter',function(){mark(k,true);});
    e.addEventListener('mouseleave',function(){mark(k,false);});
  });
  var plots=document.querySelectorAll('svg.plot'),drawn=0;
  plots.forEach(function(p){
    var b=p.getBBox(),marks=0;
    p.querySelectorAll('.series').forEach(function(s){var r=s.getBBox();if(r.width>0||r.height>0)marks++;});
    if(b.width>0&&b.height>0&&marks>0)drawn++;
  });
  document.body.setAttribute('data-plots',String(plots.length));
  document.body.setAttribute('data-plots-drawn',String(drawn));
  document.body.setAttribute('data-ok','1');
})();
)";

constexpr const char* kErrorHook =
    "window.addEventListener('error',function(e){var d=document.documentElement;"
    "d.setAttribute('data-errors',(d.getAttribute('data-errors')||'')+(e.message||'error')+';');});";

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
                     kErrorHook, kStyle);
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
  for (const Result& r : data.results) pages.insert(r.limits ? r.limits->page_bytes : kHost.page_bytes);
  if (pages.empty()) pages.insert(kHost.page_bytes);
  std::string page_text;
  for (const std::uint64_t p : pages)
    page_text += (page_text.empty() ? "" : " / ") + svg::tick_label(static_cast<double>(p), svg::Unit::Bytes);
  out += fmt::format("<div class=\"limits\"><span>host: {} mappings</span><span>host: {} mapped at once</span>"
                     "<span title=\"mapped bytes count whole DART pages\">{} pages</span></div></header>\n",
                     commas(kHost.slots), svg::tick_label(static_cast<double>(kHost.aperture_bytes), svg::Unit::Bytes),
                     page_text);
  out += "<nav>";
  for (std::size_t g = 0; g < page.groups.size(); ++g)
    out += fmt::format("<a href=\"#trace-{}\">{}</a>", g, escape(basename(page.groups[g].trace)));
  if (!data.timed.empty()) out += "<a href=\"#timed\">timed runs</a>";
  out += "<a href=\"#failures\">refused maps</a><a href=\"#inputs\">inputs</a><a href=\"#terms\">terms</a></nav>\n<main>\n";
  if (page.groups.empty() && data.timed.empty())
    out += "<section><p class=\"note\">The inputs hold no results.</p></section>\n";
  for (std::size_t g = 0; g < page.groups.size(); ++g) out += trace_section(page, page.groups[g], g);
  if (!data.timed.empty()) out += timed_section(page);
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
  out += fmt::format("<script>{}</script>\n</body></html>\n", kScript);
  return out;
}

}  // namespace dartlab::sim::report
