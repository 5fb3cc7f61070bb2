// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "models/dart/aperture.hpp"

using dartlab::dart::AllocPolicy;
using dartlab::dart::make_aperture_allocator;
using dartlab::dart::to_string;

namespace {

// Page-by-page model of an aperture: obviously right, too slow for real apertures. It predicts
// each policy's pick from its definition (aperture.hpp, buddy_aperture.hpp, iova_aperture.hpp).
class ReferenceAperture {
 public:
  ReferenceAperture(std::uint64_t first_page, std::uint64_t page_count)
      : first_(first_page), used_(page_count), cached_(first_page + page_count) {}

  struct Run {
    std::uint64_t first_page;
    std::uint64_t pages;
  };
  std::vector<Run> runs() const {
    std::vector<Run> out;
    for (std::uint64_t i = 0; i < used_.size();) {
      if (used_[i]) {
        ++i;
        continue;
      }
      std::uint64_t j = i;
      while (j < used_.size() && !used_[j]) ++j;
      out.push_back({first_ + i, j - i});
      i = j;
    }
    return out;
  }
  static std::optional<std::uint64_t> expected(const std::vector<Run>& runs, AllocPolicy policy,
                                               std::uint64_t pages) {
    std::optional<Run> pick;
    for (const Run& r : runs) {
      if (r.pages < pages) continue;
      if (policy == AllocPolicy::FirstFit) return r.first_page;
      if (!pick || r.pages < pick->pages) pick = r;  // runs come in address order: ties keep the lowest
    }
    if (!pick) return std::nullopt;
    return pick->first_page;
  }
  // linux: the highest bit_ceil(pages)-aligned place below the cached page, else the highest
  // above it.
  std::optional<std::uint64_t> expected_linux(std::uint64_t pages) const {
    const std::uint64_t align = std::bit_ceil(pages);
    const auto highest = [&](std::uint64_t lo, std::uint64_t hi) -> std::optional<std::uint64_t> {
      if (hi < lo + pages) return std::nullopt;
      for (std::uint64_t p = (hi - pages) / align * align;; p -= align) {
        if (p < lo) return std::nullopt;
        if (all_free(p, pages)) return p;
        if (p < align) return std::nullopt;
      }
    };
    if (auto p = highest(first_, cached_)) return p;
    if (cached_ != end()) return highest(cached_ + 1, end());
    return std::nullopt;
  }
  // buddy: the lowest free block of the smallest order that fits. A free block is an aligned
  // block inside the aperture, wholly free, whose parent is not.
  std::optional<std::uint64_t> expected_buddy(std::uint64_t pages) const {
    for (unsigned order = static_cast<unsigned>(std::bit_width(pages - 1)); order < 40; ++order) {
      for (const std::uint64_t p : free_blocks(order)) return p;
    }
    return std::nullopt;
  }
  std::vector<std::uint64_t> free_blocks(unsigned order) const {
    std::vector<std::uint64_t> out;
    const std::uint64_t size = std::uint64_t{1} << order;
    for (std::uint64_t p = (first_ + size - 1) / size * size; p + size <= end(); p += size) {
      const std::uint64_t parent = p & ~(2 * size - 1);
      const bool parent_free = parent >= first_ && parent + 2 * size <= end() && all_free(parent, 2 * size);
      if (all_free(p, size) && !parent_free) out.push_back(p);
    }
    return out;
  }
  // linux: the largest request that fits somewhere, size-aligned.
  static std::uint64_t largest_aligned(const std::vector<Run>& runs) {
    for (std::uint64_t n = largest(runs); n > 0; --n) {
      const std::uint64_t align = std::bit_ceil(n);
      for (const Run& r : runs) {
        if ((r.first_page + align - 1) / align * align + n <= r.first_page + r.pages) return n;
      }
    }
    return 0;
  }
  bool all_free(std::uint64_t first_page, std::uint64_t pages) const {
    for (std::uint64_t p = first_page; p < first_page + pages; ++p) {
      if (used_[p - first_]) return false;
    }
    return true;
  }
  void set(std::uint64_t first_page, std::uint64_t pages, bool used) {
    for (std::uint64_t p = first_page; p < first_page + pages; ++p) used_[p - first_] = used;
  }
  // linux's cached page follows iova.c: the run just allocated; after freeing at or above it,
  // the first page in use above the freed run (or the end).
  void linux_allocated(std::uint64_t first_page) { cached_ = first_page; }
  void linux_freed(std::uint64_t first_page, std::uint64_t pages) {
    if (first_page < cached_) return;
    cached_ = first_page + pages;
    while (cached_ < end() && !used_[cached_ - first_]) ++cached_;
  }
  static std::uint64_t free_pages(const std::vector<Run>& runs) {
    std::uint64_t n = 0;
    for (const Run& r : runs) n += r.pages;
    return n;
  }
  static std::uint64_t largest(const std::vector<Run>& runs) {
    std::uint64_t n = 0;
    for (const Run& r : runs) n = std::max(n, r.pages);
    return n;
  }
  std::uint64_t end() const { return first_ + used_.size(); }

