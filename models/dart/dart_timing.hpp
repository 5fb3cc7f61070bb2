// SPDX-License-Identifier: MIT
// The DART's timing per hardware variant, as data (one row each, like dart_variant.hpp and
// Linux's apple_dart_hw): IOTLB geometry, lookup latency, whether range flush exists, and the
// invalidation costs. The walk's depth comes from the functional variant (va_bits): t8020 walks
// two levels, t8110 three; each level is one read of host memory (its latency is the host's).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "models/dart/invalidation.hpp"
#include "models/dart/iotlb.hpp"

namespace dartlab::dart {

struct DartTiming {
  std::string_view variant;
  IotlbGeometry iotlb{};
  std::uint32_t lookup_ns = 10;            // IOTLB lookup, hit or miss, before data moves on
  std::uint32_t lookup_interval_ps = 1000;  // one lookup can start every this often (pipelined)
  bool range_flush = false;                // the hardware flushes a range, not only streams
  InvalidationConfig invalidation{};
  friend bool operator==(const DartTiming&, const DartTiming&) = default;
};

// t8020 (M1): no range flush (spec: Linux apple-dart t8020 commands are flush-all or per stream).
inline constexpr DartTiming kDartTimingT8020{
    .variant = "t8020",
    .iotlb = {32, 4, Replacement::Lru},  // guess: geometry not published (BACKGROUND); 128 entries, 2 MiB of reach
    .lookup_ns = 10,                     // guess: a few cycles of a ~1 GHz fabric clock
    .lookup_interval_ps = 1000,          // guess: one lookup a cycle
    .range_flush = false,
    .invalidation = {},                  // invalidation.hpp: Linux's strict defaults
};

// t8110 (M2 and later, Thunderbolt DARTs): later revisions add range flush (spec: BACKGROUND).
inline constexpr DartTiming kDartTimingT8110{
    .variant = "t8110",
    .iotlb = {64, 4, Replacement::Lru},  // guess: not published; 256 entries, 4 MiB of reach
    .lookup_ns = 10,                     // guess, as t8020
    .lookup_interval_ps = 1000,          // guess, as t8020
    .range_flush = true,
    .invalidation = {},
};

inline constexpr std::array<DartTiming, 2> kDartTimings{kDartTimingT8020, kDartTimingT8110};

// The timing row of a variant name (t8020, t8110), or nullptr.
const DartTiming* find_dart_timing(std::string_view variant);

}  // namespace dartlab::dart
