#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "models/dart/aperture.hpp"

using dartlab::dart::AllocPolicy;
using dartlab::dart::make_aperture_allocator;

namespace {

// Page-by-page model of an aperture: obviously right, too slow for real apertures.
class ReferenceAperture {
 public:
  ReferenceAperture(std::uint64_t first_page, std::uint64_t page_count) : first_(first_page), used_(page_count) {}

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
  bool all_free(std::uint64_t first_page, std::uint64_t pages) const {
    for (std::uint64_t p = first_page; p < first_page + pages; ++p) {
      if (used_[p - first_]) return false;
    }
    return true;
  }
  void set(std::uint64_t first_page, std::uint64_t pages, bool used) {
    for (std::uint64_t p = first_page; p < first_page + pages; ++p) used_[p - first_] = used;
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

 private:
  std::uint64_t first_;
  std::vector<bool> used_;
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
  SECTION("first-fit") {
    auto a = build(AllocPolicy::FirstFit);
    CHECK(a->alloc(2) == 100u);
    CHECK(a->alloc(2) == 102u);
    CHECK(a->alloc(5) == 113u);
    CHECK(a->alloc(2) == 110u);
  }
  SECTION("best-fit") {
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
  const AllocPolicy policy = GENERATE(AllocPolicy::FirstFit, AllocPolicy::BestFit);
  auto a = make_aperture_allocator(policy, 0, 8);
  CHECK(a->alloc(0) == std::nullopt);
  CHECK(a->alloc(9) == std::nullopt);
  REQUIRE(a->alloc(3) == 0u);
  REQUIRE(a->alloc(3) == 3u);
  a->reset();
  CHECK(a->free_pages() == 8);
  CHECK(a->free_extents() == 1);
  CHECK(a->alloc(8) == 0u);
}

TEST_CASE("Both policies match a page-by-page reference over thousands of random operations", "[aperture][property]") {
  const AllocPolicy policy = GENERATE(AllocPolicy::FirstFit, AllocPolicy::BestFit);
  const std::uint32_t seed = GENERATE(1u, 2u, 3u, 42u, 1234u, 987654u);
  CAPTURE(static_cast<int>(policy), seed);
  constexpr std::uint64_t kFirst = 1000;
  constexpr std::uint64_t kPages = 257;
  auto a = make_aperture_allocator(policy, kFirst, kPages);
  ReferenceAperture ref(kFirst, kPages);
  std::mt19937 rng(seed);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> live;  // (first, pages)
  int refusals = 0;
  std::vector<ReferenceAperture::Run> runs = ref.runs();

  for (int step = 0; step < 5000; ++step) {
    const bool do_alloc = live.empty() || rng() % 100 < 55;
    if (do_alloc) {
      // Mostly small runs, sometimes large ones that often do not fit.
      const std::uint64_t pages = rng() % 10 == 0 ? 1 + rng() % 64 : 1 + rng() % 8;
      const std::optional<std::uint64_t> expected = ReferenceAperture::expected(runs, policy, pages);
      const std::optional<std::uint64_t> got = a->alloc(pages);
      CAPTURE(step, pages);
      REQUIRE(got == expected);
      if (got) {
        REQUIRE(*got >= kFirst);
        REQUIRE(*got + pages <= kFirst + kPages);
        REQUIRE(ref.all_free(*got, pages));
        ref.set(*got, pages, true);
        live.emplace_back(*got, pages);
      } else {
        ++refusals;
      }
    } else {
      const std::size_t i = rng() % live.size();
      auto [first, pages] = live[i];
      if (pages > 1 && rng() % 4 == 0) {  // give back only the tail of a run
        const std::uint64_t keep = 1 + rng() % (pages - 1);
        a->free(first + keep, pages - keep);
        ref.set(first + keep, pages - keep, false);
        live[i].second = keep;
      } else {
        a->free(first, pages);
        ref.set(first, pages, false);
        live[i] = live.back();
        live.pop_back();
      }
    }
    runs = ref.runs();
    REQUIRE(a->free_pages() == ReferenceAperture::free_pages(runs));
    REQUIRE(a->largest_free_pages() == ReferenceAperture::largest(runs));
    REQUIRE(a->free_extents() == runs.size());
  }
  CHECK(refusals > 0);  // the run reached a full or fragmented aperture
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
