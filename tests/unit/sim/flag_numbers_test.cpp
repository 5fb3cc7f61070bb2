// SPDX-License-Identifier: MIT
// Flag numbers are checked, never wrapped: a sign, an overflow or a value past the flag's range
// is refused with a message naming the flag and the text.
#include <catch2/catch.hpp>

#include <limits>
#include <string>

#include "sim/common/flag_numbers.hpp"

using dartlab::sim::FlagNumber;
using dartlab::sim::parse_flag_decimal;
using dartlab::sim::parse_flag_number;

namespace {
constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
}

TEST_CASE("a count flag reads decimal and hex, the whole range") {
  std::uint64_t v = 7;
  CHECK(parse_flag_number("--events", "0", FlagNumber::Count, 0, kMax, v).empty());
  CHECK(v == 0);
  CHECK(parse_flag_number("--events", "0x10", FlagNumber::Count, 0, kMax, v).empty());
  CHECK(v == 16);
  CHECK(parse_flag_number("--events", "18446744073709551615", FlagNumber::Count, 0, kMax, v).empty());
  CHECK(v == kMax);
}

TEST_CASE("a count flag refuses a sign instead of wrapping it") {
  for (const char* text : {"-1", "-2", "+1", "-0"}) {
    std::uint64_t v = 7;
    const std::string err = parse_flag_number("--events", text, FlagNumber::Count, 0, kMax, v);
    CHECK(err == std::string("--events: '") + text + "': a count takes no sign");
    CHECK(v == 7);
  }
}

TEST_CASE("a count flag refuses overflow and names the largest value") {
  std::uint64_t v = 7;
  CHECK(parse_flag_number("--seed", "18446744073709551616", FlagNumber::Count, 0, kMax, v) ==
        "--seed: '18446744073709551616' is too large (at most 18446744073709551615)");
  CHECK(parse_flag_number("--seed", "0x10000000000000000", FlagNumber::Count, 0, kMax, v) ==
        "--seed: '0x10000000000000000' is too large (at most 18446744073709551615)");
  CHECK(parse_flag_number("--churn-long-factor", "4294967296", FlagNumber::Count, 0, 4294967295u, v) ==
        "--churn-long-factor: '4294967296' is too large (at most 4294967295)");
  CHECK(v == 7);
}

TEST_CASE("a count flag refuses fractions, exponents, words and emptiness") {
  std::uint64_t v = 7;
  for (const char* text : {"1.5", "1e3", "lots", "", " 1", "1 ", "0x", "10K"})
    CHECK(parse_flag_number("--jobs", text, FlagNumber::Count, 0, kMax, v) ==
          std::string("--jobs: '") + text + "' is not a count (decimal or 0x hex)");
  CHECK(v == 7);
}

TEST_CASE("a count flag keeps to its range") {
  std::uint64_t v = 0;
  CHECK(parse_flag_number("--group", "0", FlagNumber::Count, 1, 64, v) == "--group: '0' is too small (at least 1)");
  CHECK(parse_flag_number("--group", "65", FlagNumber::Count, 1, 64, v) == "--group: '65' is too large (at most 64)");
  CHECK(parse_flag_number("--group", "64", FlagNumber::Count, 1, 64, v).empty());
  CHECK(v == 64);
}

TEST_CASE("a size flag takes suffixes and refuses a sign or a shifted overflow") {
  std::uint64_t v = 0;
  CHECK(parse_flag_number("--max-bytes", "64K", FlagNumber::Size, 0, kMax, v).empty());
  CHECK(v == 65536);
  CHECK(parse_flag_number("--max-bytes", "-4K", FlagNumber::Size, 0, kMax, v) == "--max-bytes: '-4K': a size takes no sign");
  CHECK(parse_flag_number("--max-bytes", "16777216T", FlagNumber::Size, 0, kMax, v) ==
        "--max-bytes: '16777216T' is too large (at most 18446744073709551615)");
  CHECK(parse_flag_number("--size", "0", FlagNumber::Size, 1, kMax, v) == "--size: '0' is too small (at least 1)");
  CHECK(parse_flag_number("--size", "4Q", FlagNumber::Size, 1, kMax, v).starts_with("--size: '4Q' is not a size"));
}

TEST_CASE("a decimal flag takes non-negative finite decimals only") {
  double v = 3;
  CHECK(parse_flag_decimal("--max-seconds", "2.5", v).empty());
  CHECK(v == 2.5);
  CHECK(parse_flag_decimal("--max-seconds", "10", v).empty());
  CHECK(v == 10);
  CHECK(parse_flag_decimal("--max-seconds", "-1", v) == "--max-seconds: '-1': the value takes no sign");
  for (const char* text : {"inf", "nan", "1e3", "", "x", "1.5s"})
    CHECK(parse_flag_decimal("--max-seconds", text, v) ==
          std::string("--max-seconds: '") + text + "' is not a decimal number (as in 10 or 2.5)");
  CHECK(v == 10);
}
