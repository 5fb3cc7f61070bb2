// SPDX-License-Identifier: MIT
// Bad text traces stop the reader with a message that says what is wrong and where.
#include <catch2/catch.hpp>

#include "text_test_files.hpp"
#include "traces/text_reader.hpp"

using namespace dartlab::trace;
using Catch::Matchers::Contains;
using dartlab::trace::testing::read_all;
using dartlab::trace::testing::ReadAll;
using dartlab::trace::testing::TempDir;
using dartlab::trace::testing::trace;

namespace {

// Reads a trace whose body (after the header, on line 2) is `body`; requires that it fails.
ReadAll failing(const TempDir& dir, std::string_view body, ReaderOptions options = {}) {
  auto r = read_all(dir.write("bad.trace", trace(body)), options);
  INFO("events read: " << r.events.size());
  REQUIRE(r.status == TextTraceReader::Status::Error);
  return r;
}

}  // namespace

TEST_CASE("A parse error names file, line and column as FILE:LINE:COL", "[traces][text]") {
  TempDir dir;
  std::string body;
  for (int i = 0; i < 10; ++i) body += "unmap " + std::to_string(i) + "\n";
  body += "map 1 dev0 0x1000 4Q to_dev\n";  // line 12; "4Q" starts in column 19
  std::string path = dir.write("game.trace", trace(body));
  auto r = read_all(path);
  REQUIRE(r.status == TextTraceReader::Status::Error);
  CHECK(r.events.size() == 10);
  CHECK(r.error.file == path);
  CHECK(r.error.line == 12);
  CHECK(r.error.column == 19);
  CHECK(r.error.to_string() == path + ":12:19: error: length must be a decimal or 0x-hex number with optional K/M/G suffix, got '4Q'");
}