 private:
  std::uint64_t first_;
  std::vector<bool> used_;
  std::uint64_t cached_;  // linux only
};

}  // namespace

TEST_CASE("First-fit takes the lowest free run that fits, best-fit the smallest", "[aperture]") {
  // Pages 100..119. Leave holes of 4 pages at 100 and 2 pages at 110, and a tail of 7 at 113.
  auto build = [](AllocPolicy policy) {
    auto a = make_aperture_allocator(policy, 100, 20);
    REQUIRE(a->alloc(4) == 100u);
    REQUIRE(a->alloc(6) == 104u);
    REQUIRE(a->alloc(2) == 110u);
    REQUIRE(a->alloc(1) == 112u);
    a->free(100, 4);
    a->free(110, 2);
    REQUIRE(a->free_pages() == 13);
    REQUIRE(a->largest_free_pages() == 7);
    REQUIRE(a->free_extents() == 3);
    return a;
  };
  SECTION("first-fit takes the lowest free run that fits") {
    auto a = build(AllocPolicy::FirstFit);
    CHECK(a->alloc(2) == 100u);
    CHECK(a->alloc(2) == 102u);
    CHECK(a->alloc(5) == 113u);
    CHECK(a->alloc(2) == 110u);
  }
  SECTION("best-fit takes the smallest free run that fits") {
    auto a = build(AllocPolicy::BestFit);
    CHECK(a->alloc(2) == 110u);
    CHECK(a->alloc(3) == 100u);  // the 4-page hole is the smallest that fits
    CHECK(a->alloc(7) == 113u);
    CHECK(a->alloc(2) == std::nullopt);
    CHECK(a->alloc(1) == 103u);
  }
  SECTION("best-fit breaks ties towards the lowest address") {
    auto a = make_aperture_allocator(AllocPolicy::BestFit, 0, 16);
    REQUIRE(a->alloc(16) == 0u);
    a->free(12, 2);
    a->free(2, 2);
    a->free(7, 3);
    CHECK(a->alloc(2) == 2u);
    CHECK(a->alloc(2) == 12u);
  }
}

