// SPDX-License-Identifier: MIT
// What `dartlab report` reads: the JSON of `dartlab replay --json` and `dartlab sweep --json`,
// checked field by field as hostile input. Errors name the file and the field
// ("a.json: results[3].series.mapped_bytes[17]: ..."), never a half-read result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dartlab::sim::report {

// Columnar time series, each point the maximum over a bucket of consecutive events.
struct Series {
  std::vector<double> event;  // 1-based event number ending the bucket, ascending
  std::vector<double> live_mappings;
  std::vector<double> mapped_bytes;
  std::vector<double> requested_bytes;
  std::vector<double> frag_index;  // 0..1
  std::vector<double> waiting;     // cap: requests waiting for room; empty when the run never waited
};

// cap: what waiting for room cost a run.
struct Waits {
  std::uint64_t count = 0;
  std::uint64_t longest_events = 0;
  std::uint64_t cancelled = 0;
  std::uint64_t still_waiting = 0;
};

struct FirstFailure {
  std::uint64_t event = 0;
  std::string reason;
  std::optional<std::uint64_t> line;
};

struct Limits {
  std::optional<std::uint64_t> slots;  // empty: unlimited
  std::uint64_t aperture_bytes = 0;
  // The DART page mapped bytes are counted in. Replays that do not say it counted 16 KiB pages
  // whatever the DART's page.
  std::uint64_t page_bytes = 16384;
};

// One (trace, policy, dart) result. Fields newer than the first replay JSON are optional, so an
// older file still reports what it has.
struct Result {
  std::size_t input = 0;  // index into Data::inputs
  std::size_t index = 0;  // position in that file's "results"
  std::string trace, policy, dart;
  std::uint64_t events = 0;
  std::uint64_t requests = 0;
  std::uint64_t peak_mappings = 0;
  std::uint64_t peak_mapped_bytes = 0;
  std::uint64_t peak_requested_bytes = 0;
  std::uint64_t failed_maps = 0;
  std::vector<std::pair<std::string, std::uint64_t>> failures_by_reason;  // in the file's order
  std::optional<FirstFailure> first_failure;
  std::optional<std::uint64_t> reuse_hits;
  std::optional<std::uint64_t> alignment_violations;
  std::optional<std::uint64_t> exposure_peak_bytes;
  std::optional<double> exposure_mean_bytes;
  std::optional<double> frag_index_peak;
  std::optional<double> frag_index_final;
  std::optional<Limits> limits;
  std::optional<Waits> waits;
  std::optional<Series> series;
  std::optional<std::uint64_t> point;  // the sweep point it came from
  std::optional<bool> pareto;          // on the frontier, as the sweep says; empty: not said
};

// One run of `dartlab replay --timed` ({"timed": [...]}): where its simulated time went and
// what a map cost. Fields the timed JSON has always had are required; newer ones optional.
struct TimedRun {
  std::size_t input = 0;
  std::size_t index = 0;  // position in that file's "timed"
  std::string trace, policy, dart, link;
  std::uint64_t events = 0;
  std::uint64_t map_requests = 0;
  std::uint64_t failed_maps = 0;
  std::uint64_t faults = 0;
  double simulated_ns = 0;
  double mapping_ns = 0;  // the device waited for the host's map and unmap work
  double transfer_h2d_ns = 0;
  double transfer_d2h_ns = 0;
  // The host's time by step, in the file's order (doorbell, mapper, service, pte, invalidation).
  std::vector<std::pair<std::string, double>> host_ns;
  double dma_gib_per_s_h2d = 0;
  double dma_gib_per_s_d2h = 0;
  double iotlb_hit_rate = 0;
  std::uint64_t map_count = 0;
  double map_p50_ns = 0, map_p99_ns = 0, map_max_ns = 0;
  std::uint64_t host_maps = 0;
  std::uint64_t flushes = 0;
  std::optional<std::uint64_t> flush_timeouts;
};

struct SweepInfo {
  std::string name;
  std::string hash;
  std::string shard;  // as written (a string, a number or a small object), as compact JSON text
  std::optional<std::uint64_t> points;
};

struct Input {
  std::string path;
  std::size_t results = 0;
  std::size_t timed = 0;
  std::optional<SweepInfo> sweep;
  bool pareto_given = false;  // the file says which results are on the frontier
};

struct Data {
  std::vector<Input> inputs;
  std::vector<Result> results;
  std::vector<TimedRun> timed;
};

// Limits on what one file may hold, against inputs built to exhaust memory.
inline constexpr std::size_t kMaxSeriesPoints = 1u << 16;  // the lead's series have at most 1024
inline constexpr std::size_t kMaxInputBytes = std::size_t{1} << 30;
inline constexpr std::size_t kMaxStringBytes = 4096;  // trace paths and spec strings

// Parses one file's text into `into` (results or timed runs appended, an Input added): the JSON of
// `dartlab replay`, `replay --timed` or `sweep`. On error nothing is added and the message names
// `path` and the field.
std::string parse_results_json(const std::string& path, std::string_view text, Data& into);

// Reads and parses a file ("-": standard input).
std::string load_results_file(const std::string& path, Data& into);

}  // namespace dartlab::sim::report
