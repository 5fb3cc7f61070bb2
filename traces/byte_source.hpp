// SPDX-License-Identifier: MIT
// The bytes of one input file or standard input, read in blocks, with a look at the first bytes
// that does not consume them (so that the format of a pipe can be sniffed before it is read).
// A gzip or zstd file is decompressed as it is read (zlib, libzstd): every reader sees the
// plain bytes, whatever the file's compression.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
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

  // Up to `n` plain (decompressed) bytes into `buf`: the number read, 0 at end of input, -1 on
  // error (read_error() says why). Bytes seen by peek() come first. Retries on EINTR.
  long read(void* buf, std::size_t n);
  // The first up to `n` plain bytes of the input (fewer only at end of input or on error),
  // without consuming them. Only before the first read().
  std::string_view peek(std::size_t n);

  const std::string& name() const { return name_; }  // for messages: the path, or "<stdin>"
  const std::string& open_error() const { return open_error_; }  // "cannot open: REASON" or empty
  // Why the last read() failed: "read failed: REASON", or a damaged or truncated gzip / zstd stream.
  const std::string& read_error() const { return read_error_; }
  // The file's size on disk; 0 if unknown (stdin, pipes).
  std::uint64_t file_bytes() const { return file_bytes_; }
  std::uint64_t bytes_read() const { return bytes_read_; }  // plain bytes handed out by read() so far
  // Progress against file_bytes(): the file bytes behind the first `plain_offset` plain bytes. For
  // plain input that is the offset (at most what was read); for compressed input, what the
  // decompressor has taken from the file so far.
  std::uint64_t consumed(std::uint64_t plain_offset) const;
  // "gzip", "zstd", or empty for plain input (known once peek() or read() has run).
  std::string_view compression() const;

 private:
  struct Decoder;  // byte_source.cpp: keeps zlib.h and zstd.h out of this header

  void detect();  // looks at the first bytes for a gzip or zstd magic, once
  long read_fd(void* buf, std::size_t n);      // from the file, retrying on EINTR
  long read_plain(void* buf, std::size_t n);   // from the file, decompressed if need be

  std::string name_;
  std::string open_error_;
  std::string read_error_;
  int fd_ = -1;
  bool own_fd_ = false;
  bool detected_ = false;
  std::uint64_t file_bytes_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t fd_bytes_read_ = 0;  // bytes taken from the file descriptor
  std::string peeked_;       // plain bytes read by peek() (or by detect()), not yet handed out
  std::size_t peeked_at_ = 0;
  std::unique_ptr<Decoder> decoder_;
};

}  // namespace dartlab::trace
