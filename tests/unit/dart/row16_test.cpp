// SPDX-License-Identifier: MIT
// The first-fit tree's row operations (models/dart/row16.hpp): the vector versions agree with the
// plain loops, lengths at and past 2^31 included (the vectors compare signed lanes).
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>

#include "models/dart/row16.hpp"

namespace row16 = dartlab::dart::row16;

TEST_CASE("A row's lengths that reach a length, and its longest, agree with the plain loops", "[aperture][row16]") {
  std::mt19937_64 rng(7);
  constexpr std::uint32_t kMax = std::numeric_limits<std::uint32_t>::max();
  const std::uint32_t edges[] = {0, 1, 2, 0x7fff'ffff, 0x8000'0000, 0x8000'0001, kMax - 1, kMax};
  alignas(16) std::uint32_t row[row16::kWidth];
  for (int round = 0; round < 20000; ++round) {
    for (std::uint32_t& x : row) {
      const auto pick = rng() % 4;
      x = pick == 0   ? edges[rng() % std::size(edges)]
          : pick == 1 ? static_cast<std::uint32_t>(rng() % 4096)
                      : static_cast<std::uint32_t>(rng());
    }
    const std::uint32_t n = rng() % 3 == 0 ? edges[rng() % std::size(edges)] : row[rng() % row16::kWidth] + (rng() % 3) - 1;
    CAPTURE(round, n);
    REQUIRE(row16::at_least(row, n) == row16::at_least_portable(row, n));
    REQUIRE(row16::longest(row) == row16::longest_portable(row));
  }
}

TEST_CASE("A row's first length that reaches n is its lowest set bit", "[aperture][row16]") {
  alignas(16) std::uint32_t row[row16::kWidth] = {};
  row[5] = 9;
  row[11] = 0x9000'0000;
  CHECK(row16::at_least(row, 9) == ((1u << 5) | (1u << 11)));
  CHECK(row16::at_least(row, 10) == (1u << 11));
  CHECK(row16::at_least(row, 0x9000'0001) == 0);
  CHECK(row16::at_least(row, 0) == 0xffff);
  CHECK(row16::longest(row) == 0x9000'0000);
}
