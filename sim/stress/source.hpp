// SPDX-License-Identifier: MIT
// Where a stress soak's events come from: a workload generator run without a drain, or a trace
// looped over and over with fresh ids and a page-aligned gpa shift per loop. Both are
// deterministic per seed and streamed: memory follows the live requests, never the run's length.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/replay/replay_file.hpp"
#include "traces/event.hpp"
#include "traces/gen/generator.hpp"

namespace dartlab::sim {

class StressSource {
 public:
  enum class Status { Event, End, Error };
  virtual ~StressSource();
  // The next event; ev.segments stays valid until the next call. After End or Error, the same
  // again.
  virtual Status next(trace::Event& ev) = 0;
  // After Error: "FILE:LINE: error: ..." (or "FILE: error: ...").
  virtual const std::string& error() const = 0;
  // Where the last event came from, as a message prefix: "FILE:LINE (loop 3)" or "churn event 12".
  virtual std::string locate() const = 0;
  virtual const std::vector<std::string>& devices() const = 0;
};

// `profile` with `params`, never drained (a soak stops at a failure or its bound, not at an
// end), stopping after params.events. nullptr with the reason in *error for a bad profile or
// parameter (the message names the flag).
std::unique_ptr<StressSource> make_generator_source(std::string_view profile, trace::gen::GenParams params,
                                                    std::string* error);

// What a loop does with the requests its trace left live at its end.
enum class Leftovers {
  Drain,  // released at the end of the loop, oldest first: every loop starts from the same live set
  Keep,   // kept live for the rest of the soak: a trace that leaks grows the live set every loop
};
std::string_view to_string(Leftovers leftovers);

struct LoopOptions {
  // Loops after the first shift every gpa by a multiple of kJitterUnitBytes drawn uniformly in
  // [0, jitter_bytes] from the seed (0: every loop replays the same addresses).
  std::uint64_t jitter_bytes = 0;
  std::uint64_t seed = 1;
  Leftovers leftovers = Leftovers::Drain;
  InputOptions input = {};
};

// The DART's page: a shift by whole 16 KiB pages moves every request to new guest addresses
// while keeping which of the trace's pages share a 16 KiB granule, the grain at which policies
// cluster, so each loop asks for the same mapping shapes at new places.
inline constexpr std::uint64_t kJitterUnitBytes = 16 * 1024;

// `path` read again for every loop (never standard input: it cannot be read twice). Ids are
// renumbered from 1 across loops, so no two requests of the soak share one. An inconsistent
// trace (unmap of an id not live in its loop, a map of an id still live, an access to a dead
// one), a parse error, a shift past 2^64 or a trace without events is an Error.
std::unique_ptr<StressSource> make_looped_trace_source(const std::string& path, const LoopOptions& options);

}  // namespace dartlab::sim
