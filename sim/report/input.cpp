// SPDX-License-Identifier: MIT
#include "sim/report/input.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace dartlab::sim::report {

namespace {

using Json = nlohmann::json;

// Thrown inside this file only: parse_results_json turns it into its returned message.
struct BadField {
  std::string field;
  std::string why;
};

constexpr int kMaxDepth = 32;  // results nest 4 deep; deeper input is built to exhaust the stack

// Messages go to a terminal: no control characters from the input reach it.
std::string printable(std::string_view s, std::size_t max_bytes = 80) {
  std::string out;
  for (char c : s.substr(0, max_bytes)) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
  if (s.size() > max_bytes) out += "...";
  return out;
}

std::string describe(const Json& v) {
  if (v.is_number() || v.is_boolean()) return printable(v.dump());
  if (v.is_string()) return "a string";
  return std::string(v.is_null() ? "null" : v.is_array() ? "an array" : "an object");
}

const Json* find(const Json& obj, const char* key) {
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

const Json& need(const Json& obj, const char* key, const std::string& where) {
  const Json* v = find(obj, key);
  if (v == nullptr) throw BadField{where + "." + key, "missing"};
  return *v;
}

// v itself, when it is an object; `where` names it in the error.
const Json& as_object(const Json& v, const std::string& where) {
  if (!v.is_object()) throw BadField{where, fmt::format("expected an object, got {}", describe(v))};
  return v;
}

std::uint64_t to_u64(const Json& v, const std::string& where) {
  if (!v.is_number_unsigned())
    throw BadField{where, fmt::format("expected an unsigned 64-bit integer, got {}", describe(v))};
  return v.get<std::uint64_t>();
}

double to_double(const Json& v, const std::string& where, double lo, double hi) {
  if (!v.is_number()) throw BadField{where, fmt::format("expected a number, got {}", describe(v))};
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi)
    throw BadField{where, fmt::format("{} is outside {} .. {}", describe(v), lo, hi)};
  return d;
}

// Strings keep their bytes (the report escapes them); control characters become '?'.
std::string to_string(const Json& v, const std::string& where) {
  if (!v.is_string()) throw BadField{where, fmt::format("expected a string, got {}", describe(v))};
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > kMaxStringBytes) throw BadField{where, fmt::format("{} bytes long; at most {}", s.size(), kMaxStringBytes)};
  std::string out = s;
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

std::optional<std::uint64_t> optional_u64(const Json& obj, const char* key, const std::string& where) {
  const Json* v = find(obj, key);
  if (v == nullptr) return std::nullopt;
  return to_u64(*v, where + "." + key);
}

std::optional<double> optional_double(const Json& obj, const char* key, const std::string& where, double lo, double hi) {
  const Json* v = find(obj, key);
  if (v == nullptr) return std::nullopt;
  return to_double(*v, where + "." + key, lo, hi);
}

const Json& need_array(const Json& obj, const char* key, const std::string& where) {
  const Json& v = need(obj, key, where);
  if (!v.is_array()) throw BadField{where + "." + key, fmt::format("expected an array, got {}", describe(v))};
  return v;
}

std::vector<double> series_column(const Json& series, const char* key, const std::string& where, std::size_t length,
                                  bool fraction) {
  const Json& arr = need_array(series, key, where);
  const std::string field = where + "." + key;
  if (arr.size() != length)
    throw BadField{field, fmt::format("{} points, but \"event\" has {}", arr.size(), length)};
  std::vector<double> out;
  out.reserve(length);
  for (std::size_t i = 0; i < length; ++i) {
    const std::string at = fmt::format("{}[{}]", field, i);
    out.push_back(fraction ? to_double(arr[i], at, 0, 1) : static_cast<double>(to_u64(arr[i], at)));
  }
  return out;
}

Series parse_series(const Json& v, const std::string& where) {
  as_object(v, where);
  const Json& events = need_array(v, "event", where);
  if (events.size() > kMaxSeriesPoints)
    throw BadField{where + ".event", fmt::format("{} points; at most {}", events.size(), kMaxSeriesPoints)};
  Series s;
  s.event.reserve(events.size());
  std::uint64_t previous = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const std::string at = fmt::format("{}.event[{}]", where, i);
    const std::uint64_t e = to_u64(events[i], at);
    if (e <= previous)
      throw BadField{at, previous == 0 ? std::string("event numbers start at 1")
                                       : fmt::format("{} does not follow {}: events must ascend", e, previous)};
    previous = e;
    s.event.push_back(static_cast<double>(e));
  }
  s.live_mappings = series_column(v, "live_mappings", where, events.size(), false);
  s.mapped_bytes = series_column(v, "mapped_bytes", where, events.size(), false);
  s.requested_bytes = series_column(v, "requested_bytes", where, events.size(), false);
  s.frag_index = series_column(v, "frag_index", where, events.size(), true);
  if (find(v, "waiting") != nullptr) s.waiting = series_column(v, "waiting", where, events.size(), false);
  return s;
}

