#include "sim/atomic_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace dartlab::sim {

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), to_stdout_(path_ == "-") {
  if (to_stdout_) {
    file_ = stdout;
    return;
  }
  struct stat st {};
  in_place_ = ::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
  tmp_ = in_place_ ? path_ : path_ + ".tmp";
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (file_ == nullptr) open_error_ = fmt::format("cannot open {}: {}", tmp_, std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (done_ || to_stdout_ || file_ == nullptr) return;
  std::fclose(file_);
  if (!in_place_) std::remove(tmp_.c_str());
}

std::string AtomicFile::commit() {
  if (!open_error_.empty()) return open_error_;
  done_ = true;
  if (to_stdout_) {
    if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0)
      return fmt::format("cannot write to standard output: {}", std::strerror(errno));
    return {};
  }
  const bool written = std::fflush(file_) == 0 && std::ferror(file_) == 0;
  const int write_errno = errno;
  const bool closed = std::fclose(file_) == 0;
  if (!written || !closed) {
    const int err = written ? errno : write_errno;
    if (!in_place_) std::remove(tmp_.c_str());
    return fmt::format("cannot write {}: {}", path_, std::strerror(err));
  }
  if (in_place_) return {};
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp_.c_str());
    return fmt::format("cannot write {}: {}", path_, std::strerror(err));
  }
  return {};
}

}  // namespace dartlab::sim
