// SPDX-License-Identifier: MIT
// The t8110 page-table entry format: constants and encode/decode, nothing else.
// Leaf: PA >> 4 in bits [37:10], bit 0 valid, bit 2 no-write, bit 3 no-read, sub-page protection
// start in [63:52] and end in [51:40] in 4-byte units (spec: BACKGROUND.md "DART hardware").
// Table (non-leaf) entries hold the next table's PA the same way, plus the valid bit.
#pragma once

#include <cstdint>

#include "models/dart/translation.hpp"

namespace dartlab::dart::pte {

inline constexpr std::uint64_t kValid = std::uint64_t{1} << 0;
inline constexpr std::uint64_t kNoWrite = std::uint64_t{1} << 2;
inline constexpr std::uint64_t kNoRead = std::uint64_t{1} << 3;

inline constexpr unsigned kPaShift = 4;       // the entry holds PA >> 4
inline constexpr unsigned kPaFieldHigh = 37;  // so PAs have 42 bits
// The spec field starts at bit 10, which holds PA bit 14 (16 KiB pages). Pages of 4 or 8 KiB
// (simulator only, never on hardware) also need PA bits 13:12, which land in bits 9:8.
inline constexpr unsigned kPaFieldLow = 8;
inline constexpr std::uint64_t kPaFieldMask =
    ((std::uint64_t{1} << (kPaFieldHigh + 1)) - 1) & ~((std::uint64_t{1} << kPaFieldLow) - 1);
inline constexpr std::uint64_t kPaLimit = std::uint64_t{1} << (kPaFieldHigh + 1 + kPaShift);  // 2^42

inline constexpr unsigned kSubpageStartShift = 52;  // [63:52]
inline constexpr unsigned kSubpageEndShift = 40;    // [51:40]
inline constexpr std::uint64_t kSubpageFieldMask = 0xfff;
inline constexpr std::uint64_t kSubpageWholeStart = 0x000;  // from the first 4-byte unit ...
inline constexpr std::uint64_t kSubpageWholeEnd = 0xfff;    // ... to the last: the whole page

// pa must be 4 KiB aligned and below kPaLimit.
constexpr std::uint64_t encode_pa(std::uint64_t pa) { return (pa >> kPaShift) & kPaFieldMask; }
constexpr std::uint64_t decode_pa(std::uint64_t entry) { return (entry & kPaFieldMask) << kPaShift; }

constexpr std::uint64_t encode_leaf(std::uint64_t pa, Perms perms) {
  return encode_pa(pa) | kValid | (perms.device_write ? 0 : kNoWrite) | (perms.device_read ? 0 : kNoRead) |
         (kSubpageWholeStart << kSubpageStartShift) | (kSubpageWholeEnd << kSubpageEndShift);
}
constexpr std::uint64_t encode_table(std::uint64_t table_pa) { return encode_pa(table_pa) | kValid; }

constexpr bool is_valid(std::uint64_t entry) { return (entry & kValid) != 0; }
constexpr Perms decode_perms(std::uint64_t entry) {
  return Perms{(entry & kNoRead) == 0, (entry & kNoWrite) == 0};
}
constexpr std::uint64_t subpage_start(std::uint64_t entry) {
  return (entry >> kSubpageStartShift) & kSubpageFieldMask;
}
constexpr std::uint64_t subpage_end(std::uint64_t entry) { return (entry >> kSubpageEndShift) & kSubpageFieldMask; }

}  // namespace dartlab::dart::pte
