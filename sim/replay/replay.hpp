// SPDX-License-Identifier: MIT
// The functional replay engine: feeds one trace's events to one or more (policy, DART) pairs
// at once, checks the trace's own consistency once, and gathers per-pair results (the metrics
// each run keeps beside its mapper's and DART's counters: metrics.hpp).
//
// Memory follows live requests: the id table, segment arena and per-pair mappings are pools that
// grow with the live set and are recycled; nothing is allocated per event in steady state.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "models/dart/dart.hpp"
#include "passthrough/backends/dart_backend.hpp"
#include "base/flat_map.hpp"
#include "base/huge_page_allocator.hpp"
#include "passthrough/mapper/mapper.hpp"
#include "sim/replay/id_table.hpp"
#include "sim/replay/metrics.hpp"
#include "sim/replay/series.hpp"
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
  dartlab::MapError reason = dartlab::MapError::Invalid;
  // The refused request: under cap: it may have waited, and been refused at a later event (a
  // release that let it try); `line` is then its own map's line.
  trace::EventKind kind = trace::EventKind::Map;
  std::uint64_t gpa = 0;            // its first segment's
  std::uint64_t request_bytes = 0;  // every segment's
  std::uint32_t segments = 1;
};

struct RunResult {
  std::string policy;  // canonical specs
  std::string dart;
  std::uint64_t requests = 0;  // map requests (an sg segment counts one)
  std::uint64_t peak_mappings = 0;
  std::uint64_t peak_mapped_bytes = 0;  // in the DART's pages, as every mapped byte count here
  std::uint64_t peak_requested_bytes = 0;
  std::uint64_t host_map_calls = 0;
  std::uint64_t host_unmap_calls = 0;
  std::uint64_t failed_maps = 0;  // refused requests (an sg list refused counts its failing segment)
  std::array<std::uint64_t, dartlab::kMapErrorCount> failures_by_reason{};
  FirstFailure first_failure;
  std::uint64_t dropped_unmaps = 0;  // unmaps of requests that had been refused
  std::uint64_t access_checks = 0;   // access events translated through the DART
  std::uint64_t access_faults = 0;   // of which faulted (never expected)
  std::uint64_t final_live_mappings = 0;
  std::uint64_t final_mapped_bytes = 0;
  std::uint64_t dart_peak_tables = 0;
  std::uint64_t min_largest_free_bytes = 0;  // the smallest largest-free-extent seen after a map
  std::uint64_t reuse_hits = 0;            // requests served by a host mapping kept alive after release
  std::uint64_t alignment_violations = 0;  // requests with an align= whose DMA address breaks it
  // Exposure: bytes the device can reach beyond the bytes requested (mapped - requested, at 0 when
  // overlapping requests make it negative), after every event: its peak and its mean over events.
  std::uint64_t exposure_peak_bytes = 0;
  double exposure_mean_bytes = 0;
  // The aperture's fragmentation, 1 - largest free extent / free bytes (0 when nothing is free).
  double frag_index_peak = 0;
  double frag_index_final = 0;
  std::uint64_t slot_limit = 0;  // the DART's, 0 = unlimited
  std::uint64_t aperture_bytes = 0;
  std::uint64_t page_bytes = 0;  // the DART's page, the unit of every mapped byte count
  std::vector<SeriesPoint> series;  // empty unless ReplayOptions::series_points
  // cap: requests that waited for room; the longest wait, in events from the map to the event
  // that served or cancelled it (a wait still open counts to the last event); waits an unmap
  // cancelled; requests still waiting at the end; and accesses the trace made to a request while
  // it waited (skipped: the real driver would still be blocked in its map).
  std::uint64_t waits = 0;
  std::uint64_t longest_wait_events = 0;
  std::uint64_t cancelled_waits = 0;
  std::uint64_t waiting_at_end = 0;
  std::uint64_t waiting_accesses = 0;
};

struct ReplayOptions {
  bool lenient = false;  // trace inconsistencies become counted warnings instead of errors
  std::size_t series_points = 0;  // keep a time series of at most this many points per run (0: none)
  // What the positions given with events count, for messages: "line", or "event" (binary traces).
  std::string_view position_unit = "line";
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
  // apply_batch reads ahead over groups of this many events, the id slots one group ahead.
  static constexpr std::size_t kGroup = 32;

