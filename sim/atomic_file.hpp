// An output file that readers see either as it was or whole: data goes to PATH.tmp, and commit()
// flushes it and renames it over PATH; a file never committed is removed. "-" is standard output.
// Only regular files (or paths not there yet) are replaced so: a device, a FIFO or a terminal is
// written in place, since renaming over it would destroy it.
#pragma once

#include <cstdio>
#include <string>

namespace dartlab::sim {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Empty when the file is open for writing, else why not.
  const std::string& open_error() const { return open_error_; }
  std::FILE* stream() { return file_; }
  // Flushes, closes and renames into place. Empty on success, else what went wrong.
  std::string commit();

 private:
  std::string path_;
  std::string tmp_;
  std::FILE* file_ = nullptr;
  std::string open_error_;
  bool to_stdout_ = false;
  bool in_place_ = false;  // not a regular file: written directly, never renamed over
  bool done_ = false;
};

}  // namespace dartlab::sim
