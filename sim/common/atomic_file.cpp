// SPDX-License-Identifier: MIT
#include "sim/common/atomic_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>

#include <fmt/format.h>

namespace dartlab::sim {

namespace {

// Uncommitted temporary files, for the signal handler: lock-free pointers into live AtomicFiles'
// tmp_ strings (registered after the file is created, removed before the string goes).
constexpr std::size_t kMaxPending = 16;
std::array<std::atomic<const char*>, kMaxPending> g_pending{};
static_assert(std::atomic<const char*>::is_always_lock_free, "the signal handler reads these");

void add_pending(const char* tmp) {
  for (auto& slot : g_pending) {
    const char* expected = nullptr;
    if (slot.compare_exchange_strong(expected, tmp)) return;
  }
  // More outputs open at once than slots: this one is not cleaned on a signal (none of ours does).
}

void drop_pending(const char* tmp) {
  for (auto& slot : g_pending) {
    const char* expected = tmp;
    if (slot.compare_exchange_strong(expected, nullptr)) return;
  }
}

extern "C" void remove_pending_and_die(int sig) {
  for (auto& slot : g_pending)
    if (const char* tmp = slot.load()) ::unlink(tmp);  // async-signal-safe
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

std::string dir_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// `path` with symbolic links followed, the last one even when its target does not exist yet:
// the file a write to `path` lands in. Empty with *error set on a loop.
std::string follow_links(std::string path, std::string* error) {
  for (int hops = 0; hops < 40; ++hops) {  // Linux's own limit (ELOOP after 40)
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    std::array<char, PATH_MAX> buf{};
    const ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size() - 1);
    if (n < 0) return path;  // let the open say what is wrong
    std::string target(buf.data(), static_cast<std::size_t>(n));
    path = target.starts_with('/') ? target : dir_of(path) + "/" + target;
  }
  *error = std::strerror(ELOOP);
  return {};
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), to_stdout_(path_ == "-") {
  if (to_stdout_) {
    file_ = stdout;
    return;
  }
  std::string loop;
  target_ = follow_links(path_, &loop);
  if (!loop.empty()) {
    open_error_ = fmt::format("cannot open {}: {}", path_, loop);
    return;
  }
  struct stat st {};
  in_place_ = ::stat(target_.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
  tmp_ = in_place_ ? target_ : target_ + ".tmp";
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (file_ == nullptr) {
    open_error_ = fmt::format("cannot open {}: {}", tmp_, std::strerror(errno));
    return;
  }
  if (!in_place_) add_pending(tmp_.c_str());
}

AtomicFile::~AtomicFile() {
  if (done_ || to_stdout_ || file_ == nullptr) return;
  std::fclose(file_);
  if (!in_place_) {
    std::remove(tmp_.c_str());
    drop_pending(tmp_.c_str());
  }
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
  std::string error;
  if (!written || !closed) {
    error = fmt::format("cannot write {}: {}", path_, std::strerror(written ? errno : write_errno));
    if (!in_place_) std::remove(tmp_.c_str());
  } else if (!in_place_ && std::rename(tmp_.c_str(), target_.c_str()) != 0) {
    error = fmt::format("cannot write {}: {}", path_, std::strerror(errno));
    std::remove(tmp_.c_str());
  }
  if (!in_place_) drop_pending(tmp_.c_str());  // after the rename: a signal between them finds nothing to remove
  return error;
}

std::string check_output_path(const std::string& path) {
  if (path == "-") return {};
  std::string loop;
  const std::string target = follow_links(path, &loop);
  if (!loop.empty()) return fmt::format("cannot write {}: {}", path, loop);
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return fmt::format("cannot write {}: {}", path, std::strerror(EISDIR));
    if (!S_ISREG(st.st_mode)) {  // written in place: it must take writes itself
      if (::access(target.c_str(), W_OK) != 0) return fmt::format("cannot write {}: {}", path, std::strerror(errno));
      return {};
    }
  }
  // A new file or a replaced one: PATH.tmp is created in its directory and renamed there.
  const std::string dir = dir_of(target);
  struct stat dst {};
  if (::stat(dir.c_str(), &dst) != 0) return fmt::format("cannot write {}: {}", path, std::strerror(errno));
  if (!S_ISDIR(dst.st_mode)) return fmt::format("cannot write {}: {}", path, std::strerror(ENOTDIR));
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return fmt::format("cannot write {}: {}", path, std::strerror(errno));
  return {};
}

bool same_output(const std::string& a, const std::string& b) {
  if (a == b) return true;
  if (a == "-" || b == "-") return false;
  std::string loop;
  const std::string ta = follow_links(a, &loop);
  const std::string tb = follow_links(b, &loop);
  if (ta == tb) return true;
  struct stat sa {}, sb {};
  if (::stat(ta.c_str(), &sa) == 0 && ::stat(tb.c_str(), &sb) == 0) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  // Not there yet: the same name in the same directory.
  struct stat da {}, db {};
  return name_of(ta) == name_of(tb) && ::stat(dir_of(ta).c_str(), &da) == 0 && ::stat(dir_of(tb).c_str(), &db) == 0 &&
         da.st_dev == db.st_dev && da.st_ino == db.st_ino;
}

void remove_temp_files_on_signals() {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) continue;
    struct sigaction sa {};
    sa.sa_handler = remove_pending_and_die;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

std::string write_output(const std::string& path, const std::string& text) {
  AtomicFile out(path);
  if (!out.open_error().empty()) return out.open_error();
  std::fwrite(text.data(), 1, text.size(), out.stream());
  return out.commit();
}

}  // namespace dartlab::sim
