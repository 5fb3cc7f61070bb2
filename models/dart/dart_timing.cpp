// SPDX-License-Identifier: MIT
#include "models/dart/dart_timing.hpp"

namespace dartlab::dart {

const DartTiming* find_dart_timing(std::string_view variant) {
  for (const DartTiming& t : kDartTimings)
    if (t.variant == variant) return &t;
  return nullptr;
}

}  // namespace dartlab::dart
