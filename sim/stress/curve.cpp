// SPDX-License-Identifier: MIT
#include "sim/stress/curve.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace dartlab::sim {

DartSnapshot snapshot(const dart::DartStats& stats) {
  return {stats.live_mappings, stats.mapped_bytes, stats.free_bytes, stats.largest_free_bytes};
}

std::string sparkline(std::span<const double> values, double low, double high, std::size_t width) {
  static constexpr std::array<std::string_view, 8> kBars = {"\u2581", "\u2582", "\u2583", "\u2584",
                                                            "\u2585", "\u2586", "\u2587", "\u2588"};
  std::string out;
  if (values.empty() || width == 0) return out;
  const std::size_t columns = std::min(width, values.size());
  const double range = high > low ? high - low : 1.0;
  for (std::size_t c = 0; c < columns; ++c) {
    const std::size_t first = c * values.size() / columns;
    const std::size_t last = (c + 1) * values.size() / columns;  // exclusive, > first
    const double v = *std::max_element(values.begin() + static_cast<std::ptrdiff_t>(first),
                                       values.begin() + static_cast<std::ptrdiff_t>(last));
    const double t = std::clamp((v - low) / range, 0.0, 1.0);
    out += kBars[std::min<std::size_t>(7, static_cast<std::size_t>(t * 8.0))];
  }
  return out;
}

}  // namespace dartlab::sim