TEST_CASE("linux searches down from the last run it placed, size-aligned, and retries above it", "[aperture][linux]") {
  SECTION("next-fit downwards: a hole above the cached run waits while anything below fits") {
    auto a = make_aperture_allocator(AllocPolicy::Linux, 1, 31);  // pages 1..31
    CHECK(a->alloc(1) == 31u);
    CHECK(a->alloc(1) == 30u);
    CHECK(a->alloc(2) == 28u);
    CHECK(a->alloc(3) == 24u);  // aligned to 4: page 27 stays free
    CHECK(a->free_pages() == 31 - 7);
    CHECK(a->free_extents() == 2);
    CHECK(a->alloc(1) == 23u);  // below the cached run at 24, not the hole at 27
    a->free(30, 1);             // at or above the cached run: the cache moves to the run above it
    CHECK(a->alloc(1) == 30u);
    CHECK(a->alloc(1) == 27u);
  }
  SECTION("linux retries above the cached run when nothing below fits") {
    auto a = make_aperture_allocator(AllocPolicy::Linux, 1, 7);  // pages 1..7
    CHECK(a->alloc(4) == 4u);
    CHECK(a->alloc(2) == 2u);
    CHECK(a->alloc(1) == 1u);
    a->free(4, 4);  // above the cache (page 1): back to the anchor
    CHECK(a->alloc(1) == 7u);
    CHECK(a->alloc(2) == 4u);  // below 7, aligned to 2: page 6 stays free
    CHECK(a->alloc(1) == 6u);  // nothing below the cached run at 4: the retry finds 6
    CHECK(a->alloc(1) == std::nullopt);
    CHECK(a->free_pages() == 0);
  }
  SECTION("alignment is relative to page 0, not to the aperture") {
    auto a = make_aperture_allocator(AllocPolicy::Linux, 3, 13);  // pages 3..15
    CHECK(a->largest_free_pages() == 8);                          // pages 8..15
    CHECK(a->alloc(5) == 8u);                                      // aligned to 8
    CHECK(a->alloc(8) == std::nullopt);
    CHECK(a->largest_free_pages() == 4);  // pages 4..7
    CHECK(a->alloc(3) == 4u);             // below the cached run at 8
    CHECK(a->largest_free_pages() == 2);  // pages 3, 7 and 13..15 free: 14..15
    CHECK(a->alloc(2) == 14u);            // nothing even below 4: the retry above it
    CHECK(a->alloc(2) == std::nullopt);   // pages 3, 7 and 13 are free, no even pair
    CHECK(a->largest_free_pages() == 1);
  }
}

TEST_CASE("buddy splits the lowest smallest block, rounds to a power of two and merges back", "[aperture][buddy]") {
  SECTION("buddy splits a power-of-two aperture and rounds requests to a power of two") {
    auto a = make_aperture_allocator(AllocPolicy::Buddy, 0, 16);
    CHECK(a->free_extents() == 1);
    CHECK(a->alloc(1) == 0u);  // 16 -> 8 + 4 + 2 + 1 + (1)
    CHECK(a->free_extents() == 4);
    CHECK(a->largest_free_pages() == 8);
    CHECK(a->alloc(3) == 4u);  // rounded to 4 pages: the free 4-page block
    CHECK(a->free_pages() == 16 - 1 - 4);
    CHECK(a->reserved_pages(3) == 4);
    CHECK(a->alloc(1) == 1u);  // the smallest block first
    CHECK(a->alloc(5) == 8u);
    CHECK(a->largest_free_pages() == 2);
    CHECK(a->alloc(3) == std::nullopt);  // 2 free pages, no 4-page block
    a->free(4, 3);
    a->free(0, 1);
    CHECK(a->free_extents() == 3);  // 0 (its buddy 1 is taken), 2..3 and 4..7
    a->free(1, 1);                  // 0+1 -> 0..1, + 2..3 -> 0..3, + 4..7 -> 0..7
    CHECK(a->free_extents() == 1);
    CHECK(a->largest_free_pages() == 8);
    a->free(8, 5);
    CHECK(a->free_extents() == 1);
    CHECK(a->largest_free_pages() == 16);
    CHECK(a->alloc(16) == 0u);
  }
  SECTION("the default 1536M aperture at page 1 is 18 maximal blocks, and coalesces back to them") {
    auto a = make_aperture_allocator(AllocPolicy::Buddy, 1, 98304);
    CHECK(a->free_extents() == 18);  // 1, 2, 4, ..., 16384, then 32768 at 32768 and 65536, then 98304
    CHECK(a->largest_free_pages() == 32768);
    CHECK(a->alloc(32769) == std::nullopt);  // 64K pages free, no block of them
    CHECK(a->alloc(1) == 1u);
    CHECK(a->alloc(1) == 98304u);  // the other order-0 block
    CHECK(a->alloc(1) == 2u);      // split of 2..3
    CHECK(a->alloc(128) == 128u);  // 2 MiB at 2 MiB
    std::vector<std::pair<std::uint64_t, std::uint64_t>> live{{1, 1}, {98304, 1}, {2, 1}, {128, 128}};
    std::mt19937 rng(7);
    for (int i = 0; i < 3000; ++i) {
      const std::uint64_t pages = 1 + rng() % 200;
      if (const auto p = a->alloc(pages)) {
        CHECK(*p % std::bit_ceil(pages) == 0);
        live.emplace_back(*p, pages);
      }
    }
    std::shuffle(live.begin(), live.end(), rng);
    for (const auto& [first, pages] : live) a->free(first, pages);
    CHECK(a->free_pages() == 98304);
    CHECK(a->free_extents() == 18);
    CHECK(a->largest_free_pages() == 32768);
    CHECK(a->alloc(32768) == 32768u);
    CHECK(a->alloc(32768) == 65536u);
  }
}