  // Applies one event to every run. Returns false on a trace inconsistency (not in lenient mode);
  // issue() then says what. `line` is only used in messages and first_failure (0 = unknown).
  bool apply(const trace::Event& ev, std::uint64_t line = 0);

  // Applies events in order exactly as apply() would, reading ahead over groups of kGroup of
  // them to start their cache misses together (the id table and each released request's arena
  // block outgrow the caches with tens of thousands of live requests). Returns how
  // many were applied: fewer than events.size() when an inconsistency stopped the replay.
  std::size_t apply_batch(std::span<const trace::Event> events, std::span<const std::uint64_t> lines);

  const ReplayIssue& issue() const { return issue_; }
  std::uint64_t events() const { return events_; }
  std::uint64_t warnings() const { return warnings_; }
  const std::vector<std::string>& warning_samples() const { return warning_samples_; }
  std::uint64_t live_requests() const { return by_id_.size(); }

  std::size_t run_count() const { return runs_.size(); }
  RunResult result(std::size_t run) const;
  // Cheap views for callers that watch a run event by event (stress): its first refused map so
  // far, and its DART's state now. No copies, no allocation.
  const FirstFailure& first_failure(std::size_t run) const;
  const dart::DartStats& dart_stats(std::size_t run) const;
  const mapper::MapperStats& mapper_stats(std::size_t run) const;

 private:
  struct Run;
  // A live request, stored in the id table itself (16-byte slots keep the table small). The
  // cold fields, the line and which runs refused it, sit in its arena block's header cell.
  struct Record {
    std::uint32_t block;      // arena offset of the request's block
    std::uint16_t seg_count;  // 1..8192
    trace::EventKind kind;
  };
  static constexpr std::uint64_t kNoId = IdTable<Record>::kEmpty;  // marks empty id-table slots
  struct Released {
    std::uint64_t id;
    std::uint64_t event;  // 0: empty ring slot
  };

  // apply_batch's body, for one run or several (the templates below).
  template <bool kOneRun>
  std::size_t apply_events(std::span<const trace::Event> events, std::span<const std::uint64_t> lines);
  template <bool kOneRun>
  bool apply_one(const trace::Event& ev, std::uint64_t line);
  // The two common events come in two copies: for one run (the loop over runs gone: no counter and
  // fewer values carried across the mapper's calls; 132 M of 1,939 M instructions in
  // BM_ReplayEngine) and for several.
  template <bool kOneRun>
  bool on_single_map(const trace::Event& ev, std::uint64_t line);  // map, alloc
  bool on_map_sg(const trace::Event& ev, std::uint64_t line);
  bool report_taken_id(const trace::Event& ev);  // a map of a live id, or of the reserved one
  template <bool kOneRun>
  bool on_unmap(const trace::Event& ev);
  bool report_bad_unmap(const trace::Event& ev, const Record* found);
  void release_refused(std::size_t run, std::uint32_t block);  // an unmap of a request the run refused
  void release_segments(std::size_t run, std::uint32_t block, std::uint32_t segments);  // an sg list's
  bool on_access(const trace::Event& ev);
  // Maps a request's segments, kept in its block, in one run: one map, or an all-or-nothing
  // list. The mappings go into the block; the result says whether and why not.
  dartlab::Result<bool> map_request(std::size_t run, std::uint32_t block, std::uint32_t segments,
                                   bool sg, dartlab::Direction dir);
  // What a run records after a map: a served one's alignment and the DART's peaks; the first
  // refusal. A refusal changed nothing the metrics read (RunMetrics::after_map).
  void after_map(std::size_t run, std::uint32_t block, std::uint32_t segments, trace::EventKind kind,
                 const dartlab::Result<bool>& mapped, std::uint64_t align_bytes, std::uint64_t line);
  // cap: a request turned away at the cap waits in its run's queue, in trace order; every
  // release in that run serves the queue's head until one is turned away again.
  void wait(std::size_t run, std::uint32_t block, const trace::Event& ev, dartlab::Direction dir);
  void serve_waiting(std::size_t run);
  bool waiting(std::uint32_t block, std::size_t run) const;
  void end_wait(std::size_t run, std::uint32_t block);  // an unmap cancels it
  // Records an issue; true (go on) when lenient. Only for an event refused before any run saw
  // it: it observes every run, as the event's handler would have (observe_all()).
  bool report(std::string message);
  // Every event observes each run once, after its work in that run: the handlers do it inside
  // their loops over the runs, and an event refused before any run saw it here.
  void observe_all();

