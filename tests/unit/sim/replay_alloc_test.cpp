// SPDX-License-Identifier: MIT
// The replay engine allocates nothing per event once its pools (the id ring, the arena and its
// free stacks, the wait queues, the sg scratch, the mappers' and DARTs' tables) have grown to the
// live set: a churn of a fixed number of live requests, after a warm-up, must not allocate.
#include <catch2/catch.hpp>

#include <cstdint>
#include <span>
#include <random>
#include <vector>

#include "sim/replay/replay.hpp"
#include "support/alloc_counter.hpp"
#include "support/trace_events.hpp"

using namespace dartlab;

namespace {

// Churn around `live` requests: each step releases a random live request and maps a new one
// (ids in sequence, as traces give them), one in ten an sg list of up to 8 segments.
class Churn {
 public:
  Churn(std::size_t live, std::uint64_t seed) : rng_(seed) {
    segs_.reserve(64);
    live_.reserve(live);
    for (std::size_t i = 0; i < live; ++i) live_.push_back(Live{});
  }

  // The next event; its sg segments stay valid until the next call.
  trace::Event next() {
    Live& slot = live_[rng_() % live_.size()];
    if (slot.id != 0 && !slot.released) {
      slot.released = true;
      return test::release(slot.id, slot.sg ? trace::EventKind::UnmapSg : trace::EventKind::Unmap);
    }
    slot = Live{next_id_++, rng_() % 10 == 0, false};
    const std::uint64_t gpa = (rng_() % (1 << 18)) << 12;  // 1 GiB of guest memory
    const std::uint64_t len = std::uint64_t{4096} << (rng_() % 8);
    if (!slot.sg) return test::map(slot.id, gpa, len);
    segs_.clear();
    for (std::uint64_t s = 0, n = 1 + rng_() % 8; s < n; ++s) segs_.push_back({gpa + (s << 21), len});
    trace::Event ev = test::map(slot.id, 0, 0, trace::EventKind::MapSg);
    ev.segments = segs_;
    return ev;
  }

 private:
  struct Live {
    std::uint64_t id = 0;
    bool sg = false;
    bool released = false;
  };
  std::mt19937_64 rng_;
  std::vector<Live> live_;
  std::vector<trace::Segment> segs_;
  std::uint64_t next_id_ = 1;
};

}  // namespace

TEST_CASE("a replay in steady state allocates nothing per event, one run or several", "[replay][alloc]") {
  const std::vector<sim::RunConfig> all = {test::config("window:256K"), test::config("direct"),
                                           test::config("cap:window:128K,windows=300"),
                                           test::config("lazy:window:64K,keep=64"), test::config("multi:16K,256K,4M")};
  const bool one = GENERATE(true, false);
  const std::span<const sim::RunConfig> runs = one ? std::span(all).first(1) : std::span(all);
  sim::Replay replay(runs, sim::ReplayOptions{.series_points = 64});
  Churn churn(3000, 9);
  std::vector<trace::Event> batch(32);
  const auto replay_events = [&](std::size_t n) {
    for (std::size_t done = 0; done < n;) {
      // A batch holds at most one sg list, whose segments the next event's would replace.
      std::size_t k = 0;
      while (k < batch.size()) {
        batch[k] = churn.next();
        if (batch[k++].kind == trace::EventKind::MapSg) break;
      }
      REQUIRE(replay.apply_batch(std::span(batch).first(k), {}) == k);
      done += k;
    }
  };
  {
    test::AllocationCount counted;  // the counter is live in this runner
    std::vector<int> v(1);
    CHECK(counted.count() == 1);
  }
  replay_events(200'000);  // the pools grow to the live set
  test::AllocationCount count;
  replay_events(100'000);
  CHECK(count.count() == 0);
  // It did churn, and the cap's queue was used.
  CHECK(replay.live_requests() > 1000);
  if (!one) CHECK(replay.result(2).waits > 0);
}
