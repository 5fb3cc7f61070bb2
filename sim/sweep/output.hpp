// SPDX-License-Identifier: MIT
// A sweep's results for programs (JSON, CSV) and people (a table marking the Pareto frontier).
//
// The JSON document:
//   {"sweep": {"name","hash","points","shard":{"index","count"},"order","lenient","device"},
//    "results": [{"point","trace","policy","dart","params":{NAME: VALUE},
//                 ...the fields of `dartlab replay --json` but wall_seconds..., "pareto"}],
//    "pareto": [{"trace","points":[...]}],
//    "inputs": [...as replay --json...],
//    "timing": {"runs":[{"shard","host","jobs","passes","group","wall_seconds","cpu_seconds",
//                        "peak_rss_bytes","point_events_per_second"}]}}
// Everything before "timing" depends only on the config and the traces: a merge of shards
// writes it byte for byte as the unsharded run does. A shard's document has no "pareto" (a
// frontier needs every point) and no per-result "pareto".
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/sweep/config.hpp"
#include "sim/sweep/run.hpp"

namespace dartlab::sim {

struct SweepIdentity {
  std::string name;
  std::uint64_t hash = 0;
  std::uint64_t points = 0;  // in the whole sweep, every shard
  Shard shard;
  bool lenient = false;
  std::string device;
};

SweepIdentity identity_of(const SweepConfig& config, Shard shard);

// What a document is made of: result objects in point order (each with "point"), the inputs
// read (trace order) and the timing object.
struct SweepParts {
  SweepIdentity identity;
  std::vector<nlohmann::ordered_json> results;
  std::vector<nlohmann::ordered_json> inputs;
  nlohmann::ordered_json timing;
};

// The result objects and inputs of a run (timing left empty).
SweepParts sweep_parts(const SweepConfig& config, Shard shard, const SweepOutcome& outcome);

// One entry of timing.runs for this process.
nlohmann::ordered_json timing_run(Shard shard, const SweepOutcome& outcome, std::size_t group, double wall_seconds);

// The document; for a whole sweep (shard 1/1) with the frontier computed.
nlohmann::ordered_json sweep_document(SweepParts parts);

// One row per result: "point", then "pareto" when known, then every scalar field in the order
// the results first show it; nested objects flatten to NAME_KEY (failures_by_reason_slots,
// params_size); arrays are left out; missing and null cells are empty.
std::string sweep_csv(const nlohmann::ordered_json& document);

// Per trace: each point's policy, DART, peaks and failures, the frontier marked.
void print_sweep_table(std::FILE* out, const nlohmann::ordered_json& document);

// What the frontier minimises.
struct ParetoObjectives {
  std::uint64_t peak_mappings = 0;
  std::uint64_t peak_mapped_bytes = 0;
  std::uint64_t failed_maps = 0;
  std::uint64_t waits = 0;  // cap: requests that waited for room (a cost like a refusal, milder)
  friend bool operator==(const ParetoObjectives&, const ParetoObjectives&) = default;
};

// True for each point no other point dominates (as good in all four and better in one).
// Points with equal objectives do not dominate each other: all of them are on the frontier.
std::vector<bool> pareto_front(std::span<const ParetoObjectives> points);

}  // namespace dartlab::sim
