// SPDX-License-Identifier: MIT
// Whole lines out of a ByteSource, read in blocks and handed out in place (never copied), as the
// text reader does it: a line is a view into the buffer, valid until the next call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "traces/byte_source.hpp"

namespace dartlab::trace::ftrace {

class LineBuffer {
 public:
  enum class Status {
    Line,     // `line` holds the next line, without its '\n' and without the '\r' of a "\r\n"
    TooLong,  // a line longer than max_line_bytes was skipped whole; line_number() is its number
    End,
    Error,    // reading failed; error() says why
  };

  LineBuffer(ByteSource& source, std::size_t block_bytes, std::size_t max_line_bytes);

  Status next(std::string_view& line);

  std::uint64_t line_number() const { return line_no_; }  // of the line last handed out
  std::uint64_t bytes_consumed() const;                   // input bytes up to that line's end
  const std::string& error() const { return error_; }

 private:
  bool fill();  // more bytes behind the partial line at cur_; false at end of input or on error

  ByteSource& source_;
  std::size_t block_bytes_;
  std::size_t max_line_bytes_;
  std::unique_ptr<char[]> buf_;
  char* cur_ = nullptr;  // next unread byte
  char* end_ = nullptr;  // end of valid data
  char* scan_ = nullptr;  // where the search for the next '\n' resumes
  bool eof_ = false;
  bool skipping_ = false;  // inside a line that is too long, until its '\n'
  std::uint64_t buf_file_offset_ = 0;  // file offset of buf_[0]
  std::uint64_t line_no_ = 0;
  std::string error_;
};

}  // namespace dartlab::trace::ftrace
