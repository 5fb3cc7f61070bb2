// SPDX-License-Identifier: MIT
// Real multi-level page tables in the t8110 format, built lazily in a simulated table memory.
// Tables are one page each (page_bytes / 8 entries); the leaf level maps page_bytes * entries
// (32 MiB at 16 KiB); levels are stacked until va_bits are covered. The top table sits at a fixed
// PA (what TTBR points at) but only occupies memory while it holds an entry; every table is freed
// when its last valid entry goes, so memory follows live mappings.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "models/dart/translation.hpp"

namespace dartlab::dart {

// One walk: the leaf PTE, or the fault and the level whose entry was invalid.
struct PageWalk {
  std::uint64_t pte = 0;
  Fault fault{};
  bool ok = false;
};

class PageTable {
 public:
  static constexpr std::uint64_t kDefaultTableBasePa = 0x10'0000'0000;  // a guess: any PA clear of guest RAM
  static constexpr unsigned kMaxLevels = 6;  // 4 KiB pages over 64 bits would need 6

  // page_bytes: power of two in 4 KiB..64 KiB; va_bits: 32..64. Throws std::invalid_argument otherwise.
  PageTable(std::uint64_t page_bytes, unsigned va_bits, std::uint64_t table_base_pa = kDefaultTableBasePa);
  ~PageTable();
  PageTable(const PageTable&) = delete;
  PageTable& operator=(const PageTable&) = delete;

  unsigned levels() const { return levels_; }
  unsigned page_shift() const { return page_shift_; }
  unsigned index_bits() const { return index_bits_; }
  std::uint64_t entries_per_table() const { return std::uint64_t{1} << index_bits_; }
  std::uint64_t entries_used(unsigned level) const;  // level 1 (top) may use fewer than a full table
  // Inline: every map, unmap and walk computes it once per level.
  std::uint64_t index_at(std::uint64_t bus_addr, unsigned level) const {
    const unsigned shift = page_shift_ + (levels_ - level) * index_bits_;
    return (bus_addr >> shift) & (entries_per_table() - 1);
  }

  std::uint64_t table_root_pa() const { return table_base_pa_; }
  // One memory read of table memory: entry `index` of the table at `table_pa`. A table that holds
  // no entry reads as all zeros (invalid).
  std::uint64_t read_entry(std::uint64_t table_pa, unsigned index) const;

  // Preconditions (the Dart's job): page-aligned addresses inside the input space, pages not
  // already mapped (map) or all mapped (unmap).
  void map_range(std::uint64_t bus_addr, std::uint64_t pa, std::uint64_t pages, Perms perms);
  void unmap_range(std::uint64_t bus_addr, std::uint64_t pages);
  PageWalk walk(std::uint64_t bus_addr) const;

  std::uint64_t tables_live() const { return tables_live_; }
  void reset();  // every entry invalid, every table freed

 private:
  using Slot = std::uint32_t;  // a table's index in table memory; PA = base + slot * page_bytes
  static constexpr Slot kRootSlot = 0;
  struct Table {
    std::unique_ptr<std::uint64_t[]> entries;  // null while the table holds no entry
    std::uint64_t valid = 0;                   // valid entries, frees the table at zero
  };
  using Path = std::array<Slot, kMaxLevels>;  // path[level - 1] = table read at that level

  std::uint64_t pa_of(Slot slot) const;
  Slot slot_of(std::uint64_t table_pa) const;
  void materialize(Slot slot);
  Slot new_table();
  void free_table(Slot slot);
  // Fills path with the tables bus_addr walks through, creating missing ones when `create`;
  // false if a table is missing and not created.
  bool descend(std::uint64_t bus_addr, bool create, Path& path);
  // Frees the tables on path that hold no entry, leaf upwards, clearing the entry that pointed at
  // each (the leaf's own entries are already clear).
  void free_empty(const Path& path, std::uint64_t bus_addr);

  // The leaf table last used for each of a few bus-address ranges a leaf maps (32 MiB at 16 KiB
  // pages), direct-mapped: a map or unmap whose leaf is known skips the walk from the top. A hint
  // is dropped when its leaf is freed, and a leaf is freed only through unmap_range or reset, so
  // a hint always names a live leaf. 256 hints cover an 8 GiB aperture of 16 KiB pages.
  struct LeafHint {
    std::uint64_t key = ~std::uint64_t{0};  // bus_addr >> leaf_shift_; all ones: none
    Slot slot = 0;
  };
  static constexpr std::size_t kLeafHints = 256;
  // The hint naming bus_addr's leaf, walking down (and building the tables when `create`) when
  // the hint names another range; nullptr when a table is missing and not created.
  // Inline: a hit is one compare, on every map and unmap.
  LeafHint* leaf_hint(std::uint64_t bus_addr, bool create) {
    const std::uint64_t key = bus_addr >> leaf_shift_;
    LeafHint& hint = leaf_hints_[key & (kLeafHints - 1)];
    return hint.key == key ? &hint : refill_hint(hint, key, bus_addr, create);
  }
  LeafHint* refill_hint(LeafHint& hint, std::uint64_t key, std::uint64_t bus_addr, bool create);

  std::uint64_t page_bytes_;
  unsigned va_bits_;
  std::uint64_t table_base_pa_;
  unsigned page_shift_;
  unsigned index_bits_;
  unsigned levels_;
  std::vector<Table> tables_;
  std::vector<Slot> cached_;  // freed tables kept with their (zeroed) memory, to absorb churn
  std::vector<Slot> holes_;   // freed slots whose memory went back to the heap
  std::uint64_t tables_live_ = 0;
  unsigned leaf_shift_ = 0;  // bus-address bits below a leaf's range
  std::array<LeafHint, kLeafHints> leaf_hints_{};
};

}  // namespace dartlab::dart