TEST_CASE("Freeing every run coalesces the aperture back into one extent", "[aperture]") {
  const AllocPolicy policy = GENERATE(AllocPolicy::FirstFit, AllocPolicy::BestFit);
  auto a = make_aperture_allocator(policy, 1, 30);
  const auto x = a->alloc(10);
  const auto y = a->alloc(10);
  const auto z = a->alloc(10);
  REQUIRE((x && y && z));
  CHECK(a->free_pages() == 0);
  CHECK(a->largest_free_pages() == 0);
  CHECK(a->alloc(1) == std::nullopt);
  a->free(*y, 10);
  CHECK(a->free_extents() == 1);
  a->free(*z, 10);  // merges with the run before it
  CHECK(a->free_extents() == 1);
  CHECK(a->largest_free_pages() == 20);
  a->free(*x, 10);  // merges with the run after it
  CHECK(a->free_extents() == 1);
  CHECK(a->free_pages() == 30);
  CHECK(a->largest_free_pages() == 30);
  CHECK(a->alloc(30) == 1u);
}

TEST_CASE("An allocator refuses zero pages and runs longer than the aperture, and reset frees all", "[aperture]") {
  const AllocPolicy policy = GENERATE(from_range(std::begin(dartlab::dart::kAllocPolicies),
                                                 std::end(dartlab::dart::kAllocPolicies)));
  CAPTURE(to_string(policy));
  auto a = make_aperture_allocator(policy, 0, 8);
  CHECK(a->alloc(0) == std::nullopt);
  CHECK(a->alloc(9) == std::nullopt);
  REQUIRE(a->alloc(3));
  REQUIRE(a->alloc(3));
  CHECK(a->free_pages() < 8);
  a->reset();
  CHECK(a->free_pages() == 8);
  CHECK(a->free_extents() == 1);
  CHECK(a->alloc(8) == 0u);
}