// The names every result and timed run carries: its trace, policy and DART spec.
void read_names(const Json& v, const std::string& where, std::string& trace, std::string& policy, std::string& dart) {
  as_object(v, where);
  trace = to_string(need(v, "trace", where), where + ".trace");
  policy = to_string(need(v, "policy", where), where + ".policy");
  dart = to_string(need(v, "dart", where), where + ".dart");
}

Result parse_result(const Json& v, const std::string& where) {
  Result r;
  read_names(v, where, r.trace, r.policy, r.dart);
  r.events = optional_u64(v, "events", where).value_or(0);
  r.requests = optional_u64(v, "requests", where).value_or(0);
  r.peak_mappings = to_u64(need(v, "peak_mappings", where), where + ".peak_mappings");
  r.peak_mapped_bytes = to_u64(need(v, "peak_mapped_bytes", where), where + ".peak_mapped_bytes");
  r.peak_requested_bytes = optional_u64(v, "peak_requested_bytes", where).value_or(0);
  r.failed_maps = to_u64(need(v, "failed_maps", where), where + ".failed_maps");

  const std::string reasons_at = where + ".failures_by_reason";
  const Json& reasons = need(v, "failures_by_reason", where);
  as_object(reasons, reasons_at);
  if (reasons.size() > 16) throw BadField{reasons_at, fmt::format("{} reasons; at most 16", reasons.size())};
  std::uint64_t sum = 0;
  for (const auto& [name, count] : reasons.items()) {
    const std::string at = reasons_at + "." + printable(name, 40);
    Json name_json = name;
    r.failures_by_reason.emplace_back(to_string(name_json, at), to_u64(count, at));
    if (r.failures_by_reason.back().second > std::numeric_limits<std::uint64_t>::max() - sum)
      throw BadField{at, "the counts overflow 64 bits"};
    sum += r.failures_by_reason.back().second;
  }
  // A refused map has exactly one reason: counts that disagree mean the file was edited or broken.
  if (sum != r.failed_maps)
    throw BadField{reasons_at, fmt::format("adds up to {}, but failed_maps is {}", sum, r.failed_maps)};

  if (const Json* ff = find(v, "first_failure")) {
    const std::string at = where + ".first_failure";
    if (!ff->is_object()) throw BadField{at, fmt::format("expected an object or null, got {}", describe(*ff))};
    r.first_failure = FirstFailure{to_u64(need(*ff, "event", at), at + ".event"),
                                   to_string(need(*ff, "reason", at), at + ".reason"), optional_u64(*ff, "line", at)};
  }
  r.reuse_hits = optional_u64(v, "reuse_hits", where);
  r.alignment_violations = optional_u64(v, "alignment_violations", where);
  r.exposure_peak_bytes = optional_u64(v, "exposure_peak_bytes", where);
  r.exposure_mean_bytes = optional_double(v, "exposure_mean_bytes", where, 0, 1.8e19);  // below 2^64: shown as bytes
  r.frag_index_peak = optional_double(v, "frag_index_peak", where, 0, 1);
  r.frag_index_final = optional_double(v, "frag_index_final", where, 0, 1);
  if (const Json* lim = find(v, "limits")) {
    const std::string at = where + ".limits";
    as_object(*lim, at);
    if (lim->find("slots") == lim->end()) throw BadField{at + ".slots", "missing (null means unlimited)"};
    r.limits = Limits{optional_u64(*lim, "slots", at), to_u64(need(*lim, "aperture_bytes", at), at + ".aperture_bytes")};
    if (const std::optional<std::uint64_t> page = optional_u64(*lim, "page_bytes", at)) {
      if (!std::has_single_bit(*page)) throw BadField{at + ".page_bytes", fmt::format("{} is not a power of two", *page)};
      r.limits->page_bytes = *page;
    }
  }
  if (const Json* w = find(v, "waits")) {
    const std::string at = where + ".waits";
    as_object(*w, at);
    r.waits = Waits{to_u64(need(*w, "count", at), at + ".count"), to_u64(need(*w, "longest_events", at), at + ".longest_events"),
                    to_u64(need(*w, "cancelled", at), at + ".cancelled"), to_u64(need(*w, "still_waiting", at), at + ".still_waiting")};
    if (r.waits->cancelled > r.waits->count || r.waits->still_waiting > r.waits->count - r.waits->cancelled)
      throw BadField{at, fmt::format("{} cancelled and {} still waiting, of {} waits", r.waits->cancelled,
                                     r.waits->still_waiting, r.waits->count)};
  }
  if (const Json* s = find(v, "series")) r.series = parse_series(*s, where + ".series");
  r.point = optional_u64(v, "point", where);
  if (const Json* p = find(v, "pareto")) {
    if (!p->is_boolean()) throw BadField{where + ".pareto", fmt::format("expected true or false, got {}", describe(*p))};
    r.pareto = p->get<bool>();
  }
  return r;
}

