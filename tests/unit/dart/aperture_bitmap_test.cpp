// SPDX-License-Identifier: MIT
// The bitmap allocators (bitmap_aperture.hpp) against the tree-based ones they replaced, which
// stay as oracles: the same page for every request and the same metrics after every step, on
// apertures from 1 page to 2^30, plus the laziness of the huge ones.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "models/dart/aperture.hpp"
#include "models/dart/bitmap_aperture.hpp"
#include "models/dart/buddy_aperture.hpp"
#include "models/dart/iova_aperture.hpp"

using dartlab::dart::AllocPolicy;

namespace {

// What check_same_as_extent_tree asks for: by default runs up to 3000 pages, so across many
// words, freed anywhere.
struct Churn {
  std::uint64_t (*pages)(std::mt19937&) = [](std::mt19937& rng) -> std::uint64_t {
    return rng() % 8 == 0 ? 1 + rng() % 3000 : 1 + rng() % 70;
  };
  bool low_frees = false;  // half the frees give back one of the lowest of five live runs
  unsigned alloc_percent = 52;
  int steps = 20000;
};

// Drives `fast` and `slow` (the extent-tree yardstick) with the same random allocs and frees
// (heads and tails of runs given back too) and checks they pick the same page every time and
// agree on every metric after every step.
void check_same_as_extent_tree(dartlab::dart::ApertureAllocator& fast, dartlab::dart::ApertureAllocator& slow,
                               std::uint64_t first_page, std::uint64_t page_count, std::uint32_t seed,
                               bool contiguous = true, const Churn& churn = {}) {
  std::mt19937 rng(seed);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> live;
  for (int step = 0; step < churn.steps; ++step) {
    if (live.empty() || rng() % 100 < churn.alloc_percent) {
      const std::uint64_t pages = churn.pages(rng);
      const auto got = fast.alloc(pages);
      CAPTURE(step, pages);
      REQUIRE(got == slow.alloc(pages));
      if (got) live.emplace_back(*got, pages);
    } else {
      std::size_t i = rng() % live.size();
      if (churn.low_frees && rng() % 2 == 0) {  // a hole below most live runs
        for (int k = 0; k < 4; ++k) {
          const std::size_t j = rng() % live.size();
          if (live[j].first < live[i].first) i = j;
        }
      }
      auto [first, pages] = live[i];
      if (pages > 1 && rng() % 4 == 0) {  // a part of a run: its head or its tail
        const std::uint64_t keep = 1 + rng() % (pages - 1);
        const bool head = rng() % 2 == 0;
        const std::uint64_t at = head ? first : first + keep;
        fast.free(at, pages - keep);
        slow.free(at, pages - keep);
        live[i] = {head ? first + pages - keep : first, keep};
      } else {
        fast.free(first, pages);
        slow.free(first, pages);
        live[i] = live.back();
        live.pop_back();
      }
    }
    REQUIRE(fast.free_pages() == slow.free_pages());
    REQUIRE(fast.largest_free_pages() == slow.largest_free_pages());
    REQUIRE(fast.free_extents() == slow.free_extents());
  }
  fast.reset();
  slow.reset();
  CHECK(fast.free_pages() == page_count);
  CHECK(fast.largest_free_pages() == slow.largest_free_pages());
  CHECK(fast.free_extents() == 1);
  if (contiguous) {  // linux's alignment may leave the whole aperture unfit for one request
    CHECK(fast.largest_free_pages() == page_count);
    CHECK(fast.alloc(page_count) == first_page);
  } else {
    CHECK(fast.alloc(page_count) == slow.alloc(page_count));
  }
}

}  // namespace

TEST_CASE("The bitmap first-fit agrees with the extent tree on long runs across many words", "[aperture][bitmap]") {
  const std::uint32_t seed = GENERATE(1u, 5u, 99u);
  // The default 1536M aperture at page 1, and one ending mid-word.
  const auto [first_page, page_count] = GENERATE(std::pair<std::uint64_t, std::uint64_t>{1, 98304},
                                                 std::pair<std::uint64_t, std::uint64_t>{3, 5001});
  CAPTURE(seed, first_page, page_count);
  auto bitmap = dartlab::dart::make_bitmap_first_fit(first_page, page_count);
  auto extents = dartlab::dart::make_extent_aperture(AllocPolicy::FirstFit, first_page, page_count);
  REQUIRE(bitmap);
  check_same_as_extent_tree(*bitmap, *extents, first_page, page_count, seed);
}

