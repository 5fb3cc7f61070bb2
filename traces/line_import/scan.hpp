// SPDX-License-Identifier: MIT
// Byte scans for the line importers' hot paths (ftrace lines, key=value payloads): eight bytes at
// a time, never past the end given.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dartlab::trace::line_import::scan {

// The first byte in [p, e) equal to `a` or `b`, or e.
inline const char* find_either(const char* p, const char* e, char a, char b) {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kOnes = 0x0101010101010101;
    constexpr std::uint64_t kHighs = 0x8080808080808080;
    const std::uint64_t aa = kOnes * static_cast<unsigned char>(a);
    const std::uint64_t bb = kOnes * static_cast<unsigned char>(b);
    for (; e - p >= 8; p += 8) {
      std::uint64_t x;
      std::memcpy(&x, p, sizeof x);
      const std::uint64_t xa = x ^ aa;
      const std::uint64_t xb = x ^ bb;
      // The "has a zero byte" trick; the lowest flagged byte is exact (higher ones may be borrows).
      const std::uint64_t hit = ((xa - kOnes) & ~xa & kHighs) | ((xb - kOnes) & ~xb & kHighs);
      if (hit != 0) return p + std::countr_zero(hit) / 8;
    }
  }
  while (p != e && *p != a && *p != b) ++p;
  return p;
}

// The first byte in [p, e) that is not `c`, or e.
inline const char* skip(const char* p, const char* e, char c) {
  if constexpr (std::endian::native == std::endian::little) {
    const std::uint64_t cc = 0x0101010101010101 * static_cast<unsigned char>(c);
    for (; e - p >= 8; p += 8) {
      std::uint64_t x;
      std::memcpy(&x, p, sizeof x);
      if (const std::uint64_t diff = x ^ cc; diff != 0) return p + std::countr_zero(diff) / 8;
    }
  }
  while (p != e && *p == c) ++p;
  return p;
}

// a[0, n) == b[0, n), without a call for the short strings event and device names are.
inline bool same(const char* a, const char* b, std::size_t n) {
  if (n >= 8 && n <= 16) {
    std::uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&a1, a + n - 8, 8);
    std::memcpy(&b1, b + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n >= 4 && n < 8) {
    std::uint32_t a0, a1, b0, b1;
    std::memcpy(&a0, a, 4);
    std::memcpy(&b0, b, 4);
    std::memcpy(&a1, a + n - 4, 4);
    std::memcpy(&b1, b + n - 4, 4);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  return std::memcmp(a, b, n) == 0;
}

}  // namespace dartlab::trace::line_import::scan
