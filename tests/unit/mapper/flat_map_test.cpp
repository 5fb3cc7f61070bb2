// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <random>
#include <unordered_map>

#include "base/flat_map.hpp"

using dartlab::FlatMap;

TEST_CASE("the flat map agrees with std::unordered_map over random inserts and erases", "[flat_map]") {
  const auto seed = GENERATE(1u, 2u, 3u, 42u);
  std::mt19937_64 rng(seed);
  FlatMap<std::uint64_t, std::uint32_t> flat;
  std::unordered_map<std::uint64_t, std::uint32_t> ref;
  // A small key space forces collisions, long probe chains and wrap-around at the table end.
  for (int step = 0; step < 200000; ++step) {
    const std::uint64_t key = ((rng() % 3000) + 1) << 14;  // page-aligned like real keys; 0 marks empty slots
    const auto op = rng() % 3;
    if (op == 0) {
      const auto value = static_cast<std::uint32_t>(rng());
      const auto [stored, inserted] = flat.insert(key, value);
      const auto [it, ref_inserted] = ref.emplace(key, value);
      REQUIRE(inserted == ref_inserted);
      REQUIRE(*stored == it->second);
    } else if (op == 1) {
      REQUIRE(flat.erase(key) == (ref.erase(key) == 1));
    } else {
      const std::uint32_t* v = flat.find(key);
      const auto it = ref.find(key);
      REQUIRE((v != nullptr) == (it != ref.end()));
      if (v != nullptr) REQUIRE(*v == it->second);
    }
    REQUIRE(flat.size() == ref.size());
  }
  std::size_t visited = 0;
  flat.for_each([&](std::uint64_t k, std::uint32_t v) {
    ++visited;
    REQUIRE(ref.at(k) == v);
  });
  CHECK(visited == ref.size());
  flat.clear();
  CHECK(flat.empty());
  CHECK(flat.find(0) == nullptr);
}

TEST_CASE("a flat map with a custom empty key stores every other key, zero included", "[flat_map]") {
  FlatMap<std::uint64_t, int, dartlab::FlatHash<std::uint64_t>, ~0ULL> m;
  CHECK(m.insert(0, 7).second);
  CHECK(*m.find(0) == 7);
  CHECK(m.find(~0ULL) == nullptr);  // looking up the empty key finds nothing
  CHECK(m.erase(0));
  CHECK(m.find(0) == nullptr);
}
