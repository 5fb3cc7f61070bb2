// SPDX-License-Identifier: MIT
#include "sim/replay/results_output.hpp"

#include <sys/resource.h>

#include <algorithm>

#include <fmt/format.h>

#include "sim/common/human_units.hpp"
#include "base/join.hpp"

namespace dartlab::sim {

namespace {

std::string reason_name(dartlab::MapError reason) { return std::string(dartlab::to_string(reason)); }

}  // namespace

std::uint64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

nlohmann::ordered_json series_json(std::span<const SeriesPoint> points) {
  nlohmann::ordered_json event = nlohmann::ordered_json::array(), live = nlohmann::ordered_json::array(),
                         mapped = nlohmann::ordered_json::array(), requested = nlohmann::ordered_json::array(),
                         frag = nlohmann::ordered_json::array(), waiting = nlohmann::ordered_json::array();
  // Only a run that waited (cap) carries its waits: the others would carry a column of zeros.
  const bool waited = std::any_of(points.begin(), points.end(), [](const SeriesPoint& p) { return p.max.waiting != 0; });
  for (const SeriesPoint& p : points) {
    event.push_back(p.event);
    live.push_back(p.max.live_mappings);
    mapped.push_back(p.max.mapped_bytes);
    requested.push_back(p.max.requested_bytes);
    // Four decimals are plenty for a plot and keep the file small.
    frag.push_back(static_cast<double>(static_cast<std::int64_t>(p.max.frag_index * 1e4 + 0.5)) / 1e4);
    if (waited) waiting.push_back(p.max.waiting);
  }
  nlohmann::ordered_json j;
  j["event"] = std::move(event);
  j["live_mappings"] = std::move(live);
  j["mapped_bytes"] = std::move(mapped);
  j["requested_bytes"] = std::move(requested);
  j["frag_index"] = std::move(frag);
  if (waited) j["waiting"] = std::move(waiting);
  return j;
}

std::string failure_text(std::string_view reason, std::uint64_t event, std::string_view host_code) {
  if (host_code.empty()) return fmt::format("{} at event {}", reason, event);
  return fmt::format("{} at event {} ({})", reason, event, host_code);
}

nlohmann::ordered_json results_json(std::span<const TraceOutcome> outcomes) {
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const TraceOutcome& t : outcomes) {
    for (const RunResult& r : t.results) {
      nlohmann::ordered_json j;
      j["trace"] = t.trace;
      j["policy"] = r.policy;
      j["dart"] = r.dart;
      j["events"] = t.events;
      j["requests"] = r.requests;
      j["peak_mappings"] = r.peak_mappings;
      j["peak_mapped_bytes"] = r.peak_mapped_bytes;
      j["peak_requested_bytes"] = r.peak_requested_bytes;
      j["host_map_calls"] = r.host_map_calls;
      j["host_unmap_calls"] = r.host_unmap_calls;
      j["failed_maps"] = r.failed_maps;
      nlohmann::ordered_json reasons;
      nlohmann::ordered_json host_codes;  // the same refusals under the host's names, where it has one
      for (int i = 0; i < dartlab::kMapErrorCount; ++i) {
        const auto reason = static_cast<dartlab::MapError>(i);
        if (reason == dartlab::MapError::Cap) continue;  // a replay's cap waits (see "waits")
        const std::uint64_t count = r.failures_by_reason[static_cast<std::size_t>(i)];
        reasons[reason_name(reason)] = count;
        if (const std::string_view code = dartlab::host_return_code(reason); !code.empty()) host_codes[std::string(code)] = count;
      }
      j["failures_by_reason"] = reasons;
      j["failures_by_host_code"] = host_codes;
      if (r.first_failure.happened) {
        nlohmann::ordered_json ff;
        ff["event"] = r.first_failure.event;
        ff["reason"] = reason_name(r.first_failure.reason);
        // Binary traces have no lines: "event" says where already.
        if (t.format != "binary") ff["line"] = r.first_failure.line;
        const std::string_view code = dartlab::host_return_code(r.first_failure.reason);
        ff["host_code"] = code.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(code);
        j["first_failure"] = ff;
      } else {
        j["first_failure"] = nullptr;
      }
      j["dropped_unmaps"] = r.dropped_unmaps;
      j["access_checks"] = r.access_checks;
      j["access_faults"] = r.access_faults;
      j["final_live_mappings"] = r.final_live_mappings;
      j["final_mapped_bytes"] = r.final_mapped_bytes;
      j["peak_page_tables"] = r.dart_peak_tables;
      j["min_largest_free_bytes"] = r.min_largest_free_bytes;
      j["reuse_hits"] = r.reuse_hits;
      j["alignment_violations"] = r.alignment_violations;
      j["exposure_peak_bytes"] = r.exposure_peak_bytes;
      j["exposure_mean_bytes"] = r.exposure_mean_bytes;
      j["frag_index_peak"] = r.frag_index_peak;
      j["frag_index_final"] = r.frag_index_final;
      nlohmann::ordered_json limits;
      limits["slots"] = r.slot_limit == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.slot_limit);
      limits["aperture_bytes"] = r.aperture_bytes;
      limits["page_bytes"] = r.page_bytes;
      j["limits"] = std::move(limits);
      nlohmann::ordered_json waits;
      waits["count"] = r.waits;
      waits["longest_events"] = r.longest_wait_events;
      waits["cancelled"] = r.cancelled_waits;
      waits["still_waiting"] = r.waiting_at_end;
      waits["accesses"] = r.waiting_accesses;
      j["waits"] = std::move(waits);
      if (!r.series.empty()) j["series"] = series_json(r.series);
      j["warnings"] = t.warnings;
      j["wall_seconds"] = t.wall_seconds;
      results.push_back(std::move(j));
    }
  }
  nlohmann::ordered_json inputs = nlohmann::ordered_json::array();
  for (const TraceOutcome& t : outcomes) {
    nlohmann::ordered_json in;
    in["trace"] = t.trace;
    in["format"] = t.format;
    in["events"] = t.events;
    in["warnings"] = t.warnings;
    in["notes"] = notes_json(t.notes);
    inputs.push_back(std::move(in));
  }
  nlohmann::ordered_json doc;
  doc["results"] = std::move(results);
  doc["inputs"] = std::move(inputs);
  doc["peak_rss_bytes"] = peak_rss_bytes();
  return doc;
}

