// SPDX-License-Identifier: MIT
#include "traces/trace_reader.hpp"

#include <algorithm>
#include <iterator>

#include "traces/apple_dma_csv/apple_dma_csv_reader.hpp"
#include "traces/binary_format.hpp"
#include "traces/binary_reader.hpp"
#include "traces/binary_writer.hpp"
#include "traces/byte_source.hpp"
#include "traces/device_filter.hpp"
#include "traces/printable.hpp"
#include "traces/ftrace/ftrace_reader.hpp"
#include "traces/qemu_log/qemu_log_reader.hpp"
#include "traces/text_format.hpp"
#include "traces/text_reader.hpp"
#include "traces/text_writer.hpp"
#include "traces/trace_writer.hpp"

namespace dartlab::trace {

TraceReader::~TraceReader() = default;
TraceWriter::~TraceWriter() = default;

std::string ParseError::to_string() const {
  std::string s = printable(file);
  if (line != 0) {
    s += ':' + std::to_string(line);
    if (column != 0) s += ':' + std::to_string(column);
  } else if (byte_offset) {
    s += ": byte " + std::to_string(*byte_offset);
  }
  s += ": error: ";
  s += printable(message);  // bytes of the trace in it are escaped already; a path may hold any
  return s;
}

static_assert(std::size(kTraceFormatNames) == static_cast<std::size_t>(TraceFormat::AppleDmaCsv) + 1);

std::optional<TraceFormat> parse_trace_format(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kTraceFormatNames); ++i)
    if (name == kTraceFormatNames[i]) return static_cast<TraceFormat>(i);
  return std::nullopt;
}

std::optional<LogLevel> parse_log_level(std::string_view name) {
  if (name == "guest") return LogLevel::Guest;
  if (name == "host") return LogLevel::Host;
  return std::nullopt;
}

TraceReader::Status TraceReader::first_next(Event& ev) {
  if (!empty_error_.message.empty()) return Status::Error;
  const Status status = read_event(ev);
  if (status == Status::Event) {
    had_event_ = true;
    return status;
  }
  if (status != Status::End) return status;
  // Nothing came out. Fine for an input that holds nothing; an error when the reader left
  // something out, which the message names.
  std::string skipped;
  std::size_t kinds = 0;
  // Notes said of the whole input (no lines: "no event of device ...") first: they say most.
  for (const bool whole : {true, false}) {
    for (const ReaderNote& n : notes()) {
      if (!n.skips || n.first_lines.empty() != whole) continue;
      if (++kinds > 4) continue;
      skipped += (skipped.empty() ? "" : "; ") + std::to_string(n.count) + " x " + n.what;
      if (!n.first_lines.empty()) {
        skipped += " (" + std::string(n.unit) + (n.first_lines.size() > 1 ? "s " : " ");
        for (std::size_t i = 0; i < n.first_lines.size(); ++i) skipped += (i == 0 ? "" : ", ") + std::to_string(n.first_lines[i]);
        skipped += n.count > n.first_lines.size() ? ", ...)" : ")";
      }
    }
  }
  if (kinds > 4) skipped += "; and " + std::to_string(kinds - 4) + " more kinds";
  if (warnings() != 0) skipped += (skipped.empty() ? "" : "; ") + std::to_string(warnings()) + " malformed, skipped by --lenient";
  if (skipped.empty()) return status;
  empty_error_.file = reader_error().file;
  empty_error_.message = "no events: the " + std::string(format_name()) + " reader skipped all of the input: " + skipped +
                         ". If this is not " + std::string(format_name()) +
                         ", say its format with --format (text, binary, ftrace, qemu-log, apple-dma-csv)";
  return Status::Error;
}

namespace {

// Stands in for a reader when the format could not be told: its first next() says why.
class UnknownFormatReader final : public TraceReader {
 public:
  UnknownFormatReader(std::string file, std::string message) {
    error_.file = std::move(file);
    error_.message = std::move(message);
  }
  const std::vector<std::string>& devices() const override { return none_; }
  std::uint64_t position() const override { return 0; }
  std::string locate(std::uint64_t line) const override { return error_.file + ':' + std::to_string(line); }
  std::uint64_t bytes_consumed() const override { return 0; }
  std::uint64_t file_bytes() const override { return 0; }
  std::uint64_t warnings() const override { return 0; }
  const std::vector<std::string>& warning_samples() const override { return none_; }
  std::string_view format_name() const override { return "unknown"; }

