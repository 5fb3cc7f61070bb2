// SPDX-License-Identifier: MIT
// The table of live requests (traces/line_import/) finds what it was given, latest first per key, through growth,
// deletions in the middle of probe runs and keys that differ only by device or kind.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "traces/line_import/live_requests.hpp"

using namespace dartlab::trace::line_import;

TEST_CASE("the live-request table behaves as a stack per key under random adds and takes", "[traces][line_import]") {
  const auto seed = GENERATE(1u, 2u, 3u, 4u, 5u);
  std::mt19937_64 rng(seed);
  LiveRequests live;
  using Key = std::tuple<std::uint64_t, std::uint16_t, Family>;
  std::map<Key, std::vector<LiveRequest>> model;
  std::size_t model_size = 0;
  // Few distinct addresses, so that keys repeat, probe runs collide and slots are reused.
  const auto key = [&] {
    return LiveKey{(rng() % 3000) * 4096, static_cast<std::uint16_t>(rng() % 3), static_cast<Family>(rng() % 5)};
  };
  for (std::uint64_t id = 1; id <= 60000; ++id) {
    const LiveKey k = key();
    const Key mk{k.addr, k.device, k.family};
    if (rng() % 2 == 0) {
      const LiveRequest r{id, id * 7};
      auto& stack = model[mk];
      REQUIRE(live.add(k, r) == !stack.empty());
      stack.push_back(r);
      ++model_size;
    } else {
      const auto got = live.take(k);
      auto it = model.find(mk);
      if (it == model.end() || it->second.empty()) {
        CHECK_FALSE(got.has_value());
      } else {
        REQUIRE(got.has_value());
        REQUIRE(got->id == it->second.back().id);
        REQUIRE(got->len_bytes == it->second.back().len_bytes);
        it->second.pop_back();
        --model_size;
      }
    }
    if (id % 1000 == 0) REQUIRE(live.size() == model_size);
  }
  // Everything left comes out, latest first.
  for (auto& [mk, stack] : model) {
    const LiveKey k{std::get<0>(mk), std::get<1>(mk), std::get<2>(mk)};
    while (!stack.empty()) {
      const auto got = live.take(k);
      REQUIRE(got.has_value());
      CHECK(got->id == stack.back().id);
      stack.pop_back();
    }
    CHECK_FALSE(live.take(k).has_value());
  }
  CHECK(live.size() == 0);
}
