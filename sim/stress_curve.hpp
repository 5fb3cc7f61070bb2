// SPDX-License-Identifier: MIT
// What a stress report shows of the DART: its state at one moment, the fragmentation index, and
// a terminal sparkline of the curve (the curve itself is the replay's Series, sim/series.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "models/dart/dart.hpp"

namespace dartlab::sim {

// 1 - largest free extent / free bytes: 0 when the free space is one run (or there is none),
// towards 1 when it is cut into many small ones. A map fails as "fragmented" when its size lies
// between the largest extent and the free bytes.
double fragmentation_index(std::uint64_t free_bytes, std::uint64_t largest_free_bytes);

// What a stress report says of the DART at one moment.
struct DartSnapshot {
  std::uint64_t live_mappings = 0;
  std::uint64_t mapped_bytes = 0;
  std::uint64_t free_bytes = 0;
  std::uint64_t largest_free_bytes = 0;
  double frag_index() const { return fragmentation_index(free_bytes, largest_free_bytes); }
};
DartSnapshot snapshot(const dart::DartStats& stats);

// One character per column, eight heights (U+2581 .. U+2588) from `low` to `high`; each column
// the highest of the values it covers. At most `width` columns.
std::string sparkline(std::span<const double> values, double low, double high, std::size_t width);

}  // namespace dartlab::sim
