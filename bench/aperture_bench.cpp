// SPDX-License-Identifier: MIT
// The aperture allocators alone, without the mapper and DART around them: about 6000 live runs
// of 1..8 pages (one in 16 up to 200) in the default 1.5 GiB aperture of 16K pages, allocated
// and freed at random, the metrics read after every event as the DART does. The operations are
// drawn before timing, so the numbers are the allocator's; BM_CoreDirect* time the whole path.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "models/dart/aperture.hpp"
#include "models/dart/bitmap_aperture.hpp"
#include "models/dart/buddy_aperture.hpp"
#include "models/dart/iova_aperture.hpp"

namespace {

constexpr std::uint64_t kFirstPage = 1;
constexpr std::uint64_t kPages = 98304;  // 1536M of 16K pages

struct Op {
  std::uint32_t pages;  // an alloc of `pages`, or (0) a free of live[victim]
  std::uint32_t victim;
};

// A fixed script of allocs and frees: the victim of a free is drawn from the live count, which
// depends only on which allocs succeed, and they succeed alike under every policy here except
// when the aperture fills (refused allocs are then skipped at run time).
const std::vector<Op>& script() {
  static const std::vector<Op> ops = [] {
    std::vector<Op> out;
    std::mt19937 rng(1);
    for (int i = 0; i < 2'000'000; ++i) {
      const bool grow = i < 30'000;  // 60% allocs: about 6000 live, then even
      if (rng() % 100 < (grow ? 60u : 50u)) {
        out.push_back({static_cast<std::uint32_t>(rng() % 16 == 0 ? 1 + rng() % 200 : 1 + rng() % 8), 0});
      } else {
        out.push_back({0, static_cast<std::uint32_t>(rng())});
      }
    }
    return out;
  }();
  return ops;
}

// make: the allocator under test, built afresh (untimed) for each iteration.
template <typename Make>
void run_aperture(benchmark::State& state, Make make) {
  const auto& ops = script();
  std::vector<std::pair<std::uint64_t, std::uint64_t>> live;
  live.reserve(ops.size());
  std::uint64_t sink = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto a = make();
    live.clear();
    state.ResumeTiming();
    for (const Op& op : ops) {
      if (op.pages != 0) {
        if (const auto p = a->alloc(op.pages)) live.emplace_back(*p, op.pages);
      } else if (!live.empty()) {
        const std::size_t k = op.victim % live.size();
        a->free(live[k].first, live[k].second);
        live[k] = live.back();
        live.pop_back();
      }
      sink += a->free_pages() + a->largest_free_pages();
    }
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(ops.size()));
}

void run_policy(benchmark::State& state, dartlab::dart::AllocPolicy policy) {
  run_aperture(state, [policy] { return dartlab::dart::make_aperture_allocator(policy, kFirstPage, kPages); });
}

void BM_ApertureFirstFit(benchmark::State& s) { run_policy(s, dartlab::dart::AllocPolicy::FirstFit); }
// The run-summary bitmap first-fit (bitmap_aperture.cpp) the boundary tags replaced: a yardstick.
void BM_ApertureFirstFitSummary(benchmark::State& s) {
  run_aperture(s, [] { return dartlab::dart::make_bitmap_first_fit(kFirstPage, kPages); });
}
// The extent-tree first-fit the bitmap replaced (still the fallback past 2^32 pages): the yardstick.
void BM_ApertureFirstFitExtents(benchmark::State& s) {
  run_aperture(s, [] {
    return dartlab::dart::make_extent_aperture(dartlab::dart::AllocPolicy::FirstFit, kFirstPage, kPages);
  });
}
void BM_ApertureBestFit(benchmark::State& s) { run_policy(s, dartlab::dart::AllocPolicy::BestFit); }
// The extent-tree best-fit the boundary tags replaced (the fallback past 2^32 pages).
void BM_ApertureBestFitExtents(benchmark::State& s) {
  run_aperture(s, [] {
    return dartlab::dart::make_extent_aperture(dartlab::dart::AllocPolicy::BestFit, kFirstPage, kPages);
  });
}
void BM_ApertureBuddy(benchmark::State& s) { run_policy(s, dartlab::dart::AllocPolicy::Buddy); }
// The ordered-set buddy the bitmaps replaced (the fallback past 2^31 pages).
void BM_ApertureBuddySet(benchmark::State& s) {
  run_aperture(s, [] { return dartlab::dart::make_set_buddy_aperture(kFirstPage, kPages); });
}
void BM_ApertureLinux(benchmark::State& s) { run_policy(s, dartlab::dart::AllocPolicy::Linux); }
// The extent-tree linux the bitmap replaced (the fallback for bitmaps of 2^31 pages or more).
void BM_ApertureLinuxExtents(benchmark::State& s) {
  run_aperture(s, [] { return dartlab::dart::make_extent_iova_aperture(kFirstPage, kPages); });
}

}  // namespace

BENCHMARK(BM_ApertureFirstFit)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ApertureFirstFitSummary)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ApertureFirstFitExtents)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ApertureBestFit)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ApertureBestFitExtents)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ApertureBuddy)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ApertureBuddySet)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ApertureLinux)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ApertureLinuxExtents)->Unit(benchmark::kMillisecond)->Iterations(3);
