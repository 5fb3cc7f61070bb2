#include "traces/byte_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace dartlab::trace {

ByteSource::ByteSource(const std::string& path) : name_(path == "-" ? "<stdin>" : path) {
  if (path == "-") {
    fd_ = STDIN_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      open_error_ = std::string("cannot open: ") + std::strerror(errno);
      return;
    }
    own_fd_ = true;
  }
  struct stat st {};
  if (::fstat(fd_, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      open_error_ = "cannot read: Is a directory";
      return;
    }
    if (S_ISREG(st.st_mode)) {
      file_bytes_ = static_cast<std::uint64_t>(st.st_size);
      ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
  }
}

ByteSource::~ByteSource() {
  if (own_fd_) ::close(fd_);
}

ByteSource::ByteSource(ByteSource&& other) noexcept
    : name_(std::move(other.name_)),
      open_error_(std::move(other.open_error_)),
      fd_(std::exchange(other.fd_, -1)),
      own_fd_(std::exchange(other.own_fd_, false)),
      file_bytes_(other.file_bytes_),
      bytes_read_(other.bytes_read_),
      peeked_(std::move(other.peeked_)),
      peeked_at_(other.peeked_at_) {}

long ByteSource::read(void* buf, std::size_t n) {
  if (!open_error_.empty()) {
    errno = EBADF;
    return -1;
  }
  if (peeked_at_ < peeked_.size()) {
    const std::size_t k = std::min(n, peeked_.size() - peeked_at_);
    std::memcpy(buf, peeked_.data() + peeked_at_, k);
    peeked_at_ += k;
    bytes_read_ += k;
    return static_cast<long>(k);
  }
  ssize_t got;
  do {
    got = ::read(fd_, buf, n);
  } while (got < 0 && errno == EINTR);
  if (got > 0) bytes_read_ += static_cast<std::uint64_t>(got);
  return static_cast<long>(got);
}

std::string_view ByteSource::peek(std::size_t n) {
  if (!open_error_.empty()) return {};
  while (peeked_.size() < n) {
    char chunk[4096];
    ssize_t got;
    do {
      got = ::read(fd_, chunk, std::min(sizeof chunk, n - peeked_.size()));
    } while (got < 0 && errno == EINTR);
    if (got <= 0) break;  // end of input, or an error the first read() will meet again
    peeked_.append(chunk, static_cast<std::size_t>(got));
  }
  return std::string_view(peeked_).substr(0, n);
}

}  // namespace dartlab::trace
