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

#include "traces/event.hpp"
#include "traces/text_format.hpp"

namespace dartlab::trace {

// What is wrong with the input and where. line 0 means the file as a whole (e.g. cannot open).
struct ParseError {
  std::string file;
  std::uint64_t line = 0;
  std::uint32_t column = 0;  // 1-based column of the offending token
  std::string message;
  // "FILE:LINE:COL: error: MESSAGE", or "FILE: error: MESSAGE" without a line.
  std::string to_string() const;
};

struct ReaderOptions {
  // Skip lines that parse but make no sense (zero length, range past 2^64) and count them as
  // warnings; syntax errors stay fatal.
  bool lenient = false;
  // Bytes per read(2). Tests shrink it to put block seams inside lines.
  std::size_t block_bytes = text::kBlockBytes;
};

class TextTraceReader {
 public:
  enum class Status { Event, End, Error };

  // "-" reads stdin. An open failure is reported by the first next().
  explicit TextTraceReader(std::string path, ReaderOptions options = {});
  ~TextTraceReader();
  TextTraceReader(const TextTraceReader&) = delete;
  TextTraceReader& operator=(const TextTraceReader&) = delete;

  // The next event. ev.segments stays valid until the next call. After End or Error, every
  // further call returns the same.
  Status next(Event& ev);

  const ParseError& error() const { return error_; }
  // Device names by Event::device, in order of first appearance.
  const std::vector<std::string>& devices() const { return devices_; }
  // Line number of the last event returned.
  std::uint64_t line() const { return event_line_; }
  std::uint64_t bytes_consumed() const;
  std::uint64_t file_bytes() const { return file_bytes_; }  // 0 if unknown (stdin, pipes)
  // Lines skipped in lenient mode, and the first few of their messages.
  std::uint64_t warnings() const { return warnings_; }
  const std::vector<std::string>& warning_samples() const { return warning_samples_; }

 private:
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

  std::string path_;
  std::string display_name_;
  ReaderOptions options_;
  int fd_ = -1;
  bool own_fd_ = false;

  std::unique_ptr<char[]> buf_;
  std::size_t buf_capacity_ = 0;
  const char* cur_ = nullptr;           // next unread line
  const char* complete_end_ = nullptr;  // past the last '\n' in the buffer: lines before are whole
  char* end_ = nullptr;                 // end of valid data
  bool eof_ = false;
  bool synthetic_newline_ = false;  // a final line without '\n' got one appended
  std::uint64_t bytes_read_ = 0;
  std::uint64_t buf_file_offset_ = 0;  // file offset of buf_[0]
  std::uint64_t file_bytes_ = 0;

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
