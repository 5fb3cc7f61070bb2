// SPDX-License-Identifier: MIT
// The host's mapping-slot table: each live mapping holds one slot, and the table has a fixed
// capacity (the host extension answers "no space" when full). Handles carry a generation, so a
// stale handle (already unmapped, or from before a reset) is told apart from a live one.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

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

  bool full() const;
  // handle = (generation << 32) | index, generation >= 1, so 0 is never a handle.
  std::optional<std::uint64_t> acquire(const SlotRecord& record);
  // The record of a live handle, now released; nullopt for unknown, stale or 0.
  std::optional<SlotRecord> release(std::uint64_t handle);
  const SlotRecord* find(std::uint64_t handle) const;

  std::uint64_t live() const { return live_; }
  std::uint64_t capacity() const { return capacity_; }  // kUnlimited = no limit
  void reset();  // releases every slot; handles made before stay invalid

 private:
  static constexpr std::uint32_t kNoIndex = 0xffffffffu;
  struct Entry {
    SlotRecord record{};
    std::uint32_t generation = 0;
    std::uint32_t next_free = kNoIndex;
    bool live = false;
  };
  const Entry* live_entry(std::uint64_t handle) const;

  std::vector<Entry> entries_;
  std::uint32_t free_head_ = kNoIndex;
  std::uint64_t capacity_;
  std::uint64_t live_ = 0;
  std::uint32_t first_generation_ = 1;  // entries made after a reset start above every older handle
};

}  // namespace dartlab::dart
