// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "models/dart/slots.hpp"

using dartlab::dart::SlotRecord;
using dartlab::dart::SlotTable;

TEST_CASE("A slot table refuses a mapping beyond its capacity until one is released", "[slots]") {
  SlotTable t(3);
  std::vector<std::uint64_t> handles;
  for (std::uint64_t i = 0; i < 3; ++i) {
    const auto h = t.acquire(SlotRecord{i, 1});
    REQUIRE(h);
    CHECK(*h != 0);
    handles.push_back(*h);
  }
  CHECK(t.full());
  CHECK(t.live() == 3);
  CHECK_FALSE(t.acquire(SlotRecord{9, 1}));
  REQUIRE(t.release(handles[1]));
  CHECK_FALSE(t.full());
  const auto again = t.acquire(SlotRecord{7, 2});
  REQUIRE(again);
  CHECK((*again & 0xffffffffu) == (handles[1] & 0xffffffffu));  // the freed index is reused ...
  CHECK(*again != handles[1]);                                  // ... under a new generation
  REQUIRE(t.find(*again).has_value());
  CHECK(t.find(*again)->first_page == 7);
  CHECK(t.find(*again)->pages == 2);
}

TEST_CASE("Stale, unknown and zero handles are rejected", "[slots]") {
  SlotTable t(8);
  const auto h = t.acquire(SlotRecord{5, 3});
  REQUIRE(h);
  CHECK(*h >> 32 == 1);  // generations start at 1
  const auto released = t.release(*h);
  REQUIRE(released);
  CHECK(released->first_page == 5);
  CHECK(released->pages == 3);
  CHECK_FALSE(t.release(*h));  // double release
  CHECK_FALSE(t.find(*h).has_value());
  CHECK_FALSE(t.release(0));
  CHECK_FALSE(t.release(0x1'0000'0005));  // index never used
  const auto reuse = t.acquire(SlotRecord{6, 1});
  REQUIRE(reuse);
  CHECK_FALSE(t.release(*h));  // the old handle does not free the new owner of its index
  CHECK(t.live() == 1);
}

TEST_CASE("Handles from before a reset stay invalid after it", "[slots]") {
  SlotTable t(4);
  const auto old = t.acquire(SlotRecord{1, 1});
  REQUIRE(old);
  t.reset();
  CHECK(t.live() == 0);
  const auto fresh = t.acquire(SlotRecord{2, 1});
  REQUIRE(fresh);
  CHECK((*fresh & 0xffffffffu) == (*old & 0xffffffffu));
  CHECK_FALSE(t.release(*old));
  CHECK(t.release(*fresh));
}

TEST_CASE("An unlimited slot table takes more than the default 65,536 mappings", "[slots]") {
  SlotTable t(SlotTable::kUnlimited);
  std::set<std::uint64_t> handles;
  for (std::uint64_t i = 0; i < 70000; ++i) {
    const auto h = t.acquire(SlotRecord{i, 1});
    REQUIRE(h);
    handles.insert(*h);
  }
  CHECK(handles.size() == 70000);
  CHECK_FALSE(t.full());
  CHECK(t.capacity() == SlotTable::kUnlimited);
  for (const std::uint64_t h : handles) REQUIRE(t.release(h));
  CHECK(t.live() == 0);
}

