// SPDX-License-Identifier: MIT
// Runs a sweep's points (all, or one shard's) on a pool of threads. Points that share a trace go
// in passes: one read of the trace replays several configurations (sim::Replay), and passes run
// side by side, one per thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "sim/replay/replay_file.hpp"
#include "sim/sweep/config.hpp"

namespace dartlab::sim {

// Configurations per pass at most. One read of a trace (its decode, its id table) serves every
// configuration of a pass, but their mappers' and DARTs' tables crowd each other out of the
// cache, and since the allocators and the replay's bookkeeping got faster the tables are most of
// the cost. Measured on the development VM (bench/sweep_bench.toml: 20 points over a 10 M-event
// game trace, user CPU seconds, --jobs 1): groups of 1, 2, 3, 4, 5, 10 took 12.5, 10.1, 12.6,
// 14.1, 12.7, 13.9 s. The 18 window-like points alone: groups of 2, 3, 6, 9, 18 took 8.6, 8.6,
// 8.8, 11.1, 11.5 s; a direct point's tables grow with live requests, and one in a pass of three
// slows the other two. (Before, with slower allocators: 1, 2, 5, 10, 20 took 10.7, 8.1, 7.4, 7.4,
// 8.7 s over 2 M events, and the default was 10.) Since the DART's slot entries shrank and its
// space figures are computed only when read, the tables crowd each other less: the same bench,
// wall seconds, medians of 3, alternating, --jobs 1: groups of 2, 3, 4, 5 took 9.78, 9.42, 9.03,
// 8.70 s; --jobs 2: 5.41, 5.16 (and 5.26), 5.66, 5.07 s (groups of 4 leave five passes for two
// threads). The default is 5, the fastest on one core and as fast as any on two.
inline constexpr std::size_t kDefaultSweepGroup = 5;

struct SweepRunOptions {
  unsigned jobs = 1;                          // threads running passes
  std::size_t max_group = kDefaultSweepGroup;  // configurations per pass, 1..Replay::kMaxRuns
  // Each pass parses on its own reader thread (replay_file's default) or inline. Inline by
  // default: the passes already keep every core busy.
  bool reader_thread = false;
  // On two threads or more, passes advance this many events at a time, on whichever thread is
  // free (run.cpp); rounded down to whole batches of 1,024, at least one. Tests make it small.
  std::size_t slice_events = 16 * 1024;
};

// One read of a trace, replaying several points.
struct SweepPass {
  std::size_t trace = 0;
  std::vector<std::size_t> points;  // ascending
  std::uint64_t cost = 0;           // the estimate the schedule sorts by: file bytes x points
};

// The passes for the shard's points, most expensive first. Each trace's points are cut into
// ceil(points / max_group) passes, or more when there are fewer passes than jobs, and dealt
// round-robin so that the cheap and the costly configurations of a trace mix in every pass.
std::vector<SweepPass> plan_sweep(const SweepConfig& config, Shard shard, unsigned jobs, std::size_t max_group);

// Read by the caller's tick while workers add to it.
struct SweepProgress {
  std::uint64_t work_total = 0;                // sum over passes of file bytes x points
  std::atomic<std::uint64_t> work_done{0};     // bytes read x points of their pass
  std::uint64_t points_total = 0;
  std::atomic<std::uint64_t> points_done{0};
  std::atomic<std::uint64_t> point_events{0};  // events replayed, once per point
};

// One trace's results: outcome.results[i] is the result of point points[i].
struct SweepTraceOutcome {
  TraceOutcome outcome;
  std::vector<std::size_t> points;  // ascending
};

struct SweepOutcome {
  std::vector<SweepTraceOutcome> traces;  // the traces the shard replays, in config order
  std::size_t passes = 0;
  unsigned jobs = 0;  // threads actually started
  std::uint64_t slices = 0;     // on two threads or more: slices replayed
  std::uint64_t pass_moves = 0;  // and of those, slices of a pass a thread took over from another
};

// Runs the plan. `tick` is called on the calling thread about four times a second while the
// workers run. A malformed trace stops the sweep: the message is "FILE:LINE: error: ...";
// passes still running stop at their slice's end (on one thread, the pass running finishes),
// none starts.
std::variant<SweepOutcome, std::string> run_sweep(const SweepConfig& config, Shard shard,
                                                  const SweepRunOptions& options, SweepProgress& progress,
                                                  const std::function<void()>& tick = {});

}  // namespace dartlab::sim
