// SPDX-License-Identifier: MIT
#include "sim/stress/report.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <fmt/format.h>

#include "sim/common/human_units.hpp"

namespace dartlab::sim {

namespace {

// The shrunk trace is printed whole up to this many events, else its head.
constexpr std::size_t kPrintWholeEvents = 40;
constexpr std::size_t kPrintHeadEvents = 20;
// Rows of the curve's mini table, and columns of its sparkline: a terminal's width.
constexpr std::size_t kCurveRows = 8;
constexpr std::size_t kSparklineColumns = 64;

double events_per_second(const StressResult& r) {
  return r.wall_seconds > 0 ? static_cast<double>(r.events) / r.wall_seconds : 0.0;
}

std::string describe_request(const StressFailure& f) {
  const std::string what = f.kind == trace::EventKind::MapSg
                               ? fmt::format("map_sg of {} segments, {} from", f.segments, human_bytes(f.request_bytes))
                               : fmt::format("{} of {} at", trace::to_string(f.kind), human_bytes(f.request_bytes));
  return fmt::format("{} {:#x}", what, f.gpa);
}

std::string describe_dart(const DartSnapshot& d) {
  return fmt::format("{} live mappings, {} mapped, {} free, largest free extent {}, fragmentation {:.3f}",
                     d.live_mappings, human_bytes(d.mapped_bytes), human_bytes(d.free_bytes),
                     human_bytes(d.largest_free_bytes), d.frag_index());
}

void print_curve(std::FILE* out, const StressResult& r) {
  const auto& points = r.curve;
  if (points.empty()) return;
  std::vector<double> frag(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) frag[i] = points[i].max.frag_index;
  fmt::print(out, "fragmentation index (1 - largest free extent / free bytes; 0 one free run, 1 dust), worst per {} event{}:\n",
             r.curve_bucket_events, r.curve_bucket_events == 1 ? "" : "s");
  fmt::print(out, "  0 {} 1\n", sparkline(frag, 0.0, 1.0, kSparklineColumns));
  fmt::print(out, "  {:>12}  {:>10}  {:>10}  {:>11}  {:>13}\n", "to event", "frag index", "live maps", "mapped", "requested");
  const std::size_t rows = std::min(kCurveRows, points.size());
  for (std::size_t row = 0; row < rows; ++row) {
    // Evenly spaced, the last point always shown: it holds the failure.
    const SeriesPoint& p = points[rows == 1 ? 0 : row * (points.size() - 1) / (rows - 1)];
    fmt::print(out, "  {:>12}  {:>10.3f}  {:>10}  {:>11}  {:>13}\n", p.event, p.max.frag_index, p.max.live_mappings,
               human_bytes(p.max.mapped_bytes), human_bytes(p.max.requested_bytes));
  }
}

nlohmann::ordered_json snapshot_json(const DartSnapshot& d) {
  return {{"live_mappings", d.live_mappings},
          {"mapped_bytes", d.mapped_bytes},
          {"free_bytes", d.free_bytes},
          {"largest_free_bytes", d.largest_free_bytes},
          {"frag_index", d.frag_index()}};
}

nlohmann::ordered_json curve_json(const StressResult& r) {
  nlohmann::ordered_json event = nlohmann::ordered_json::array(), frag = event, live = event, mapped = event,
                         requested = event;
  for (const auto& p : r.curve) {
    event.push_back(p.event);
    frag.push_back(p.max.frag_index);
    live.push_back(p.max.live_mappings);
    mapped.push_back(p.max.mapped_bytes);
    requested.push_back(p.max.requested_bytes);
  }
  return {{"bucket_events", r.curve_bucket_events}, {"event", event},          {"frag_index", frag},
          {"live_mappings", live},                  {"mapped_bytes", mapped}, {"requested_bytes", requested}};
}

// Prints the file's lines: all of them when the trace is short, else its head.
void print_trace_file(std::FILE* out, const std::string& path, std::size_t events) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return;
  const std::size_t shown = events <= kPrintWholeEvents ? events : kPrintHeadEvents;
  std::size_t event_lines = 0;
  char line[4096];
  while (event_lines < shown && std::fgets(line, sizeof line, f) != nullptr) {
    fmt::print(out, "  {}", line);
    if (line[0] != '#' && std::string_view(line).rfind("dartlab-trace", 0) != 0) ++event_lines;
  }
  std::fclose(f);
  if (shown < events) fmt::print(out, "  ... ({} more events)\n", events - shown);
}

}  // namespace

std::string shell_word(const std::string& s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("_./:=,@%+-").find(c) != std::string_view::npos;
  });
  if (plain) return s;
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void print_stress_verdict(std::FILE* out, const StressRun& run, const StressResult& r, bool quiet) {
  const double rate = events_per_second(r);
  if (!quiet) fmt::print(out, "stress: {}, seed {}, under {} on {}\n", run.source_name, run.seed, run.policy, run.dart);
  if (r.failure) {
    const StressFailure& f = *r.failure;
    fmt::print(out, "FAILED at event {}: {} maps before it asked for {} in all ({:.2f} s, {:.0f} events/s)\n", f.event,
               r.maps, human_bytes(r.bytes_moved), r.wall_seconds, rate);
    fmt::print(out, "  refused: {}, reason {}\n", describe_request(f), dartlab::to_string(f.reason));
    if (!quiet) fmt::print(out, "  DART then: {}\n", describe_dart(f.dart));
  } else {
    fmt::print(out, "no failure within {} events (stopped by {}; {} maps asked for {}; {:.2f} s, {:.0f} events/s)\n", r.events,
               to_string(r.stop), r.maps, human_bytes(r.bytes_moved), r.wall_seconds, rate);
    if (!quiet) fmt::print(out, "  DART at the end: {}\n", describe_dart(r.final_dart));
  }
  if (!quiet) print_curve(out, r);
  fmt::print(out, "reproduce: {}\n", run.reproduce);
}