  // The arena: a request of n segments takes a block of 1 + n * stride_ cells, a power of two
  // aligned to its size: a header cell (failed runs, line), then each segment's cell followed by
  // its mapping in each run. With one run a 4 KiB map is one 64-byte cache line.
  struct Cell {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
  };
  // Free blocks are popped and pushed inline (every map and unmap); only growing the arena is not.
  // Each size's free blocks wait on a stack of their offsets, sized when a block of that size is
  // made, so that a push needs no capacity check. A pop is a load from the stack's top, in cache:
  // the free list threaded through the blocks' own header cells that this replaced had each pop
  // load the next free block's offset from the popped block, cold after a burst of maps, and perf
  // put 43% of the engine's own samples in BM_ReplayEngine on that load. The block popped is
  // still the last one freed.
  std::uint32_t alloc_block(std::uint32_t segments) {
    const unsigned cls = class_of(segments);
    FreeBlocks& f = free_[cls];
    if (f.count == 0) [[unlikely]] return grow_arena(cls);
    return f.offsets[--f.count];
  }
  void free_block(std::uint32_t block, std::uint32_t segments) {
    FreeBlocks& f = free_[class_of(segments)];
    f.offsets[f.count++] = block;
  }
  std::uint32_t grow_arena(unsigned cls);
  std::uint64_t failed_runs(std::uint32_t block) const { return arena_[block].a; }
  std::uint64_t line_of(std::uint32_t block) const { return arena_[block].b; }
  mapper::MapSegment segment(std::uint32_t block, std::uint32_t i) const {
    const Cell& c = arena_[block + 1 + i * stride_];
    return {c.a, c.b};
  }
  mapper::Mapping mapping(std::uint32_t block, std::uint32_t i, std::size_t run) const {
    const Cell& c = arena_[block + 1 + i * stride_ + 1 + run];
    return {c.a, mapper::MapToken::unpack(c.b)};
  }
  void set_segment(std::uint32_t block, std::uint32_t i, std::uint64_t gpa, std::uint64_t len) {
    arena_[block + 1 + i * stride_] = Cell{gpa, len};
  }
  void set_mapping(std::uint32_t block, std::uint32_t i, std::size_t run, const mapper::Mapping& m) {
    arena_[block + 1 + i * stride_ + 1 + run] = Cell{m.dma_addr, m.token.pack()};
  }
  unsigned class_of(std::uint32_t segments) const {
    return segments == 1 ? single_class_ : size_class(1 + segments * stride_);
  }
  static unsigned size_class(std::uint32_t cells) {
    return static_cast<unsigned>(std::bit_width(std::bit_ceil(cells)) - 1);
  }

  std::vector<std::unique_ptr<Run>> runs_;
  bool one_run_ = false;  // runs_.size() == 1
  ReplayOptions options_;
  std::uint64_t events_ = 0;
  std::uint64_t current_line_ = 0;
  std::uint64_t warnings_ = 0;
  std::vector<std::string> warning_samples_;
  ReplayIssue issue_;

  IdTable<Record> by_id_;  // live id -> request
  // Blocks have power-of-two sizes and are recycled through per-size free lists.
  std::vector<Cell, dartlab::HugePageAllocator<Cell>> arena_;
  std::size_t arena_end_ = 0;  // cells handed out to blocks; arena_ may hold more, not yet used
  std::uint32_t stride_ = 2;  // cells per segment: the segment and one mapping per run
  unsigned single_class_ = 2;  // the size class of a one-segment request's block
  struct FreeBlocks {
    std::vector<std::uint32_t> offsets;  // at least as long as the blocks of this size made so far
    std::uint32_t count = 0;             // free blocks: offsets[0, count)
    std::uint32_t made = 0;
  };
  std::array<FreeBlocks, 24> free_;  // per size class
  std::vector<mapper::MapSegment> sg_in_;  // scratch for map_sg, grown to the largest list seen
  std::vector<mapper::Mapping> sg_out_;
  // The last released ids, so that a double unmap can be told from an unmap of a never-mapped
  // id. Written in sequence on every release; searched only when an unmap names no live id.
  std::vector<Released> released_ring_;
  std::size_t released_next_ = 0;
};

}  // namespace dartlab::sim
