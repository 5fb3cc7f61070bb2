// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

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
  REQUIRE(t.find(*again) != nullptr);
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
  CHECK(t.find(*h) == nullptr);
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
