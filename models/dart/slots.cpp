// SPDX-License-Identifier: MIT
#include "models/dart/slots.hpp"

#include <algorithm>

namespace dartlab::dart {

namespace {
constexpr std::uint64_t handle_of(std::uint32_t generation, std::uint64_t index) {
  return (std::uint64_t{generation} << 32) | index;
}
// Generation 0 is never used, so handle 0 never names a slot.
constexpr std::uint32_t next_generation(std::uint32_t g) { return g == 0xffffffffu ? 1 : g + 1; }
}  // namespace

SlotTable::SlotTable(std::uint64_t capacity_slots) : capacity_(capacity_slots) {}

bool SlotTable::full() const {
  const std::uint64_t limit = capacity_ == kUnlimited ? kMaxSlots : std::min(capacity_, kMaxSlots);
  return live_ >= limit;
}

std::optional<std::uint64_t> SlotTable::acquire(const SlotRecord& record) {
  if (full()) return std::nullopt;
  std::uint32_t index = free_head_;
  if (index != kNoIndex) {
    free_head_ = entries_[index].next_free;
  } else {
    // Grows with the live count only: the free list is empty, so every entry is live.
    index = static_cast<std::uint32_t>(entries_.size());
    entries_.push_back(Entry{{}, first_generation_, kNoIndex, false});
  }
  Entry& e = entries_[index];
  e.record = record;
  e.live = true;
  e.next_free = kNoIndex;
  ++live_;
  return handle_of(e.generation, index);
}

const SlotTable::Entry* SlotTable::live_entry(std::uint64_t handle) const {
  const std::uint64_t index = handle & 0xffffffffu;
  const auto generation = static_cast<std::uint32_t>(handle >> 32);
  if (index >= entries_.size()) return nullptr;
  const Entry& e = entries_[index];
  if (!e.live || e.generation != generation) return nullptr;
  return &e;
}

const SlotRecord* SlotTable::find(std::uint64_t handle) const {
  const Entry* e = live_entry(handle);
  return e ? &e->record : nullptr;
}

std::optional<SlotRecord> SlotTable::release(std::uint64_t handle) {
  if (live_entry(handle) == nullptr) return std::nullopt;
  const auto index = static_cast<std::uint32_t>(handle & 0xffffffffu);
  Entry& e = entries_[index];
  e.live = false;
  e.generation = next_generation(e.generation);
  e.next_free = free_head_;
  free_head_ = index;
  --live_;
  return e.record;
}

void SlotTable::reset() {
  std::uint32_t newest = first_generation_;
  for (const Entry& e : entries_) newest = std::max(newest, e.generation);
  first_generation_ = next_generation(newest);
  entries_.clear();
  entries_.shrink_to_fit();
  free_head_ = kNoIndex;
  live_ = 0;
}

}  // namespace dartlab::dart
