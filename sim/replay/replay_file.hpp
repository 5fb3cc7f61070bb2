// SPDX-License-Identifier: MIT
// Replays one trace file (streamed) under a set of configurations.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
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

struct Batch;

// replay_file() a slice at a time, reading inline on whichever thread calls advance() (one at a
// time; the caller hands it between threads with a lock, which orders its memory). A sweep moves
// its passes between its threads this way, so that its last passes finish together rather than
// one thread finishing the last pass alone (sim/sweep/run.cpp).
class FileReplay {
 public:
  FileReplay(const std::string& path, std::span<const RunConfig> runs, const ReplayOptions& options,
             const InputOptions& input = {});
  ~FileReplay();
  FileReplay(const FileReplay&) = delete;
  FileReplay& operator=(const FileReplay&) = delete;

  // Replays up to `batches` more batches of events (Batch: 1,024 each), reading them inline;
  // false once nothing is left to do: the trace ended, or failed (finish() says how).
  bool advance(std::size_t batches, const ProgressFn& progress = {});
  // The whole trace with a reader thread parsing ahead (replay_file's default).
  void run_with_reader_thread(const ProgressFn& progress = {});
  // How far through the file, 0 to 1: bytes read over its size (0 while the size is unknown).
  double fraction() const;
  // Once advance() has returned false: the outcome, or the message of the failure that stopped
  // it. wall_seconds counts the time spent in this object's calls, not the time between them.
  std::variant<TraceOutcome, std::string> finish(const ProgressFn& progress = {});

 private:
  bool replay_batch(Batch& b, const ProgressFn& progress);  // false once the replay must stop
  template <class F>
  void timed(F&& f);

  std::string path_;
  std::unique_ptr<trace::TraceReader> reader_;
  std::unique_ptr<Replay> replay_;
  std::unique_ptr<Batch> batch_;  // inline reading's
  std::string failure_;
  std::uint64_t next_progress_ = 0;
  bool done_ = false;
  double busy_seconds_ = 0;
};

}  // namespace dartlab::sim
