#include "sim/replay_file.hpp"

#include <chrono>

#include <fmt/format.h>

#include "traces/text_reader.hpp"

namespace dartlab::sim {

std::variant<TraceOutcome, std::string> replay_file(const std::string& path, std::span<const RunConfig> runs,
                                                    const ReplayOptions& options, const ProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  trace::TextTraceReader reader(path, trace::ReaderOptions{.lenient = options.lenient});
  Replay replay(runs, options);
  trace::Event ev;
  constexpr std::uint64_t kProgressEvery = 1 << 16;
  for (;;) {
    const auto status = reader.next(ev);
    if (status == trace::TextTraceReader::Status::End) break;
    if (status == trace::TextTraceReader::Status::Error) return reader.error().to_string();
    if (!replay.apply(ev, reader.line()))
      return fmt::format("{}:{}: error: {}", path, reader.line(), replay.issue().message);
    if (progress && replay.events() % kProgressEvery == 0)
      progress(reader.bytes_consumed(), reader.file_bytes(), replay.events());
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
