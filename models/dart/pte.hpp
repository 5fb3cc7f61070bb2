// SPDX-License-Identifier: MIT
// DART page-table entry layouts, as data, and their encode/decode. Linux's io-pgtable-dart.c
// knows two: APPLE_DART (t8020) and APPLE_DART2 (t6000, t8110); each variant's row
// (dart_variant.hpp) names its own. Common to both: bit 0 valid; leaves carry sub-page protection
// start in [63:52] and end in [51:40] in 4-byte units; table (non-leaf) entries hold the next
// table's PA the same way as leaves, plus the valid bit (spec: BACKGROUND.md "DART hardware").
#pragma once

#include <cstdint>
#include <string_view>

#include "models/dart/translation.hpp"

namespace dartlab::dart::pte {

struct PteFormat {
  std::string_view name;         // Linux's io-pgtable format
  unsigned pa_shift = 0;         // the entry holds PA >> pa_shift ...
  unsigned pa_field_low = 0;     // ... in bits [pa_field_high:pa_field_low]
  unsigned pa_field_high = 0;
  std::uint64_t no_read = 0;     // permission bits: set = the device may not
  std::uint64_t no_write = 0;
  std::uint64_t leaf_flags = 0;  // bits every leaf carries besides valid and permissions

  constexpr std::uint64_t pa_field_mask() const {
    return ((std::uint64_t{1} << (pa_field_high + 1)) - 1) & ~((std::uint64_t{1} << pa_field_low) - 1);
  }
  // The first PA the entry cannot hold.
  constexpr std::uint64_t pa_limit() const { return std::uint64_t{1} << (pa_field_high + 1 + pa_shift); }
  friend constexpr bool operator==(const PteFormat&, const PteFormat&) = default;
};

inline constexpr std::uint64_t kValid = std::uint64_t{1} << 0;
inline constexpr unsigned kSubpageStartShift = 52;  // [63:52]
inline constexpr unsigned kSubpageEndShift = 40;    // [51:40]
inline constexpr std::uint64_t kSubpageFieldMask = 0xfff;
inline constexpr std::uint64_t kSubpageWholeStart = 0x000;  // from the first 4-byte unit ...
inline constexpr std::uint64_t kSubpageWholeEnd = 0xfff;    // ... to the last: the whole page

// APPLE_DART (t8020, M1): PA in place in [35:12], so 36-bit PAs; no-read bit 8, no-write bit 7;
// Linux sets bit 1 (sub-page protection disable) in every leaf (io-pgtable-dart.c).
inline constexpr PteFormat kDart1{
    .name = "APPLE_DART", .pa_shift = 0, .pa_field_low = 12, .pa_field_high = 35,
    .no_read = std::uint64_t{1} << 8, .no_write = std::uint64_t{1} << 7, .leaf_flags = std::uint64_t{1} << 1};

// APPLE_DART2 (t6000, t8110): PA >> 4 in [37:10], so 42-bit PAs; no-read bit 3, no-write bit 2
// (io-pgtable-dart.c). The field starts at bit 10, which holds PA bit 14 (16 KiB pages); pages
// of 4 or 8 KiB (simulator only, never on hardware) also need PA bits 13:12, which land in bits
// 9:8, so the model's field starts at bit 8.
inline constexpr PteFormat kDart2{
    .name = "APPLE_DART2", .pa_shift = 4, .pa_field_low = 8, .pa_field_high = 37,
    .no_read = std::uint64_t{1} << 3, .no_write = std::uint64_t{1} << 2, .leaf_flags = 0};

// pa must be 4 KiB aligned and below f.pa_limit().
constexpr std::uint64_t encode_pa(const PteFormat& f, std::uint64_t pa) { return (pa >> f.pa_shift) & f.pa_field_mask(); }
constexpr std::uint64_t decode_pa(const PteFormat& f, std::uint64_t entry) {
  return (entry & f.pa_field_mask()) << f.pa_shift;
}
constexpr std::uint64_t encode_leaf(const PteFormat& f, std::uint64_t pa, Perms perms) {
  return encode_pa(f, pa) | kValid | f.leaf_flags | (perms.device_write ? 0 : f.no_write) |
         (perms.device_read ? 0 : f.no_read) | (kSubpageWholeStart << kSubpageStartShift) |
         (kSubpageWholeEnd << kSubpageEndShift);
}
constexpr std::uint64_t encode_table(const PteFormat& f, std::uint64_t table_pa) { return encode_pa(f, table_pa) | kValid; }
constexpr Perms decode_perms(const PteFormat& f, std::uint64_t entry) {
  return Perms{(entry & f.no_read) == 0, (entry & f.no_write) == 0};
}

constexpr bool is_valid(std::uint64_t entry) { return (entry & kValid) != 0; }
constexpr std::uint64_t subpage_start(std::uint64_t entry) {
  return (entry >> kSubpageStartShift) & kSubpageFieldMask;
}
constexpr std::uint64_t subpage_end(std::uint64_t entry) { return (entry >> kSubpageEndShift) & kSubpageFieldMask; }

// The layout the model's page tables are written in, for every variant: APPLE_DART2. t8020's
// own layout is in its row but not written yet: its 36-bit PAs cannot reach the tables the model
// places at 64 GiB (page_table.hpp), nor guest memory above it.
inline constexpr const PteFormat& kModel = kDart2;
inline constexpr std::uint64_t kPaLimit = kModel.pa_limit();  // 2^42
constexpr std::uint64_t encode_pa(std::uint64_t pa) { return encode_pa(kModel, pa); }
constexpr std::uint64_t decode_pa(std::uint64_t entry) { return decode_pa(kModel, entry); }
constexpr std::uint64_t encode_leaf(std::uint64_t pa, Perms perms) { return encode_leaf(kModel, pa, perms); }
constexpr std::uint64_t encode_table(std::uint64_t table_pa) { return encode_table(kModel, table_pa); }
constexpr Perms decode_perms(std::uint64_t entry) { return decode_perms(kModel, entry); }

}  // namespace dartlab::dart::pte
