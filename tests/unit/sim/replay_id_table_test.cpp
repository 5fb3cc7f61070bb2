// SPDX-License-Identifier: MIT
// The replay's id table (sim/replay/id_table.hpp) against std::unordered_map (differential), over
// the ids traces carry and the ones they could: in sequence with short and very long lives,
// random, strided so that every id shares one ring index, and a few reused over and over.
#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <random>
#include <utility>
#include <unordered_map>
#include <vector>

#include "sim/replay/id_table.hpp"

using dartlab::sim::IdTable;

namespace {

struct Value {
  std::uint32_t a = 0;
  std::uint16_t b = 0;
};

// Maps fresh ids from next_id() and releases random live ones (or, now and then, asks about ids
// that are not live), checking every answer against the reference.
template <class NextId>
void same_as_reference(NextId next_id, std::size_t ops, std::size_t live_target, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  IdTable<Value> table(16);
  std::unordered_map<std::uint64_t, Value> ref;
  std::vector<std::uint64_t> live;  // the reference's keys, to pick from
  for (std::size_t op = 0; op < ops; ++op) {
    const bool add = live.empty() || (live.size() < live_target ? rng() % 3 != 0 : rng() % 3 == 0);
    if (add) {
      const std::uint64_t id = next_id(rng);
      if (id == IdTable<Value>::kEmpty) continue;
      const auto it = ref.find(id);
      const Value* got = table.find(id);
      REQUIRE((got != nullptr) == (it != ref.end()));
      if (it != ref.end()) continue;  // live already: the replay reports it and maps nothing
      const Value v{static_cast<std::uint32_t>(rng()), static_cast<std::uint16_t>(rng())};
      table.insert(id, v);
      ref.emplace(id, v);
      live.push_back(id);
    } else {
      // Mostly the recent ones, sometimes one from long ago (the game's long-lived requests).
      const std::size_t at = rng() % 4 == 0 ? rng() % live.size() : live.size() - 1 - rng() % std::min<std::size_t>(live.size(), 64);
      const std::uint64_t id = live[at];
      const Value* got = table.find(id);
      REQUIRE(got != nullptr);
      CHECK(got->a == ref.at(id).a);
      CHECK(got->b == ref.at(id).b);
      REQUIRE(table.erase(id));
      CHECK_FALSE(table.erase(id));
      CHECK(table.find(id) == nullptr);
      ref.erase(id);
      live[at] = live.back();
      live.pop_back();
    }
    REQUIRE(table.size() == ref.size());
    const std::uint64_t probe = next_id(rng) ^ (rng() % 3);  // mostly not live
    const auto it = ref.find(probe);
    const Value* got = table.find(probe);
    REQUIRE((got != nullptr) == (it != ref.end()));
    if (got != nullptr) CHECK(got->a == it->second.a);
  }
  // Every live id is still found, with its value.
  for (const auto& [id, v] : ref) {
    const Value* got = table.find(id);
    REQUIRE(got != nullptr);
    CHECK(got->a == v.a);
  }
}

}  // namespace

TEST_CASE("the id table answers as a hash map does, whatever the ids", "[replay][id_table]") {
  std::uint64_t next = 1;
  SECTION("in sequence, as generators and importers hand them out") {
    same_as_reference([&](std::mt19937_64&) { return next++; }, 200000, 3000, 1);
  }
  SECTION("random over the whole range") {
    same_as_reference([](std::mt19937_64& rng) { return rng(); }, 100000, 3000, 2);
  }
  SECTION("strided: all on one ring index") {
    same_as_reference([&](std::mt19937_64&) { return (next++) << 24; }, 50000, 500, 3);
  }
  SECTION("a few ids reused over and over, the empty mark's neighbours included") {
    same_as_reference([](std::mt19937_64& rng) { return ~std::uint64_t{0} - rng() % 40; }, 50000, 20, 4);
  }
}

TEST_CASE("the empty slots' mark is never a live id", "[replay][id_table]") {
  IdTable<Value> table(16);
  CHECK(table.find(IdTable<Value>::kEmpty) == nullptr);
  table.insert(7, Value{1, 2});
  CHECK(table.find(IdTable<Value>::kEmpty) == nullptr);
  CHECK_FALSE(table.erase(IdTable<Value>::kEmpty));
}

TEST_CASE("the id table's memory follows the live ids, not how many came and went", "[replay][id_table]") {
  // 2000 live in sequence, each released about 2000 maps later, some much later: the ring
  // stops growing once it has room for them, however long the trace.
  IdTable<Value> table(16);
  std::mt19937_64 rng(5);
  std::deque<std::uint64_t> live;  // oldest first
  std::uint64_t next = 1;
  std::size_t slots_at_warm = 0;
  for (int op = 0; op < 2'000'000; ++op) {
    if (live.size() < 2000) {
      table.insert(next, Value{});
      live.push_back(next++);
    } else {
      // Mostly the oldest; now and then a random one, and the oldest moves to its place.
      if (rng() % 64 == 0) std::swap(live.front(), live[rng() % live.size()]);
      REQUIRE(table.erase(live.front()));
      live.pop_front();
    }
    if (op == 200'000) slots_at_warm = table.ring_slots();
  }
  CHECK(table.ring_slots() == slots_at_warm);
  CHECK(table.ring_slots() <= 16 * 2000);
  CHECK(table.overflowed() * 8 <= table.ring_slots());
}

// insert_new() is the replay's map: one lookup that refuses a live id (or the empty mark) and
// leaves its record as it was, and stores any other, in the ring or, sharing an index, beside it.
TEST_CASE("insert_new stores a new id and refuses a live one, unchanged", "[replay][id_table]") {
  IdTable<Value> table(16);
  CHECK_FALSE(table.insert_new(IdTable<Value>::kEmpty, Value{1, 1}));
  CHECK(table.size() == 0);
  std::unordered_map<std::uint64_t, Value> ref;
  std::mt19937_64 rng(5);
  for (std::uint64_t n = 0; n < 20000; ++n) {
    // Half in sequence, half strided onto one ring index (the overflow map), some asked twice.
    const std::uint64_t id = rng() % 2 == 0 ? 1 + rng() % 4096 : (1 + rng() % 512) << 24;
    const Value v{static_cast<std::uint32_t>(rng()), static_cast<std::uint16_t>(rng())};
    const bool fresh = ref.find(id) == ref.end();
    REQUIRE(table.insert_new(id, v) == fresh);
    if (fresh) ref.emplace(id, v);
    const Value* got = table.find(id);
    REQUIRE(got != nullptr);
    CHECK(got->a == ref.at(id).a);
    CHECK(got->b == ref.at(id).b);
    REQUIRE(table.size() == ref.size());
    if (rng() % 3 == 0) {  // releases keep the live set moving
      REQUIRE(table.erase(id));
      ref.erase(id);
    }
  }
  CHECK(table.overflowed() > 0);  // the strided ids did share ring indexes
  for (const auto& [id, v] : ref) {
    const Value* got = table.find(id);
    REQUIRE(got != nullptr);
    CHECK(got->a == v.a);
  }
}
