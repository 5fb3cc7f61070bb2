// SPDX-License-Identifier: MIT
// The IOTLB: hits and misses per configured sets x ways, each replacement policy, and
// invalidation emptying exactly the entries it covers.
#include <catch2/catch.hpp>

#include "models/dart/iotlb.hpp"

using namespace dartlab::dart;

namespace {
constexpr Perms kRw{true, true};
}

TEST_CASE("A lookup misses until the walk fills the entry, then hits", "[iotlb]") {
  Iotlb tlb({4, 2, Replacement::Lru});
  CHECK(tlb.lookup(0, 10) == nullptr);
  tlb.fill(0, 10, 0x77, kRw);
  const Iotlb::Entry* e = tlb.lookup(0, 10);
  REQUIRE(e != nullptr);
  CHECK(e->pa_page == 0x77);
  CHECK(tlb.lookup(1, 10) == nullptr);  // another stream's page 10 is another entry
  CHECK(tlb.stats().hits == 1);
  CHECK(tlb.stats().misses == 2);
  CHECK(tlb.stats().fills == 1);
}

TEST_CASE("A page lives in set page mod sets, and a set holds `ways` pages", "[iotlb]") {
  Iotlb tlb({4, 2, Replacement::Lru});
  CHECK(tlb.set_of(13) == 1);
  // Pages 1, 5, 9 all map to set 1: the third evicts one of the first two.
  tlb.fill(0, 1, 1, kRw);
  tlb.fill(0, 5, 5, kRw);
  CHECK(tlb.stats().evictions == 0);
  tlb.fill(0, 9, 9, kRw);
  CHECK(tlb.stats().evictions == 1);
  CHECK(tlb.valid_entries() == 2);
  // Other sets are untouched by set 1's traffic.
  tlb.fill(0, 2, 2, kRw);
  CHECK(tlb.valid_entries() == 3);
  SECTION("sets x ways distinct pages all fit, and one more evicts") {
    Iotlb full({8, 4, Replacement::Lru});
    for (std::uint64_t p = 0; p < 32; ++p) full.fill(0, p, p, kRw);
    CHECK(full.valid_entries() == 32);
    CHECK(full.stats().evictions == 0);
    for (std::uint64_t p = 0; p < 32; ++p) CHECK(full.lookup(0, p) != nullptr);
    full.fill(0, 32, 32, kRw);
    CHECK(full.stats().evictions == 1);
  }
}

TEST_CASE("LRU evicts the least recently used way, FIFO the oldest filled", "[iotlb]") {
  SECTION("LRU: a hit protects the entry") {
    Iotlb tlb({1, 2, Replacement::Lru});
    tlb.fill(0, 1, 1, kRw);
    tlb.fill(0, 2, 2, kRw);
    CHECK(tlb.lookup(0, 1) != nullptr);  // 2 is now the least recent
    tlb.fill(0, 3, 3, kRw);
    CHECK(tlb.contains(0, 1));
    CHECK_FALSE(tlb.contains(0, 2));
  }
  SECTION("FIFO: a hit does not") {
    Iotlb tlb({1, 2, Replacement::Fifo});
    tlb.fill(0, 1, 1, kRw);
    tlb.fill(0, 2, 2, kRw);
    CHECK(tlb.lookup(0, 1) != nullptr);
    tlb.fill(0, 3, 3, kRw);
    CHECK_FALSE(tlb.contains(0, 1));
    CHECK(tlb.contains(0, 2));
  }
  SECTION("Random: victims differ but repeat from run to run") {
    const auto victims = [] {
      Iotlb tlb({1, 4, Replacement::Random});
      std::uint64_t mask = 0;
      for (std::uint64_t p = 0; p < 64; ++p) tlb.fill(0, p, p, kRw);
      for (std::uint64_t p = 0; p < 64; ++p) mask = (mask << 1) | (tlb.contains(0, p) ? 1 : 0);
      return mask;
    };
    CHECK(victims() == victims());
  }
}

TEST_CASE("Invalidation empties exactly the entries it covers", "[iotlb]") {
  Iotlb tlb({16, 4, Replacement::Lru});
  for (std::uint64_t p = 0; p < 8; ++p) {
    tlb.fill(0, p, p, kRw);
    tlb.fill(1, p, p, kRw);
  }
  REQUIRE(tlb.valid_entries() == 16);
  SECTION("a flush of all empties every entry") {
    tlb.invalidate_all();
    CHECK(tlb.valid_entries() == 0);
    CHECK(tlb.stats().invalidated_entries == 16);
  }
  SECTION("a flush of one stream empties only that stream's entries") {
    tlb.invalidate_stream(1);
    CHECK(tlb.valid_entries() == 8);
    for (std::uint64_t p = 0; p < 8; ++p) {
      CHECK(tlb.contains(0, p));
      CHECK_FALSE(tlb.contains(1, p));
    }
  }
  SECTION("a flush of a range empties only those pages of that stream") {
    tlb.invalidate_range(0, 2, 3);  // pages 2, 3, 4
    CHECK(tlb.valid_entries() == 13);
    CHECK(tlb.contains(0, 1));
    CHECK_FALSE(tlb.contains(0, 2));
    CHECK_FALSE(tlb.contains(0, 4));
    CHECK(tlb.contains(0, 5));
    CHECK(tlb.contains(1, 3));
  }
  SECTION("a range longer than the sets takes the scan and gives the same result") {
    tlb.invalidate_range(0, 0, 1000);
    CHECK(tlb.valid_entries() == 8);
  }
  SECTION("forgetting a range is no invalidation command") {
    tlb.forget_range(0, 0, 8);
    CHECK(tlb.valid_entries() == 8);
    CHECK(tlb.stats().invalidations == 0);
    CHECK(tlb.stats().forgotten_entries == 8);
  }
  CHECK(tlb.stats().invalidations <= 1);
}

TEST_CASE("Geometries that cannot be built are refused", "[iotlb]") {
  CHECK_THROWS_AS(Iotlb({3, 2, Replacement::Lru}), std::invalid_argument);
  CHECK_THROWS_AS(Iotlb({4, 0, Replacement::Lru}), std::invalid_argument);
  CHECK_THROWS_AS(Iotlb({4, 65, Replacement::Lru}), std::invalid_argument);
}