constexpr double kMaxNs = 1.8e19;  // below 2^64 ps / 1000: what a timed run can report

double need_ns(const Json& obj, const char* key, const std::string& where) {
  return to_double(need(obj, key, where), where + "." + key, 0, kMaxNs);
}

TimedRun parse_timed_run(const Json& v, const std::string& where) {
  TimedRun t;
  read_names(v, where, t.trace, t.policy, t.dart);
  t.link = to_string(need(v, "link", where), where + ".link");
  t.events = optional_u64(v, "events", where).value_or(0);
  t.map_requests = optional_u64(v, "map_requests", where).value_or(0);
  t.failed_maps = optional_u64(v, "failed_maps", where).value_or(0);
  if (const Json* faults = find(v, "faults")) {
    as_object(*faults, where + ".faults");
    t.faults = optional_u64(*faults, "total", where + ".faults").value_or(0);
  }
  t.simulated_ns = need_ns(v, "simulated_time_ns", where);
  t.mapping_ns = need_ns(v, "mapping_time_ns", where);
  if (t.mapping_ns > t.simulated_ns)
    throw BadField{where + ".mapping_time_ns", fmt::format("{} is more than simulated_time_ns {}", t.mapping_ns, t.simulated_ns)};
  const std::string by_dir = where + ".transfer_time_ns_by_dir";
  const Json& dirs = as_object(need(v, "transfer_time_ns_by_dir", where), by_dir);
  t.transfer_h2d_ns = need_ns(dirs, "h2d", by_dir);
  t.transfer_d2h_ns = need_ns(dirs, "d2h", by_dir);
  const std::string host_at = where + ".host_time_ns";
  const Json& host = as_object(need(v, "host_time_ns", where), host_at);
  if (host.size() > 16) throw BadField{host_at, fmt::format("{} steps; at most 16", host.size())};
  // The path's own order (the file's is lost to the parser's sorted objects), then any other step.
  static constexpr const char* kSteps[] = {"doorbell", "mapper", "service", "pte", "invalidation"};
  for (const char* step : kSteps)
    if (const Json* value = find(host, step)) t.host_ns.emplace_back(step, to_double(*value, host_at + "." + step, 0, kMaxNs));
  for (const auto& [step, value] : host.items())
    if (std::find(std::begin(kSteps), std::end(kSteps), step) == std::end(kSteps))
      t.host_ns.emplace_back(printable(step, 40), to_double(value, host_at + "." + printable(step, 40), 0, kMaxNs));
  if (const Json* rates = find(v, "dma_gib_per_s")) {
    as_object(*rates, where + ".dma_gib_per_s");
    t.dma_gib_per_s_h2d = optional_double(*rates, "h2d", where + ".dma_gib_per_s", 0, 1e9).value_or(0);
    t.dma_gib_per_s_d2h = optional_double(*rates, "d2h", where + ".dma_gib_per_s", 0, 1e9).value_or(0);
  }
  t.iotlb_hit_rate = optional_double(v, "iotlb_hit_rate", where, 0, 1).value_or(0);
  const std::string lat_at = where + ".map_latency_ns";
  const Json& lat = as_object(need(v, "map_latency_ns", where), lat_at);
  t.map_count = optional_u64(lat, "count", lat_at).value_or(0);
  t.map_p50_ns = need_ns(lat, "p50", lat_at);
  t.map_p99_ns = need_ns(lat, "p99", lat_at);
  t.map_max_ns = need_ns(lat, "max", lat_at);
  if (!(t.map_p50_ns <= t.map_p99_ns && t.map_p99_ns <= t.map_max_ns))
    throw BadField{lat_at, fmt::format("p50 {} <= p99 {} <= max {} does not hold", t.map_p50_ns, t.map_p99_ns, t.map_max_ns)};
  if (const Json* calls = find(v, "host_calls")) {
    const std::string at = where + ".host_calls";
    as_object(*calls, at);
    t.host_maps = optional_u64(*calls, "maps", at).value_or(0);
    t.flushes = optional_u64(*calls, "flushes", at).value_or(0);
    t.flush_timeouts = optional_u64(*calls, "flush_timeouts", at);
  }
  return t;
}

