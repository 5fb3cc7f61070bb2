// SPDX-License-Identifier: MIT
#include "sim/common/human_units.hpp"

#include <fmt/format.h>

namespace dartlab::sim {

std::string human_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 5) {
    v /= 1024;
    ++unit;
  }
  const int decimals = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return fmt::format("{:.{}f} {}", v, decimals, kUnits[unit]);
}

std::string human_rate(double bytes_per_s, bool binary) {
  static constexpr const char* kBinary[] = {"B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s", "PiB/s"};
  static constexpr const char* kDecimal[] = {"B/s", "kB/s", "MB/s", "GB/s", "TB/s", "PB/s"};
  const double step = binary ? 1024.0 : 1000.0;
  double v = bytes_per_s;
  int unit = 0;
  while (v >= step && unit < 5) {
    v /= step;
    ++unit;
  }
  const int decimals = v >= 100 ? 0 : v >= 10 ? 1 : v >= 1 || v == 0 ? 2 : 3;
  return fmt::format("{:.{}f} {}", v, decimals, binary ? kBinary[unit] : kDecimal[unit]);
}

}  // namespace dartlab::sim
