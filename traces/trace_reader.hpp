// What every trace reader offers, whatever the file's format: the dartlab text trace, the binary
// trace, or an ftrace recording imported on the fly. `open_trace` picks the reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "traces/event.hpp"

namespace dartlab::trace {

// What is wrong with the input and where: a line and column (text formats), a byte offset
// (binary), or neither (the file as a whole, e.g. cannot open).
struct ParseError {
  std::string file;
  std::uint64_t line = 0;    // 1-based; 0: not about one line
  std::uint32_t column = 0;  // 1-based column of the offending token; 0: the whole line
  std::optional<std::uint64_t> byte_offset;  // binary formats
  std::string message;
  // "FILE:LINE:COL: error: MESSAGE", "FILE: byte N: error: MESSAGE" or "FILE: error: MESSAGE".
  std::string to_string() const;
};

// A count a reader keeps of input it skipped or treated specially (ftrace import: unknown events,
// garbage lines, other devices...), with the first few line numbers where it happened.
struct ReaderNote {
  std::string what;  // e.g. "unknown event 'sched_switch'", "line is not an ftrace event"
  std::uint64_t count = 0;
  std::vector<std::uint64_t> first_lines;  // at most ReaderNote::kSampleLines, in order
  static constexpr std::size_t kSampleLines = 5;
};

enum class TraceFormat { Auto, Text, Binary, Ftrace, QemuLog };

struct ReaderOptions {
  // Skip input that parses but makes no sense (zero length, range past 2^64) and count it as
  // warnings; syntax errors stay fatal.
  bool lenient = false;
  // Bytes per read(2). Tests shrink it to put block seams inside lines or records. 0: default.
  std::size_t block_bytes = 0;
  // Keep only this device's events (a PCI BDF such as 0000:01:00.0); others are skipped and
  // counted in notes(). Empty: every device.
  std::string device = {};
};

class TraceReader {
 public:
  enum class Status { Event, End, Error };

  virtual ~TraceReader();

  // The next event. ev.segments stays valid until the next call. After End or Error, every
  // further call returns the same.
  virtual Status next(Event& ev) = 0;

  virtual const ParseError& error() const = 0;
  // Device names by Event::device. A reader may add names as it goes; an index it has
  // returned stays valid.
  virtual const std::vector<std::string>& devices() const = 0;
  // Where the last event returned came from: a line number (text, ftrace) or an event ordinal
  // counted from 1 (binary). locate() turns it into a message prefix: "FILE:LINE" or
  // "FILE: event N".
  virtual std::uint64_t position() const = 0;
  virtual std::string locate(std::uint64_t position) const = 0;
  // Progress: input bytes consumed so far, and the input's size (0 if unknown: stdin, pipes).
  virtual std::uint64_t bytes_consumed() const = 0;
  virtual std::uint64_t file_bytes() const = 0;
  // Input skipped in lenient mode, and the first few of their messages.
  virtual std::uint64_t warnings() const = 0;
  virtual const std::vector<std::string>& warning_samples() const = 0;
  // Input skipped or treated specially by design (not errors, not lenient-mode warnings).
  virtual std::span<const ReaderNote> notes() const { return {}; }
  // The number of events the file says it holds, when it says (binary header); else nothing.
  virtual std::optional<std::uint64_t> declared_events() const { return std::nullopt; }
  // "text", "binary", "ftrace", "qemu-log".
  virtual std::string_view format_name() const = 0;
};

// Opens `path` ("-": standard input) with the reader for `format`. Auto looks at the first
// bytes: the binary magic, the text header, a QEMU log with apple_dma_* events, or else an ftrace
// recording. An open failure is
// reported by the reader's first next(), as every other error.
std::unique_ptr<TraceReader> open_trace(const std::string& path, const ReaderOptions& options = {},
                                        TraceFormat format = TraceFormat::Auto);

// "text" / "binary" / "ftrace" / "qemu-log" / "auto"; nothing for other words.
std::optional<TraceFormat> parse_trace_format(std::string_view name);

}  // namespace dartlab::trace