SweepInfo parse_sweep(const Json& v) {
  as_object(v, "sweep");
  SweepInfo s;
  if (const Json* name = find(v, "name")) s.name = to_string(*name, "sweep.name");
  if (const Json* hash = find(v, "hash")) {
    // A hash may be written as a number or a string; either reads as text.
    s.hash = hash->is_number_unsigned() ? std::to_string(hash->get<std::uint64_t>()) : to_string(*hash, "sweep.hash");
  }
  if (const Json* shard = find(v, "shard")) {
    if (shard->is_string()) {
      s.shard = to_string(*shard, "sweep.shard");
    } else {
      const std::string text = shard->dump();
      if (text.size() > 200) throw BadField{"sweep.shard", fmt::format("{} bytes of JSON; at most 200", text.size())};
      s.shard = printable(text, 200);
    }
  }
  s.points = optional_u64(v, "points", "sweep");
  return s;
}

// "pareto": flags per result, or the sweep points (or, without points, result positions) on the
// frontier; {"points": [...]} too, and dartlab sweep's own form, one {"trace", "points": [...]}
// per trace. Sets each result's `pareto`.
void apply_pareto(const Json& v, std::vector<Result>& results) {
  const Json* list = &v;
  if (v.is_object()) list = &need(v, "points", "pareto");
  if (!list->is_array()) throw BadField{"pareto", fmt::format("expected an array, got {}", describe(*list))};
  if (!list->empty() && (*list)[0].is_boolean()) {
    if (list->size() != results.size())
      throw BadField{"pareto", fmt::format("{} flags for {} results", list->size(), results.size())};
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (!(*list)[i].is_boolean())
        throw BadField{fmt::format("pareto[{}]", i), fmt::format("expected true or false, got {}", describe((*list)[i]))};
      results[i].pareto = (*list)[i].get<bool>();
    }
    return;
  }
  bool by_point = false;
  for (const Result& r : results) by_point = by_point || r.point.has_value();
  std::set<std::uint64_t> on;
  if (!list->empty() && (*list)[0].is_object()) {
    if (!by_point) throw BadField{"pareto", "per-trace frontiers name sweep points, but no result has a \"point\""};
    for (std::size_t t = 0; t < list->size(); ++t) {
      const std::string where = fmt::format("pareto[{}]", t);
      as_object((*list)[t], where);
      const Json& points = need((*list)[t], "points", where);
      if (!points.is_array()) throw BadField{where + ".points", fmt::format("expected an array, got {}", describe(points))};
      for (std::size_t i = 0; i < points.size(); ++i) on.insert(to_u64(points[i], fmt::format("{}.points[{}]", where, i)));
    }
    for (Result& r : results) r.pareto = r.point.has_value() && on.count(*r.point) != 0;
    return;
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::uint64_t n = to_u64((*list)[i], fmt::format("pareto[{}]", i));
    if (!by_point && n >= results.size())
      throw BadField{fmt::format("pareto[{}]", i), fmt::format("result {} of {}", n, results.size())};
    on.insert(n);
  }
  for (std::size_t i = 0; i < results.size(); ++i)
    results[i].pareto = by_point ? results[i].point.has_value() && on.count(*results[i].point) != 0 : on.count(i) != 0;
}

// "FILE:LINE:COL" of a byte offset, for parse errors.
std::string position(const std::string& path, std::string_view text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return fmt::format("{}:{}:{}", path, line, col);
}

}  // namespace

