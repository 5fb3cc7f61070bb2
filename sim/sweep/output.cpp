// SPDX-License-Identifier: MIT
#include "sim/sweep/output.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <map>
#include <numeric>
#include <tuple>

#include <fmt/format.h>

#include "sim/common/human_units.hpp"
#include "sim/replay/results_output.hpp"

namespace dartlab::sim {

namespace {

using Json = nlohmann::ordered_json;

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string host_name() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return "unknown";
  return name.data();
}

// A count in a result, 0 when absent. Counts read back from a file are unsigned; built in
// memory they may be signed.
std::uint64_t field_u64(const Json& result, const char* key) {
  const auto it = result.find(key);
  if (it == result.end() || !it->is_number_integer()) return 0;
  return it->is_number_unsigned() || it->get<std::int64_t>() >= 0 ? it->get<std::uint64_t>() : 0;
}

}  // namespace

SweepIdentity identity_of(const SweepConfig& config, Shard shard) {
  return {config.name, config.hash, config.points.size(), shard, config.lenient, config.device};
}

SweepParts sweep_parts(const SweepConfig& config, Shard shard, const SweepOutcome& outcome) {
  SweepParts parts;
  parts.identity = identity_of(config, shard);
  std::vector<std::pair<std::size_t, Json>> results;
  for (const SweepTraceOutcome& t : outcome.traces) {
    Json doc = results_json(std::span(&t.outcome, 1));
    for (std::size_t i = 0; i < t.points.size(); ++i) {
      const SweepPoint& point = config.points[t.points[i]];
      Json& replayed = doc["results"][i];
      Json r;
      r["point"] = point.index;
      r["trace"] = replayed["trace"];
      r["policy"] = replayed["policy"];
      r["dart"] = replayed["dart"];
      r["params"] = Json::object();
      for (const auto& [k, v] : point.params) r["params"][k] = v;
      // Host timing stays out of results: they must not depend on where or how fast they ran.
      for (auto& [k, v] : replayed.items())
        if (k != "trace" && k != "policy" && k != "dart" && k != "wall_seconds") r[k] = std::move(v);
      results.emplace_back(point.index, std::move(r));
    }
    parts.inputs.push_back(std::move(doc["inputs"][0]));
  }
  std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [index, r] : results) parts.results.push_back(std::move(r));
  return parts;
}

Json timing_run(Shard shard, const SweepOutcome& outcome, std::size_t group, double wall_seconds) {
  std::uint64_t point_events = 0;
  for (const SweepTraceOutcome& t : outcome.traces) point_events += t.outcome.events * t.points.size();
  Json run;
  run["shard"] = {{"index", shard.index}, {"count", shard.count}};
  run["host"] = host_name();
  run["jobs"] = outcome.jobs;
  run["passes"] = outcome.passes;
  run["group"] = group;
  run["wall_seconds"] = wall_seconds;
  run["cpu_seconds"] = cpu_seconds();
  run["peak_rss_bytes"] = peak_rss_bytes();
  run["point_events_per_second"] = wall_seconds > 0 ? static_cast<double>(point_events) / wall_seconds : 0.0;
  return run;
}

