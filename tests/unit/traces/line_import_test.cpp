// SPDX-License-Identifier: MIT
// The pieces every line reader shares (traces/line_import/): the line buffer's promises to the
// scans that read past a line, its handling of lines too long, the number parsers, and the
// device table.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "traces/byte_source.hpp"
#include "traces/line_import/device_table.hpp"
#include "traces/line_import/line_buffer.hpp"
#include "traces/line_import/numbers.hpp"
#include "unit/traces/text_test_files.hpp"

using namespace dartlab::trace;
using namespace dartlab::trace::line_import;
using dartlab::trace::testing::TempDir;

namespace {

struct Lines {
  std::vector<std::string> text;
  std::vector<std::uint64_t> numbers;   // line_number() after each line or TooLong
  std::vector<std::uint64_t> too_long;  // the numbers of the lines reported TooLong
  LineBuffer::Status last = LineBuffer::Status::End;
};

// Every line of `bytes`, read in blocks of `block` bytes with lines of at most `max` bytes; each
// line is checked to be followed in the buffer by its end and readable padding.
Lines read_lines(const TempDir& dir, const std::string& bytes, std::size_t block, std::size_t max) {
  ByteSource source(dir.write("lines.txt", bytes));
  LineBuffer buffer(source, block, max);
  Lines out;
  std::string_view line;
  for (;;) {
    out.last = buffer.next(line);
    if (out.last == LineBuffer::Status::Line) {
      const char* after = line.data() + line.size();
      CHECK((after[0] == '\n' || (after[0] == '\r' && after[1] == '\n')));
      char padding[LineBuffer::kScanPadding];
      std::memcpy(padding, after + (after[0] == '\r') + 1, sizeof padding);  // readable (ASan checks it)
      out.text.emplace_back(line);
    } else if (out.last == LineBuffer::Status::TooLong) {
      out.too_long.push_back(buffer.line_number());
    } else {
      break;
    }
    out.numbers.push_back(buffer.line_number());
  }
  return out;
}

}  // namespace

TEST_CASE("lines come out without their line ends, each still followed by one in the buffer", "[traces][line_import]") {
  TempDir dir;
  const std::size_t block = GENERATE(std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{64} << 10);
  INFO("block " << block);
  SECTION("a last line without '\\n' gets one written after it") {
    const Lines r = read_lines(dir, "one\r\ntwo\n\nlast", block, 64);
    CHECK(r.last == LineBuffer::Status::End);
    CHECK(r.text == std::vector<std::string>{"one", "two", "", "last"});
    CHECK(r.numbers == std::vector<std::uint64_t>{1, 2, 3, 4});
  }
  SECTION("a last line ending in '\\r' reads as a CRLF line") {
    const Lines r = read_lines(dir, "a\nb\r", block, 64);
    CHECK(r.text == std::vector<std::string>{"a", "b"});
  }
  SECTION("a lone '\\r' inside a line stays in it") {
    const Lines r = read_lines(dir, "a\rb\n", block, 64);
    CHECK(r.text == std::vector<std::string>{"a\rb"});
  }
  SECTION("an empty input has no line") {
    const Lines r = read_lines(dir, "", block, 64);
    CHECK(r.text.empty());
    CHECK(r.last == LineBuffer::Status::End);
  }
}

TEST_CASE("hostile: a line longer than the limit is reported once with its line number, and reading goes on after it",
          "[traces][line_import]") {
  TempDir dir;
  const std::size_t block = GENERATE(std::size_t{1}, std::size_t{5}, std::size_t{64} << 10);
  INFO("block " << block);
  const std::string long_line(40, 'x');
  SECTION("in the middle") {
    const Lines r = read_lines(dir, "short\n" + long_line + "\nafter\n", block, 16);
    CHECK(r.text == std::vector<std::string>{"short", "after"});
    CHECK(r.too_long == std::vector<std::uint64_t>{2});
    CHECK(r.numbers == std::vector<std::uint64_t>{1, 2, 3});
  }
  SECTION("at the end, without its '\\n'") {
    const Lines r = read_lines(dir, "short\n" + long_line, block, 16);
    CHECK(r.text == std::vector<std::string>{"short"});
    CHECK(r.too_long == std::vector<std::uint64_t>{2});
    CHECK(r.last == LineBuffer::Status::End);
  }
  SECTION("exactly the limit, before its CRLF, is a line") {
    const Lines r = read_lines(dir, std::string(16, 'y') + "\r\n" + std::string(17, 'z') + "\n", block, 16);
    CHECK(r.text == std::vector<std::string>{std::string(16, 'y')});
    CHECK(r.too_long == std::vector<std::uint64_t>{2});
  }
}

