// SPDX-License-Identifier: MIT
// What a stress report shows of the DART: its state at one moment, its fragmentation index (the
// replay's metric, sim/replay/metrics.hpp), and a terminal sparkline of the curve (the curve
// itself is the replay's Series, sim/replay/series.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "models/dart/dart.hpp"
#include "sim/replay/metrics.hpp"  // fragmentation_index

namespace dartlab::sim {

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
