// SPDX-License-Identifier: MIT
#include "models/dart/slots.hpp"

#include <algorithm>
#include <cassert>

namespace dartlab::dart {

namespace {
constexpr std::uint64_t handle_of(std::uint32_t generation, std::uint64_t index) {
  return (std::uint64_t{generation} << 32) | index;
}
}  // namespace

SlotTable::SlotTable(std::uint64_t capacity_slots)
    : capacity_(capacity_slots),
      limit_(capacity_slots == kUnlimited ? kMaxSlots : std::min(capacity_slots, kMaxSlots)) {}

std::uint64_t SlotTable::take(const SlotRecord& record) {
  if (full()) return 0;
  FreeSlot slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    // Grows with the live count only: no slot is free, so every entry is live.
    slot = FreeSlot{static_cast<std::uint32_t>(entries_.size()), first_generation_};
    entries_.emplace_back();
    // Room for every slot to be free at once, taken as the entries grow: release() never allocates.
    if (free_.capacity() < entries_.capacity()) free_.reserve(entries_.capacity());
  }
  assert(record.first_page < Entry::kLive && record.pages <= 0xffffffffu);
  entries_[slot.index] = Entry{record.first_page | Entry::kLive, static_cast<std::uint32_t>(record.pages), slot.generation};
  ++live_;
  return handle_of(slot.generation, slot.index);
}

const SlotTable::Entry* SlotTable::live_entry(std::uint64_t handle) const {
  const std::uint64_t index = handle & 0xffffffffu;
  const auto generation = static_cast<std::uint32_t>(handle >> 32);
  if (index >= entries_.size()) return nullptr;
  const Entry& e = entries_[index];
  if (!e.live() || e.generation != generation) return nullptr;
  return &e;
}

std::optional<SlotRecord> SlotTable::find(std::uint64_t handle) const {
  const Entry* e = live_entry(handle);
  if (e == nullptr) return std::nullopt;
  return e->record();
}

std::optional<SlotRecord> SlotTable::release(std::uint64_t handle) {
  if (live_entry(handle) == nullptr) return std::nullopt;
  const auto index = static_cast<std::uint32_t>(handle & 0xffffffffu);
  Entry& e = entries_[index];
  free_entry(index, e);
  return e.record();
}

void SlotTable::reset() {
  std::uint32_t newest = first_generation_;
  for (const Entry& e : entries_) newest = std::max(newest, e.generation);
  first_generation_ = next_generation(newest);
  entries_.clear();
  entries_.shrink_to_fit();
  free_.clear();
  free_.shrink_to_fit();
  live_ = 0;
}

}  // namespace dartlab::dart
