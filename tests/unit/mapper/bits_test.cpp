// SPDX-License-Identifier: MIT
// base/bits.hpp against the standard library's own answers.
#include <catch2/catch.hpp>

#include <bit>
#include <cstdint>
#include <random>

#include "base/bits.hpp"

TEST_CASE("popcount8 counts the bits of every byte as std::popcount does", "[bits]") {
  for (std::uint32_t x = 0; x < 256; ++x) {
    INFO(x);
    CHECK(dartlab::popcount8(x) == static_cast<unsigned>(std::popcount(x)));
  }
}

TEST_CASE("is_power_of_two is std::has_single_bit, at the edges and at random", "[bits]") {
  CHECK_FALSE(dartlab::is_power_of_two(0));
  CHECK(dartlab::is_power_of_two(1));
  CHECK_FALSE(dartlab::is_power_of_two(~std::uint64_t{0}));
  for (int b = 0; b < 64; ++b) {
    const std::uint64_t p = std::uint64_t{1} << b;
    CHECK(dartlab::is_power_of_two(p));
    CHECK(dartlab::is_power_of_two(p + 1) == std::has_single_bit(p + 1));
    CHECK(dartlab::is_power_of_two(p - 1) == std::has_single_bit(p - 1));
  }
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t x = rng() >> (rng() % 64);
    REQUIRE(dartlab::is_power_of_two(x) == std::has_single_bit(x));
  }
}
