// The functional replay engine: feeds one trace's events to one or more (policy, DART) pairs
// at once, checks the trace's own consistency once, and gathers per-pair results.
//
// Memory follows live requests: the id table, segment arena and per-pair mappings are pools that
// grow with the live set and are recycled; nothing is allocated per event in steady state.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "models/dart/dart.hpp"
#include "models/dart/dart_backend.hpp"
#include "passthrough/mapper/flat_map.hpp"
#include "passthrough/mapper/mapper.hpp"
#include "traces/event.hpp"

namespace dartlab::sim {

// One configuration to evaluate: a clustering policy over a DART.
struct RunConfig {
  mapper::Policy policy;
  dart::DartConfig dart;
};

struct FirstFailure {
  bool happened = false;
  std::uint64_t event = 0;  // 1-based position of the event in the trace
  std::uint64_t line = 0;   // the trace line, when the source has lines
  mapper::MapError reason = mapper::MapError::Invalid;
};

struct RunResult {
  std::string policy;  // canonical specs
  std::string dart;
  std::uint64_t requests = 0;  // map requests (an sg segment counts one)
  std::uint64_t peak_mappings = 0;
  std::uint64_t peak_mapped_bytes = 0;
  std::uint64_t peak_requested_bytes = 0;
  std::uint64_t host_map_calls = 0;
  std::uint64_t host_unmap_calls = 0;
  std::uint64_t failed_maps = 0;  // refused requests (an sg list refused counts its failing segment)
  std::array<std::uint64_t, mapper::kMapErrorCount> failures_by_reason{};
  FirstFailure first_failure;
  std::uint64_t dropped_unmaps = 0;  // unmaps of requests that had been refused
  std::uint64_t access_checks = 0;   // access events translated through the DART
  std::uint64_t access_faults = 0;   // of which faulted (never expected)
  std::uint64_t final_live_mappings = 0;
  std::uint64_t final_mapped_bytes = 0;
  std::uint64_t dart_peak_tables = 0;
  std::uint64_t min_largest_free_bytes = 0;  // the smallest largest-free-extent seen after a map
};

struct ReplayOptions {
  bool lenient = false;  // trace inconsistencies become counted warnings instead of errors
};

// A trace inconsistency found while replaying (unmap of an unknown id, ...).
struct ReplayIssue {
  std::uint64_t event = 0;
  std::string message;
};

class Replay {
 public:
  // Throws std::invalid_argument when more than kMaxRuns configurations are given.
  Replay(std::span<const RunConfig> runs, ReplayOptions options = {});
  ~Replay();
  Replay(const Replay&) = delete;
  Replay& operator=(const Replay&) = delete;

  static constexpr std::size_t kMaxRuns = 64;

  // Applies one event to every run. Returns false on a trace inconsistency (not in lenient mode);
  // issue() then says what. `line` is only used in messages and first_failure (0 = unknown).
  bool apply(const trace::Event& ev, std::uint64_t line = 0);

  const ReplayIssue& issue() const { return issue_; }
  std::uint64_t events() const { return events_; }
  std::uint64_t warnings() const { return warnings_; }
  const std::vector<std::string>& warning_samples() const { return warning_samples_; }
  std::uint64_t live_requests() const { return by_id_.size(); }

  std::size_t run_count() const { return runs_.size(); }
  RunResult result(std::size_t run) const;
  const dart::Dart& dart_of(std::size_t run) const;
  const mapper::Mapper& mapper_of(std::size_t run) const;

 private:
  struct Run;
  struct Record {
    trace::EventKind kind;
    std::uint32_t seg_offset;
    std::uint32_t seg_count;
    std::uint64_t failed_runs;  // bit r: run r refused this request
    std::uint64_t line;
  };

  bool on_map(const trace::Event& ev, std::uint64_t line);
  bool on_unmap(const trace::Event& ev);
  bool on_access(const trace::Event& ev);
  bool report(std::string message);  // records an issue; true (go on) when lenient

  std::uint32_t alloc_segments(std::uint32_t count);
  void free_segments(std::uint32_t offset, std::uint32_t count);

  std::vector<std::unique_ptr<Run>> runs_;
  ReplayOptions options_;
  std::uint64_t events_ = 0;
  std::uint64_t current_line_ = 0;
  std::uint64_t warnings_ = 0;
  std::vector<std::string> warning_samples_;
  ReplayIssue issue_;

  mapper::FlatMap<std::uint64_t, std::uint32_t> by_id_;  // live id -> record index
  std::vector<Record> records_;
  std::vector<std::uint32_t> free_records_;
  // Segments of live requests, in blocks of power-of-two sizes recycled through per-size free
  // lists; every run keeps its mappings at the same offsets.
  std::vector<mapper::MapSegment> segments_;
  std::array<std::vector<std::uint32_t>, 14> free_blocks_;  // block of 2^i segments, i <= 13 (8192)
  // Recently released ids, so that a double unmap can be told from an unmap of a never-mapped id.
  mapper::FlatMap<std::uint64_t, std::uint64_t> recently_released_;  // id -> event index
  std::vector<std::uint64_t> released_ring_;
  std::size_t released_next_ = 0;
};

}  // namespace dartlab::sim
