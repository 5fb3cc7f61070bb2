// The bytes of one input file or standard input, read in blocks, with a look at the first bytes
// that does not consume them (so that the format of a pipe can be sniffed before it is read).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dartlab::trace {

class ByteSource {
 public:
  // "-" is standard input, named "<stdin>" in messages. An open failure is kept in open_error()
  // and every read() then fails.
  explicit ByteSource(const std::string& path);
  ~ByteSource();
  ByteSource(ByteSource&& other) noexcept;
  ByteSource& operator=(ByteSource&&) = delete;
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // Up to `n` bytes into `buf`: the number read, 0 at end of input, -1 on error (errno set).
  // Bytes seen by peek() come first. Retries on EINTR.
  long read(void* buf, std::size_t n);
  // The first up to `n` bytes of the input (fewer only at end of input or on error), without
  // consuming them. Only before the first read().
  std::string_view peek(std::size_t n);

  const std::string& name() const { return name_; }  // for messages: the path, or "<stdin>"
  const std::string& open_error() const { return open_error_; }  // "cannot open: REASON" or empty
  std::uint64_t file_bytes() const { return file_bytes_; }  // 0 if unknown (stdin, pipes)
  std::uint64_t bytes_read() const { return bytes_read_; }  // handed out by read() so far

 private:
  std::string name_;
  std::string open_error_;
  int fd_ = -1;
  bool own_fd_ = false;
  std::uint64_t file_bytes_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::string peeked_;       // read from the fd by peek(), not yet handed out
  std::size_t peeked_at_ = 0;
};

}  // namespace dartlab::trace