 private:
  Status read_event(Event&) override { return Status::Error; }
  const ParseError& reader_error() const override { return error_; }

  ParseError error_;
  std::vector<std::string> none_;
};

constexpr std::size_t kSniffBytes = 4096;  // several lines of an ftrace header, or of QEMU's start-up output

}  // namespace

// The binary magic; else the first line (of the first 4 KiB, blank lines and '#' comments
// skipped) that is one of the line formats' own. A "# tracer:" comment is the trace file's first line.
TraceFormat sniff_format(std::string_view head, bool* only_comments) {
  if (only_comments != nullptr) *only_comments = true;
  if (head.starts_with(kBinaryMagic)) return TraceFormat::Binary;
  bool text_event_first = false;  // the first line is a text trace's event: a trace without its header
  bool first_line = true;
  while (!head.empty()) {
    const std::size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;
    line.remove_prefix(first);
    if (line.starts_with("# tracer:")) return TraceFormat::Ftrace;
    if (line.front() == '#') continue;  // a comment, in ftrace and in dartlab's text format alike
    if (only_comments != nullptr) *only_comments = false;
    if (line.starts_with(text::kMagic)) return TraceFormat::Text;
    if (apple_dma_csv::looks_like_row_or_header(line)) return TraceFormat::AppleDmaCsv;
    if (looks_like_qemu_log_line(line)) return TraceFormat::QemuLog;
    if (looks_like_ftrace_line(line)) return TraceFormat::Ftrace;
    if (first_line) {
      const std::string_view word = line.substr(0, line.find_first_of(" \t"));
      text_event_first = word.size() < line.size() &&
                         std::find(text::kKindKeywords.begin(), text::kKindKeywords.end(), word) != text::kKindKeywords.end();
    }
    first_line = false;
  }
  // A text trace that lost its header: its reader says so at line 1, which says more than a guess.
  return text_event_first ? TraceFormat::Text : TraceFormat::Auto;
}

std::unique_ptr<TraceReader> open_trace(const std::string& path, const ReaderOptions& options, TraceFormat format) {
  ByteSource source(path);
  if (format == TraceFormat::Auto) {
    bool only_comments = true;
    format = sniff_format(source.peek(kSniffBytes), &only_comments);
    if (format == TraceFormat::Auto) {
      // Nothing but blanks and comments (or nothing at all, or no file): the text reader says
      // what it misses, as for any text trace.
      if (only_comments && source.read_error().empty()) {
        format = TraceFormat::Text;
      } else {
        std::string why = source.read_error();
        if (why.empty()) {
          why = "cannot tell the trace's format: no line of the first " + std::to_string(kSniffBytes) + " bytes" +
                (source.compression().empty() ? "" : " (after " + std::string(source.compression()) + ")") +
                " is a dartlab text header ('" + std::string(text::kHeader) +
                "'), an ftrace event line, an apple-dma-pci QEMU trace event (apple_dma_*, apple_dext_*) or an "
                "apple_dma CSV header or row, and it starts with no binary trace magic. Tried: text, binary, ftrace, "
                "qemu-log, apple-dma-csv; if it is one of them, say which with --format";
        }
        return std::make_unique<UnknownFormatReader>(source.name(), std::move(why));
      }
    }
  }
  std::unique_ptr<TraceReader> reader;
  switch (format) {
    case TraceFormat::Ftrace:  // filters devices itself, while it matches unmaps to maps
      return std::make_unique<FtraceReader>(std::move(source), options);
    case TraceFormat::AppleDmaCsv:  // one device per file: --device names it
      return std::make_unique<AppleDmaCsvReader>(std::move(source), options);
    case TraceFormat::QemuLog: reader = std::make_unique<QemuLogReader>(std::move(source), options); break;
    case TraceFormat::Binary: reader = std::make_unique<BinaryTraceReader>(std::move(source), options); break;
    case TraceFormat::Auto:
    case TraceFormat::Text: reader = std::make_unique<TextTraceReader>(std::move(source), options); break;
  }
  if (!options.device.empty()) reader = std::make_unique<DeviceFilterReader>(std::move(reader), options.device);
  return reader;
}

std::unique_ptr<TraceWriter> make_trace_writer(std::FILE* out, TraceFormat format, const WriterOptions& options) {
  if (format == TraceFormat::Binary)
    return std::make_unique<BinaryTraceWriter>(out, BinaryWriterOptions{.zstd = options.zstd, .zstd_level = options.zstd_level});
  return std::make_unique<TextTraceWriter>(out);
}

}  // namespace dartlab::trace
