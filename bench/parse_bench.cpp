// SPDX-License-Identifier: MIT
// Read-only rate of a trace in any format (text, binary, ftrace import): reads every event and
// does nothing with it. Printed beside the replay rate by bench/run.sh, so the replay engine's
// own cost can be read off, and the formats compared.
#include <chrono>
#include <cstdio>
#include <string>

#include "traces/trace_reader.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: dartlab_parse_bench TRACE\n");
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  const auto owned = dartlab::trace::open_trace(argv[1]);
  dartlab::trace::TraceReader& reader = *owned;
  dartlab::trace::Event ev;
  std::uint64_t events = 0, checksum = 0;
  for (;;) {
    const auto status = reader.next(ev);
    if (status == dartlab::trace::TraceReader::Status::End) break;
    if (status == dartlab::trace::TraceReader::Status::Error) {
      std::fprintf(stderr, "%s\n", reader.error().to_string().c_str());
      return 2;
    }
    ++events;
    checksum += ev.gpa ^ ev.id;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"format\": \"%s\", \"events\": %llu, \"seconds\": %.3f, \"events_per_second\": %.0f, \"checksum\": %llu}\n",
              std::string(reader.format_name()).c_str(), static_cast<unsigned long long>(events), s, static_cast<double>(events) / s,
              static_cast<unsigned long long>(checksum));
  return 0;
}