namespace {

// The slot table as it was before its free slots moved to a stack of their own: a free list
// threaded through the entries. Handles must come out the same, slot for slot.
class OldSlotTable {
 public:
  explicit OldSlotTable(std::uint64_t capacity) : capacity_(capacity) {}
  std::optional<std::uint64_t> acquire(const SlotRecord& record) {
    if (live_ >= capacity_) return std::nullopt;
    std::uint32_t index = free_head_;
    if (index != kNoIndex) {
      free_head_ = entries_[index].next_free;
    } else {
      index = static_cast<std::uint32_t>(entries_.size());
      entries_.push_back(Entry{{}, first_generation_, kNoIndex, false});
    }
    Entry& e = entries_[index];
    e.record = record;
    e.live = true;
    ++live_;
    return (std::uint64_t{e.generation} << 32) | index;
  }
  std::optional<SlotRecord> release(std::uint64_t handle) {
    const std::uint64_t index = handle & 0xffffffffu;
    if (index >= entries_.size()) return std::nullopt;
    Entry& e = entries_[index];
    if (!e.live || e.generation != static_cast<std::uint32_t>(handle >> 32)) return std::nullopt;
    e.live = false;
    e.generation = e.generation == 0xffffffffu ? 1 : e.generation + 1;
    e.next_free = free_head_;
    free_head_ = static_cast<std::uint32_t>(index);
    --live_;
    return e.record;
  }
  void reset() {
    std::uint32_t newest = first_generation_;
    for (const Entry& e : entries_) newest = std::max(newest, e.generation);
    first_generation_ = newest == 0xffffffffu ? 1 : newest + 1;
    entries_.clear();
    free_head_ = kNoIndex;
    live_ = 0;
  }

 private:
  static constexpr std::uint32_t kNoIndex = 0xffffffffu;
  struct Entry {
    SlotRecord record;
    std::uint32_t generation;
    std::uint32_t next_free;
    bool live;
  };
  std::vector<Entry> entries_;
  std::uint32_t free_head_ = kNoIndex;
  std::uint64_t capacity_;
  std::uint64_t live_ = 0;
  std::uint32_t first_generation_ = 1;
};

}  // namespace

TEST_CASE("The slot table hands out the handles its free-list version did", "[slots]") {
  std::mt19937_64 rng(7);
  SlotTable now(300);
  OldSlotTable before(300);
  std::vector<std::uint64_t> live;
  for (int step = 0; step < 100000; ++step) {
    const std::uint64_t roll = rng() % 100;
    if (roll < 55) {
      const SlotRecord record{rng() % 1000, 1 + rng() % 8};
      const auto a = now.acquire(record);
      const auto b = before.acquire(record);
      REQUIRE(a.has_value() == b.has_value());
      if (a) {
        REQUIRE(*a == *b);
        live.push_back(*a);
      }
    } else if (roll < 99 && !live.empty()) {
      const std::size_t at = rng() % live.size();
      const std::uint64_t h = live[at];
      live[at] = live.back();
      live.pop_back();
      const auto a = now.release(h);
      const auto b = before.release(h);
      REQUIRE(a.has_value());
      REQUIRE(b.has_value());
      CHECK(a->first_page == b->first_page);
      CHECK(a->pages == b->pages);
      REQUIRE_FALSE(now.release(h));  // stale now, in both
      REQUIRE_FALSE(before.release(h));
    } else if (roll == 99) {
      now.reset();
      before.reset();
      live.clear();
    }
    REQUIRE(now.live() == live.size());
  }
}

TEST_CASE("release_if releases a live handle only with its exact record, and changes nothing otherwise", "[slots]") {
  SlotTable t(4);
  const auto h = t.acquire(SlotRecord{5, 3});
  REQUIRE(h);
  CHECK_FALSE(t.release_if(*h, SlotRecord{5, 2}));
  CHECK_FALSE(t.release_if(*h, SlotRecord{4, 3}));
  CHECK_FALSE(t.release_if(*h + (std::uint64_t{1} << 32), SlotRecord{5, 3}));  // another generation
  CHECK_FALSE(t.release_if(0, SlotRecord{}));
  CHECK_FALSE(t.release_if(0x1'0000'0007, SlotRecord{5, 3}));  // index never used
  CHECK(t.live() == 1);
  REQUIRE(t.find(*h).has_value());
  CHECK(t.find(*h)->pages == 3);

  CHECK(t.release_if(*h, SlotRecord{5, 3}));
  CHECK(t.live() == 0);
  CHECK_FALSE(t.find(*h).has_value());
  CHECK_FALSE(t.release_if(*h, SlotRecord{5, 3}));  // double release
  CHECK_FALSE(t.release(*h));
  // The slot is free as after release(): reused under the next generation.
  const auto again = t.acquire(SlotRecord{6, 1});
  REQUIRE(again);
  CHECK(*again == *h + (std::uint64_t{1} << 32));
}
