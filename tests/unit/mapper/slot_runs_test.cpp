// SPDX-License-Identifier: MIT
// SlotRuns: the bounce pool's first-fit over slots, against a slot-by-slot reference.
#include <catch2/catch.hpp>

#include <optional>
#include <vector>

#include "passthrough/mapper/slot_runs.hpp"
#include "support/random_requests.hpp"

using dartlab::mapper::SlotRuns;

namespace {

// The lowest run of n free slots, slot by slot.
std::optional<std::uint64_t> reference_first_fit(const std::vector<bool>& taken, std::uint64_t n) {
  std::uint64_t run = 0;
  for (std::uint64_t i = 0; i < taken.size(); ++i) {
    run = taken[i] ? 0 : run + 1;
    if (run == n) return i + 1 - n;
  }
  return std::nullopt;
}

std::uint64_t reference_longest(const std::vector<bool>& taken) {
  std::uint64_t run = 0, longest = 0;
  for (const bool t : taken) {
    run = t ? 0 : run + 1;
    longest = std::max(longest, run);
  }
  return longest;
}

}  // namespace

TEST_CASE("slot runs are taken lowest first and given back to be taken again", "[slot_runs]") {
  SlotRuns runs;
  runs.reset(256);
  CHECK(runs.take(3) == 0u);
  CHECK(runs.take(100) == 3u);   // crosses two 64-slot words
  CHECK(runs.take(64) == 103u);  // a whole word's worth, unaligned
  CHECK(runs.free_slots() == 256 - 167);
  REQUIRE(runs.give(0, 3));
  CHECK(runs.take(2) == 0u);     // the hole at the bottom comes first
  CHECK(runs.take(2) == 167u);   // the one slot left there is too short
  CHECK(runs.largest_free_run() == 256 - 169);
}

TEST_CASE("a run longer than any free run is refused though enough slots are free", "[slot_runs]") {
  SlotRuns runs;
  runs.reset(128);
  const auto a = runs.take(32), b = runs.take(32), c = runs.take(32), d = runs.take(32);
  REQUIRE((a && b && c && d));
  CHECK_FALSE(runs.take(1));  // full
  REQUIRE(runs.give(*a, 32));
  REQUIRE(runs.give(*c, 32));
  CHECK(runs.free_slots() == 64);
  CHECK(runs.largest_free_run() == 32);
  CHECK_FALSE(runs.take(33));
  REQUIRE(runs.give(*b, 32));  // a, b and c merge
  CHECK(runs.take(96) == 0u);
}

TEST_CASE("slot runs refuse to give back slots that are not taken, and change nothing", "[slot_runs]") {
  SlotRuns runs;
  runs.reset(100);  // the last word is partly padding
  const auto a = runs.take(10);
  REQUIRE(a == 0u);
  CHECK_FALSE(runs.give(5, 10));   // runs past what is taken
  CHECK_FALSE(runs.give(95, 10));  // runs past the end
  CHECK_FALSE(runs.give(0, 0));
  CHECK(runs.free_slots() == 90);
  REQUIRE(runs.give(0, 10));
  CHECK_FALSE(runs.give(0, 10));  // twice
  CHECK(runs.take(100) == 0u);    // every slot, and not one of the padding
  CHECK_FALSE(runs.take(1));
  runs.give_all();
  CHECK(runs.free_slots() == 100);
  CHECK_FALSE(runs.take(101));
}

TEST_CASE("slot runs pick exactly the run a slot-by-slot first fit picks", "[slot_runs][property]") {
  const auto seed = GENERATE(31u, 32u, 33u, 34u);
  const auto slots = GENERATE(as<std::uint64_t>{}, 1, 63, 64, 65, 1000, 4096);
  CAPTURE(seed, slots);
  dartlab::test::RandomRequests gen(seed);
  SlotRuns runs;
  runs.reset(slots);
  std::vector<bool> taken(slots, false);
  struct Held {
    std::uint64_t first, n;
  };
  std::vector<Held> held;
  std::uint64_t refused = 0;
  for (int step = 0; step < 3000; ++step) {
    if (held.empty() || gen.pick(5) < 3) {
      // Mostly short runs, sometimes long ones that cross words.
      const std::uint64_t n = 1 + (gen.coin() ? gen.pick(8) : gen.pick(200));
      const auto got = runs.take(n);
      REQUIRE(got == reference_first_fit(taken, n));
      if (!got) {
        ++refused;
        continue;
      }
      for (std::uint64_t i = *got; i < *got + n; ++i) taken[i] = true;
      held.push_back({*got, n});
    } else {
      const std::size_t k = gen.pick(held.size());
      REQUIRE(runs.give(held[k].first, held[k].n));
      for (std::uint64_t i = held[k].first; i < held[k].first + held[k].n; ++i) taken[i] = false;
      held[k] = held.back();
      held.pop_back();
    }
    REQUIRE(runs.largest_free_run() == reference_longest(taken));
  }
  CHECK(refused > 0);  // the pool did fill up
}
