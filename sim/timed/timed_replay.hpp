// SPDX-License-Identifier: MIT
// The timed replay: a trace through the platform (GPU copy engine -> link -> DART -> host
// memory), with the functional mapper and DART deciding every mapping (as sim/replay does) and
// the timed models charging what it costs: map and unmap requests go through the mapping path
// (mapping_path.hpp), DMA transfers through the link and the DART's IOTLB and walks.
//
// Transfers are the trace's access events or, for a trace that has none, the synthetic pattern:
// right after a map, each of its segments is transferred once in full, in the map's direction
// (to_dev: the device reads it, h2d; from_dev: the device writes it, d2h; bidi and alloc: the
// device reads it). AccessSource::Auto decides by the first 100,000 events of the file (an access
// among them: the trace's); on standard input it makes synthetic transfers until the first
// access event.
//
// Events run one after another on one timeline: the guest maps (the device waits), the device
// transfers, the guest unmaps. Timestamps in the trace are not honoured.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/dart/translation.hpp"
#include "sim/replay/replay_file.hpp"
#include "sim/timed/mapping_path.hpp"
#include "sim/timed/timed_config.hpp"

namespace dartlab::sim::timed {

struct TimedOptions {
  bool lenient = false;  // trace inconsistencies become counted warnings instead of errors
  InputOptions input{};
};

struct LatencySummary {
  std::uint64_t count = 0;
  std::uint64_t p50_ps = 0;
  std::uint64_t p99_ps = 0;
  std::uint64_t max_ps = 0;
  double mean_ps = 0;
};

struct TimedResult {
  std::string trace;
  std::string format;
  std::string policy;
  std::string dart;
  std::string link;
  std::string host;
  std::string access;  // the source used: "trace", "synthetic", or "auto" (standard input)

  std::uint64_t events = 0;
  std::uint64_t map_requests = 0;  // segments asked for (an sg list counts each)
  std::uint64_t failed_maps = 0;
  std::uint64_t unmap_requests = 0;
  std::uint64_t dropped_unmaps = 0;  // unmaps of refused requests
  std::uint64_t trace_transfers = 0;
  std::uint64_t synthetic_transfers = 0;
  std::uint64_t faulted_transfers = 0;
  std::uint64_t skipped_accesses = 0;  // accesses to refused requests
  std::uint64_t dma_transactions = 0;

  std::uint64_t simulated_ps = 0;
  std::uint64_t mapping_ps = 0;  // the device waited for map and unmap requests
  std::uint64_t transfer_ps[2] = {0, 0};  // by dartlab::bus::DmaDir
  std::uint64_t bytes[2] = {0, 0};
  LatencySummary map_latency;
  LatencySummary unmap_latency;
  MappingTime host_time;  // the host's time by step (includes flushes nobody waited for)
  MappingCounts host_counts;
  // The flush's busy-poll as configured: a flush slower than the timeout is cut off there (and
  // counted in host_counts.flush_timeouts), which a real host reports as an error.
  std::uint64_t flush_hw_ns = 0;
  std::uint64_t poll_timeout_ns = 0;

  dart::IotlbStats iotlb;
  dart::DartTlmStats dart_stats;
  std::uint64_t table_reads = 0;  // seen by host memory
  thunderbolt::LinkStats link_stats;

  std::uint64_t warnings = 0;
  std::vector<std::string> warning_samples;
  double wall_seconds = 0;

  double gib_per_s(dartlab::bus::DmaDir dir) const;
  double iotlb_hit_rate() const { return iotlb.hit_rate(); }
  std::uint64_t transfer_ps_total() const { return transfer_ps[0] + transfer_ps[1]; }
};

// On a parse error or trace inconsistency, the message "FILE:LINE[:COL]: error: ..."; on a
// config the models refuse, the reason.
std::variant<TimedResult, std::string> timed_replay_file(const std::string& path, const TimedConfig& config,
                                                         const TimedOptions& options = {});

// The JSON a replay's result gets: simulated time, mapping vs transfer time, DMA GiB/s each
// way, IOTLB hit rate, map latency p50/p99, and the counts behind them.
nlohmann::ordered_json timed_json(const TimedResult& result);
// A few lines for people.
std::string timed_summary(const TimedResult& result);
// Why the result's timing cannot be trusted as it stands (flushes that hit the poll timeout),
// or empty.
std::string timed_warning(const TimedResult& result);

}  // namespace dartlab::sim::timed
