// SPDX-License-Identifier: MIT
// The text reader reads in blocks; lines that straddle them, odd line ends and over-long lines.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include "text_test_files.hpp"
#include "traces/text_format.hpp"
#include "traces/text_reader.hpp"

using namespace dartlab::trace;
using Catch::Matchers::Contains;
using dartlab::trace::testing::read_all;
using dartlab::trace::testing::TempDir;
using dartlab::trace::testing::trace;

namespace {

// Lines of varied length and kind, and what the reader must make of each (id = line number).
struct Expected {
  std::string text;
  std::vector<Event> events;
  std::vector<std::vector<Segment>> segments;
};

Expected varied_lines(std::uint32_t seed, std::size_t min_bytes) {
  std::mt19937_64 rng(seed);
  Expected e;
  e.text = "dartlab-trace v1\n";
  std::uint64_t line = 1;
  while (e.text.size() < min_bytes) {
    ++line;
    std::string pad(rng() % 40, ' ');
    switch (rng() % 5) {
      case 0:
        e.text += "# " + std::string(rng() % 300, 'c') + "\n";
        continue;
      case 1:
        e.text += pad + "\n";
        continue;
      case 2: {
        Event ev;
        ev.kind = EventKind::Map;
        ev.id = line;
        ev.gpa = rng() >> 20;
        ev.len_bytes = 1 + rng() % 100000;
        ev.dir = Direction::FromDevice;
        e.text += "map " + std::to_string(line) + pad + " d0 " + std::to_string(ev.gpa) + " " +
                  std::to_string(ev.len_bytes) + " from_dev\n";
        e.events.push_back(ev);
        e.segments.emplace_back();
        break;
      }
      case 3: {
        Event ev;
        ev.kind = EventKind::MapSg;
        ev.id = line;
        ev.device = 1;
        ev.dir = Direction::ToDevice;
        e.text += "map_sg " + std::to_string(line) + " d1 to_dev";
        std::vector<Segment> segs(1 + rng() % 200);
        for (auto& s : segs) {
          s.gpa = rng() >> 24;
          s.len_bytes = 1 + rng() % 5000;
          // Appended piece by piece: " " + std::to_string(...) trips GCC 12's -Wrestrict at -O3.
          e.text += ' ';
          e.text += std::to_string(s.gpa);
          e.text += ':';
          e.text += std::to_string(s.len_bytes);
        }
        e.text += "\n";
        e.events.push_back(ev);
        e.segments.push_back(segs);
        break;
      }
      default: {
        Event ev;
        ev.kind = EventKind::Unmap;
        ev.id = line;
        e.text += "unmap " + std::to_string(line) + "\n";
        e.events.push_back(ev);
        e.segments.emplace_back();
        break;
      }
    }
  }
  return e;
}

void require_same(const testing::ReadAll& r, const Expected& e) {
  INFO(r.error.to_string());
  REQUIRE(r.status == TextTraceReader::Status::End);
  REQUIRE(r.events.size() == e.events.size());
  for (std::size_t i = 0; i < e.events.size(); ++i) {
    INFO("event " << i);
    const Event& got = r.events[i];
    const Event& want = e.events[i];
    REQUIRE(got.kind == want.kind);
    REQUIRE(got.id == want.id);
    REQUIRE(r.lines[i] == want.id);
    REQUIRE(got.gpa == want.gpa);
    REQUIRE(got.len_bytes == want.len_bytes);
    REQUIRE(got.dir == want.dir);
    if (want.kind != EventKind::Unmap) REQUIRE(r.devices[got.device] == std::string(1, 'd').append(std::to_string(want.device)));
    REQUIRE(r.segments[i].size() == e.segments[i].size());
    for (std::size_t s = 0; s < e.segments[i].size(); ++s) {
      REQUIRE(r.segments[i][s].gpa == e.segments[i][s].gpa);
      REQUIRE(r.segments[i][s].len_bytes == e.segments[i][s].len_bytes);
    }
  }
}

}  // namespace

TEST_CASE("Lines that straddle the reader's block boundaries are read whole", "[traces][text]") {
  TempDir dir;
  auto seed = GENERATE(1u, 2u, 3u);

  SECTION("default blocks, a file several blocks long") {
    Expected e = varied_lines(seed, 3 * text::kBlockBytes + 12345);
    auto r = read_all(dir.write("big.trace", e.text));
    require_same(r, e);
  }
  SECTION("tiny blocks, so that seams fall everywhere, inside fields too") {
    Expected e = varied_lines(seed, 40000);
    auto block = GENERATE(1u, 7u, 64u, 4093u);
    auto r = read_all(dir.write("small.trace", e.text), ReaderOptions{.block_bytes = block});
    require_same(r, e);
  }
}

