// SPDX-License-Identifier: MIT
// Whole lines out of a ByteSource, read in blocks and handed out in place (never copied): a line
// is a view into the buffer, valid until the next call. Every line reader (the text trace, ftrace,
// the QEMU log, the apple_dma CSV) reads its input through one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "traces/byte_source.hpp"

namespace dartlab::trace::line_import {

class LineBuffer {
 public:
  // Readable bytes past every line's end: a scan may load eight bytes at a time from any byte
  // of a line, its line end included, without a bounds check.
  static constexpr std::size_t kScanPadding = 8;

  enum class Status {
    // `line` holds the next line, without its '\n' and without the '\r' of a "\r\n". In the
    // buffer the line is still followed by that "\r\n" or '\n' (one is written after a last
    // line that lacks it), then at least kScanPadding readable bytes: a scan stops at '\n'.
    Line,
    // A line longer than max_line_bytes; line_number() is its number. It is skipped whole: the
    // next call goes on after its end (reported as soon as its length is known, so a reader that
    // stops here never reads the rest of it).
    TooLong,
    End,
    Error,  // reading failed; error() says why
  };

  LineBuffer(ByteSource& source, std::size_t block_bytes, std::size_t max_line_bytes);

  Status next(std::string_view& line) {
    // The usual case inline: a whole line ahead in the buffer.
    if (!skipping_ && scan_ != end_) {
      if (char* nl = static_cast<char*>(std::memchr(scan_, '\n', static_cast<std::size_t>(end_ - scan_)))) {
        char* b = cur_;
        cur_ = scan_ = nl + 1;
        ++line_no_;
        if (nl != b && nl[-1] == '\r') --nl;
        if (static_cast<std::size_t>(nl - b) > max_line_bytes_) return Status::TooLong;
        line = {b, static_cast<std::size_t>(nl - b)};
        return Status::Line;
      }
      scan_ = end_;  // no '\n' up to the end of what has been read
    }
    return next_slow(line);
  }

  std::uint64_t line_number() const { return line_no_; }  // of the line last handed out
  std::uint64_t bytes_consumed() const;                   // input bytes up to that line's end
  const std::string& error() const { return error_; }

 private:
  Status next_slow(std::string_view& line);  // the rest: reading, lines too long, the end
  bool fill();  // more bytes behind the partial line at cur_; false on error

  ByteSource& source_;
  std::size_t block_bytes_;
  std::size_t max_line_bytes_;
  std::unique_ptr<char[]> buf_;
  char* cur_ = nullptr;  // next unread byte
  char* end_ = nullptr;  // end of valid data
  char* scan_ = nullptr;  // where the search for the next '\n' resumes
  bool eof_ = false;
  bool skipping_ = false;  // inside a line reported TooLong, until its '\n'
  std::uint64_t buf_file_offset_ = 0;  // file offset of buf_[0]
  std::uint64_t line_no_ = 0;
  std::string error_;
};

}  // namespace dartlab::trace::line_import
