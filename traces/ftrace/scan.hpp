// SPDX-License-Identifier: MIT
// Byte scans for the ftrace importer's hot path: eight bytes at a time, never past the end given.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dartlab::trace::ftrace::scan {

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

// The run of decimal digits at p, at most eight of them, read at once: its value in v, p moved
// past it, and its length returned (8: there may be more digits after).
inline std::size_t digits8(const char*& p, const char* e, std::uint64_t& v) {
  if constexpr (std::endian::native == std::endian::little) {
    if (e - p >= 8) {
      constexpr std::uint64_t kOnes = 0x0101010101010101;
      constexpr std::uint64_t kHighNibbles = kOnes * 0xF0;
      std::uint64_t x;
      std::memcpy(&x, p, sizeof x);
      // A digit has high nibble 3, and adding 6 does not carry out of its low nibble. A carry out
      // of a byte of 0xFA or more spoils only later bytes, after the first non-digit.
      const std::uint64_t bad = ((x & kHighNibbles) ^ (kOnes * '0')) | (((x + kOnes * 6) & kHighNibbles) ^ (kOnes * '0'));
      // Nonzero bytes of `bad` are non-digits: set their high bit.
      const std::uint64_t flags = (((bad & (kOnes * 0x7F)) + kOnes * 0x7F) | bad) & (kOnes * 0x80);
      const std::size_t n = flags == 0 ? 8 : static_cast<std::size_t>(std::countr_zero(flags)) / 8;
      if (n == 0) {
        v = 0;
        return 0;
      }
      x -= kOnes * '0';
      x <<= (8 - n) * 8;  // drop what follows the run, and put zeros in front of it
      // Digits pairwise into ever wider lanes: 8 x 1 digit -> 4 x 2 -> 2 x 4 -> 1 x 8.
      x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FF;
      x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFF;
      x = (x * 10000 + (x >> 32)) & 0xFFFFFFFF;
      v = x;
      p += n;
      return n;
    }
  }
  std::uint64_t x = 0;
  std::size_t n = 0;
  for (; p != e && n < 8; ++p, ++n) {
    const unsigned d = static_cast<unsigned char>(*p) - unsigned{'0'};
    if (d > 9) break;
    x = x * 10 + d;
  }
  v = x;
  return n;
}

}  // namespace dartlab::trace::ftrace::scan