TEST_CASE("The tagged first-fit agrees with the extent tree's first-fit", "[aperture][bitmap]") {
  // The default churn, and one of mostly single pages (as `direct` asks for a game trace's 4K
  // maps) with half the frees among the lowest runs: holes open below the lowest start the
  // allocator remembers, words fill and empty, the run at the aperture's end is cut and grows back.
  Churn single_pages;
  single_pages.pages = [](std::mt19937& rng) -> std::uint64_t { return rng() % 10 == 0 ? 2 + rng() % 100 : 1; };
  single_pages.low_frees = true;
  single_pages.alloc_percent = 55;
  single_pages.steps = 30000;
  const bool singles = GENERATE(false, true);
  const std::uint32_t seed = GENERATE(1u, 5u, 99u);
  const auto [first_page, page_count] = GENERATE(
      std::pair<std::uint64_t, std::uint64_t>{1, 98304}, std::pair<std::uint64_t, std::uint64_t>{3, 5001},
      std::pair<std::uint64_t, std::uint64_t>{1, std::uint64_t{1} << 22}, std::pair<std::uint64_t, std::uint64_t>{7, 64},
      std::pair<std::uint64_t, std::uint64_t>{0, 65}, std::pair<std::uint64_t, std::uint64_t>{100, 20},
      std::pair<std::uint64_t, std::uint64_t>{5, 700});
  CAPTURE(singles, seed, first_page, page_count);
  auto tagged = dartlab::dart::make_tagged_first_fit(first_page, page_count);
  auto extents = dartlab::dart::make_extent_aperture(AllocPolicy::FirstFit, first_page, page_count);
  REQUIRE(tagged);
  check_same_as_extent_tree(*tagged, *extents, first_page, page_count, seed, true, singles ? single_pages : Churn{});
}

TEST_CASE("The bitmap best-fit agrees with the extent tree's best-fit, ties and all", "[aperture][bitmap]") {
  const std::uint32_t seed = GENERATE(1u, 5u, 99u);
  // The default aperture, one ending mid-word, a 2^22-page one (chunked, lazy), and small ones
  // around the 64-page split between the mask tree and the long-run set.
  const auto [first_page, page_count] = GENERATE(
      std::pair<std::uint64_t, std::uint64_t>{1, 98304}, std::pair<std::uint64_t, std::uint64_t>{3, 5001},
      std::pair<std::uint64_t, std::uint64_t>{1, std::uint64_t{1} << 22}, std::pair<std::uint64_t, std::uint64_t>{7, 64},
      std::pair<std::uint64_t, std::uint64_t>{0, 65}, std::pair<std::uint64_t, std::uint64_t>{100, 20});
  CAPTURE(seed, first_page, page_count);
  auto bitmap = dartlab::dart::make_bitmap_best_fit(first_page, page_count);
  auto extents = dartlab::dart::make_extent_aperture(AllocPolicy::BestFit, first_page, page_count);
  REQUIRE(bitmap);
  check_same_as_extent_tree(*bitmap, *extents, first_page, page_count, seed);
}

TEST_CASE("The bitmap linux agrees with the extent tree's, cached page and alignment and all", "[aperture][bitmap][linux]") {
  const std::uint32_t seed = GENERATE(1u, 5u, 99u, 2024u);
  // The default aperture at page 1, one ending mid-word, a 2^22-page one (chunked, lazy), one at
  // a large unaligned base, one at page 0 of a power of two, and small ones.
  const auto [first_page, page_count] = GENERATE(
      std::pair<std::uint64_t, std::uint64_t>{1, 98304}, std::pair<std::uint64_t, std::uint64_t>{3, 5001},
      std::pair<std::uint64_t, std::uint64_t>{1, std::uint64_t{1} << 22},
      std::pair<std::uint64_t, std::uint64_t>{0x1234, 20000}, std::pair<std::uint64_t, std::uint64_t>{0, 8192},
      std::pair<std::uint64_t, std::uint64_t>{7, 64}, std::pair<std::uint64_t, std::uint64_t>{0, 65},
      std::pair<std::uint64_t, std::uint64_t>{100, 20});
  CAPTURE(seed, first_page, page_count);
  auto bitmap = dartlab::dart::make_bitmap_iova(first_page, page_count);
  auto extents = dartlab::dart::make_extent_iova_aperture(first_page, page_count);
  REQUIRE(bitmap);
  check_same_as_extent_tree(*bitmap, *extents, first_page, page_count, seed, /*contiguous=*/false);
}