std::vector<bool> pareto_front(std::span<const ParetoObjectives> points) {
  // Sorted by the objectives in turn, a point can only be dominated by one before it, and if it
  // is, by one already on the frontier (domination is transitive): compare with those.
  std::vector<std::size_t> order(points.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const auto key = [&](std::size_t i) {
    return std::tuple(points[i].peak_mappings, points[i].peak_mapped_bytes, points[i].failed_maps, points[i].waits);
  };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  std::vector<bool> on(points.size(), false);
  std::vector<std::size_t> front;
  for (std::size_t i : order) {
    const ParetoObjectives& p = points[i];
    const bool dominated = std::any_of(front.begin(), front.end(), [&](std::size_t f) {
      const ParetoObjectives& q = points[f];
      return q.peak_mappings <= p.peak_mappings && q.peak_mapped_bytes <= p.peak_mapped_bytes &&
             q.failed_maps <= p.failed_maps && q.waits <= p.waits && !(q == p);
    });
    if (!dominated) {
      on[i] = true;
      front.push_back(i);
    }
  }
  return on;
}

Json sweep_document(SweepParts parts) {
  const SweepIdentity& id = parts.identity;
  const bool whole = id.shard.count == 1;
  Json doc;
  doc["sweep"] = {{"name", id.name},
                  {"hash", hash_hex(id.hash)},
                  {"points", id.points},
                  {"shard", {{"index", id.shard.index}, {"count", id.shard.count}}},
                  {"order", "round-robin: shard I of N holds the points p with p % N == I - 1"},
                  {"lenient", id.lenient},
                  {"device", id.device}};
  Json pareto = Json::array();
  if (whole) {
    // Per trace, in the order the results first name them.
    std::vector<std::string> traces;
    std::map<std::string, std::vector<std::size_t>> members;
    for (std::size_t i = 0; i < parts.results.size(); ++i) {
      const std::string trace = parts.results[i].value("trace", "");
      if (!members.contains(trace)) traces.push_back(trace);
      members[trace].push_back(i);
    }
    for (const std::string& trace : traces) {
      std::vector<ParetoObjectives> objectives;
      for (std::size_t i : members[trace]) {
        const Json& r = parts.results[i];
        const auto waits = r.find("waits");
        objectives.push_back({field_u64(r, "peak_mappings"), field_u64(r, "peak_mapped_bytes"), field_u64(r, "failed_maps"),
                              waits != r.end() && waits->is_object() ? field_u64(*waits, "count") : 0});
      }
      const std::vector<bool> on = pareto_front(objectives);
      Json points = Json::array();
      for (std::size_t k = 0; k < on.size(); ++k) {
        Json& r = parts.results[members[trace][k]];
        r.erase("pareto");
        r["pareto"] = static_cast<bool>(on[k]);
        if (on[k]) points.push_back(r["point"]);
      }
      pareto.push_back({{"trace", trace}, {"points", std::move(points)}});
    }
  }
  doc["results"] = std::move(parts.results);
  if (whole) doc["pareto"] = std::move(pareto);
  doc["inputs"] = std::move(parts.inputs);
  doc["timing"] = std::move(parts.timing);
  return doc;
}

std::string sweep_csv(const Json& document) {
  // Replay's schema, led by "point" and "pareto", a params_NAME column per parameter (in the
  // order results first name them) after "dart".
  std::vector<std::string> params;
  for (const Json& r : document.at("results")) {
    const auto it = r.find("params");
    if (it == r.end() || !it->is_object()) continue;
    for (const auto& [k, v] : it->items())
      if (std::find(params.begin(), params.end(), k) == params.end()) params.push_back(k);
  }
  const std::string lead[] = {"point", "pareto"};
  return results_csv(document.at("results"), lead, params);
}

void print_sweep_table(std::FILE* out, const Json& document) {
  const Json& results = document.at("results");
  const bool whole = document.contains("pareto");
  std::size_t policy_width = 6;
  std::size_t dart_width = 4;
  for (const Json& r : results) {
    policy_width = std::max(policy_width, r.value("policy", "").size());
    dart_width = std::max(dart_width, r.value("dart", "").size());
  }
  std::string trace;
  for (const Json& r : results) {
    if (r.value("trace", "") != trace) {
      trace = r.value("trace", "");
      fmt::print(out, "\n{}: {} events{}\n", trace, field_u64(r, "events"), whole ? ", * on the Pareto frontier" : "");
      fmt::print(out, "  {:>5} {:<{}} {:<{}} {:>9} {:>11} {:>9}  {}\n", "point", "policy", policy_width, "dart",
                 dart_width, "peak maps", "peak mapped", "failed", "first failure");
    }
    std::string first = "-";
    if (r.contains("first_failure") && r["first_failure"].is_object()) {
      const Json& f = r["first_failure"];
      const auto code = f.find("host_code");  // null, or absent from an older file: none
      first = failure_text(f.value("reason", "?"), field_u64(f, "event"),
                           code != f.end() && code->is_string() ? code->get_ref<const std::string&>() : "");
    }
    fmt::print(out, "{} {:>5} {:<{}} {:<{}} {:>9} {:>11} {:>9}  {}\n", r.value("pareto", false) ? " *" : "  ",
               field_u64(r, "point"), r.value("policy", ""), policy_width, r.value("dart", ""), dart_width,
               field_u64(r, "peak_mappings"), human_bytes(field_u64(r, "peak_mapped_bytes")), field_u64(r, "failed_maps"),
               first);
  }
}

}  // namespace dartlab::sim
