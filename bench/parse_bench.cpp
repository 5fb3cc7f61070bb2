// Parse-only rate of a text trace: reads every event and does nothing with it. Printed beside
// the replay rate by bench/run.sh, so the replay engine's own cost can be read off.
#include <chrono>
#include <cstdio>

#include "traces/text_reader.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: dartlab_parse_bench TRACE\n");
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  dartlab::trace::TextTraceReader reader(argv[1]);
  dartlab::trace::Event ev;
  std::uint64_t events = 0, checksum = 0;
  for (;;) {
    const auto status = reader.next(ev);
    if (status == dartlab::trace::TextTraceReader::Status::End) break;
    if (status == dartlab::trace::TextTraceReader::Status::Error) {
      std::fprintf(stderr, "%s\n", reader.error().to_string().c_str());
      return 2;
    }
    ++events;
    checksum += ev.gpa ^ ev.id;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"events\": %llu, \"seconds\": %.3f, \"events_per_second\": %.0f, \"checksum\": %llu}\n",
              static_cast<unsigned long long>(events), s, static_cast<double>(events) / s,
              static_cast<unsigned long long>(checksum));
  return 0;
}
