// SPDX-License-Identifier: MIT
// Shrinking a stress failure: from the soak's events up to its first refused map, a small trace
// that fails the same way (the same reason for its first refused map) under the same policy x
// DART, by ddmin (shrink_ddmin.hpp) over requests: a map with its unmap is one unit, so every
// candidate is a consistent trace. Each candidate is replayed from scratch.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sim/replay/replay.hpp"
#include "traces/event.hpp"
#include "traces/trace_writer.hpp"

namespace dartlab::sim {

// The events of a soak, kept for shrinking: 48 bytes an event plus 16 per map_sg segment (the
// one cost of --shrink that grows with the run, not with the live set). Times are not kept.
class StressHistory {
 public:
  void record(const trace::Event& ev);
  std::size_t size() const { return events_.size(); }
  std::uint64_t memory_bytes() const {
    return events_.capacity() * sizeof(Stored) + segments_.capacity() * sizeof(trace::Segment);
  }
  // Event i as recorded; its segments live in the history.
  trace::Event event(std::size_t i) const;

 private:
  struct Stored {
    std::uint64_t id;
    std::uint64_t gpa;
    std::uint64_t len_bytes;
    std::uint64_t align_bytes;
    std::uint32_t seg_first;
    std::uint32_t seg_count;
    std::uint16_t device;
    trace::EventKind kind;
    trace::Direction dir;
  };
  static_assert(sizeof(Stored) == 48);
  std::vector<Stored> events_;
  std::vector<trace::Segment> segments_;
};

struct ShrinkOptions {
  double max_seconds = 60;  // a guess: long enough for prefixes of 10^5 requests, short enough to wait for
};

struct ShrinkResult {
  std::vector<std::uint32_t> events;  // history indices of the shrunk trace, ascending
  FirstFailure failure;               // where the shrunk trace fails (event counted in it)
  std::uint64_t from_events = 0;      // the prefix shrunk: history events up to the failure
  std::uint64_t from_requests = 0;
  std::uint64_t requests = 0;  // requests left
  std::uint64_t predicate_calls = 0;
  double seconds = 0;
  bool complete = false;  // the search ran to its end: no single request can be removed (1-minimal)
  bool live_cut = false;  // only requests live at the failure were needed
  std::uint64_t ranked_cut_requests = 0;  // after the largest-first cut (0: not tried)
};

// Shrinks the history's first `prefix_events` events (the last of them the refused map) to a
// trace whose first refused map under `run` is refused for `reason`, in steps:
// 1. Access events go: they translate, never change what is mapped where.
// 2. The requests still live at the failure are tried alone. A slots or aperture failure
//    depends on what is live, not on how it got there, so this usually holds for them and drops
//    all the churn at once; a fragmented one needs the released requests that cut the holes.
// 3. If it held: the refused request, then the others largest first, the shortest such list
//    that fails (bisection): the fewest requests that fill the slots or the bytes. Then single
//    removals to a 1-minimal trace.
// 4. Else ddmin (complement first) over every request, which ends 1-minimal.
// Stops at options.max_seconds with the smallest failing trace found (complete = false).
// Throws std::logic_error if the prefix itself does not fail so (the soak and a replay disagree).
ShrinkResult shrink_failure(const StressHistory& history, std::uint64_t prefix_events, const RunConfig& run,
                            dartlab::MapError reason, const ShrinkOptions& options);

// Replays history events (indices, in order) under `run` from an empty DART, up to the first
// refused map. The returned failure's event counts within `events`.
FirstFailure replay_events(const StressHistory& history, std::span<const std::uint32_t> events,
                           const RunConfig& run);

// Writes history events as a trace, ids renumbered from 1 in the order they were mapped.
void write_events(const StressHistory& history, std::span<const std::uint32_t> events, trace::TraceWriter& writer);

}  // namespace dartlab::sim