TEST_CASE("decimal and hex numbers: a bad character is reported before a value too big", "[traces][line_import]") {
  std::uint64_t v = 7;
  CHECK(parse_dec("", v) == Num::Bad);
  CHECK(parse_dec("12a", v) == Num::Bad);
  CHECK(parse_dec("-1", v) == Num::Bad);
  CHECK(parse_dec("18446744073709551615", v) == Num::Ok);
  CHECK(v == UINT64_MAX);
  CHECK(parse_dec("18446744073709551616", v) == Num::Overflow);
  CHECK(parse_dec("99999999999999999999x", v) == Num::Bad);
  CHECK(parse_dec("000000000000000000000042", v) == Num::Ok);
  CHECK(v == 42);
  CHECK(parse_hex("", v) == Num::Bad);
  CHECK(parse_hex("fFfF", v) == Num::Ok);
  CHECK(v == 0xffff);
  CHECK(parse_hex("0ffffffffffffffff", v) == Num::Ok);  // 17 digits, 16 of them significant
  CHECK(v == UINT64_MAX);
  CHECK(parse_hex("10000000000000000", v) == Num::Overflow);
  CHECK(parse_hex("1000000000000000g", v) == Num::Bad);
  SECTION("a run stops at the first other character, and only an Ok run is stored") {
    const std::string text = "0000000000000000001f,99999999999999999999 z";
    const char* p = text.data();
    const char* const e = p + text.size();
    REQUIRE(hex_run(p, e, v) == Num::Ok);
    CHECK(v == 0x1f);
    CHECK(*p == ',');
    ++p;
    v = 5;
    CHECK(dec_run(p, e, v) == Num::Overflow);
    CHECK(v == 5);
    CHECK(*p == ' ');
    ++p;
    CHECK(dec_run(p, e, v) == Num::Bad);
    CHECK(hex_run(p, e, v) == Num::Bad);
    CHECK(*p == 'z');
  }
  CHECK(hex(0) == "0x0");
  CHECK(hex(0xdeadbeef) == "0xdeadbeef");
  CHECK(hex(UINT64_MAX) == "0xffffffffffffffff");
}

TEST_CASE("the padded and eight-at-a-time decimal reads agree with the plain one", "[traces][line_import]") {
  const auto seed = GENERATE(1u, 2u, 3u);
  std::mt19937_64 rng(seed);
  const std::string alphabet = "0123456789000x ";
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const std::size_t n = rng() % 22;
    for (std::size_t k = 0; k < n; ++k) s += alphabet[rng() % (rng() % 4 == 0 ? alphabet.size() : 10)];
    const std::string padded = s + std::string(8, '\n');  // what a line buffer promises after a field
    std::uint64_t a = 0, b = 0;
    const Num ra = parse_dec(s, a);
    const Num rb = parse_dec_padded(std::string_view(padded.data(), s.size()), b);
    INFO(s);
    REQUIRE(ra == rb);
    if (ra == Num::Ok) REQUIRE(a == b);
    const char* p = s.data();
    std::uint64_t run = 0;
    const std::size_t got = digits8(p, s.data() + s.size(), run);
    std::size_t want = 0;
    while (want < s.size() && want < 8 && is_digit(s[want])) ++want;
    REQUIRE(got == want);
    REQUIRE(p == s.data() + want);
    if (want != 0) {
      std::uint64_t expected = 0;
      REQUIRE(parse_dec(s.substr(0, want), expected) == Num::Ok);
      REQUIRE(run == expected);
    }
  }
}

TEST_CASE("the device table finds a device again by its input's name, however many there are", "[traces][line_import]") {
  DeviceTable table;
  std::uint16_t index = 99;
  CHECK_FALSE(table.find("0000:01:00.0", index));
  for (int i = 0; i < 20; ++i) {
    const std::string key = "dev" + std::to_string(i);
    REQUIRE(table.add(key, "shown " + key, index));
    REQUIRE(index == i);
  }
  for (int i = 19; i >= 0; --i) {
    REQUIRE(table.find("dev" + std::to_string(i), index));
    REQUIRE(index == i);
  }
  CHECK_FALSE(table.find("dev20", index));
  CHECK(table.names().size() == 20);
  CHECK(table.names()[3] == "shown dev3");  // names() shows what add() was given
}
