// SPDX-License-Identifier: MIT
// --device keeps one device's requests, whatever the format, and says what it skipped.
#include <catch2/catch.hpp>

#include "text_test_files.hpp"
#include "traces/trace_reader.hpp"

using namespace dartlab::trace;
using dartlab::trace::testing::TempDir;

namespace {

struct Read {
  std::vector<Event> events;
  std::vector<ReaderNote> notes;
  TraceReader::Status status = TraceReader::Status::End;
  std::string error;
};

Read read_device(const std::string& path, const std::string& device) {
  auto reader = open_trace(path, ReaderOptions{.device = device});
  Read r;
  Event ev;
  while ((r.status = reader->next(ev)) == TraceReader::Status::Event) {
    ev.segments = {};
    r.events.push_back(ev);
  }
  if (r.status == TraceReader::Status::Error) r.error = reader->error().to_string();
  r.notes.assign(reader->notes().begin(), reader->notes().end());
  return r;
}

constexpr const char* kTwoDevices =
    "dartlab-trace v1\n"
    "map 1 gpu 0x1000 4K bidi\n"      // 2
    "map 2 audio 0x2000 4K bidi\n"    // 3
    "access 2 0x2000 1 bidi\n"        // 4
    "map_sg 3 audio bidi 0x4000:4K\n" // 5
    "access 1 0x1000 1 bidi\n"        // 6
    "unmap 2\n"                       // 7
    "unmap_sg 3\n"                    // 8
    "alloc 4 gpu 0x8000 8K\n"         // 9
    "free 4\n"                        // 10
    "unmap 1\n";                      // 11

}  // namespace

TEST_CASE("Filtering by device keeps the named device's requests and their unmaps, frees and accesses", "[traces][device]") {
  TempDir dir;
  const std::string path = dir.write("two.trace", kTwoDevices);
  Read gpu = read_device(path, "gpu");
  REQUIRE(gpu.status == TraceReader::Status::End);
  REQUIRE(gpu.events.size() == 5);
  for (const Event& ev : gpu.events) CHECK((ev.id == 1 || ev.id == 4));
  REQUIRE(gpu.notes.size() == 1);
  CHECK(gpu.notes[0].count == 5);
  CHECK(gpu.notes[0].first_lines == std::vector<std::uint64_t>{3, 4, 5, 7, 8});
  CHECK_THAT(gpu.notes[0].what, Catch::Matchers::Contains("another device than gpu"));

  Read audio = read_device(path, "audio");
  CHECK(audio.events.size() == 5);
  CHECK(audio.notes.at(0).count == 5);
  CHECK(audio.notes.at(0).first_lines == std::vector<std::uint64_t>{2, 6, 9, 10, 11});
}

TEST_CASE("Filtering by a device the trace does not have is an error that says which devices it has", "[traces][device]") {
  TempDir dir;
  Read none = read_device(dir.write("two.trace", kTwoDevices), "0000:09:00.0");
  CHECK(none.events.empty());
  REQUIRE(none.notes.size() == 2);
  CHECK(none.notes[1].what == "no event of device 0000:09:00.0 (the trace has: gpu, audio)");
  // An empty result from a trace that has events is no success: the error names what was skipped.
  CHECK(none.status == TraceReader::Status::Error);
  CHECK_THAT(none.error, Catch::Matchers::Contains("two.trace: error: no events: the text reader skipped all of the input: "
                                                   "1 x no event of device 0000:09:00.0 (the trace has: gpu, audio); "
                                                   "10 x event of another device than 0000:09:00.0 (lines 2, 3, 4, 5, 6, ...)"));
  // A name that is no PCI address is pointed out: a common slip is naming a device as something else calls it.
  Read named = read_device(dir.write("two.trace", kTwoDevices), "GPU");
  CHECK_THAT(named.error, Catch::Matchers::Contains("no event of device GPU (the trace has: gpu, audio; GPU is not a PCI address such as 0000:01:00.0)"));
}
