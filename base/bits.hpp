// SPDX-License-Identifier: MIT
// Bit counts and tests for hot paths. Debian's amd64 baseline does not assume the POPCNT
// instruction, so without -mpopcnt GCC makes std::popcount, and std::has_single_bit (which
// libstdc++ writes as popcount(x) == 1), a call into libgcc (__popcountdi2): a call and a
// table walk where a few ALU instructions do. perf showed that call in a stingy multi replay
// (choose(), track()) and every aperture update of alloc=linux.
#pragma once

#include <cstdint>

namespace dartlab {

// std::has_single_bit, in two instructions on any x86-64.
constexpr bool is_power_of_two(std::uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

// std::popcount of a value below 256, by halves (SWAR within the byte).
constexpr unsigned popcount8(std::uint32_t x) {
  x = x - ((x >> 1) & 0x55u);
  x = (x & 0x33u) + ((x >> 2) & 0x33u);
  return (x + (x >> 4)) & 0x0fu;
}

}  // namespace dartlab
