// SPDX-License-Identifier: MIT
// Streams events out of a dartlab text trace (traces/FORMAT.md), one line at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "traces/byte_source.hpp"
#include "traces/event.hpp"
#include "traces/text_format.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::trace {

class TextTraceReader final : public TraceReader {
 public:
  // "-" reads stdin. An open failure is reported by the first next().
  explicit TextTraceReader(const std::string& path, ReaderOptions options = {});
  TextTraceReader(ByteSource source, ReaderOptions options);
  ~TextTraceReader() override;
  TextTraceReader(const TextTraceReader&) = delete;
  TextTraceReader& operator=(const TextTraceReader&) = delete;


  // Device names by Event::device, in order of first appearance.
  const std::vector<std::string>& devices() const override { return devices_; }
  // Line number of the last event returned.
  std::uint64_t line() const { return event_line_; }
  std::uint64_t position() const override { return event_line_; }
  std::string locate(std::uint64_t line) const override;
  std::uint64_t bytes_consumed() const override;
  std::uint64_t file_bytes() const override { return source_.file_bytes(); }
  std::uint64_t warnings() const override { return warnings_; }
  const std::vector<std::string>& warning_samples() const override { return warning_samples_; }
  std::string_view format_name() const override { return "text"; }

 private:
  Status read_event(Event& ev) override;
  const ParseError& reader_error() const override { return error_; }
  enum class LineResult { Event, Skip, Error };
  struct DeviceHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  struct LineParser;  // text_reader.cpp

  bool fill();  // more bytes into the buffer; false at end of input or on error
  void line_too_long(std::uint64_t line);
  // Parse the line at line_begin_; unless they fail, they move cur_ to the next line.
  LineResult parse_header();
  LineResult parse_line(Event& ev);
  // Records a failure at `at` (a pointer into the current line). Semantic failures become
  // warnings in lenient mode (Skip); everything else is an Error.
  LineResult fail(const char* at, std::string message, bool semantic = false);
  Status stop(std::string message);  // an error that is not about one token

  ByteSource source_;
  ReaderOptions options_;

  std::unique_ptr<char[]> buf_;
  std::size_t buf_capacity_ = 0;
  const char* cur_ = nullptr;           // next unread line
  const char* complete_end_ = nullptr;  // past the last '\n' in the buffer: lines before are whole
  char* end_ = nullptr;                 // end of valid data
  bool eof_ = false;
  bool synthetic_newline_ = false;  // a final line without '\n' got one appended
  std::uint64_t buf_file_offset_ = 0;  // file offset of buf_[0]

  enum class State { Header, Events, End, Error } state_ = State::Header;
  std::uint64_t line_no_ = 0;
  std::uint64_t event_line_ = 0;
  const char* line_begin_ = nullptr;  // of the line being parsed, for columns
  ParseError error_;

  std::vector<std::string> devices_;
  std::unordered_map<std::string, std::uint16_t, DeviceHash, std::equal_to<>> device_index_;
  std::uint16_t last_device_ = 0;
  std::vector<Segment> segments_;

  std::uint64_t warnings_ = 0;
  std::vector<std::string> warning_samples_;
};

}  // namespace dartlab::trace
