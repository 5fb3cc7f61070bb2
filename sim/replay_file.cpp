#include "sim/replay_file.hpp"

#include <array>
#include <chrono>
#include <vector>

#include <fmt/format.h>

#include "traces/text_reader.hpp"

namespace dartlab::sim {

std::variant<TraceOutcome, std::string> replay_file(const std::string& path, std::span<const RunConfig> runs,
                                                    const ReplayOptions& options, const ProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  trace::TextTraceReader reader(path, trace::ReaderOptions{.lenient = options.lenient});
  Replay replay(runs, options);
  // Events go to the replay in batches so that it can read ahead (Replay::apply_batch); the
  // reader's segment spans live until its next event, so sg segments are copied out.
  constexpr std::size_t kBatch = 32;
  std::array<trace::Event, kBatch> batch;
  std::array<std::uint64_t, kBatch> lines{};
  std::array<std::size_t, kBatch> seg_start{};
  std::vector<trace::Segment> segments;
  std::uint64_t next_progress = 0;
  bool more = true;
  while (more) {
    std::size_t n = 0;
    segments.clear();
    while (n < kBatch) {
      const auto status = reader.next(batch[n]);
      if (status == trace::TextTraceReader::Status::End) {
        more = false;
        break;
      }
      if (status == trace::TextTraceReader::Status::Error) {
        // Events read before the bad line still count, in order, before the error is reported.
        const std::size_t done = replay.apply_batch(std::span(batch.data(), n), std::span(lines.data(), n));
        if (done < n) return fmt::format("{}:{}: error: {}", path, lines[done], replay.issue().message);
        return reader.error().to_string();
      }
      lines[n] = reader.line();
      seg_start[n] = segments.size();
      segments.insert(segments.end(), batch[n].segments.begin(), batch[n].segments.end());
      ++n;
    }
    for (std::size_t i = 0; i < n; ++i)
      if (batch[i].kind == trace::EventKind::MapSg)
        batch[i].segments = std::span(segments.data() + seg_start[i], batch[i].segments.size());
    const std::size_t done = replay.apply_batch(std::span(batch.data(), n), std::span(lines.data(), n));
    if (done < n) return fmt::format("{}:{}: error: {}", path, lines[done], replay.issue().message);
    if (progress && replay.events() >= next_progress) {
      progress(reader.bytes_consumed(), reader.file_bytes(), replay.events());
      next_progress = replay.events() + (1 << 16);
    }
  }
  if (progress) progress(reader.bytes_consumed(), reader.file_bytes(), replay.events());

  TraceOutcome out;
  out.trace = path;
  out.events = replay.events();
  out.warnings = reader.warnings() + replay.warnings();
  out.warning_samples = reader.warning_samples();
  for (const auto& w : replay.warning_samples()) out.warning_samples.push_back(w);
  for (std::size_t r = 0; r < replay.run_count(); ++r) out.results.push_back(replay.result(r));
  out.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace dartlab::sim