TEST_CASE("The last line may lack its newline", "[traces][text]") {
  TempDir dir;
  auto block = GENERATE(std::size_t{3}, text::kBlockBytes);
  auto r = read_all(dir.write("t.trace", trace("unmap 1\nmap 2 d 0x1000 4K bidi")), ReaderOptions{.block_bytes = block});
  REQUIRE(r.status == TextTraceReader::Status::End);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[1].dir == Direction::Bidirectional);
  CHECK(r.lines[1] == 3);

  SECTION("and a header alone without a newline is an empty trace") {
    auto h = read_all(dir.write("h.trace", "dartlab-trace v1"), ReaderOptions{.block_bytes = block});
    CHECK(h.status == TextTraceReader::Status::End);
    CHECK(h.events.empty());
  }
  SECTION("an error on it names it") {
    auto h = read_all(dir.write("e.trace", trace("unmap 1\nunmap x")), ReaderOptions{.block_bytes = block});
    REQUIRE(h.status == TextTraceReader::Status::Error);
    CHECK(h.error.line == 3);
    CHECK(h.error.column == 7);
  }
}

TEST_CASE("CRLF line ends are accepted", "[traces][text]") {
  TempDir dir;
  auto block = GENERATE(std::size_t{1}, std::size_t{2}, text::kBlockBytes);
  auto r = read_all(dir.write("crlf.trace", "# made on Windows\r\ndartlab-trace v1\r\n\r\nmap 1 d 0x1000 4K to_dev\r\n"
                                            "unmap 1 # bye\r\nfree 2\r"),
                    ReaderOptions{.block_bytes = block});
  INFO(r.error.to_string());
  REQUIRE(r.status == TextTraceReader::Status::End);
  REQUIRE(r.events.size() == 3);
  CHECK(r.events[0].dir == Direction::ToDevice);
  CHECK(r.lines == std::vector<std::uint64_t>{4, 5, 6});
}

TEST_CASE("A line longer than 1 MiB is an error naming it, not a crash", "[traces][text]") {
  TempDir dir;
  auto block = GENERATE(std::size_t{4096}, text::kBlockBytes);
  std::string huge(text::kMaxLineBytes + 1, 'x');

  SECTION("with no newline in sight") {
    auto r = read_all(dir.write("l.trace", trace("unmap 1\n" + huge)), ReaderOptions{.block_bytes = block});
    REQUIRE(r.status == TextTraceReader::Status::Error);
    CHECK(r.events.size() == 1);
    CHECK(r.error.line == 3);
    CHECK_THAT(r.error.message, Contains("line is longer than 1048576 bytes"));
  }
  SECTION("as a comment that ends in the same buffer") {
    auto r = read_all(dir.write("l.trace", trace("unmap 1\n#" + huge + "\nunmap 2\n")), ReaderOptions{.block_bytes = block});
    REQUIRE(r.status == TextTraceReader::Status::Error);
    CHECK(r.error.line == 3);
    CHECK_THAT(r.error.message, Contains("line is longer than 1048576 bytes"));
  }
  SECTION("a line of exactly 1 MiB is fine") {
    std::string line = "unmap 2 #" + std::string(text::kMaxLineBytes - 9, 'c');
    REQUIRE(line.size() == text::kMaxLineBytes);
    auto r = read_all(dir.write("l.trace", trace("unmap 1\n" + line + "\r\nunmap 3\n")), ReaderOptions{.block_bytes = block});
    INFO(r.error.to_string());
    REQUIRE(r.status == TextTraceReader::Status::End);
    CHECK(r.events.size() == 3);
  }
}

TEST_CASE("The reader reports its progress through the file", "[traces][text]") {
  TempDir dir;
  std::string text = trace("unmap 1\nunmap 2\n# end\n");
  std::string path = dir.write("p.trace", text);
  TextTraceReader reader(path, ReaderOptions{.block_bytes = 5});
  CHECK(reader.file_bytes() == text.size());
  Event ev;
  REQUIRE(reader.next(ev) == TextTraceReader::Status::Event);
  CHECK(reader.bytes_consumed() == std::string("dartlab-trace v1\nunmap 1\n").size());
  REQUIRE(reader.next(ev) == TextTraceReader::Status::Event);
  REQUIRE(reader.next(ev) == TextTraceReader::Status::End);
  CHECK(reader.bytes_consumed() == text.size());
  CHECK(reader.next(ev) == TextTraceReader::Status::End);
}

TEST_CASE("\"-\" reads standard input", "[traces][text]") {
  TempDir dir;
  std::string path = dir.write("stdin.trace", trace("unmap 1\nfree 2\n"));
  // Point fd 0 at the file for the duration of the test.
  int file = ::open(path.c_str(), O_RDONLY);
  REQUIRE(file >= 0);
  int saved = ::dup(0);
  ::dup2(file, 0);
  ::close(file);
  auto r = read_all("-");
  ::dup2(saved, 0);
  ::close(saved);
  REQUIRE(r.status == TextTraceReader::Status::End);
  CHECK(r.events.size() == 2);
  CHECK(r.error.file == "<stdin>");
}