void print_shrink_start(std::FILE* out, std::size_t history_events, std::uint64_t history_bytes, double max_seconds) {
  fmt::print(out, "shrink: {} events of history kept ({}); ddmin over requests, at most {} s\n", history_events,
             human_bytes(history_bytes), max_seconds);
}

void print_shrink_result(std::FILE* out, const ShrinkResult& s, bool quiet, double max_seconds) {
  fmt::print(out, "shrink: {} events ({} requests) -> {} events ({} requests) in {:.2f} s, {} replays\n", s.from_events,
             s.from_requests, s.events.size(), s.requests, s.seconds, s.predicate_calls);
  if (!quiet) {
    if (s.live_cut)
      fmt::print(out, "  the requests live at the failure sufficed; the largest of them first: {} sufficed; then "
                 "single removals\n",
                 s.ranked_cut_requests);
    else
      fmt::print(out, "  the live requests alone do not fail so (released ones cut the holes): ddmin over all\n");
  }
  if (!quiet || !s.complete)
    fmt::print(out, "  {}\n",
               s.complete ? "1-minimal: removing any one request makes the failure go away"
                          : fmt::format("time cap of {} s hit: the smallest trace found so far, not proven "
                                        "minimal (raise --shrink-seconds)",
                                        max_seconds));
}

std::vector<std::string> shrunk_trace_comments(const StressRun& run, const StressResult& r, const ShrinkResult& s) {
  return {"dartlab stress --shrink: a small trace whose first refused map fails as the soak's did",
          "policy: " + run.policy,
          "dart: " + run.dart,
          fmt::format("reason: {}, at event {} of this trace", dartlab::to_string(r.failure->reason), s.failure.event),
          fmt::format("shrunk from {} events ({} requests) of: {}", s.from_events, s.from_requests, run.reproduce),
          fmt::format("ddmin: {} replays in {:.2f} s; {}", s.predicate_calls, s.seconds,
                      s.complete ? "1-minimal" : "time cap hit, not proven minimal")};
}

void print_shrink_written(std::FILE* out, const StressRun& run, const StressResult& r, const ShrinkReport& shrunk,
                          bool quiet) {
  const ShrinkResult& s = shrunk.result;
  fmt::print(out, "wrote {} ({} events); replayed, it fails by {} at its event {}{}\n", shrunk.output, s.events.size(),
             dartlab::to_string(r.failure->reason), shrunk.replay_fail_event, quiet ? "" : ":");
  if (!quiet) print_trace_file(out, shrunk.output, s.events.size());
  fmt::print(out, "see it fail: dartlab replay {} --policy {} --dart {}\n", shell_word(shrunk.output),
             shell_word(run.policy), shell_word(run.dart));
}

nlohmann::ordered_json stress_json(const StressRun& run, const StressResult& r, const ShrinkReport* shrunk) {
  nlohmann::ordered_json j;
  j["policy"] = run.policy;
  j["dart"] = run.dart;
  j["source"] = run.source;
  j["seed"] = run.seed;
  j["limits"] = {{"max_events", run.limits.max_events},
                 {"max_bytes", run.limits.max_bytes},
                 {"max_seconds", run.limits.max_seconds}};
  j["events"] = r.events;
  j["maps"] = r.maps;
  j["bytes_moved"] = r.bytes_moved;
  j["wall_seconds"] = r.wall_seconds;
  j["events_per_second"] = events_per_second(r);
  j["stopped_by"] = to_string(r.stop);
  if (r.failure) {
    const StressFailure& f = *r.failure;
    j["failure"] = {{"event", f.event},
                    {"reason", dartlab::to_string(f.reason)},
                    {"request", {{"kind", trace::to_string(f.kind)}, {"gpa", f.gpa}, {"bytes", f.request_bytes},
                                 {"segments", f.segments}}},
                    {"dart", snapshot_json(f.dart)}};
  } else {
    j["failure"] = nullptr;
  }
  j["final_dart"] = snapshot_json(r.final_dart);
  j["peak_live_mappings"] = r.peak_live_mappings;
  j["fragmentation"] = curve_json(r);
  j["reproduce"] = run.reproduce;
  if (shrunk) {
    const ShrinkResult& s = shrunk->result;
    j["shrink"] = {{"output", shrunk->output},
                   {"from_events", s.from_events},
                   {"from_requests", s.from_requests},
                   {"events", s.events.size()},
                   {"requests", s.requests},
                   {"fail_event", shrunk->replay_fail_event},
                   {"predicate_calls", s.predicate_calls},
                   {"seconds", s.seconds},
                   {"one_minimal", s.complete},
                   {"live_cut", s.live_cut},
                   {"ranked_cut_requests", s.ranked_cut_requests},
                   {"history_bytes", shrunk->history_bytes}};
  } else {
    j["shrink"] = nullptr;
  }
  return j;
}

}  // namespace dartlab::sim
