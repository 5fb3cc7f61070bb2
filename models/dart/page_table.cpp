// SPDX-License-Identifier: MIT
#include "models/dart/page_table.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <stdexcept>
#include <string>

#include "models/dart/pte.hpp"

namespace dartlab::dart {

namespace {
// Freed tables kept with their memory so that mapping and unmapping across a table boundary does
// not hit the heap every time; a guess, small next to a working set's live tables.
constexpr std::size_t kCachedTables = 8;
}  // namespace

PageTable::PageTable(std::uint64_t page_bytes, unsigned va_bits, std::uint64_t table_base_pa)
    : page_bytes_(page_bytes), va_bits_(va_bits), table_base_pa_(table_base_pa) {
  if (!std::has_single_bit(page_bytes) || page_bytes < 4096 || page_bytes > 65536) {
    throw std::invalid_argument("page size must be a power of two from 4 KiB to 64 KiB, not " +
                                std::to_string(page_bytes));
  }
  if (va_bits < 32 || va_bits > 64) throw std::invalid_argument("va_bits must be 32..64");
  if (table_base_pa % page_bytes != 0) throw std::invalid_argument("table base must be page aligned");
  page_shift_ = static_cast<unsigned>(std::countr_zero(page_bytes));
  index_bits_ = page_shift_ - 3;  // 8-byte entries, one page per table
  levels_ = (va_bits_ - page_shift_ + index_bits_ - 1) / index_bits_;
  assert(levels_ <= kMaxLevels);
  leaf_shift_ = page_shift_ + index_bits_;
  tables_.resize(1);  // the root's slot, with no memory yet
  cached_.reserve(kCachedTables);
}

PageTable::~PageTable() = default;

std::uint64_t PageTable::entries_used(unsigned level) const {
  if (level != 1) return entries_per_table();
  const unsigned top_bits = va_bits_ - page_shift_ - (levels_ - 1) * index_bits_;
  return std::uint64_t{1} << top_bits;
}

std::uint64_t PageTable::pa_of(Slot slot) const { return table_base_pa_ + std::uint64_t{slot} * page_bytes_; }

PageTable::Slot PageTable::slot_of(std::uint64_t table_pa) const {
  return static_cast<Slot>((table_pa - table_base_pa_) >> page_shift_);
}

std::uint64_t PageTable::read_entry(std::uint64_t table_pa, unsigned index) const {
  if (table_pa < table_base_pa_ || index >= entries_per_table()) return 0;
  const std::uint64_t slot = (table_pa - table_base_pa_) >> page_shift_;
  if (slot >= tables_.size() || !tables_[slot].entries) return 0;
  return tables_[slot].entries[index];
}

void PageTable::materialize(Slot slot) {
  Table& t = tables_[slot];
  if (!t.entries) t.entries = std::make_unique<std::uint64_t[]>(entries_per_table());  // zeroed
  ++tables_live_;
}

PageTable::Slot PageTable::new_table() {
  if (!cached_.empty()) {
    const Slot slot = cached_.back();
    cached_.pop_back();
    ++tables_live_;
    return slot;
  }
  Slot slot;
  if (!holes_.empty()) {
    slot = holes_.back();
    holes_.pop_back();
  } else {
    slot = static_cast<Slot>(tables_.size());
    tables_.emplace_back();
  }
  materialize(slot);
  return slot;
}

void PageTable::free_table(Slot slot) {
  Table& t = tables_[slot];
  assert(t.valid == 0);
  --tables_live_;
  // Entries are zeroed as they are unmapped, so a cached table is clean.
  if (slot != kRootSlot && cached_.size() < kCachedTables) {
    cached_.push_back(slot);
    return;
  }
  t.entries.reset();
  if (slot != kRootSlot) holes_.push_back(slot);
}

bool PageTable::descend(std::uint64_t bus_addr, bool create, Path& path) {
  Slot slot = kRootSlot;
  if (!tables_[slot].entries) {
    if (!create) return false;
    materialize(slot);
  }
  for (unsigned level = 1; level < levels_; ++level) {
    path[level - 1] = slot;
    const std::uint64_t index = index_at(bus_addr, level);
    std::uint64_t entry = tables_[slot].entries[index];
    if (!pte::is_valid(entry)) {
      if (!create) return false;
      const Slot child = new_table();  // may move tables_: index again below
      entry = pte::encode_table(pa_of(child));
      tables_[slot].entries[index] = entry;
      ++tables_[slot].valid;
    }
    slot = slot_of(pte::decode_pa(entry));
  }
  path[levels_ - 1] = slot;
  return true;
}

void PageTable::map_range(std::uint64_t bus_addr, std::uint64_t pa, std::uint64_t pages, Perms perms) {
  while (pages > 0) {
    Table& leaf = tables_[leaf_hint(bus_addr, true)->slot];
    const std::uint64_t first = index_at(bus_addr, levels_);
    const std::uint64_t count = std::min(pages, entries_per_table() - first);
    for (std::uint64_t i = 0; i < count; ++i) {
      assert(!pte::is_valid(leaf.entries[first + i]) && "page already mapped");
      leaf.entries[first + i] = pte::encode_leaf(pa + (i << page_shift_), perms);
    }
    leaf.valid += count;
    bus_addr += count << page_shift_;
    pa += count << page_shift_;
    pages -= count;
  }
}

PageTable::LeafHint* PageTable::refill_hint(LeafHint& hint, std::uint64_t key, std::uint64_t bus_addr, bool create) {
  Path path{};
  if (!descend(bus_addr, create, path)) return nullptr;
  hint = LeafHint{key, path[levels_ - 1]};
  return &hint;
}

void PageTable::free_empty(const Path& path, std::uint64_t bus_addr) {
  for (unsigned level = levels_; level >= 1; --level) {
    const Slot slot = path[level - 1];
    if (tables_[slot].valid != 0) break;
    free_table(slot);
    if (level == 1) break;
    Table& parent = tables_[path[level - 2]];
    parent.entries[index_at(bus_addr, level - 1)] = 0;
    --parent.valid;
  }
}

void PageTable::unmap_range(std::uint64_t bus_addr, std::uint64_t pages) {
  while (pages > 0) {
    const std::uint64_t first = index_at(bus_addr, levels_);
    const std::uint64_t count = std::min(pages, entries_per_table() - first);
    if (LeafHint* hint = leaf_hint(bus_addr, false)) {
      Table& leaf = tables_[hint->slot];
      for (std::uint64_t i = 0; i < count; ++i) {
        assert(pte::is_valid(leaf.entries[first + i]) && "page not mapped");
        leaf.entries[first + i] = 0;
      }
      leaf.valid -= count;
      if (leaf.valid == 0) {
        // The leaf goes, and the tables above it that it leaves empty: walk down for the path.
        *hint = LeafHint{};
        Path path{};
        descend(bus_addr, false, path);
        free_empty(path, bus_addr);
      }
    } else {
      assert(false && "unmapping pages that are not mapped");
    }
    bus_addr += count << page_shift_;
    pages -= count;
  }
}

PageWalk PageTable::walk(std::uint64_t bus_addr) const {
  if (va_bits_ < 64 && (bus_addr >> va_bits_) != 0) {
    return PageWalk{0, Fault{FaultCode::NoTtbr, bus_addr, 0}, false};
  }
  std::uint64_t table_pa = table_root_pa();
  for (unsigned level = 1; level <= levels_; ++level) {
    const std::uint64_t entry = read_entry(table_pa, static_cast<unsigned>(index_at(bus_addr, level)));
    if (!pte::is_valid(entry)) {
      const FaultCode code = level == levels_ ? FaultCode::NoPte : FaultCode::NoL1;
      return PageWalk{0, Fault{code, bus_addr, level}, false};
    }
    if (level == levels_) return PageWalk{entry, Fault{}, true};
    table_pa = pte::decode_pa(entry);
  }
  return PageWalk{};  // unreachable: levels_ >= 1
}

void PageTable::reset() {
  tables_.clear();
  tables_.resize(1);
  tables_.shrink_to_fit();
  cached_.clear();
  holes_.clear();
  holes_.shrink_to_fit();
  tables_live_ = 0;
  leaf_hints_.fill(LeafHint{});
}

}  // namespace dartlab::dart
