// SPDX-License-Identifier: MIT
#include "traces/line_import/line_buffer.hpp"

#include <cstring>

namespace dartlab::trace::line_import {

LineBuffer::LineBuffer(ByteSource& source, std::size_t block_bytes, std::size_t max_line_bytes)
    : source_(source), block_bytes_(block_bytes), max_line_bytes_(max_line_bytes) {
  // A partial line of up to max_line_bytes and its '\r' stays in front of one block read; then
  // room for the '\n' written after a last line without one, and the scan padding. Zeroed, so
  // that the padding is never uninitialised memory.
  buf_ = std::make_unique<char[]>(max_line_bytes_ + 1 + block_bytes_ + 1 + kScanPadding);
  cur_ = end_ = scan_ = buf_.get();
}

std::uint64_t LineBuffer::bytes_consumed() const {
  return source_.consumed(buf_file_offset_ + static_cast<std::uint64_t>(cur_ - buf_.get()));
}

bool LineBuffer::fill() {
  char* base = buf_.get();
  const auto rest = static_cast<std::size_t>(end_ - cur_);
  buf_file_offset_ += static_cast<std::uint64_t>(cur_ - base);
  std::memmove(base, cur_, rest);
  scan_ = base + (scan_ - cur_);
  cur_ = base;
  end_ = base + rest;
  const long n = source_.read(end_, block_bytes_);
  if (n < 0) {
    error_ = source_.read_error();
    return false;
  }
  if (n == 0) eof_ = true;
  end_ += n;
  return true;
}

LineBuffer::Status LineBuffer::next_slow(std::string_view& line) {
  for (;;) {
    char* nl = scan_ == end_ ? nullptr : static_cast<char*>(std::memchr(scan_, '\n', static_cast<std::size_t>(end_ - scan_)));
    char* line_end = nl;
    if (nl == nullptr) {
      scan_ = end_;
      if (!eof_) {
        if (static_cast<std::size_t>(end_ - cur_) > max_line_bytes_ + 1) {  // + 1: its '\r'
          cur_ = scan_ = end_;  // drop what we have of it; the line ends at the next '\n'
          if (!skipping_) {
            skipping_ = true;
            ++line_no_;
            return Status::TooLong;
          }
        }
        if (!fill()) return Status::Error;
        continue;
      }
      if (cur_ == end_) return Status::End;
      line_end = end_;  // the last line lacks its '\n'
    }
    char* b = cur_;
    cur_ = scan_ = nl != nullptr ? nl + 1 : end_;
    if (skipping_) {  // the rest of a line already reported
      skipping_ = false;
      continue;
    }
    ++line_no_;
    if (nl == nullptr) *end_ = '\n';  // the buffer has room for it: scans stop here too
    if (line_end != b && line_end[-1] == '\r') --line_end;
    if (static_cast<std::size_t>(line_end - b) > max_line_bytes_) return Status::TooLong;
    line = {b, static_cast<std::size_t>(line_end - b)};
    return Status::Line;
  }
}

}  // namespace dartlab::trace::line_import
