// SPDX-License-Identifier: MIT
// Numbers as the line formats print them, for every line reader (the text trace, ftrace, the QEMU
// log, the apple_dma CSV): one hex table, one checked decimal and hex parser, and the
// eight-digits-at-once reads the hot paths use.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace dartlab::trace::line_import {

enum class Num : std::uint8_t { Ok, Bad, Overflow };

constexpr std::uint8_t kNotHex = 0xff;
inline constexpr auto kHexValue = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(kNotHex);
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - 'A' + 10);
  return t;
}();
inline std::uint8_t hex_digit(char c) { return kHexValue[static_cast<unsigned char>(c)]; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Decimal digits, all of s: Bad when s is empty or holds anything else, else Overflow when the
// value passes 2^64 - 1 (a bad character is reported before a value too big).
inline Num parse_dec(std::string_view s, std::uint64_t& v) {
  if (s.empty()) return Num::Bad;
  std::uint64_t x = 0;
  bool overflow = false;
  for (char c : s) {
    if (!is_digit(c)) return Num::Bad;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (x > (UINT64_MAX - d) / 10) overflow = true;
    x = x * 10 + d;
  }
  if (overflow) return Num::Overflow;
  v = x;
  return Num::Ok;
}

// The run of decimal digits at p, up to the first other character or e, p moved past it: its
// value in v; Bad when there is none, Overflow when it passes 2^64 - 1 (v untouched then).
inline Num dec_run(const char*& p, const char* e, std::uint64_t& v) {
  const char* const b = p;
  std::uint64_t x = 0;
  for (; p != e && is_digit(*p); ++p) x = x * 10 + static_cast<std::uint64_t>(*p - '0');
  if (p == b) return Num::Bad;
  if (p - b > 19) {  // 20 digits may not fit: parse them again with checks
    const Num r = parse_dec({b, static_cast<std::size_t>(p - b)}, x);
    if (r != Num::Ok) return r;
  }
  v = x;
  return Num::Ok;
}

// The run of hex digits at p (no 0x), up to the first other character or e, p moved past it: its
// value in v; Bad when there is none, Overflow when more than 16 digits remain after leading
// zeros (v untouched then).
inline Num hex_run(const char*& p, const char* e, std::uint64_t& v) {
  const char* digits = p;
  std::uint64_t x = 0;
  for (std::uint8_t d; p != e && (d = hex_digit(*p)) != kNotHex; ++p) x = x << 4 | d;
  if (p == digits) return Num::Bad;
  if (p - digits > 16) {  // maybe zero-padded beyond 16 digits; else too big
    while (p - digits > 1 && *digits == '0') ++digits;
    if (p - digits > 16) return Num::Overflow;
  }
  v = x;
  return Num::Ok;
}

// Hex digits (no 0x), all of s: Bad when s is empty or holds anything else, else as hex_run.
inline Num parse_hex(std::string_view s, std::uint64_t& v) {
  const char* p = s.data();
  const char* const e = p + s.size();
  std::uint64_t x = 0;
  const Num r = hex_run(p, e, x);
  if (p != e) return Num::Bad;
  if (r == Num::Ok) v = x;
  return r;
}

namespace detail {
// Eight digit values (0..9), one per byte, little-endian, into their number: pairwise into ever
// wider lanes, 8 x 1 digit -> 4 x 2 -> 2 x 4 -> 1 x 8.
inline std::uint64_t combine8(std::uint64_t x) {
  x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FF;
  x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFF;
  return (x * 10000 + (x >> 32)) & 0xFFFFFFFF;
}
inline constexpr std::uint64_t kOnes = 0x0101010101010101;
}  // namespace detail

// The n (1 to 8) decimal digits at s, read at once: s[0..8) must be readable (a line buffer's
// padding guarantees it; traces/line_import/line_buffer.hpp). False if one is not a digit.
// Little-endian hosts only (the callers fall back to parse_dec elsewhere).
inline bool dec8_padded(const char* s, std::size_t n, std::uint64_t& v) {
  using detail::kOnes;
  std::uint64_t x;
  std::memcpy(&x, s, sizeof x);
  const unsigned pad_bits = static_cast<unsigned>(8 - n) * 8;
  x <<= pad_bits;                                         // drop what follows the field...
  x |= (kOnes * '0') & ~(~std::uint64_t{0} << pad_bits);  // ...and pad the front with '0's
  // All bytes in '0'..'9': high nibble 3, and adding 6 does not carry out of the low nibble.
  const std::uint64_t high = kOnes * 0xF0;
  if ((x & high) != kOnes * '0' || ((x + kOnes * 6) & high) != kOnes * '0') return false;
  v = detail::combine8(x - kOnes * '0');
  return true;
}

// parse_dec, with up to 16 digits read eight at a time: the eight bytes from s.data() must be
// readable (as for dec8_padded).
inline Num parse_dec_padded(std::string_view s, std::uint64_t& v) {
  if constexpr (std::endian::native == std::endian::little) {
    const std::size_t n = s.size();
    if (n - 1 < 8) return dec8_padded(s.data(), n, v) ? Num::Ok : Num::Bad;
    if (n - 1 < 16) {
      std::uint64_t high, low;
      if (!dec8_padded(s.data(), n - 8, high) || !dec8_padded(s.data() + n - 8, 8, low)) return Num::Bad;
      v = high * 100000000 + low;
      return Num::Ok;
    }
  }
  return parse_dec(s, v);
}

// The run of decimal digits at p, at most eight of them, read at once when eight bytes remain
// before e: its value in v, p moved past it, and its length returned (8: there may be more).
inline std::size_t digits8(const char*& p, const char* e, std::uint64_t& v) {
  if constexpr (std::endian::native == std::endian::little) {
    if (e - p >= 8) {
      using detail::kOnes;
      constexpr std::uint64_t kHighNibbles = kOnes * 0xF0;
      std::uint64_t x;
      std::memcpy(&x, p, sizeof x);
      // As in dec8_padded. A carry out of a byte of 0xFA or more spoils only later bytes, after
      // the first non-digit.
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
      v = detail::combine8(x);
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

// For messages: "0x" and lowercase hex digits, no padding.
inline std::string hex(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char buf[16];
  char* p = buf + sizeof buf;
  do {
    *--p = kDigits[v & 0xf];
    v >>= 4;
  } while (v != 0);
  return "0x" + std::string(p, static_cast<std::size_t>(buf + sizeof buf - p));
}

}  // namespace dartlab::trace::line_import
