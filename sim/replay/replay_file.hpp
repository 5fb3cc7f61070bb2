// SPDX-License-Identifier: MIT
// Replays one trace file (streamed) under a set of configurations.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "sim/replay/replay.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::sim {

struct TraceOutcome {
  std::string trace;
  std::uint64_t events = 0;
  double wall_seconds = 0;
  std::uint64_t warnings = 0;  // lenient mode: inconsistencies skipped (reader and replay)
  std::vector<std::string> warning_samples;
  std::string format;                    // the reader's: text, binary, ftrace
  std::vector<trace::ReaderNote> notes;  // input the reader skipped by design (ftrace import)
  std::vector<RunResult> results;  // one per configuration, in order
};

// Called now and then with bytes read so far, the file size (0 if unknown) and events so far.
using ProgressFn = std::function<void(std::uint64_t bytes, std::uint64_t total_bytes, std::uint64_t events)>;

// How to read the file: its format (sniffed by default) and, for imports, the one device kept.
struct InputOptions {
  trace::TraceFormat format = trace::TraceFormat::Auto;
  std::string device = {};
  trace::LogLevel level = trace::LogLevel::Guest;  // which events of a real device's QEMU log
  // Parse on a thread of its own while the caller replays, or inline on the calling thread
  // (sweeps, whose passes already keep every core busy). Auto: a thread, whatever the format.
  // A binary trace used to be decoded inline, when its reader was woken for every batch; woken
  // when half the batches are free, the thread wins for it too (measured, 10 M game events under
  // window:256K, 8 paired runs: 0.83x the wall time of inline decoding, for 1.35x the CPU).
  enum class ReaderThread { Auto, Yes, No };
  ReaderThread reader_thread = ReaderThread::Auto;
  // What the trace reader is given.
  trace::ReaderOptions reader_options(bool lenient) const { return {.lenient = lenient, .device = device, .level = level}; }
};

// On a parse error or trace inconsistency, returns the message "FILE:LINE[:COL]: error: ...".
std::variant<TraceOutcome, std::string> replay_file(const std::string& path, std::span<const RunConfig> runs,
                                                    const ReplayOptions& options, const ProgressFn& progress = {},
                                                    const InputOptions& input = {});

}  // namespace dartlab::sim