TEST_CASE("Every policy matches a page-by-page reference over thousands of random operations", "[aperture][property]") {
  const AllocPolicy policy = GENERATE(from_range(std::begin(dartlab::dart::kAllocPolicies),
                                                 std::end(dartlab::dart::kAllocPolicies)));
  const std::uint32_t seed = GENERATE(1u, 2u, 3u, 42u, 1234u, 987654u);
  // An aperture on no large boundary (as base=16K makes it), and one of a power of two.
  const auto [first_page, page_count] = GENERATE(std::pair<std::uint64_t, std::uint64_t>{1000, 257},
                                                 std::pair<std::uint64_t, std::uint64_t>{256, 256});
  CAPTURE(to_string(policy), seed, first_page, page_count);
  const bool buddy = policy == AllocPolicy::Buddy;
  const bool linux_like = policy == AllocPolicy::Linux;
  auto a = make_aperture_allocator(policy, first_page, page_count);
  ReferenceAperture ref(first_page, page_count);
  std::mt19937 rng(seed);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> live;  // (first, pages) as allocated
  int refusals = 0;
  std::vector<ReferenceAperture::Run> runs = ref.runs();

  for (int step = 0; step < 5000; ++step) {
    const bool do_alloc = live.empty() || rng() % 100 < 55;
    if (do_alloc) {
      // Mostly small runs, sometimes large ones that often do not fit.
      const std::uint64_t pages = rng() % 10 == 0 ? 1 + rng() % 64 : 1 + rng() % 8;
      const std::uint64_t reserved = buddy ? std::bit_ceil(pages) : pages;
      const std::optional<std::uint64_t> expected = buddy        ? ref.expected_buddy(pages)
                                                    : linux_like ? ref.expected_linux(pages)
                                                                 : ReferenceAperture::expected(runs, policy, pages);
      const std::optional<std::uint64_t> got = a->alloc(pages);
      CAPTURE(step, pages);
      REQUIRE(got == expected);
      REQUIRE(a->reserved_pages(pages) == reserved);
      if (got) {
        REQUIRE(*got >= first_page);
        REQUIRE(*got + reserved <= first_page + page_count);
        REQUIRE(ref.all_free(*got, reserved));
        if (buddy || linux_like) REQUIRE(*got % std::bit_ceil(pages) == 0);
        ref.set(*got, reserved, true);
        if (linux_like) ref.linux_allocated(*got);
        live.emplace_back(*got, pages);
      } else {
        ++refusals;
      }
    } else {
      const std::size_t i = rng() % live.size();
      auto [first, pages] = live[i];
      if (!buddy && pages > 1 && rng() % 4 == 0) {  // give back only the tail of a run
        const std::uint64_t keep = 1 + rng() % (pages - 1);
        a->free(first + keep, pages - keep);
        ref.set(first + keep, pages - keep, false);
        if (linux_like) ref.linux_freed(first + keep, pages - keep);
        live[i].second = keep;
      } else {
        a->free(first, pages);
        ref.set(first, buddy ? std::bit_ceil(pages) : pages, false);
        if (linux_like) ref.linux_freed(first, pages);
        live[i] = live.back();
        live.pop_back();
      }
    }
    runs = ref.runs();
    REQUIRE(a->free_pages() == ReferenceAperture::free_pages(runs));
    if (buddy) {
      std::uint64_t largest = 0;
      std::uint64_t blocks = 0;
      for (unsigned order = 0; order < 10; ++order) {
        const std::size_t n = ref.free_blocks(order).size();
        blocks += n;
        if (n > 0) largest = std::uint64_t{1} << order;
      }
      REQUIRE(a->largest_free_pages() == largest);
      REQUIRE(a->free_extents() == blocks);
    } else {
      REQUIRE(a->largest_free_pages() == (linux_like ? ReferenceAperture::largest_aligned(runs)
                                                     : ReferenceAperture::largest(runs)));
      REQUIRE(a->free_extents() == runs.size());
    }
  }
  CHECK(refusals > 0);  // the run reached a full or fragmented aperture
  for (const auto& [first, pages] : live) a->free(first, pages);
  CHECK(a->free_pages() == page_count);
}

TEST_CASE("A large aperture of 2^28 pages keeps O(extents) state through heavy fragmentation", "[aperture]") {
  const AllocPolicy policy = GENERATE(AllocPolicy::FirstFit, AllocPolicy::BestFit);
  auto a = make_aperture_allocator(policy, 1, std::uint64_t{1} << 28);
  std::vector<std::uint64_t> firsts;
  for (int i = 0; i < 20000; ++i) firsts.push_back(*a->alloc(1 + i % 3));
  for (std::size_t i = 0; i < firsts.size(); i += 2) a->free(firsts[i], 1 + i % 3);
  CHECK(a->free_extents() == 10001);  // 10000 holes and the tail
  CHECK(a->largest_free_pages() == (std::uint64_t{1} << 28) - 39999);
  // Both policies put 3 pages in the hole left by entry 2 (pages 4..6): the first hole that fits,
  // and the lowest of the smallest.
  const auto got = a->alloc(3);
  REQUIRE(got == 4u);
  for (std::size_t i = 1; i < firsts.size(); i += 2) a->free(firsts[i], 1 + i % 3);
  a->free(*got, 3);
  CHECK(a->free_extents() == 1);
  CHECK(a->free_pages() == std::uint64_t{1} << 28);
}
