// SPDX-License-Identifier: MIT
// Temp files and read-everything helpers for the text trace tests.
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "traces/event.hpp"
#include "traces/text_reader.hpp"

namespace dartlab::trace::testing {

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("dartlab-text-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `bytes` verbatim to a file in this directory and returns its path.
  std::string write(std::string_view name, std::string_view bytes) const {
    std::string p = (path_ / name).string();
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Everything a reader produced, with segments copied out of the reader's buffer.
struct ReadAll {
  std::vector<Event> events;
  std::vector<std::vector<Segment>> segments;  // per event; empty unless map_sg
  std::vector<std::uint64_t> lines;            // reader.line() after each event
  std::vector<std::string> devices;
  TextTraceReader::Status status = TextTraceReader::Status::End;
  ParseError error;
  std::uint64_t warnings = 0;
  std::vector<std::string> warning_samples;
};

inline ReadAll read_all(const std::string& path, ReaderOptions options = {}) {
  ReadAll r;
  TextTraceReader reader(path, options);
  Event ev;
  while ((r.status = reader.next(ev)) == TextTraceReader::Status::Event) {
    r.segments.emplace_back(ev.segments.begin(), ev.segments.end());
    ev.segments = {};
    r.events.push_back(ev);
    r.lines.push_back(reader.line());
  }
  r.error = reader.error();
  r.devices = reader.devices();
  r.warnings = reader.warnings();
  r.warning_samples = reader.warning_samples();
  return r;
}

// A trace body after the header.
inline std::string trace(std::string_view body) { return "dartlab-trace v1\n" + std::string(body); }

}  // namespace dartlab::trace::testing
