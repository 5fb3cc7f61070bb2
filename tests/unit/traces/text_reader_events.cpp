// SPDX-License-Identifier: MIT
// The text reader turns every kind of line into the event it describes.
#include <catch2/catch.hpp>

#include "text_test_files.hpp"
#include "traces/text_reader.hpp"

using namespace dartlab::trace;
using dartlab::trace::testing::read_all;
using dartlab::trace::testing::TempDir;
using dartlab::trace::testing::trace;

namespace {

// The one event of a one-line trace body.
Event only_event(const TempDir& dir, std::string_view line, std::vector<Segment>* segments = nullptr,
                 std::vector<std::string>* devices = nullptr) {
  auto r = read_all(dir.write("one.trace", trace(std::string(line) + "\n")));
  INFO(r.error.to_string());
  REQUIRE(r.status == TextTraceReader::Status::End);
  REQUIRE(r.events.size() == 1);
  if (segments != nullptr) *segments = r.segments[0];
  if (devices != nullptr) *devices = r.devices;
  return r.events[0];
}

}  // namespace

TEST_CASE("Every event kind is read from its line, with and without a timestamp", "[traces][text]") {
  TempDir dir;
  std::vector<std::string> devices;

  SECTION("map") {
    Event ev = only_event(dir, "map 7 0000:01:00.0 0x1000 4096 to_dev", nullptr, &devices);
    CHECK(ev.kind == EventKind::Map);
    CHECK(ev.id == 7);
    CHECK(devices == std::vector<std::string>{"0000:01:00.0"});
    CHECK(ev.device == 0);
    CHECK(ev.gpa == 0x1000);
    CHECK(ev.len_bytes == 4096);
    CHECK(ev.dir == Direction::ToDevice);
    CHECK_FALSE(ev.has_time);
    CHECK(ev.segments.empty());
    CHECK(ev.align_bytes == 0);
  }
  SECTION("map, map_sg and alloc may carry the alignment the driver asked for") {
    CHECK(only_event(dir, "map 7 d 0x1000 4096 to_dev align=2M").align_bytes == 2u << 20);
    CHECK(only_event(dir, "alloc 7 d 0x1000 4096 align=0x10000 # comment").align_bytes == 0x10000);
    std::vector<Segment> segs;
    Event ev = only_event(dir, "map_sg 9 d bidi 0x10000:4K 0x30000:8K align=64K", &segs);
    CHECK(ev.align_bytes == 64u << 10);
    CHECK(segs.size() == 2);
  }
  SECTION("map with a timestamp") {
    Event ev = only_event(dir, "@123456789 map 7 0000:01:00.0 0x1000 4096 from_dev");
    CHECK(ev.has_time);
    CHECK(ev.time_ns == 123456789);
    CHECK(ev.kind == EventKind::Map);
    CHECK(ev.dir == Direction::FromDevice);
  }
  SECTION("map_sg") {
    std::vector<Segment> segs;
    Event ev = only_event(dir, "map_sg 9 gpu0 bidi 0x10000:4K 0x30000:8192 65536:0x10", &segs, &devices);
    CHECK(ev.kind == EventKind::MapSg);
    CHECK(ev.id == 9);
    CHECK(devices == std::vector<std::string>{"gpu0"});
    CHECK(ev.dir == Direction::Bidirectional);
    REQUIRE(segs.size() == 3);
    CHECK(segs[0].gpa == 0x10000);
    CHECK(segs[0].len_bytes == 4096);
    CHECK(segs[1].gpa == 0x30000);
    CHECK(segs[1].len_bytes == 8192);
    CHECK(segs[2].gpa == 65536);
    CHECK(segs[2].len_bytes == 16);
  }
  SECTION("alloc is always bidirectional") {
    Event ev = only_event(dir, "@5 alloc 3 0000:02:00.0 0x200000 2M");
    CHECK(ev.kind == EventKind::Alloc);
    CHECK(ev.time_ns == 5);
    CHECK(ev.id == 3);
    CHECK(ev.gpa == 0x200000);
    CHECK(ev.len_bytes == 2 * 1024 * 1024);
    CHECK(ev.dir == Direction::Bidirectional);
  }
  SECTION("unmap, unmap_sg and free carry only an id") {
    auto kind = GENERATE(std::pair{"unmap", EventKind::Unmap}, std::pair{"unmap_sg", EventKind::UnmapSg},
                         std::pair{"free", EventKind::Free});
    Event ev = only_event(dir, std::string("@0 ") + kind.first + " 18446744073709551615");
    CHECK(ev.kind == kind.second);
    CHECK(ev.id == 18446744073709551615u);
    CHECK(ev.has_time);
    CHECK(ev.time_ns == 0);
  }
  SECTION("access") {
    Event ev = only_event(dir, "access 7 0x1800 0x100 from_dev");
    CHECK(ev.kind == EventKind::Access);
    CHECK(ev.id == 7);
    CHECK(ev.gpa == 0x1800);
    CHECK(ev.len_bytes == 256);
    CHECK(ev.dir == Direction::FromDevice);
  }
}

TEST_CASE("Fields may be separated by tabs and runs of blanks and followed by a comment", "[traces][text]") {
  TempDir dir;
  Event ev = only_event(dir, "\t @42\tmap  \t 1 0000:01:00.0\t0xABCDEF000   16K   bidi   # first frame");
  CHECK(ev.time_ns == 42);
  CHECK(ev.id == 1);
  CHECK(ev.gpa == 0xabcdef000);
  CHECK(ev.len_bytes == 16384);
  CHECK(ev.dir == Direction::Bidirectional);
}

