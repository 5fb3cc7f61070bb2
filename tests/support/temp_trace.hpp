// SPDX-License-Identifier: MIT
// Generated traces in temporary files, for tests that read traces from disk.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "traces/gen/generator.hpp"
#include "traces/text_writer.hpp"

namespace dartlab::test {

// A path in the temporary directory, unique to this process, removed when it goes.
class TempTrace {
 public:
  explicit TempTrace(const std::string& name)
      : path_((std::filesystem::temp_directory_path() /
               ("dartlab-test-" + std::to_string(::getpid()) + "-" + name))
                  .string()) {}
  ~TempTrace() { std::filesystem::remove(path_); }
  TempTrace(const TempTrace&) = delete;
  TempTrace& operator=(const TempTrace&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes `events` events of a generator profile (3000 live requests) as a text trace, then
// `tail` verbatim.
inline void write_trace(const std::string& path, std::string_view profile, std::uint64_t events,
                        const std::string& tail) {
  trace::gen::GenParams params;
  params.events = events;
  params.live_target = 3000;
  std::string error;
  auto gen = trace::gen::make_generator(profile, params, &error);
  REQUIRE(gen);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  {
    trace::TextTraceWriter writer(f);
    writer.set_devices(gen->devices());
    trace::Event ev;
    while (gen->next(ev)) writer.write(ev);
    REQUIRE(writer.flush());
  }
  std::fputs(tail.c_str(), f);
  std::fclose(f);
}

}  // namespace dartlab::test
