#include "traces/trace_reader.hpp"

#include "traces/byte_source.hpp"
#include "traces/device_filter.hpp"
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
  return std::nullopt;
}

std::unique_ptr<TraceReader> open_trace(const std::string& path, const ReaderOptions& options, TraceFormat format) {
  ByteSource source(path);
  if (format == TraceFormat::Auto) {
    // TODO(binary, ftrace): sniff their magic.
    format = TraceFormat::Text;
  }
  std::unique_ptr<TraceReader> reader;
  switch (format) {
    case TraceFormat::Auto:
    case TraceFormat::Text: reader = std::make_unique<TextTraceReader>(std::move(source), options); break;
    case TraceFormat::Binary:
    case TraceFormat::Ftrace: reader = std::make_unique<TextTraceReader>(std::move(source), options); break;
  }
  if (!options.device.empty()) reader = std::make_unique<DeviceFilterReader>(std::move(reader), options.device);
  return reader;
}

std::unique_ptr<TraceWriter> make_trace_writer(std::FILE* out, TraceFormat format, const WriterOptions& options) {
  (void)options;
  switch (format) {
    case TraceFormat::Binary:  // TODO(binary)
    case TraceFormat::Auto:
    case TraceFormat::Text:
    case TraceFormat::Ftrace: break;
  }
  return std::make_unique<TextTraceWriter>(out);
}

}  // namespace dartlab::trace
