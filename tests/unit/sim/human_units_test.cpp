// SPDX-License-Identifier: MIT
// Numbers for people keep three significant digits in the unit that fits them: a 1-byte copy's
// rate is not "0.00 GiB/s".
#include <catch2/catch.hpp>

#include "sim/common/human_units.hpp"

using dartlab::sim::human_rate;

TEST_CASE("a rate is shown in the unit that fits it") {
  constexpr double kGiB = 1ULL << 30;
  CHECK(human_rate(2.84 * kGiB) == "2.84 GiB/s");
  CHECK(human_rate(331'000) == "323 KiB/s");
  CHECK(human_rate(296.0 * 1024 * 1024) == "296 MiB/s");
  CHECK(human_rate(12.5) == "12.5 B/s");
  CHECK(human_rate(0.431) == "0.431 B/s");
  CHECK(human_rate(0) == "0.00 B/s");
}

TEST_CASE("a rate in decimal units steps by 1000") {
  CHECK(human_rate(3.51e9, false) == "3.51 GB/s");
  CHECK(human_rate(331'000, false) == "331 kB/s");
  CHECK(human_rate(999, false) == "999 B/s");
}
