// SPDX-License-Identifier: MIT
// An output file that readers see either as it was or whole: data goes to PATH.tmp, and commit()
// flushes it and renames it over PATH; a file never committed is removed, also when the process
// is interrupted (SIGINT, SIGTERM, SIGHUP: see remove_temp_files_on_signals). "-" is standard
// output. A symbolic link is followed (even a dangling one): its target is replaced so, the link
// stays. Only regular files (or paths not there yet) are replaced: a device, a FIFO or a terminal
// is written in place, since renaming over it would destroy it.
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
  std::string path_;    // as given, for messages
  std::string target_;  // path_ with symbolic links followed: the file replaced
  std::string tmp_;
  std::FILE* file_ = nullptr;
  std::string open_error_;
  bool to_stdout_ = false;
  bool in_place_ = false;  // not a regular file: written directly, never renamed over
  bool done_ = false;
};

// Whether `path` can be written as an AtomicFile, checked without writing anything: the
// directory its file goes in exists and is writable, and it is not a directory. Empty if so,
// else why not ("cannot write out/x.json: No such file or directory"). For a check before a long
// run; the write itself still reports its own errors.
std::string check_output_path(const std::string& path);

// Whether two output paths ("-" = standard output) name the same file: the same text, both
// standard output, or the same file after symbolic links (existing files by device and inode).
bool same_output(const std::string& a, const std::string& b);

// Installs handlers for SIGINT, SIGTERM and SIGHUP (unless the signal is ignored, as in a
// background job of a script) that remove every AtomicFile's uncommitted PATH.tmp and then die
// of the signal as they would have. Call once, early in main.
void remove_temp_files_on_signals();

// Writes text to path ("-" = stdout) through an AtomicFile and checks every byte reached the
// file. Returns an error message, or empty on success.
std::string write_output(const std::string& path, const std::string& text);

}  // namespace dartlab::sim