namespace {

// A CSV column: a result's field, or a field of one of its objects ("failures_by_reason_slots").
struct CsvColumn {
  std::string_view key;
  std::string_view sub;  // empty: the field itself
};

// Every scalar of a result as results_json writes it, in its order; series (arrays) and host
// timing (wall_seconds) left out. A test checks no scalar field is missing.
constexpr CsvColumn kResultCsvColumns[] = {
    {"trace", ""}, {"policy", ""}, {"dart", ""}, {"events", ""}, {"requests", ""}, {"peak_mappings", ""},
    {"peak_mapped_bytes", ""}, {"peak_requested_bytes", ""}, {"host_map_calls", ""}, {"host_unmap_calls", ""},
    {"failed_maps", ""}, {"failures_by_reason", "invalid"}, {"failures_by_reason", "slots"},
    {"failures_by_reason", "aperture"}, {"failures_by_reason", "fragmented"}, {"failures_by_reason", "pool"},
    {"failures_by_reason", "duplicate"}, {"failures_by_reason", "truncated"},
    {"failures_by_host_code", "kIOReturnBadArgument"}, {"failures_by_host_code", "kIOReturnNoSpace"},
    {"failures_by_host_code", "kIOReturnNotAligned"}, {"failures_by_host_code", "kIOReturnStillOpen"},
    {"first_failure", "event"}, {"first_failure", "reason"}, {"first_failure", "line"},
    {"first_failure", "host_code"}, {"dropped_unmaps", ""}, {"access_checks", ""},
    {"access_faults", ""}, {"final_live_mappings", ""}, {"final_mapped_bytes", ""}, {"peak_page_tables", ""},
    {"min_largest_free_bytes", ""}, {"reuse_hits", ""}, {"alignment_violations", ""}, {"exposure_peak_bytes", ""},
    {"exposure_mean_bytes", ""}, {"frag_index_peak", ""}, {"frag_index_final", ""}, {"limits", "slots"},
    {"limits", "aperture_bytes"}, {"limits", "page_bytes"}, {"waits", "count"}, {"waits", "longest_events"},
    {"waits", "cancelled"}, {"waits", "still_waiting"}, {"waits", "accesses"}, {"warnings", ""},
};

std::string column_name(const CsvColumn& c) {
  return c.sub.empty() ? std::string(c.key) : std::string(c.key) + "_" + std::string(c.sub);
}

// Strings quoted (quotes doubled), numbers and booleans as JSON writes them, null or absent empty.
std::string csv_cell(const nlohmann::ordered_json& result, const CsvColumn& c) {
  const auto it = result.find(c.key);
  if (it == result.end()) return {};
  const nlohmann::ordered_json* v = &*it;
  if (!c.sub.empty()) {
    if (!v->is_object()) return {};
    const auto sub = v->find(c.sub);
    if (sub == v->end()) return {};
    v = &*sub;
  }
  if (v->is_null() || v->is_structured()) return {};
  if (v->is_string()) {
    std::string q = "\"";
    for (const char ch : v->get_ref<const std::string&>()) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  }
  return v->dump();  // numbers (doubles in their shortest exact form) and booleans
}

}  // namespace

std::vector<std::string> result_csv_columns() {
  std::vector<std::string> out;
  for (const CsvColumn& c : kResultCsvColumns) out.push_back(column_name(c));
  return out;
}

