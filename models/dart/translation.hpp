// SPDX-License-Identifier: MIT
// The vocabulary of a DART translation: access kind, permissions, fault codes, results.
#pragma once

#include <cstdint>
#include <string_view>

namespace dartlab::dart {

// What the device does to memory: a device read of host memory is Read (DMA to the device).
enum class Access : std::uint8_t { Read, Write };

// What the device may do to a mapping's pages.
struct Perms {
  bool device_read = true;
  bool device_write = true;
};

// The DART error register's fault codes (spec: Linux apple-dart.c, OpenBSD apldart.c).
enum class FaultCode : std::uint8_t {
  NoTtbr,     // address beyond the input space or outside the aperture
  NoL1,       // an intermediate table entry is invalid
  NoPte,      // the leaf entry is invalid
  ReadProt,   // device read of a no-read page
  WriteProt,  // device write of a no-write page
};
inline constexpr int kFaultCodeCount = 5;

std::string_view to_string(FaultCode code);

// Level numbering: 1 is the top table (TTBR points at it), the leaf table is the last level;
// 0 means no table was read (NoTtbr).
struct Fault {
  FaultCode code = FaultCode::NoTtbr;
  std::uint64_t bus_addr = 0;
  unsigned level = 0;
};

struct Translation {
  std::uint64_t pa = 0;  // valid when ok
  Fault fault{};         // valid when !ok
  bool ok = false;

  static Translation hit(std::uint64_t pa) { return Translation{pa, Fault{}, true}; }
  static Translation miss(Fault f) { return Translation{0, f, false}; }
  explicit operator bool() const { return ok; }
};

}  // namespace dartlab::dart