TEST_CASE("Each syntax rule broken is reported at its token", "[traces][text]") {
  TempDir dir;
  struct Case {
    const char* line;
    std::uint32_t column;
    const char* message;
  };
  auto c = GENERATE(
      Case{"mapp 1 d 0 1 bidi", 1, "unknown event 'mapp' (expected map, map_sg, unmap, unmap_sg, alloc, free, access)"},
      Case{"@7 MAP 1 d 0 1 bidi", 4, "unknown event 'MAP'"},
      Case{"map 1 d 0x1000 4K", 18, "map needs ID DEVICE GPA LEN DIR [align=SIZE] (DIR is missing)"},
      Case{"map 1 d # 0x1000 4K bidi", 8, "map needs ID DEVICE GPA LEN DIR [align=SIZE] (GPA is missing)"},
      Case{"unmap", 6, "unmap needs ID (ID is missing)"},
      Case{"alloc 1", 8, "alloc needs ID DEVICE GPA LEN [align=SIZE] (DEVICE is missing)"},
      Case{"access 1 0x10", 14, "access needs ID GPA LEN DIR (LEN is missing)"},
      Case{"map_sg 1 d to_dev", 18, "map_sg needs ID DEVICE DIR GPA:LEN [GPA:LEN ...] [align=SIZE] (GPA:LEN is missing)"},
      Case{"map_sg 1 d to_dev  # no segments", 18, "map_sg needs ID DEVICE DIR GPA:LEN"},
      Case{"@12", 4, "expected an event after the timestamp"},
      Case{"unmap 1 2", 9, "unexpected extra field '2' (unmap takes ID"},
      Case{"map 1 d 0 1 bidi bidi", 18, "unexpected extra field 'bidi'"},
      Case{"map 1 d 0 1 bidi align=2M 1", 27, "unexpected extra field '1'"},
      Case{"map 1 d 0 1 bidi align=3K", 18, "alignment must be 'align=' and a power of two (e.g. align=2M), got 'align=3K'"},
      Case{"alloc 1 d 0 1 align=", 15, "alignment must be 'align=' and a power of two"},
      Case{"alloc 1 d 0 1 align=0", 15, "got 'align=0'"},
      Case{"map_sg 1 d bidi align=4K", 17, "(GPA:LEN is missing)"},
      Case{"map_sg 1 d bidi 0:4K align=4K 0:4K", 31, "unexpected extra field '0:4K'"},
      Case{"map_sg 1 d bidi 0:4K align=x", 22, "got 'align=x'"},
      Case{"free 1#not a comment", 6, "ID must be a decimal number, got '1#not'"},
      Case{"map 1 d 0 1 to_device", 13, "direction must be to_dev, from_dev or bidi, got 'to_device'"},
      Case{"access 1 0 1 TO_DEV", 14, "direction must be to_dev, from_dev or bidi, got 'TO_DEV'"},
      Case{"map 0x1 d 0 1 bidi", 5, "ID must be a decimal number, got '0x1'"},
      Case{"map -1 d 0 1 bidi", 5, "ID must be a decimal number, got '-1'"},
      Case{"map 18446744073709551616 d 0 1 bidi", 5, "ID '18446744073709551616' does not fit in 64 bits"},
      Case{"map 1 d 0x 1 bidi", 9, "GPA must be a decimal or 0x-hex number, got '0x'"},
      Case{"map 1 d 0x1g 1 bidi", 9, "GPA must be a decimal or 0x-hex number, got '0x1g'"},
      Case{"map 1 d 4K 1 bidi", 9, "GPA must be a decimal or 0x-hex number, got '4K'"},
      Case{"map 1 d 0x10000000000000000 1 bidi", 9, "GPA '0x10000000000000000' does not fit in 64 bits"},
      Case{"map 1 d 99999999999999999999 1 bidi", 9, "GPA '99999999999999999999' does not fit in 64 bits"},
      Case{"map 1 d 0 4k bidi", 11, "length must be a decimal or 0x-hex number with optional K/M/G suffix, got '4k'"},
      Case{"map 1 d 0 K bidi", 11, "got 'K'"},
      Case{"map 1 d 0 17179869184G bidi", 11, "length '17179869184G' does not fit in 64 bits"},
      Case{"map 1 d 0 18446744073709551616 bidi", 11, "length '18446744073709551616' does not fit in 64 bits"},
      Case{"@x map 1 d 0 1 bidi", 1, "timestamp must be '@' followed by decimal nanoseconds, got '@x'"},
      Case{"@ map 1 d 0 1 bidi", 1, "got '@'"},
      Case{"@99999999999999999999 unmap 1", 1, "timestamp '@99999999999999999999' does not fit in 64 bits"},
      Case{"map 1 0000:01:00.0/x 0 1 bidi", 7, "device must be letters, digits and ':._-'"},
      Case{"map_sg 1 d bidi 0x1000:4K 0x2000", 27, "segment must be GPA:LEN, got '0x2000'"},
      Case{"map_sg 1 d bidi 0x1000:", 17, "segment must be GPA:LEN, got '0x1000:'"},
      Case{"map_sg 1 d bidi :4K", 17, "segment must be GPA:LEN"},
      Case{"map_sg 1 d bidi 0x1000:4K:1", 24, "length must be a decimal or 0x-hex number with optional K/M/G suffix, got '4K:1'"},
      Case{"map_sg 1 d bidi 0x1000:4Q", 24, "got '4Q'"},
      Case{"map_sg 1 d bidi zz:4K", 17, "GPA must be a decimal or 0x-hex number, got 'zz'"},
      Case{"map 1 d 0 1 bidi\r\r", 13, "direction must be to_dev, from_dev or bidi, got 'bidi\\x0d'"},  // a stray byte is escaped in the message
      Case{"unmap 1\r2", 7, "ID must be a decimal number, got '1\\x0d2'"});
  // A '\r' ends a line only right before its '\n'.
  auto r = failing(dir, std::string(c.line) + "\n");
  INFO(r.error.to_string());
  CHECK(r.error.line == 2);
  CHECK(r.error.column == c.column);
  CHECK_THAT(r.error.message, Contains(c.message));
}