std::string results_csv(const nlohmann::ordered_json& results, std::span<const std::string> lead,
                        std::span<const std::string> params) {
  std::vector<CsvColumn> columns;
  for (const std::string& k : lead) columns.push_back({k, ""});
  for (const CsvColumn& c : kResultCsvColumns) {
    columns.push_back(c);
    if (c.key == "dart")
      for (const std::string& p : params) columns.push_back({"params", p});
  }
  std::string out;
  // Appended piece by piece: `"," + column_name(c)` inserts at the front of a temporary, and
  // GCC 12 at -O3 warns (-Wrestrict, a false positive) on that insert, which -Werror fails.
  for (const CsvColumn& c : columns) {
    if (!out.empty()) out += ',';
    out += column_name(c);
  }
  out += "\n";
  for (const nlohmann::ordered_json& r : results) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i != 0) out += ',';
      out += csv_cell(r, columns[i]);
    }
    out += "\n";
  }
  return out;
}

std::string results_csv(std::span<const TraceOutcome> outcomes) {
  return results_csv(results_json(outcomes).at("results"), {}, {});
}

void print_results_table(std::FILE* out, std::span<const TraceOutcome> outcomes) {
  for (const TraceOutcome& t : outcomes) {
    fmt::print(out, "\n{}: {} events in {:.2f} s ({:.2f} M events/s)\n", t.trace, t.events, t.wall_seconds,
               t.wall_seconds > 0 ? static_cast<double>(t.events) / t.wall_seconds / 1e6 : 0.0);
    // Several DART configurations: each row names its own by a letter, spelled out below.
    std::vector<std::string> darts;
    for (const RunResult& r : t.results)
      if (std::find(darts.begin(), darts.end(), r.dart) == darts.end()) darts.push_back(r.dart);
    const bool lettered = darts.size() > 1;
    const auto letter = [&](const std::string& dart) {
      const auto i = static_cast<std::size_t>(std::find(darts.begin(), darts.end(), dart) - darts.begin());
      return i < 26 ? std::string(1, static_cast<char>('A' + i)) : fmt::format("{}", i + 1);
    };
    std::size_t width = 14;
    for (const RunResult& r : t.results) width = std::max(width, r.policy.size());
    fmt::print(out, "  {:<{}} {}{:>9} {:>11} {:>11} {:>10} {:>11} {:>8} {:>9}  {}\n", "policy", width,
               lettered ? "dart " : "", "peak maps", "peak mapped", "peak asked", "host maps", "exposure pk", "reuses",
               "failed", "first failure");
    for (const RunResult& r : t.results) {
      std::string first = "-";
      if (r.first_failure.happened)
        first = failure_text(dartlab::to_string(r.first_failure.reason), r.first_failure.event,
                             dartlab::host_return_code(r.first_failure.reason));
      fmt::print(out, "  {:<{}} {}{:>9} {:>11} {:>11} {:>10} {:>11} {:>8} {:>9}  {}\n", r.policy, width,
                 lettered ? fmt::format("{:<4} ", letter(r.dart)) : "", r.peak_mappings, human_bytes(r.peak_mapped_bytes),
                 human_bytes(r.peak_requested_bytes), r.host_map_calls, human_bytes(r.exposure_peak_bytes), r.reuse_hits,
                 r.failed_maps, first);
    }
    // cap: what the waits cost, under the table (a column would be empty for every other policy).
    for (const RunResult& r : t.results)
      if (r.waits != 0)
        fmt::print(out, "  {}{}: {} waits, the longest {} events; {} cancelled by an unmap, {} still waiting at the end\n",
                   r.policy, lettered ? " (dart " + letter(r.dart) + ")" : "", r.waits, r.longest_wait_events,
                   r.cancelled_waits, r.waiting_at_end);
    if (lettered)
      for (const std::string& d : darts) fmt::print(out, "  dart {}: {}\n", letter(d), d);
    else if (!darts.empty())
      fmt::print(out, "  dart: {}\n", darts.front());
    if (t.warnings != 0) {
      fmt::print(out, "  {} warnings (lenient), first ones:\n", t.warnings);
      for (const auto& w : t.warning_samples) fmt::print(out, "    {}\n", w);
    }
    print_notes(out, t.notes, "  ");
  }
}

nlohmann::ordered_json notes_json(std::span<const trace::ReaderNote> notes) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const trace::ReaderNote& n : notes)
    j.push_back({{"what", n.what}, {"count", n.count}, {"first_lines", n.first_lines}});
  return j;
}

void print_notes(std::FILE* out, std::span<const trace::ReaderNote> notes, std::string_view indent) {
  if (notes.empty()) return;
  fmt::print(out, "{}skipped or read specially:\n", indent);
  for (const trace::ReaderNote& n : notes) {
    const std::string lines = join(n.first_lines, ", ", [](std::uint64_t l) { return std::to_string(l); });
    fmt::print(out, "{}  {:>9}  {}{}\n", indent, n.count, n.what,
               lines.empty() ? "" : fmt::format(" ({}{} {}{})", n.unit, n.first_lines.size() > 1 ? "s" : "", lines,
                                                n.count > n.first_lines.size() ? ", ..." : ""));
  }
}

}  // namespace dartlab::sim
