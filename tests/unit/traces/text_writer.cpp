// SPDX-License-Identifier: MIT
// The text writer: canonical lines, lossless round trips through the reader, no silent data loss.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "support/random_events.hpp"
#include "text_test_files.hpp"
#include "traces/text_format.hpp"
#include "traces/text_reader.hpp"
#include "traces/text_writer.hpp"

using namespace dartlab::trace;
using dartlab::trace::testing::read_all;
using dartlab::trace::testing::TempDir;
using dartlab::test::random_event;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes with a TextTraceWriter into `path`; `body` gets the writer.
template <typename Body>
void write_file(const std::string& path, Body body) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  {
    TextTraceWriter w(f);
    body(w);
    REQUIRE(w.flush());
  }
  REQUIRE(std::fclose(f) == 0);
}

Event event(EventKind kind, std::uint64_t id, std::uint64_t gpa = 0, std::uint64_t len_bytes = 0,
            Direction dir = Direction::Bidirectional, std::uint16_t device = 0) {
  Event ev;
  ev.kind = kind;
  ev.id = id;
  ev.gpa = gpa;
  ev.len_bytes = len_bytes;
  ev.dir = dir;
  ev.device = device;
  return ev;
}

Event timed(Event ev, std::uint64_t time_ns) {
  ev.has_time = true;
  ev.time_ns = time_ns;
  return ev;
}

}  // namespace

TEST_CASE("The writer writes the header and each event in canonical form", "[traces][text]") {
  TempDir dir;
  std::string path = dir.file("c.trace");
  std::vector<std::string> devices = {"0000:01:00.0", "0000:02:00.0"};
  std::vector<Segment> segs = {{0x10000, 4096}, {0x30000, 16}};
  write_file(path, [&](TextTraceWriter& w) {
    w.set_devices(devices);
    w.comment("recorded by a test\nsecond line");
    w.write(timed(event(EventKind::Map, 5, 0xABC000, 8192, Direction::ToDevice, 1), 99));
    Event sg = event(EventKind::MapSg, 6, 0, 0, Direction::FromDevice);
    sg.segments = segs;
    w.write(sg);
    w.write(event(EventKind::Alloc, 7, 0, 1));
    w.write(event(EventKind::Access, 7, 16, 4));
    w.write(event(EventKind::Unmap, 5));
    w.write(event(EventKind::UnmapSg, 6));
    w.write(timed(event(EventKind::Free, 7), 0));
    w.write(event(EventKind::Map, 8, 1, 1, Direction::Bidirectional, 9));
  });
  CHECK(slurp(path) ==
        "dartlab-trace v1\n"
        "# recorded by a test\n"
        "# second line\n"
        "@99 map 5 0000:02:00.0 0xabc000 8192 to_dev\n"
        "map_sg 6 0000:01:00.0 from_dev 0x10000:4096 0x30000:16\n"
        "alloc 7 0000:01:00.0 0x0 1\n"
        "access 7 0x10 4 bidi\n"
        "unmap 5\n"
        "unmap_sg 6\n"
        "@0 free 7\n"
        "map 8 dev9 0x1 1 bidi\n");
}

namespace {

}  // namespace

