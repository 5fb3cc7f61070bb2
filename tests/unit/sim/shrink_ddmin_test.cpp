// SPDX-License-Identifier: MIT
// ddmin on synthetic predicates: it finds the known minimal set, its result is 1-minimal, its
// predicate calls stay within a bound, and a stop leaves a failing set.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <vector>

#include "sim/stress/ddmin.hpp"
#include "traces/gen/rng.hpp"

using namespace dartlab;

namespace {

std::vector<std::uint32_t> iota(std::uint32_t n) {
  std::vector<std::uint32_t> v(n);
  std::iota(v.begin(), v.end(), 0u);
  return v;
}

bool contains_all(std::span<const std::uint32_t> subset, const std::set<std::uint32_t>& needed) {
  std::size_t found = 0;
  for (const std::uint32_t x : subset) found += needed.count(x);
  return found == needed.size();
}

const auto never_stop = [] { return false; };

}  // namespace

TEST_CASE("ddmin finds exactly the elements a failure needs", "[shrink][ddmin]") {
  const std::uint64_t seed = GENERATE(1, 2, 3, 4, 5, 6, 7, 8);
  trace::gen::Rng rng(seed);
  const std::uint32_t n = 64 + rng.below(2000);
  const std::uint32_t k = 1 + rng.below(6);
  std::set<std::uint32_t> needed;
  while (needed.size() < k) needed.insert(rng.below(n));

  sim::DdminStats stats;
  const auto result =
      sim::ddmin(iota(n), [&](std::span<const std::uint32_t> s) { return contains_all(s, needed); }, never_stop, stats);
  CHECK(std::set<std::uint32_t>(result.begin(), result.end()) == needed);
  CHECK(std::is_sorted(result.begin(), result.end()));
  CHECK(stats.complete);
  // Each needed element is found by halving: about 2 log2(n) tests each on the way down, and
  // at the finest granularity one complement per survivor (a loose bound, far under n).
  const double bound = 8.0 * static_cast<double>(k) * std::log2(static_cast<double>(n)) + 4.0 * k * k;
  INFO("n " << n << ", k " << k << ", tests " << stats.tests << ", bound " << bound);
  CHECK(static_cast<double>(stats.tests) <= bound);
}

TEST_CASE("ddmin's result is 1-minimal when no unique minimal set exists", "[shrink][ddmin]") {
  // Fails when at least 3 of the marked elements are present: many 1-minimal answers, each of
  // exactly 3 marked elements.
  const std::set<std::uint32_t> marked = {5, 9, 40, 41, 77, 100, 150, 151, 152, 199};
  const auto fails = [&](std::span<const std::uint32_t> s) {
    return std::count_if(s.begin(), s.end(), [&](std::uint32_t x) { return marked.count(x) != 0; }) >= 3;
  };
  sim::DdminStats stats;
  const auto result = sim::ddmin(iota(200), fails, never_stop, stats);
  REQUIRE(stats.complete);
  REQUIRE(fails(result));
  CHECK(result.size() == 3);
  for (std::size_t drop = 0; drop < result.size(); ++drop) {
    std::vector<std::uint32_t> smaller = result;
    smaller.erase(smaller.begin() + static_cast<std::ptrdiff_t>(drop));
    CHECK_FALSE(fails(smaller));
  }
}

TEST_CASE("ddmin handles a failure that needs an interaction of far-apart elements", "[shrink][ddmin]") {
  // Not monotone: fails when 10 is present and 500 absent, or when 700 and 701 are both there.
  const auto fails = [](std::span<const std::uint32_t> s) {
    const auto has = [&](std::uint32_t x) { return std::binary_search(s.begin(), s.end(), x); };
    return (has(10) && !has(500)) || (has(700) && has(701));
  };
  sim::DdminStats stats;
  const auto result = sim::ddmin(iota(1000), fails, never_stop, stats);
  REQUIRE(stats.complete);
  REQUIRE(fails(result));
  for (std::size_t drop = 0; drop < result.size(); ++drop) {
    std::vector<std::uint32_t> smaller = result;
    smaller.erase(smaller.begin() + static_cast<std::ptrdiff_t>(drop));
    CHECK_FALSE(fails(smaller));
  }
  CHECK(result.size() <= 2);
}

TEST_CASE("a stopped ddmin returns the smallest failing set found so far", "[shrink][ddmin]") {
  const std::set<std::uint32_t> needed = {100, 2000, 3500};
  std::uint64_t calls = 0;
  const auto fails = [&](std::span<const std::uint32_t> s) {
    ++calls;
    return contains_all(s, needed);
  };
  sim::DdminStats stats;
  const auto result = sim::ddmin(iota(4000), fails, [&] { return calls >= 10; }, stats);
  CHECK_FALSE(stats.complete);
  CHECK(stats.tests == 10);
  CHECK(contains_all(result, needed));
  CHECK(result.size() < 4000);
}