std::string parse_results_json(const std::string& path, std::string_view text, Data& into) {
  Json doc;
  std::string last_key;  // where a number too large for a double was, since that error has no offset
  try {
    bool too_deep = false;
    doc = Json::parse(text, [&](int depth, Json::parse_event_t event, Json& parsed) {
      if (depth > kMaxDepth) too_deep = true;
      if (event == Json::parse_event_t::key && parsed.is_string()) last_key = parsed.get<std::string>();
      return !too_deep;  // drop everything once too deep: the error comes below
    });
    if (too_deep) return fmt::format("{}: nested more than {} deep: not dartlab results", path, kMaxDepth);
  } catch (const Json::parse_error& e) {
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line L, column C: WHY"
    std::string why = e.what();
    const std::size_t colon = why.find(": ", why.find("column"));
    if (colon != std::string::npos) why = why.substr(colon + 2);
    return fmt::format("{}: not JSON: {}", position(path, text, e.byte == 0 ? 0 : e.byte - 1), printable(why, 160));
  } catch (const Json::exception& e) {
    // "[json.exception.out_of_range.406] number overflow parsing '1e999'"
    std::string why = e.what();
    const std::size_t bracket = why.find("] ");
    if (bracket != std::string::npos) why = why.substr(bracket + 2);
    return fmt::format("{}: \"{}\": {}", path, printable(last_key, 40), printable(why, 160));
  }

  try {
    as_object(doc, "(top level)");
    if (const Json* timed = find(doc, "timed"); timed != nullptr && find(doc, "results") == nullptr) {
      // dartlab replay --timed
      if (!timed->is_array()) throw BadField{"timed", fmt::format("expected an array, got {}", describe(*timed))};
      std::vector<TimedRun> runs;
      for (std::size_t i = 0; i < timed->size(); ++i) runs.push_back(parse_timed_run((*timed)[i], fmt::format("timed[{}]", i)));
      const std::size_t input_index = into.inputs.size();
      for (std::size_t i = 0; i < runs.size(); ++i) {
        runs[i].input = input_index;
        runs[i].index = i;
        into.timed.push_back(std::move(runs[i]));
      }
      into.inputs.push_back(Input{path, 0, runs.size(), std::nullopt, false});
      return {};
    }
    const Json* results = find(doc, "results");
    if (results == nullptr)
      throw BadField{"results", "missing: not the JSON of dartlab replay, replay --timed or sweep"};
    if (!results->is_array()) throw BadField{"results", fmt::format("expected an array, got {}", describe(*results))};
    std::vector<Result> parsed;
    parsed.reserve(results->size());
    for (std::size_t i = 0; i < results->size(); ++i) parsed.push_back(parse_result((*results)[i], fmt::format("results[{}]", i)));

    Input input{path, parsed.size(), 0, std::nullopt, false};
    if (const Json* sweep = find(doc, "sweep")) input.sweep = parse_sweep(*sweep);
    if (const Json* pareto = find(doc, "pareto")) {
      apply_pareto(*pareto, parsed);
      input.pareto_given = true;
    } else {
      input.pareto_given = !parsed.empty();
      for (const Result& r : parsed) input.pareto_given = input.pareto_given && r.pareto.has_value();
    }

    const std::size_t input_index = into.inputs.size();
    for (std::size_t i = 0; i < parsed.size(); ++i) {
      parsed[i].input = input_index;
      parsed[i].index = i;
      into.results.push_back(std::move(parsed[i]));
    }
    into.inputs.push_back(std::move(input));
    return {};
  } catch (const BadField& bad) {
    return fmt::format("{}: {}: {}", path, bad.field, bad.why);
  }
}

std::string load_results_file(const std::string& path, Data& into) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (f == nullptr) return fmt::format("{}: cannot open: {}", path, std::strerror(errno));
  std::string text;
  char buf[1 << 16];
  std::size_t n = 0;
  bool too_big = false;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (text.size() + n > kMaxInputBytes) {
      too_big = true;
      break;
    }
    text.append(buf, n);
  }
  const bool read_error = std::ferror(f) != 0;
  const int err = errno;
  if (f != stdin) std::fclose(f);
  if (too_big) return fmt::format("{}: larger than {} MiB: not dartlab results", path, kMaxInputBytes >> 20);
  if (read_error) return fmt::format("{}: read error: {}", path, std::strerror(err));
  return parse_results_json(path, text, into);
}

}  // namespace dartlab::sim::report