TEST_CASE("A bitmap linux over 2^30 pages is created lazily and serves both ends", "[aperture][bitmap][linux]") {
  const std::uint64_t count = (std::uint64_t{1} << 30) - 1;  // aperture=max with 4K pages
  auto a = dartlab::dart::make_bitmap_iova(1, count);
  REQUIRE(a);
  CHECK(a->largest_free_pages() == std::uint64_t{1} << 29);  // pages 2^29 .. 2^30 - 1
  CHECK(a->alloc(1) == count);                               // the top page
  CHECK(a->alloc(3) == count - 3);                           // aligned to 4 below it: pages 2^30 - 4 .. 2^30 - 2
  CHECK(a->alloc(std::uint64_t{1} << 28) == std::uint64_t{1} << 29);
  CHECK(a->free_extents() == 2);  // 1 .. 2^29 - 1, and from the 2^28 run's end to 2^30 - 5
  a->free(count - 3, 3);          // at or above the cached run: the cache moves up to page `count`
  CHECK(a->alloc(2) == count - 3);  // the highest even pair below the page in use at the top
  CHECK(a->free_pages() == count - 3 - (std::uint64_t{1} << 28));
  CHECK(dartlab::dart::make_bitmap_iova(1, std::uint64_t{1} << 31) == nullptr);
}

TEST_CASE("The bitmap buddy agrees with the ordered-set buddy, block for block", "[aperture][bitmap][buddy]") {
  const std::uint32_t seed = GENERATE(1u, 5u, 99u, 2024u);
  // The default aperture at page 1 (18 maximal blocks), one ending mid-word, a 2^22-page one,
  // one at a large unaligned base, one at page 0 of a power of two, and small ones.
  const auto [first_page, page_count] = GENERATE(
      std::pair<std::uint64_t, std::uint64_t>{1, 98304}, std::pair<std::uint64_t, std::uint64_t>{3, 5001},
      std::pair<std::uint64_t, std::uint64_t>{1, std::uint64_t{1} << 22},
      std::pair<std::uint64_t, std::uint64_t>{0x1234, 20000}, std::pair<std::uint64_t, std::uint64_t>{0, 8192},
      std::pair<std::uint64_t, std::uint64_t>{7, 64}, std::pair<std::uint64_t, std::uint64_t>{0, 65},
      std::pair<std::uint64_t, std::uint64_t>{100, 20}, std::pair<std::uint64_t, std::uint64_t>{5, 1});
  CAPTURE(seed, first_page, page_count);
  auto bitmap = dartlab::dart::make_bitmap_buddy(first_page, page_count);
  auto set = dartlab::dart::make_set_buddy_aperture(first_page, page_count);
  REQUIRE(bitmap);
  std::mt19937 rng(seed);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> live;
  for (int step = 0; step < 20000; ++step) {
    if (live.empty() || rng() % 100 < 52) {
      const std::uint64_t pages = rng() % 8 == 0 ? 1 + rng() % 3000 : 1 + rng() % 70;
      const auto got = bitmap->alloc(pages);
      CAPTURE(step, pages);
      REQUIRE(got == set->alloc(pages));
      REQUIRE(bitmap->reserved_pages(pages) == set->reserved_pages(pages));
      if (got) live.emplace_back(*got, pages);
    } else {  // buddy frees whole blocks only
      const std::size_t i = rng() % live.size();
      bitmap->free(live[i].first, live[i].second);
      set->free(live[i].first, live[i].second);
      live[i] = live.back();
      live.pop_back();
    }
    REQUIRE(bitmap->free_pages() == set->free_pages());
    REQUIRE(bitmap->largest_free_pages() == set->largest_free_pages());
    REQUIRE(bitmap->free_extents() == set->free_extents());
  }
  for (const auto& [first, pages] : live) {
    bitmap->free(first, pages);
    set->free(first, pages);
  }
  CHECK(bitmap->free_pages() == page_count);
  CHECK(bitmap->free_extents() == set->free_extents());
  bitmap->reset();
  set->reset();
  CHECK(bitmap->free_extents() == set->free_extents());
  CHECK(bitmap->largest_free_pages() == set->largest_free_pages());
  CHECK(bitmap->alloc(bitmap->largest_free_pages()) == set->alloc(set->largest_free_pages()));
}

TEST_CASE("A bitmap buddy over 2^30 pages is created lazily and serves both ends", "[aperture][bitmap][buddy]") {
  const std::uint64_t count = (std::uint64_t{1} << 30) - 1;  // aperture=max with 4K pages
  auto a = dartlab::dart::make_bitmap_buddy(1, count);
  REQUIRE(a);
  CHECK(a->free_extents() == 30);  // 1, 2, 4, ..., 2^29 pages
  CHECK(a->largest_free_pages() == std::uint64_t{1} << 29);
  CHECK(a->alloc(1) == 1u);
  CHECK(a->alloc(std::uint64_t{1} << 29) == std::uint64_t{1} << 29);
  CHECK(a->alloc(3) == 4u);
  CHECK(a->alloc(std::uint64_t{1} << 28) == std::uint64_t{1} << 28);
  a->free(std::uint64_t{1} << 29, std::uint64_t{1} << 29);
  a->free(1, 1);
  a->free(4, 3);
  a->free(std::uint64_t{1} << 28, std::uint64_t{1} << 28);
  CHECK(a->free_extents() == 30);
  CHECK(a->free_pages() == count);
  CHECK(dartlab::dart::make_bitmap_buddy(1, std::uint64_t{1} << 31) == nullptr);
}

