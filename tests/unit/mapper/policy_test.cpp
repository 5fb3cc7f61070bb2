// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <variant>

#include "passthrough/mapper/policy.hpp"
#include "support/policy_specs.hpp"

using namespace dartlab;
using namespace dartlab::mapper;
using Catch::Matchers::Contains;
using dartlab::test::must_parse;
using dartlab::test::parse_error;

TEST_CASE("policy specs parse into direct and window policies and print back canonically", "[policy]") {
  CHECK(must_parse("direct").kind == PolicyKind::Direct);
  const Policy w = must_parse("window:256K");
  CHECK(w.kind == PolicyKind::Window);
  CHECK(w.window_bytes == 256 * 1024);
  CHECK(w.spec() == "window:256K");
  CHECK(must_parse("window:1G").window_bytes == (1ULL << 30));
  CHECK(must_parse("window:16K").window_bytes == 16 * 1024);
  CHECK(must_parse("window:0x40000").spec() == "window:256K");
  CHECK(must_parse("window:1048576").spec() == "window:1M");
  CHECK(must_parse(must_parse("window:64K").spec()).window_bytes == 64 * 1024);
}

TEST_CASE("bad policy specs are refused with a message that says what is wrong", "[policy]") {
  CHECK_THAT(parse_error("window:100K"), Contains("not a power of two"));
  CHECK_THAT(parse_error("window:8K"), Contains("between 16K and 1G"));
  CHECK_THAT(parse_error("window:2G"), Contains("between 16K and 1G"));
  CHECK_THAT(parse_error("window:"), Contains("needs a size"));
  CHECK_THAT(parse_error("window"), Contains("needs a size"));
  CHECK_THAT(parse_error("window:lots"), Contains("'lots' is not a size"));
  CHECK_THAT(parse_error("window:99999999999999999999K"), Contains("is not a size"));
  CHECK_THAT(parse_error("direct:4K"), Contains("takes no parameters"));
  CHECK_THAT(parse_error("windw:256K"), Contains("unknown policy 'windw'"));
  CHECK_THAT(parse_error(""), Contains("unknown policy"));
}

TEST_CASE("sizes parse as decimal or hex with binary suffixes and refuse overflow", "[policy]") {
  std::uint64_t b = 0;
  CHECK((dartlab::parse_size("4K", b) && b == 4096));
  CHECK((dartlab::parse_size("1536M", b) && b == 1536ULL << 20));
  CHECK((dartlab::parse_size("0x4000", b) && b == 0x4000));
  CHECK((dartlab::parse_size("2T", b) && b == 2ULL << 40));
  CHECK((dartlab::parse_size("12345", b) && b == 12345));
  CHECK_FALSE(dartlab::parse_size("", b));
  CHECK_FALSE(dartlab::parse_size("K", b));
  CHECK_FALSE(dartlab::parse_size("0x", b));
  CHECK_FALSE(dartlab::parse_size("-4K", b));
  CHECK_FALSE(dartlab::parse_size("4KB", b));
  CHECK_FALSE(dartlab::parse_size("16777216T", b));  // 2^24 * 2^40 overflows
}

TEST_CASE("a request inside one window is keyed by the whole window", "[policy]") {
  const Policy p{PolicyKind::Window, 256 * 1024};
  SECTION("a 4 KiB request in the middle of a window is keyed by that window") {
    const Key k = key_for(p, 0x40000 + 0x5000, 0x1000);
    CHECK(k == Key{0x40000, 0x40000});
  }
  SECTION("a request of exactly the window's size and alignment is keyed by that window") {
    CHECK(key_for(p, 0x80000, 0x40000) == Key{0x80000, 0x40000});
  }
  SECTION("the last byte of the request decides, not the end address") {
    CHECK(key_for(p, 0x7f000, 0x1000) == Key{0x40000, 0x40000});
  }
}

TEST_CASE("straddling or oversize requests get a direct key rounded out to 16 KiB", "[policy]") {
  const Policy p{PolicyKind::Window, 256 * 1024};
  SECTION("a request straddling two windows gets a direct key rounded out to 16 KiB") {
    // [0x3f000, 0x41000) crosses the 0x40000 boundary.
    CHECK(key_for(p, 0x3f000, 0x2000) == Key{0x3c000, 0x8000});
  }
  SECTION("a request larger than the window gets a direct key rounded out to 16 KiB") {
    CHECK(key_for(p, 0x100000, 0x40001) == Key{0x100000, 0x44000});
  }
  SECTION("direct policy rounds every request") {
    const Policy d{PolicyKind::Direct, 0};
    CHECK(key_for(d, 0x5123, 0x10) == Key{0x4000, 0x4000});
    CHECK(key_for(d, 0x4000, 0x4000) == Key{0x4000, 0x4000});
    CHECK(key_for(d, 0x7fff, 2) == Key{0x4000, 0x8000});
  }
}
