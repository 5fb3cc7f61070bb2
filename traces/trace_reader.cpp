#include "traces/trace_reader.hpp"

#include <algorithm>

#include "traces/binary_format.hpp"
#include "traces/binary_reader.hpp"
#include "traces/binary_writer.hpp"
#include "traces/byte_source.hpp"
#include "traces/device_filter.hpp"
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
  std::string s = file;
  if (line != 0) {
    s += ':' + std::to_string(line);
    if (column != 0) s += ':' + std::to_string(column);
  } else if (byte_offset) {
    s += ": byte " + std::to_string(*byte_offset);
  }
  s += ": error: ";
  s += message;
  return s;
}

std::optional<TraceFormat> parse_trace_format(std::string_view name) {
  if (name == "auto") return TraceFormat::Auto;
  if (name == "text") return TraceFormat::Text;
  if (name == "binary") return TraceFormat::Binary;
  if (name == "ftrace") return TraceFormat::Ftrace;
  if (name == "qemu-log") return TraceFormat::QemuLog;
  return std::nullopt;
}

namespace {

// The binary magic; else the text header on the first line that is not blank or a comment; else
// a QEMU log if an apple_dma_* event is among the first lines; else an ftrace recording if it
// looks like one; else text, whose reader then says what is missing.
TraceFormat sniff(ByteSource& source) {
  constexpr std::size_t kLook = 4096;  // several lines of an ftrace header, or of QEMU's start-up output
  const std::string_view head = source.peek(kLook);
  if (head.starts_with(kBinaryMagic)) return TraceFormat::Binary;
  std::size_t at = 0;
  while (at < head.size()) {
    const std::size_t eol = std::min(head.find('\n', at), head.size());
    std::string_view line = head.substr(at, eol - at);
    const std::size_t first = line.find_first_not_of(" \t\r");
    line = first == std::string_view::npos ? std::string_view{} : line.substr(first);
    if (!line.empty() && line[0] != '#') {
      if (line.starts_with(text::kMagic)) return TraceFormat::Text;
      break;
    }
    at = eol + 1;
  }
  if (looks_like_qemu_log(head)) return TraceFormat::QemuLog;
  return looks_like_ftrace(head) ? TraceFormat::Ftrace : TraceFormat::Text;
}

}  // namespace

std::unique_ptr<TraceReader> open_trace(const std::string& path, const ReaderOptions& options, TraceFormat format) {
  ByteSource source(path);
  if (format == TraceFormat::Auto) format = sniff(source);
  std::unique_ptr<TraceReader> reader;
  switch (format) {
    case TraceFormat::Ftrace:  // filters devices itself, while it matches unmaps to maps
      return std::make_unique<FtraceReader>(std::move(source), options);
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