TEST_CASE("More than 4096 segments in one map_sg is an error at the 4097th", "[traces][text]") {
  TempDir dir;
  std::string line = "map_sg 1 d to_dev";
  for (int i = 0; i < 4097; ++i) line += " 0x1000:1";
  auto r = failing(dir, line + "\n");
  CHECK(r.error.line == 2);
  CHECK(r.error.column == 18 + 4096 * 9 + 1);
  CHECK_THAT(r.error.message, Contains("map_sg has more than 4096 segments"));
}

TEST_CASE("More than 65535 distinct devices is an error", "[traces][text]") {
  TempDir dir;
  std::string body;
  for (int i = 0; i <= 65535; ++i) body += "alloc 1 d" + std::to_string(i) + " 0 1\n";
  auto r = failing(dir, body);
  CHECK(r.events.size() == 65535);
  CHECK(r.error.line == 2 + 65535);
  CHECK(r.error.column == 9);
  CHECK_THAT(r.error.message, Contains("more than 65535 distinct devices"));
}

TEST_CASE("Errors are reported on the right line after comments and blank lines", "[traces][text]") {
  TempDir dir;
  auto r = failing(dir, "# one\n\nunmap 1\n   # two\n\t\n\r\nunmap 2\n\nunmap x\nunmap 3\n");
  CHECK(r.events.size() == 2);
  CHECK(r.error.line == 10);
  CHECK(r.error.column == 7);
  CHECK_THAT(r.error.message, Contains("got 'x'"));
}

TEST_CASE("The header must come first and name version 1", "[traces][text]") {
  TempDir dir;

  SECTION("an event before the header") {
    auto r = read_all(dir.write("h.trace", "# comment\n\nmap 1 d 0 1 bidi\n"));
    REQUIRE(r.status == TextTraceReader::Status::Error);
    CHECK(r.error.line == 3);
    CHECK(r.error.column == 1);
    CHECK_THAT(r.error.message, Contains("missing header") && Contains("'dartlab-trace v1'"));
  }
  SECTION("an empty file") {
    auto r = read_all(dir.write("h.trace", ""));
    REQUIRE(r.status == TextTraceReader::Status::Error);
    CHECK_THAT(r.error.message, Contains("missing header"));
  }
  SECTION("only comments") {
    auto r = read_all(dir.write("h.trace", "# nothing\n\n"));
    REQUIRE(r.status == TextTraceReader::Status::Error);
    CHECK_THAT(r.error.message, Contains("missing header"));
  }
  SECTION("another version") {
    auto r = read_all(dir.write("h.trace", "\ndartlab-trace v2\nunmap 1\n"));
    REQUIRE(r.status == TextTraceReader::Status::Error);
    CHECK(r.error.line == 2);
    CHECK(r.error.column == 15);
    CHECK(r.error.message == "unsupported trace version v2 (this dartlab reads v1)");
  }
  SECTION("a version that is not one") {
    auto r = read_all(dir.write("h.trace", "dartlab-trace 1\n"));
    REQUIRE(r.status == TextTraceReader::Status::Error);
    CHECK_THAT(r.error.message, Contains("bad trace version '1'"));
  }
  SECTION("no version") {
    auto r = read_all(dir.write("h.trace", "dartlab-trace\n"));
    REQUIRE(r.status == TextTraceReader::Status::Error);
    CHECK(r.error.column == 14);
    CHECK_THAT(r.error.message, Contains("needs a version"));
  }
  SECTION("something after the header") {
    auto r = read_all(dir.write("h.trace", "dartlab-trace v1 extra\n"));
    REQUIRE(r.status == TextTraceReader::Status::Error);
    CHECK(r.error.column == 18);
    CHECK_THAT(r.error.message, Contains("unexpected 'extra' after the header"));
  }
  SECTION("a header twice") {
    auto r = read_all(dir.write("h.trace", "dartlab-trace v1\ndartlab-trace v1\n"));
    REQUIRE(r.status == TextTraceReader::Status::Error);
    CHECK(r.error.line == 2);
    CHECK_THAT(r.error.message, Contains("unknown event 'dartlab-trace'"));
  }
}

