// SPDX-License-Identifier: MIT
// The DART's timing columns: IOTLB geometry, lookup latency, and the invalidation costs. Each
// variant's values, with their sources, are in its row (dart_variant.hpp). The walk's depth comes
// from the variant's va_bits: t8020 walks two levels, t8110 three; each level is one read of host
// memory (its latency is the host's).
#pragma once

#include <cstdint>

#include "models/dart/invalidation.hpp"
#include "models/dart/iotlb.hpp"

namespace dartlab::dart {

struct DartTiming {
  IotlbGeometry iotlb{};
  std::uint32_t lookup_ns = 10;            // IOTLB lookup, hit or miss, before data moves on
  std::uint32_t lookup_interval_ps = 1000;  // one lookup can start every this often (pipelined)
  bool range_flush = false;                // the hardware flushes a range, not only streams
  InvalidationConfig invalidation{};
  friend bool operator==(const DartTiming&, const DartTiming&) = default;
};

}  // namespace dartlab::dart
