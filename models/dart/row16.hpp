// SPDX-License-Identifier: MIT
// Rows of 16 unsigned 32-bit lengths, as the first-fit allocator's tree keeps a node's children
// (tagged_first_fit.cpp): which of them reach a given length, and the longest. With SSE2 (every
// x86-64) a row is four vectors of four, compared or reduced without a branch; elsewhere a loop
// the compiler unrolls. The portable versions are always compiled, so that the tests hold the
// vector ones to them on every machine.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dartlab::dart::row16 {

inline constexpr unsigned kWidth = 16;

// Bit k set: row[k] >= at_least_this.
inline std::uint32_t at_least_portable(const std::uint32_t* row, std::uint32_t at_least_this) {
  std::uint32_t bits = 0;
#pragma GCC unroll 16
  for (unsigned k = 0; k < kWidth; ++k) bits |= static_cast<std::uint32_t>(row[k] >= at_least_this) << k;
  return bits;
}

inline std::uint32_t longest_portable(const std::uint32_t* row) {
  std::uint32_t m = 0;
#pragma GCC unroll 16
  for (unsigned k = 0; k < kWidth; ++k) m = std::max(m, row[k]);
  return m;
}

#if defined(__SSE2__)
namespace detail {
// SSE2 compares signed lanes only: x ^ 2^31 orders as signed as x does as unsigned.
inline __m128i biased(const std::uint32_t* four) {
  return _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(four)),
                       _mm_set1_epi32(std::numeric_limits<std::int32_t>::min()));
}
inline __m128i signed_max(__m128i a, __m128i b) {  // SSE2 has no pmaxsd
  const __m128i a_greater = _mm_cmpgt_epi32(a, b);
  return _mm_or_si128(_mm_and_si128(a_greater, a), _mm_andnot_si128(a_greater, b));
}
}  // namespace detail
#endif

inline std::uint32_t at_least(const std::uint32_t* row, std::uint32_t at_least_this) {
#if defined(__SSE2__)
  if (at_least_this == 0) return 0xffff;  // every length reaches 0 (and 0 - 1 below would wrap)
  // x >= n is x > n - 1: four compares, each lane all ones or zeros, packed to 16 bytes.
  const __m128i below = _mm_set1_epi32(static_cast<std::int32_t>((at_least_this - 1) ^ 0x8000'0000u));
  const auto four = [&](unsigned k) { return _mm_cmpgt_epi32(detail::biased(row + 4 * k), below); };
  const __m128i lo = _mm_packs_epi32(four(0), four(1));
  const __m128i hi = _mm_packs_epi32(four(2), four(3));
  return static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_packs_epi16(lo, hi)));
#else
  return at_least_portable(row, at_least_this);
#endif
}

inline std::uint32_t longest(const std::uint32_t* row) {
#if defined(__SSE2__)
  using detail::biased;
  using detail::signed_max;
  __m128i m = signed_max(signed_max(biased(row), biased(row + 4)), signed_max(biased(row + 8), biased(row + 12)));
  m = signed_max(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
  m = signed_max(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
  return static_cast<std::uint32_t>(_mm_cvtsi128_si32(m)) ^ 0x8000'0000u;
#else
  return longest_portable(row);
#endif
}

}  // namespace dartlab::dart::row16
