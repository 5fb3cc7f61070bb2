// SPDX-License-Identifier: MIT
// The aperture allocators allocate nothing per event once warm: the DART calls them on every
// map and unmap, and memory must follow live mappings, not trace length.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "models/dart/aperture.hpp"
#include "support/alloc_counter.hpp"

using dartlab::dart::AllocPolicy;

TEST_CASE("Aperture allocators allocate nothing per alloc/free once warm", "[aperture][alloc]") {
  const AllocPolicy policy = GENERATE(from_range(std::begin(dartlab::dart::kAllocPolicies),
                                                 std::end(dartlab::dart::kAllocPolicies)));
  // The default 1536M aperture of 16K pages at page 1, and a large lazy one (64 GiB of 16K pages).
  const std::uint64_t page_count = GENERATE(std::uint64_t{98304}, std::uint64_t{1} << 22);
  CAPTURE(to_string(policy), page_count);
  auto a = dartlab::dart::make_aperture_allocator(policy, 1, page_count);
  const bool buddy = policy == AllocPolicy::Buddy;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> live;
  live.reserve(100000);
  std::uint64_t sink = 0;
  // The same churn twice: the first pass touches every lazily made part and grows the pools,
  // the second must then find them all in place.
  const auto churn = [&](std::uint32_t seed) {
    std::mt19937 rng(seed);
    for (int i = 0; i < 40000; ++i) {
      if (live.empty() || rng() % 100 < 55) {
        const std::uint64_t pages = rng() % 16 == 0 ? 1 + rng() % 200 : 1 + rng() % 8;
        if (const auto p = a->alloc(pages)) live.emplace_back(*p, pages);
      } else {
        const std::size_t k = rng() % live.size();
        auto [first, pages] = live[k];
        if (!buddy && pages > 1 && rng() % 4 == 0) {  // a part: the tail
          a->free(first + 1, pages - 1);
          live[k].second = 1;
        } else {
          a->free(first, pages);
          live[k] = live.back();
          live.pop_back();
        }
      }
      sink += a->free_pages() + a->largest_free_pages() + a->free_extents();
    }
    for (const auto& [first, pages] : live) a->free(first, pages);
    live.clear();
  };
  churn(3);
  dartlab::test::AllocationCount count;
  churn(3);
  CHECK(count.count() == 0);
  CHECK(a->free_pages() == page_count);
  CHECK(sink > 0);
}
