// SPDX-License-Identifier: MIT
#include "sim/stress/stress.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

namespace dartlab::sim {

std::string_view to_string(StressStop stop) {
  switch (stop) {
    case StressStop::Failure: return "failure";
    case StressStop::MaxEvents: return "max-events";
    case StressStop::MaxBytes: return "max-bytes";
    case StressStop::MaxSeconds: return "max-seconds";
    case StressStop::SourceEnd: return "end of source";
  }
  return "?";
}

namespace {

// Events between looks at the clock and calls to progress: rare enough to cost nothing.
constexpr std::uint64_t kCheckEvery = 4096;

std::uint64_t request_bytes(const trace::Event& ev) {
  if (ev.kind != trace::EventKind::MapSg) return ev.len_bytes;
  std::uint64_t bytes = 0;
  for (const trace::Segment& s : ev.segments) bytes += s.len_bytes;
  return bytes;
}

}  // namespace

std::variant<StressResult, std::string> run_stress(StressSource& source, const RunConfig& run,
                                                   const StressOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  Replay replay(std::span<const RunConfig>(&run, 1), ReplayOptions{.series_points = kCurvePoints});
  StressResult result;
  result.stop = StressStop::MaxEvents;
  trace::Event ev;
  for (;;) {
    if (result.events >= options.limits.max_events) break;
    if (options.limits.max_bytes != 0 && result.bytes_moved >= options.limits.max_bytes) {
      result.stop = StressStop::MaxBytes;
      break;
    }
    if (result.events % kCheckEvery == 0 && result.events != 0) {
      if (options.progress) options.progress(result.events);
      if (options.limits.max_seconds > 0 && seconds() >= options.limits.max_seconds) {
        result.stop = StressStop::MaxSeconds;
        break;
      }
    }
    const auto status = source.next(ev);
    if (status == StressSource::Status::Error) return source.error();
    if (status == StressSource::Status::End) {
      result.stop = StressStop::SourceEnd;
      break;
    }
    if (options.history != nullptr) options.history->record(ev);
    if (!replay.apply(ev)) return fmt::format("{}: error: {}", source.locate(), replay.issue().message);
    ++result.events;
    // Checked after every event: under cap a request that waited is refused when a release lets
    // it try, so the refused request is the replay's to name, not this event.
    const FirstFailure& failure = replay.first_failure(0);
    if (failure.happened) {
      result.failure = StressFailure{failure.event,         failure.reason,   failure.kind, failure.gpa,
                                     failure.request_bytes, failure.segments, snapshot(replay.dart_stats(0))};
      result.stop = StressStop::Failure;
      break;
    }
    if (!trace::is_map_kind(ev.kind)) continue;
    result.bytes_moved += request_bytes(ev);
    ++result.maps;
  }
  RunResult totals = replay.result(0);
  result.peak_live_mappings = totals.peak_mappings;
  result.curve = std::move(totals.series);
  result.curve_bucket_events = result.curve.empty() ? 0 : result.curve.front().event;  // the first bucket is full
  result.final_dart = snapshot(replay.dart_stats(0));
  result.wall_seconds = seconds();
  return result;
}

}  // namespace dartlab::sim
