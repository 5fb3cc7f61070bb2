// SPDX-License-Identifier: MIT
// The direct path end to end (mapper, backend, DART: index, entries, slots, page tables) allocates
// nothing once its structures have grown to the working set.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "passthrough/backends/dart_backend.hpp"
#include "passthrough/mapper/mapper.hpp"
#include "support/alloc_counter.hpp"
#include "test_support.hpp"

using dartlab::Direction;
using dartlab::backends::DartBackend;
using dartlab::dart::Dart;
using dartlab::dart::test::config_of;

TEST_CASE("Direct maps and unmaps through the DART allocate nothing once warm", "[backend][alloc]") {
  const auto spec = GENERATE(as<const char*>{}, "", "alloc=buddy", "slots=64");
  INFO("dart spec: " << spec);
  Dart dart(config_of(spec));
  DartBackend backend(dart);
  dartlab::mapper::Mapper m(backend, std::get<dartlab::mapper::Policy>(dartlab::mapper::parse_policy("direct")));
  // 200 ranges of one or two pages: a few MiB of bus space, one leaf table, so that the page
  // table's cached tables absorb its churn.
  constexpr std::uint64_t kRanges = 200;
  std::vector<dartlab::mapper::Mapping> held(kRanges);
  std::vector<bool> ok(kRanges);
  const auto map_all = [&](std::uint64_t round) {
    for (std::uint64_t i = 0; i < kRanges; ++i) {
      const std::uint64_t j = (i * 7 + round) % kRanges;  // a different order each round
      const auto r = m.map(0x1'0000'0000 + j * 0x10000, 0x4000 * (1 + j % 2), Direction::ToDevice);
      ok[j] = r.ok;
      if (r.ok) held[j] = r.value;
    }
  };
  const auto unmap_all = [&](std::uint64_t round) {
    for (std::uint64_t i = 0; i < kRanges; ++i) {
      const std::uint64_t j = (i * 13 + round) % kRanges;
      if (ok[j]) REQUIRE(m.unmap(held[j].token, 0x4000 * (1 + j % 2)).ok);
    }
  };
  // One mapping stays live throughout, as in any working set: with none, the page table gives
  // its top table's memory back and takes it again (page_table.hpp), once per emptying.
  const auto anchor = m.map(0x2'0000'0000, 0x4000, Direction::ToDevice);
  REQUIRE(anchor.ok);
  // The first pass grows every structure to what these orders need (the aperture's free runs
  // peak differently for each order); the second pass repeats it and must allocate nothing.
  for (std::uint64_t round = 0; round < 20; ++round) {
    map_all(round);
    unmap_all(round);
  }
  const std::uint64_t host_maps = m.stats().host_map_calls;
  dartlab::test::AllocationCount count;
  for (std::uint64_t round = 0; round < 20; ++round) {
    map_all(round);
    unmap_all(round);
  }
  CHECK(count.count() == 0);
  CHECK(m.stats().host_map_calls > host_maps);  // every round made new host mappings
  CHECK(dart.stats().live_mappings == 1);
  REQUIRE(m.unmap(anchor.value.token, 0x4000).ok);
}
