// SPDX-License-Identifier: MIT
#include "traces/binary_format.hpp"

namespace dartlab::trace::binary {
namespace {

// XXH64 as its specification (xxhash.com, doc/xxhash_spec.md) defines it.
constexpr std::uint64_t kPrime1 = 0x9E3779B185EBCA87;
constexpr std::uint64_t kPrime2 = 0xC2B2AE3D27D4EB4F;
constexpr std::uint64_t kPrime3 = 0x165667B19E3779F9;
constexpr std::uint64_t kPrime4 = 0x85EBCA77C2B2AE63;
constexpr std::uint64_t kPrime5 = 0x27D4EB2F165667C5;

inline std::uint64_t round(std::uint64_t acc, std::uint64_t input) {
  return std::rotl(acc + input * kPrime2, 31) * kPrime1;
}
inline std::uint64_t merge(std::uint64_t h, std::uint64_t acc) { return (h ^ round(0, acc)) * kPrime1 + kPrime4; }

}  // namespace

std::uint64_t xxh64(const void* data, std::size_t n, std::uint64_t seed) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  const std::uint8_t* const end = p + n;
  std::uint64_t h;
  if (n >= 32) {
    std::uint64_t v1 = seed + kPrime1 + kPrime2, v2 = seed + kPrime2, v3 = seed, v4 = seed - kPrime1;
    for (const std::uint8_t* limit = end - 32; p <= limit; p += 32) {
      v1 = round(v1, load_le<std::uint64_t>(p));
      v2 = round(v2, load_le<std::uint64_t>(p + 8));
      v3 = round(v3, load_le<std::uint64_t>(p + 16));
      v4 = round(v4, load_le<std::uint64_t>(p + 24));
    }
    h = std::rotl(v1, 1) + std::rotl(v2, 7) + std::rotl(v3, 12) + std::rotl(v4, 18);
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else {
    h = seed + kPrime5;
  }
  h += n;
  for (; end - p >= 8; p += 8) h = std::rotl(h ^ round(0, load_le<std::uint64_t>(p)), 27) * kPrime1 + kPrime4;
  if (end - p >= 4) {
    h = std::rotl(h ^ (load_le<std::uint32_t>(p) * kPrime1), 23) * kPrime2 + kPrime3;
    p += 4;
  }
  for (; p < end; ++p) h = std::rotl(h ^ (*p * kPrime5), 11) * kPrime1;
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}

}  // namespace dartlab::trace::binary
