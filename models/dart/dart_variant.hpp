// SPDX-License-Identifier: MIT
// DART hardware variants as data (one row each), in the manner of Linux's apple_dart_hw.
#pragma once

#include <array>
#include <string_view>

namespace dartlab::dart {

struct DartVariant {
  std::string_view name;
  unsigned va_bits = 0;      // input (bus) address width
  unsigned max_streams = 0;  // stream ids the DART serves (not modelled per stream yet)

  friend bool operator==(const DartVariant& a, const DartVariant& b) { return a.name == b.name; }
};

// t8020 (M1): 32-bit input space, walk TTBR -> L1 -> L2 (spec); 64 streams on M1's USB4 DART (spec).
// Its own PTE layout is not modelled: every variant uses the t8110 entry format (pte.hpp).
inline constexpr DartVariant kDartT8020{"t8020", 32, 64};
// t8110 (M2 and later, Thunderbolt DARTs): 42-bit input space, one more level; up to 256 streams (spec).
inline constexpr DartVariant kDartT8110{"t8110", 42, 256};

inline constexpr std::array<DartVariant, 2> kDartVariants{kDartT8020, kDartT8110};

// The variant called `name`, or nullptr.
const DartVariant* find_dart_variant(std::string_view name);

}  // namespace dartlab::dart
