// SPDX-License-Identifier: MIT
// LiveWindows (the multi and adaptive policies' lookup) against the rule it implements, checked
// the slow way: the largest live window of a size in play that holds the request, else the
// request's direct key. With four sizes or more in play it probes only the sizes live in the
// request's region; random churn over a few regions, with windows of every size coming and
// going and direct mappings of window shape mixed in, must find what the brute force finds.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "passthrough/mapper/clustering_policy.hpp"
#include "passthrough/mapper/key_index.hpp"

using namespace dartlab::mapper;

namespace {

constexpr std::uint64_t K = 1024;
constexpr std::uint64_t M = 1024 * K;

struct World {
  explicit World(WindowSizes sizes) : live(sizes), in_play(sizes) {}
  HostEntries entries;
  KeyIndex index{entries};
  LiveWindows live;
  WindowSizes in_play;
  std::vector<std::uint32_t> live_records;

  bool is_live(const Key& key) const { return index.find(key) != nullptr; }
  void add(const Key& key) {
    if (is_live(key)) return;
    const auto r = static_cast<std::uint32_t>(entries.size());
    entries.push_back(HostEntry{key, 0, 0, 1, 1});
    index.insert(key, r);
    live.track(key, true);
    live_records.push_back(r);
  }
  void remove_at(std::size_t i) {
    const std::uint32_t r = live_records[i];
    index.erase(entries[r].key, r);
    live.track(entries[r].key, false);
    entries[r].key.size_bytes = 0;  // never matched again
    live_records[i] = live_records.back();
    live_records.pop_back();
  }
  // The rule, probing every size in play.
  const std::uint32_t* expected(std::uint64_t gpa, std::uint64_t len) const {
    for (int bit = 63; bit >= 0; --bit) {
      const std::uint64_t bytes = std::uint64_t{1} << bit;
      if ((in_play & bytes) == 0 || !fits_window(gpa, len, bytes)) continue;
      if (const std::uint32_t* found = index.find(window_key(gpa, bytes))) return found;
    }
    return index.find(direct_key(gpa, len));
  }
};

void churn(WindowSizes in_play, std::uint64_t seed) {
  World w(in_play);
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> sizes;
  for (WindowSizes s = in_play; s != 0; s &= s - 1) sizes.push_back(std::uint64_t{1} << std::countr_zero(s));
  const std::uint64_t span = 4 * sizes.back();  // four regions of the largest size
  for (int step = 0; step < 20000; ++step) {
    const std::uint64_t gpa = (rng() % span) & ~(4 * K - 1);
    const std::uint64_t len = 4 * K << (rng() % 6);
    switch (rng() % 4) {
      case 0: w.add(window_key(gpa, sizes[rng() % sizes.size()])); break;  // a window of a size in play
      case 1: w.add(direct_key(gpa, len)); break;                            // a direct mapping, maybe window-shaped
      case 2:
        if (!w.live_records.empty()) w.remove_at(rng() % w.live_records.size());
        break;
      default: break;
    }
    CAPTURE(step, gpa, len);
    REQUIRE(w.live.find(w.index, gpa, len) == w.expected(gpa, len));
  }
}

}  // namespace

TEST_CASE("LiveWindows finds the largest live window that holds a request, whatever lives elsewhere",
          "[mapper][live_windows]") {
  SECTION("adaptive's nine sizes, 16K..4M: looked up by region") { churn(((8 * M - 1) & ~(16 * K - 1)), 1); }
  SECTION("five sizes spread apart") { churn(16 * K | 64 * K | 1 * M | 2 * M | 8 * M, 2); }
  SECTION("multi's three sizes: probed directly") { churn(16 * K | 256 * K | 4 * M, 3); }
}

TEST_CASE("LiveWindows forgets every window at reset", "[mapper][live_windows]") {
  World w((8 * M - 1) & ~(16 * K - 1));
  w.add(window_key(0, 4 * M));
  w.add(window_key(0, 64 * K));
  REQUIRE(w.live.find(w.index, 0x1000, 4 * K) != nullptr);
  w.live.reset();
  w.index.clear();
  w.live_records.clear();
  CHECK(w.live.find(w.index, 0x1000, 4 * K) == nullptr);
  w.add(window_key(0, 16 * K));
  CHECK(w.live.find(w.index, 0x1000, 4 * K) == w.expected(0x1000, 4 * K));
}
