// SPDX-License-Identifier: MIT
// What every trace reader offers, whatever the file's format: the dartlab text trace, the binary
// trace, or a recording imported on the fly (ftrace, QEMU log, apple_dma CSV). `open_trace` picks
// the reader.
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
  // False for a note that says how the input was read (the level of a QEMU log, requests live
  // before a recording began), not input that was left out.
  bool skips = true;
  std::string_view unit = "line";  // what first_lines count: lines, or events in a binary trace
  static constexpr std::size_t kSampleLines = 5;
};

// What a recording says of itself besides its events: the apple_dma CSV's active_maps and
// active_bytes columns, at their highest. They count requests live before the recording began,
// which its events cannot show.
struct RecordedPeaks {
  std::uint64_t live_requests = 0;
  std::uint64_t live_bytes = 0;
};

enum class TraceFormat { Auto, Text, Binary, Ftrace, QemuLog, AppleDmaCsv };

// Which events of a QEMU log of the real apple-dma-pci device are replayed (traces/qemu_log/IMPORT.md):
// the guest's map and unmap entries, or the host mappings QEMU asked of the host's DMA service.
enum class LogLevel { Guest, Host };

struct ReaderOptions {
  // Skip input that parses but makes no sense (zero length, range past 2^64) and count it as
  // warnings; syntax errors stay fatal.
  bool lenient = false;
  // Bytes per read(2). Tests shrink it to put block seams inside lines or records. 0: default.
  std::size_t block_bytes = 0;
  // Keep only this device's events (a PCI BDF such as 0000:01:00.0); others are skipped and
  // counted in notes(). Empty: every device. For a recording of one device that does not name it
  // (the apple_dma CSV, the real device's QEMU log), the name its events get (default kDefaultDevice).
  std::string device = {};
  LogLevel level = LogLevel::Guest;
  // A convention, not a fact: the recording names no device, and a GPU behind a machine's first
  // PCIe port usually sits here.
  static constexpr std::string_view kDefaultDevice = "0000:01:00.0";
};

class TraceReader {
 public:
  enum class Status { Event, End, Error };

  virtual ~TraceReader();

  // The next event. ev.segments stays valid until the next call. After End or Error, every
  // further call returns the same. An input that yields no event at all while the reader skipped
  // some of it (notes that skip, lenient warnings: a wrong --format, a --device that is not
  // there) ends in Error, not End: its message names what was skipped.
  Status next(Event& ev) {
    if (had_event_) [[likely]] return read_event(ev);
    return first_next(ev);
  }
  // Why next() returned Error.
  const ParseError& error() const { return empty_error_.message.empty() ? reader_error() : empty_error_; }

  // Device names by Event::device. A reader may add names as it goes; an index it has
  // returned stays valid.
  virtual const std::vector<std::string>& devices() const = 0;
  // Where the last event returned came from: a line number (text, ftrace) or an event ordinal
  // counted from 1 (binary). locate() turns it into a message prefix: "FILE:LINE" or
  // "FILE: event N"; position_unit() names it in a message: "line" or "event".
  virtual std::uint64_t position() const = 0;
  virtual std::string locate(std::uint64_t position) const = 0;
  virtual std::string_view position_unit() const { return "line"; }
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
  // The recording's own peaks, when it has columns that say them (the apple_dma CSV).
  virtual std::optional<RecordedPeaks> recorded_peaks() const { return std::nullopt; }
  // "text", "binary", "ftrace", "qemu-log", "apple-dma-csv".
  virtual std::string_view format_name() const = 0;

 protected:
  // What each reader implements: next() and error() without the empty-result rule.
  virtual Status read_event(Event& ev) = 0;
  virtual const ParseError& reader_error() const = 0;

 private:
  [[gnu::noinline]] Status first_next(Event& ev);

  bool had_event_ = false;
  ParseError empty_error_;  // the empty-result error, once found
};

// Opens `path` ("-": standard input; gzip and zstd files are decompressed as they are read)
// with the reader for `format`. Auto tells the format by the first lines (the first 4 KiB):
// the binary magic, or the first line that is a dartlab text header, an apple_dma CSV header or
// row, a QEMU trace event of the apple-dma-pci device, or an ftrace line; lines before it that are
// none are left to the reader (which counts them). When none is found, the reader's first next()
// fails naming the formats tried. An open failure is reported by the reader's first next(), as
// every other error.
std::unique_ptr<TraceReader> open_trace(const std::string& path, const ReaderOptions& options = {},
                                        TraceFormat format = TraceFormat::Auto);

// The format the first bytes of an input show, as open_trace's Auto tells it, or Auto when none
// does. `only_comments`, if given, is set when the bytes hold no line but blanks and '#' comments.
TraceFormat sniff_format(std::string_view first_bytes, bool* only_comments = nullptr);

// The --format words, as parse_trace_format() reads them, in TraceFormat's order.
inline constexpr std::string_view kTraceFormatNames[] = {"auto", "text", "binary", "ftrace", "qemu-log", "apple-dma-csv"};

// "text" / "binary" / "ftrace" / "qemu-log" / "apple-dma-csv" / "auto"; nothing for other words.
std::optional<TraceFormat> parse_trace_format(std::string_view name);
// "guest" / "host"; nothing for other words.
std::optional<LogLevel> parse_log_level(std::string_view name);

}  // namespace dartlab::trace