TEST_CASE("The bitmap best-fit picks the lowest of equal short and long runs", "[aperture][bitmap]") {
  // Holes of 3, 2, 3, 70, 2 and 70 pages, in that order, between 1-page runs; then the tail.
  auto a = dartlab::dart::make_bitmap_best_fit(0, 1000);
  std::vector<std::uint64_t> holes{3, 2, 3, 70, 2, 70};
  std::vector<std::uint64_t> firsts;
  for (const std::uint64_t h : holes) {
    firsts.push_back(*a->alloc(h));
    REQUIRE(a->alloc(1));
  }
  for (std::size_t i = 0; i < holes.size(); ++i) a->free(firsts[i], holes[i]);
  CHECK(a->free_extents() == 7);
  CHECK(a->alloc(2) == firsts[1]);
  CHECK(a->alloc(2) == firsts[4]);
  CHECK(a->alloc(3) == firsts[0]);
  CHECK(a->alloc(65) == firsts[3]);  // the lower of the two 70-page holes, not the tail
  CHECK(a->alloc(66) == firsts[5]);
  CHECK(a->alloc(3) == firsts[2]);
  CHECK(a->free_extents() == 3);  // 5 + 4 pages left in the long holes, and the tail
  CHECK(a->alloc(4) == firsts[5] + 66);
}

TEST_CASE("A bitmap first-fit over 2^30 pages is created lazily and serves its far end", "[aperture][bitmap]") {
  const std::uint64_t count = (std::uint64_t{1} << 30) - 1;  // aperture=max with 4K pages and a 42-bit space
  auto a = dartlab::dart::make_bitmap_first_fit(1, count);
  REQUIRE(a);
  CHECK(a->largest_free_pages() == count);
  CHECK(a->alloc(5) == 1u);
  CHECK(a->alloc(100) == 6u);
  a->free(1, 5);
  CHECK(a->free_extents() == 2);
  CHECK(a->alloc(6) == 106u);  // the hole at 1 is too small
  CHECK(a->largest_free_pages() == count - 111);
  a->free(50, 10);
  CHECK(a->free_pages() == count - 106 + 10);
  CHECK(a->free_extents() == 3);
  CHECK(a->alloc(8) == 50u);
  CHECK(dartlab::dart::make_bitmap_first_fit(1, std::uint64_t{1} << 32) == nullptr);
}

TEST_CASE("A tagged first-fit over 2^32 - 1 pages is created lazily and serves its far end", "[aperture][bitmap]") {
  // The largest it takes: 2^26 words, a tree 7 levels of 16 below its root.
  const std::uint64_t count = (std::uint64_t{1} << 32) - 1;
  auto a = dartlab::dart::make_tagged_first_fit(1, count);
  REQUIRE(a);
  CHECK(a->largest_free_pages() == count);
  CHECK(a->alloc(5) == 1u);
  CHECK(a->alloc(count - 10) == 6u);
  CHECK(a->largest_free_pages() == 5);
  CHECK(a->alloc(5) == count - 4);  // the far end's last pages
  CHECK(a->alloc(1) == std::nullopt);
  a->free(1, 5);
  a->free(count - 4, 5);
  CHECK(a->free_extents() == 2);
  CHECK(a->alloc(3) == 1u);
  CHECK(a->alloc(5) == count - 4);
  a->free(6, count - 10);
  CHECK(a->largest_free_pages() == count - 10 + 2);  // merged with the 2 pages left at 4
  CHECK(a->alloc(count - 8) == 4u);
  CHECK(dartlab::dart::make_tagged_first_fit(1, std::uint64_t{1} << 32) == nullptr);
}

TEST_CASE("A bitmap best-fit over 2^30 pages is created lazily and serves its far end", "[aperture][bitmap]") {
  const std::uint64_t count = (std::uint64_t{1} << 30) - 1;
  auto a = dartlab::dart::make_bitmap_best_fit(1, count);
  REQUIRE(a);
  CHECK(a->largest_free_pages() == count);
  CHECK(a->alloc(5) == 1u);
  CHECK(a->alloc(100) == 6u);
  a->free(1, 5);
  CHECK(a->free_extents() == 2);
  CHECK(a->alloc(6) == 106u);  // the 5-page hole is too small
  CHECK(a->alloc(count - 111) == 112u);  // the far end, to the last page
  CHECK(a->free_pages() == 5);
  a->free(count - 9, 10);
  CHECK(a->alloc(3) == 1u);  // the 5-page hole is the smallest
  CHECK(a->largest_free_pages() == 10);
  CHECK(dartlab::dart::make_bitmap_best_fit(1, std::uint64_t{1} << 32) == nullptr);
}
