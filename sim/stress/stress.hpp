// SPDX-License-Identifier: MIT
// A stress soak: one policy x DART configuration fed events from a StressSource until the
// first refused map or a bound, watching the DART's fragmentation on the way.
//
//
// Memory follows the live set: the replay engine's pools, the source's live requests and a
// fixed-size curve. Only a caller that wants to shrink the failure keeps the events (history).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "sim/replay/replay.hpp"
#include "sim/replay/series.hpp"
#include "sim/stress/curve.hpp"
#include "sim/stress/shrink.hpp"
#include "sim/stress/source.hpp"

namespace dartlab::sim {

struct StressLimits {
  std::uint64_t max_events = 10'000'000;  // a guess: a few seconds of soak, past a game's working set many times
  std::uint64_t max_bytes = 0;            // bytes requested by maps; 0: no bound
  double max_seconds = 0;                 // wall time; 0: no bound
};

// Why a soak stopped.
enum class StressStop { Failure, MaxEvents, MaxBytes, MaxSeconds, SourceEnd };
std::string_view to_string(StressStop stop);

// The refused map and the DART's state right after it.
struct StressFailure {
  std::uint64_t event = 0;  // 1-based
  dartlab::MapError reason = dartlab::MapError::Invalid;
  trace::EventKind kind = trace::EventKind::Map;
  std::uint64_t gpa = 0;            // the first segment's for a map_sg
  std::uint64_t request_bytes = 0;  // every segment's
  std::uint32_t segments = 1;
  DartSnapshot dart;
};

struct StressResult {
  std::uint64_t events = 0;       // events applied, the failing one included
  std::uint64_t bytes_moved = 0;  // bytes requested by the maps before the failure
  std::uint64_t maps = 0;         // map requests before the failure (a map_sg counts one)
  double wall_seconds = 0;
  StressStop stop = StressStop::MaxEvents;
  std::optional<StressFailure> failure;
  DartSnapshot final_dart;
  std::uint64_t peak_live_mappings = 0;
  // Over the run, at most kCurvePoints points, each the highest of its bucket of events (live
  // mappings, mapped and requested bytes, fragmentation index): the replay's Series.
  std::vector<SeriesPoint> curve;
  std::uint64_t curve_bucket_events = 0;
};

inline constexpr std::size_t kCurvePoints = 1024;  // finer than a terminal or a plot shows; 40 KiB

struct StressOptions {
  StressLimits limits;
  StressHistory* history = nullptr;  // when given, every event applied is recorded (for shrinking)
  // Called every few thousand events with the count so far (a progress line).
  std::function<void(std::uint64_t events)> progress = {};
};

// Runs the soak. A source error or an inconsistency the replay finds returns the message
// ("FILE:LINE: error: ...").
std::variant<StressResult, std::string> run_stress(StressSource& source, const RunConfig& run,
                                                   const StressOptions& options);

}  // namespace dartlab::sim