TEST_CASE("An unopenable file is an error from the first next, with the OS reason", "[traces][text]") {
  TempDir dir;
  std::string path = dir.file("does-not-exist.trace");
  TextTraceReader reader(path);
  Event ev;
  REQUIRE(reader.next(ev) == TextTraceReader::Status::Error);
  CHECK(reader.next(ev) == TextTraceReader::Status::Error);
  CHECK(reader.error().line == 0);
  CHECK(reader.error().to_string() == path + ": error: cannot open: No such file or directory");
}

TEST_CASE("Zero lengths and ranges past 2^64 are errors unless lenient", "[traces][text]") {
  TempDir dir;
  const std::string body =
      "unmap 1\n"
      "map 2 d 0x1000 0 bidi\n"                         // line 3: zero length, column 16
      "alloc 3 d 0xfffffffffffff001 4K\n"              // line 4: past 2^64, column 11
      "access 4 0 0x0 to_dev\n"                         // line 5
      "map_sg 5 d bidi 0x1000:4K 0xffffffffffffffff:2\n"  // line 6
      "map_sg 6 d bidi 0x1000:0K\n"                     // line 7
      "unmap 7\n";

  SECTION("strict: the first one stops the reader") {
    auto r = failing(dir, body);
    CHECK(r.events.size() == 1);
    CHECK(r.error.line == 3);
    CHECK(r.error.column == 16);
    CHECK(r.error.message == "length must be > 0");
  }
  SECTION("strict: a range past 2^64 names the range") {
    auto r = failing(dir, "alloc 3 d 0xfffffffffffff001 4K\n");
    CHECK(r.error.column == 11);
    CHECK(r.error.message == "range 0xfffffffffffff001 + 4096 bytes ends past 2^64");
  }
  SECTION("lenient: the lines are skipped and counted") {
    auto r = read_all(dir.write("l.trace", trace(body)), ReaderOptions{.lenient = true});
    REQUIRE(r.status == TextTraceReader::Status::End);
    REQUIRE(r.events.size() == 2);
    CHECK(r.events[0].id == 1);
    CHECK(r.events[1].id == 7);
    CHECK(r.lines == std::vector<std::uint64_t>{2, 8});
    CHECK(r.warnings == 5);
    REQUIRE(r.warning_samples.size() == 5);
    CHECK_THAT(r.warning_samples[0], Contains("l.trace:3:16: warning: length must be > 0"));
    CHECK_THAT(r.warning_samples[1], Contains(":4:11: warning: range 0xfffffffffffff001 + 4096 bytes ends past 2^64"));
    CHECK_THAT(r.warning_samples[3], Contains(":6:27: warning: range 0xffffffffffffffff + 2 bytes"));
  }
  SECTION("lenient: only the first five messages are kept") {
    std::string many;
    for (int i = 0; i < 100; ++i) many += "map 1 d 0 0 bidi\n";
    auto r = read_all(dir.write("l.trace", trace(many + "unmap 1\n")), ReaderOptions{.lenient = true});
    REQUIRE(r.status == TextTraceReader::Status::End);
    CHECK(r.events.size() == 1);
    CHECK(r.warnings == 100);
    CHECK(r.warning_samples.size() == 5);
  }
  SECTION("lenient: syntax errors stay fatal, even on a line that also has a zero length") {
    auto bad = GENERATE("map 1 d 0 0 sideways\n", "map 1 d 0 4Q bidi\n", "map_sg 1 d bidi 0:0 1:x\n",
                        "map 1 d 0 0 bidi extra\n");
    auto r = failing(dir, std::string("unmap 9\n") + bad, ReaderOptions{.lenient = true});
    CHECK(r.events.size() == 1);
    CHECK(r.error.line == 3);
    CHECK(r.warnings == 0);
  }
}