TEST_CASE("Writer to reader round trips are lossless", "[traces][text]") {
  TempDir dir;
  auto seed = GENERATE(1u, 2u, 3u, 4u, 5u);
  std::mt19937_64 rng(seed);
  std::vector<std::string> devices;
  auto device_count = static_cast<std::uint16_t>(1 + rng() % 300);
  for (std::uint16_t i = 0; i < device_count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%04x:%02x:%02x.%u", i, static_cast<unsigned>(rng() % 256), i % 32, i % 8);
    devices.push_back(name);
  }

  std::vector<Event> written;
  std::vector<std::vector<Segment>> written_segs;
  std::string path = dir.file("rt.trace");
  write_file(path, [&](TextTraceWriter& w) {
    w.set_devices(devices);
    std::vector<Segment> segs;
    for (int i = 0; i < 3000; ++i) {
      Event ev = random_event(rng, device_count, segs);
      if (i % 100 == 0) w.comment("event " + std::to_string(i));
      w.write(ev);
      written_segs.emplace_back(ev.segments.begin(), ev.segments.end());
      ev.segments = {};
      written.push_back(ev);
    }
  });

  auto r = read_all(path);
  INFO(r.error.to_string());
  REQUIRE(r.status == TextTraceReader::Status::End);
  REQUIRE(r.events.size() == written.size());
  for (std::size_t i = 0; i < written.size(); ++i) {
    INFO("event " << i << " seed " << seed);
    const Event& a = written[i];
    const Event& b = r.events[i];
    REQUIRE(a.kind == b.kind);
    REQUIRE(a.has_time == b.has_time);
    REQUIRE(a.time_ns == b.time_ns);
    REQUIRE(a.id == b.id);
    REQUIRE(a.gpa == b.gpa);
    REQUIRE(a.len_bytes == b.len_bytes);
    REQUIRE(a.dir == b.dir);
    REQUIRE(a.align_bytes == b.align_bytes);
    // The reader numbers devices as they first appear; names identify them.
    if (a.kind == EventKind::Map || a.kind == EventKind::MapSg || a.kind == EventKind::Alloc) {
      REQUIRE(r.devices[b.device] == devices[a.device]);
    } else {
      REQUIRE(b.device == 0);
    }
    REQUIRE(r.segments[i].size() == written_segs[i].size());
    for (std::size_t s = 0; s < written_segs[i].size(); ++s) {
      REQUIRE(r.segments[i][s].gpa == written_segs[i][s].gpa);
      REQUIRE(r.segments[i][s].len_bytes == written_segs[i][s].len_bytes);
    }
  }
}

TEST_CASE("Writer flush reports a full device instead of losing data silently", "[traces][text]") {
  std::FILE* full = std::fopen("/dev/full", "wb");
  REQUIRE(full != nullptr);
  {
    TextTraceWriter w(full);
    SECTION("a small trace fails at flush") {
      w.write(event(EventKind::Unmap, 1));
      CHECK_FALSE(w.flush());
    }
    SECTION("a trace larger than the buffer fails too, and keeps failing") {
      Event ev = event(EventKind::Map, 1, 0x1000, 4096);
      for (int i = 0; i < 200000; ++i) w.write(ev);
      CHECK_FALSE(w.flush());
      w.comment("later");
      CHECK_FALSE(w.flush());
    }
  }
  std::fclose(full);
}

TEST_CASE("Writer flush succeeds on a healthy file", "[traces][text]") {
  TempDir dir;
  std::string path = dir.file("ok.trace");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  {
    TextTraceWriter w(f);
    CHECK(w.flush());
    CHECK(slurp(path) == "dartlab-trace v1\n");
  }
  std::fclose(f);
}

TEST_CASE("Device names a DEVICE field cannot hold are written with '_' so the trace reads back", "[traces][text]") {
  TempDir dir;
  std::string path = dir.file("names.trace");
  const std::vector<std::string> devices = {"soc:gpu@0", "a b", "0000:01:00.0"};
  write_file(path, [&](TextTraceWriter& w) {
    w.set_devices(devices);
    for (std::uint16_t d = 0; d < 3; ++d) {
      Event ev;
      ev.kind = EventKind::Alloc;
      ev.id = d + 1u;
      ev.device = d;
      ev.gpa = 0x1000;
      ev.len_bytes = 4096;
      w.write(ev);
    }
  });
  auto r = read_all(path);
  REQUIRE(r.status == TextTraceReader::Status::End);
  CHECK(r.devices == std::vector<std::string>{"soc:gpu_0", "a_b", "0000:01:00.0"});
}