TEST_CASE("Numbers may be decimal or hex, lengths may carry a binary K/M/G suffix", "[traces][text]") {
  TempDir dir;
  struct Case {
    const char* len;
    std::uint64_t bytes;
  };
  auto c = GENERATE(Case{"1", 1}, Case{"4096", 4096}, Case{"0x1000", 4096}, Case{"0X1000", 4096},
                    Case{"4K", 4096}, Case{"3M", 3u << 20}, Case{"1G", 1u << 30}, Case{"0x10K", 16384},
                    Case{"16777215G", 16777215ull << 30}, Case{"123456789012345", 123456789012345ull},
                    Case{"0xFFFFFFFFFFFFFFFF", ~0ull}, Case{"00000000000000000000042", 42});
  Event ev = only_event(dir, std::string("access 1 0 ") + c.len + " to_dev");
  CHECK(ev.len_bytes == c.bytes);

  SECTION("GPAs and ids up to 2^64-1 are read exactly") {
    Event big = only_event(dir, "map 18446744073709551615 d 0xfffffffffffff000 4K to_dev");
    CHECK(big.id == ~0ull);
    CHECK(big.gpa == 0xfffffffffffff000);
    Event dec = only_event(dir, "map 12345678901234567 d 18446744073709547520 0x1000 to_dev");
    CHECK(dec.id == 12345678901234567ull);
    CHECK(dec.gpa == 18446744073709547520ull);
  }
}

TEST_CASE("A range may end exactly at 2^64", "[traces][text]") {
  TempDir dir;
  Event ev = only_event(dir, "map 1 d 0xffffffffffffff00 256 to_dev");
  CHECK(ev.gpa + (ev.len_bytes - 1) == ~0ull);
}

TEST_CASE("Devices are interned in order of first appearance", "[traces][text]") {
  TempDir dir;
  std::string body;
  const char* names[] = {"0000:01:00.0", "0000:02:00.0", "gpu", "0000:01:00.0", "x-y_z.1", "gpu"};
  for (int i = 0; i < 6; ++i) body += "map " + std::to_string(i) + " " + names[i] + " 0 1 bidi\n";
  // Past the few that are found by a linear scan, the device table is a hash map.
  for (int i = 0; i < 40; ++i) body += "alloc 100 dev" + std::to_string(i % 20) + " 0 1\n";
  auto r = read_all(dir.write("dev.trace", trace(body)));
  REQUIRE(r.status == TextTraceReader::Status::End);
  REQUIRE(r.devices.size() == 4 + 20);
  CHECK(r.devices[0] == "0000:01:00.0");
  CHECK(r.devices[3] == "x-y_z.1");
  std::vector<std::uint16_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(r.events[static_cast<std::size_t>(i)].device);
  CHECK(got == std::vector<std::uint16_t>{0, 1, 2, 0, 3, 2});
  for (int i = 0; i < 40; ++i) {
    const Event& ev = r.events[static_cast<std::size_t>(6 + i)];
    CHECK(r.devices[ev.device] == "dev" + std::to_string(i % 20));
  }
}

TEST_CASE("Comments and blank lines are skipped and line numbers count them", "[traces][text]") {
  TempDir dir;
  auto r = read_all(dir.write("c.trace", "# recorded on a test box\n\n   \ndartlab-trace v1   # the header\n"
                                         "# a comment\n\t\nunmap 1\n\n#map 1 d 0 1 bidi\nfree 2 # trailing\n"));
  REQUIRE(r.status == TextTraceReader::Status::End);
  REQUIRE(r.events.size() == 2);
  CHECK(r.lines == std::vector<std::uint64_t>{7, 10});
  CHECK(r.events[0].kind == EventKind::Unmap);
  CHECK(r.events[1].kind == EventKind::Free);
}

TEST_CASE("A map_sg may carry up to 4096 segments", "[traces][text]") {
  TempDir dir;
  std::string line = "map_sg 1 d to_dev";
  for (std::uint64_t i = 0; i < 4096; ++i) {  // piece by piece: see text_reader_blocks.cpp
    line += ' ';
    line += std::to_string(i * 0x10000);
    line += ":4K";
  }
  std::vector<Segment> segs;
  only_event(dir, line, &segs);
  REQUIRE(segs.size() == 4096);
  CHECK(segs[4095].gpa == 4095 * 0x10000ull);
  CHECK(segs[4095].len_bytes == 4096);
}

TEST_CASE("Event names are the text format's keywords", "[traces][text]") {
  CHECK(to_string(EventKind::Map) == "map");
  CHECK(to_string(EventKind::MapSg) == "map_sg");
  CHECK(to_string(EventKind::Unmap) == "unmap");
  CHECK(to_string(EventKind::UnmapSg) == "unmap_sg");
  CHECK(to_string(EventKind::Alloc) == "alloc");
  CHECK(to_string(EventKind::Free) == "free");
  CHECK(to_string(EventKind::Access) == "access");
  CHECK(to_string(Direction::ToDevice) == "to_dev");
  CHECK(to_string(Direction::FromDevice) == "from_dev");
  CHECK(to_string(Direction::Bidirectional) == "bidi");
}
