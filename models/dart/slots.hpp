// SPDX-License-Identifier: MIT
// The host's mapping-slot table: each live mapping holds one slot, and the table has a fixed
// capacity (the host extension answers "no space" when full). Handles carry a generation, so a
// stale handle (already unmapped, or from before a reset) is told apart from a live one.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/huge_page_allocator.hpp"

namespace dartlab::dart {

// What a slot remembers about its mapping.
struct SlotRecord {
  std::uint64_t first_page = 0;  // in the aperture
  std::uint64_t pages = 0;
};

class SlotTable {
 public:
  static constexpr std::uint64_t kUnlimited = 0;
  // Indices live in the handle's low 32 bits (all ones marks the end of the free list), so no
  // table holds more slots than this.
  static constexpr std::uint64_t kMaxSlots = 0xffffffffu;

  // capacity_slots == kUnlimited: no limit beyond kMaxSlots. Entries are made on first use.
  explicit SlotTable(std::uint64_t capacity_slots);

  bool full() const { return live_ >= limit_; }
  // handle = (generation << 32) | index, generation >= 1, so 0 is never a handle. The record's
  // first_page must be below 2^63 and its pages below 2^32 (a DART's are below 2^52 and 2^30).
  // acquire() as a plain handle, 0 when the table is full: the DART's hot path (a
  // std::optional came back through a stack slot, as ApertureAllocator::take says, and its load
  // waited for the entry's store to reach the cache).
  std::uint64_t take(const SlotRecord& record);
  std::optional<std::uint64_t> acquire(const SlotRecord& record) {
    const std::uint64_t handle = take(record);
    if (handle == 0) return std::nullopt;
    return handle;
  }
  // The record of a live handle, now released; nullopt for unknown, stale or 0.
  std::optional<SlotRecord> release(std::uint64_t handle);
  // release(handle) when the handle is live and its record is `expected`: true, and released;
  // else false and nothing changes. Inline, so that the caller's work that uses `expected` (the
  // same values) does not wait on the entry's load. The record is compared whole in one test
  // (no branch per field, which also keeps the compiler from substituting the entry's fields for
  // the caller's on the equal path).
  bool release_if(std::uint64_t handle, const SlotRecord& expected) {
    const std::uint64_t index = handle & 0xffffffffu;
    if (index >= entries_.size()) return false;
    Entry& e = entries_[index];
    const std::uint64_t differ = (e.first_page_live ^ (expected.first_page | Entry::kLive)) | (e.pages ^ expected.pages) |
                                 (e.generation ^ (handle >> 32));
    if (differ != 0) return false;
    free_entry(static_cast<std::uint32_t>(index), e);
    return true;
  }
  std::optional<SlotRecord> find(std::uint64_t handle) const;
  // A hint that `handle` will be released or looked up soon: starts its cache miss.
  void prefetch(std::uint64_t handle) const {
    const std::uint64_t index = handle & 0xffffffffu;
    if (index < entries_.size()) __builtin_prefetch(&entries_[index]);
  }

  std::uint64_t live() const { return live_; }
  std::uint64_t capacity() const { return capacity_; }  // kUnlimited = no limit
  void reset();  // releases every slot; handles made before stay invalid

 private:
  // 16 bytes, not the 24 of a SlotRecord and two counters: a released handle's entry is a cache
  // miss (the mapper's unmap reads it right after its own record), and at the default 65,536
  // slots the table is 1 MiB instead of 1.5, and no entry straddles two cache lines.
  struct Entry {
    static constexpr std::uint64_t kLive = std::uint64_t{1} << 63;  // set while a mapping holds the slot
    std::uint64_t first_page_live = 0;  // the record's first page | kLive
    std::uint32_t pages = 0;
    std::uint32_t generation = 0;
    SlotRecord record() const { return SlotRecord{first_page_live & ~kLive, pages}; }
    bool live() const { return (first_page_live & kLive) != 0; }
  };
  static_assert(sizeof(Entry) == 16);
  // Generation 0 is never used, so handle 0 never names a slot.
  static constexpr std::uint32_t next_generation(std::uint32_t g) { return g == 0xffffffffu ? 1 : g + 1; }
  // Releases live entry `index`: its next handle gets a new generation, and it goes on the free stack.
  void free_entry(std::uint32_t index, Entry& e) {
    e.first_page_live &= ~Entry::kLive;
    e.generation = next_generation(e.generation);
    free_.push_back(FreeSlot{index, e.generation});
    --live_;
  }
  // A free slot and the generation its next handle carries. The free slots are a stack apart
  // from the entries, newest on top (the order the slots are reused in is part of the results:
  // handles), so that acquire() only writes its entry: reading a free entry to find the next
  // one would be a cache miss per map once the free slots have gone cold.
  struct FreeSlot {
    std::uint32_t index;
    std::uint32_t generation;
  };
  const Entry* live_entry(std::uint64_t handle) const;

  std::vector<Entry, HugePageAllocator<Entry>> entries_;
  std::vector<FreeSlot> free_;
  std::uint64_t capacity_;
  std::uint64_t limit_;  // what full() compares live_ with: the capacity, at most kMaxSlots
  std::uint64_t live_ = 0;
  std::uint32_t first_generation_ = 1;  // entries made after a reset start above every older handle
};

}  // namespace dartlab::dart
