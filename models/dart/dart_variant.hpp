// SPDX-License-Identifier: MIT
// DART hardware variants as data, one row each with every column that differs, in the manner of
// Linux's struct apple_dart_hw (drivers/iommu/apple-dart.c): input address width, streams, the
// page-table entry layout, and the timing (IOTLB, range flush, invalidation).
#pragma once

#include <array>
#include <string_view>

#include "models/dart/dart_timing.hpp"
#include "models/dart/pte.hpp"

namespace dartlab::dart {

struct DartVariant {
  std::string_view name;
  unsigned va_bits = 0;      // input (bus) address width
  unsigned max_streams = 0;  // stream ids the DART serves (not modelled per stream yet)
  const pte::PteFormat* pte_format = &pte::kDart2;  // the entry layout (the model writes pte::kModel)
  DartTiming timing{};

  friend bool operator==(const DartVariant& a, const DartVariant& b) { return a.name == b.name; }
};

// t8020 (M1): 32-bit input space, walk TTBR -> L1 -> L2 (spec); 64 streams on M1's USB4 DART (spec).
// No range flush (spec: Linux apple-dart t8020 commands are flush-all or per stream).
inline constexpr DartVariant kDartT8020{
    .name = "t8020",
    .va_bits = 32,
    .max_streams = 64,
    .pte_format = &pte::kDart1,  // Linux: APPLE_DART
    .timing = {
        .iotlb = {32, 4, Replacement::Lru},  // guess: geometry not published (BACKGROUND); 128 entries, 2 MiB of reach
        .lookup_ns = 10,                     // guess: a few cycles of a ~1 GHz fabric clock
        .lookup_interval_ps = 1000,          // guess: one lookup a cycle
        .range_flush = false,
        .invalidation = {},                  // invalidation.hpp: Linux's strict defaults
    },
};

// t8110 (M2 and later, Thunderbolt DARTs): 42-bit input space, one more level; up to 256 streams
// (spec). Later revisions add range flush (spec: BACKGROUND).
inline constexpr DartVariant kDartT8110{
    .name = "t8110",
    .va_bits = 42,
    .max_streams = 256,
    .pte_format = &pte::kDart2,  // Linux: APPLE_DART2
    .timing = {
        .iotlb = {64, 4, Replacement::Lru},  // guess: not published; 256 entries, 4 MiB of reach
        .lookup_ns = 10,                     // guess, as t8020
        .lookup_interval_ps = 1000,          // guess, as t8020
        .range_flush = true,
        .invalidation = {},
    },
};

inline constexpr std::array<DartVariant, 2> kDartVariants{kDartT8020, kDartT8110};

// The variant called `name`, or nullptr.
const DartVariant* find_dart_variant(std::string_view name);

}  // namespace dartlab::dart
