// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <variant>
#include <vector>

#include "sim/replay/replay.hpp"
#include "support/trace_events.hpp"

using namespace dartlab;
using Catch::Matchers::Contains;
using trace::Event;
using trace::EventKind;
using test::access;
using test::config;
using test::map;
using test::release;

TEST_CASE("replay evaluates every configuration on the same events", "[replay]") {
  const sim::RunConfig runs[] = {config("direct"), config("window:256K")};
  sim::Replay replay(runs);
  for (std::uint64_t i = 0; i < 16; ++i) REQUIRE(replay.apply(map(i + 1, 0x4000'0000 + i * 0x4000, 4096), i + 2));
  const auto direct = replay.result(0), window = replay.result(1);
  CHECK(direct.policy == "direct");
  CHECK(window.policy == "window:256K");
  CHECK(direct.requests == 16);
  CHECK(direct.peak_mappings == 16);
  CHECK(window.peak_mappings == 1);  // 16 pages of 16 KiB = one 256 KiB window
  CHECK(direct.peak_mapped_bytes == 16 * 16384);
  CHECK(window.peak_mapped_bytes == 256 * 1024);
  CHECK(direct.peak_requested_bytes == 16 * 4096);
  for (std::uint64_t i = 0; i < 16; ++i) REQUIRE(replay.apply(release(i + 1)));
  CHECK(replay.result(0).final_live_mappings == 0);
  CHECK(replay.result(1).host_unmap_calls == 1);
  CHECK(replay.live_requests() == 0);
}

TEST_CASE("a refused map is a counted result and its later unmap is dropped", "[replay]") {
  const sim::RunConfig runs[] = {config("direct", "slots=2")};
  sim::Replay replay(runs);
  REQUIRE(replay.apply(map(1, 0x0000, 4096), 10));
  REQUIRE(replay.apply(map(2, 0x8000, 4096), 11));
  REQUIRE(replay.apply(map(3, 0x10000, 4096), 12));  // third slot: refused
  REQUIRE(replay.apply(release(3), 13));               // the driver's unmap of it: dropped
  REQUIRE(replay.apply(map(4, 0x20000, 4096), 14));  // still full
  const auto r = replay.result(0);
  CHECK(r.failed_maps == 2);
  CHECK(r.failures_by_reason[static_cast<int>(dartlab::MapError::Slots)] == 2);
  REQUIRE(r.first_failure.happened);
  CHECK(r.first_failure.event == 3);
  CHECK(r.first_failure.line == 12);
  CHECK(r.first_failure.reason == dartlab::MapError::Slots);
  CHECK(r.dropped_unmaps == 1);
  CHECK(r.host_unmap_calls == 0);
}

TEST_CASE("trace inconsistencies stop the replay with a message naming the id", "[replay]") {
  const sim::RunConfig runs[] = {config("window:256K")};
  sim::Replay replay(runs);
  REQUIRE(replay.apply(map(7, 0x4000, 4096), 3));
  SECTION("an unmap of an id never mapped stops it") {
    CHECK_FALSE(replay.apply(release(8)));
    CHECK_THAT(replay.issue().message, Contains("unmap of id 8 which was never mapped"));
  }
  SECTION("a double unmap stops it, naming the event that released the id") {
    REQUIRE(replay.apply(release(7)));
    CHECK_FALSE(replay.apply(release(7)));
    CHECK_THAT(replay.issue().message, Contains("double unmap: id 7 was already released by event 2"));
  }
  SECTION("a map of an id that is still live stops it, naming the map's line") {
    CHECK_FALSE(replay.apply(map(7, 0x8000, 4096)));
    CHECK_THAT(replay.issue().message, Contains("id 7 which is still live (mapped at line 3)"));
  }
  SECTION("the wrong kind of release stops it, naming the kind expected") {
    CHECK_FALSE(replay.apply(release(7, EventKind::Free)));
    CHECK_THAT(replay.issue().message, Contains("free of id 7, which was created by map at line 3 (expected unmap)"));
  }
  SECTION("an access outside the request stops it") {
    CHECK_FALSE(replay.apply(access(7, 0x5000, 4096, trace::Direction::ToDevice)));
    CHECK_THAT(replay.issue().message, Contains("outside request id 7"));
  }
  SECTION("an access to an id that is not live stops it") {
    CHECK_FALSE(replay.apply(access(9, 0x4000, 16, trace::Direction::ToDevice)));
    CHECK_THAT(replay.issue().message, Contains("access to id 9 which is not live"));
  }
}

TEST_CASE("lenient replay counts inconsistencies as warnings and goes on", "[replay]") {
  const sim::RunConfig runs[] = {config("direct")};
  sim::Replay replay(runs, sim::ReplayOptions{.lenient = true});
  REQUIRE(replay.apply(release(1), 5));
  REQUIRE(replay.apply(map(2, 0x4000, 4096), 6));
  REQUIRE(replay.apply(release(2), 7));
  REQUIRE(replay.apply(release(2), 8));
  CHECK(replay.warnings() == 2);
  REQUIRE(replay.warning_samples().size() == 2);
  CHECK_THAT(replay.warning_samples()[0], Contains("line 5: unmap of id 1 which was never mapped"));
  CHECK_THAT(replay.warning_samples()[1], Contains("line 8: double unmap"));
  CHECK(replay.result(0).final_live_mappings == 0);
}

TEST_CASE("scatter-gather requests map and release every segment", "[replay]") {
  const sim::RunConfig runs[] = {config("window:64K")};
  sim::Replay replay(runs);
  const trace::Segment segs[] = {{0x10000, 4096}, {0x30000, 8192}, {0x100000, 1 << 20}};
  Event sg = map(1, 0, 0, EventKind::MapSg);
  sg.segments = segs;
  REQUIRE(replay.apply(sg));
  CHECK(replay.result(0).requests == 3);
  CHECK(replay.result(0).peak_mappings == 3);
  REQUIRE(replay.apply(access(1, 0x30000, 8192, trace::Direction::FromDevice)));
  REQUIRE(replay.apply(access(1, 0x100000 + 4096, (1 << 20) - 4096, trace::Direction::ToDevice)));
  CHECK(replay.result(0).access_checks > 64);
  CHECK(replay.result(0).access_faults == 0);
  CHECK_FALSE(replay.apply(release(1, EventKind::Unmap)));  // sg needs unmap_sg
  REQUIRE(replay.apply(release(1, EventKind::UnmapSg)));
  CHECK(replay.result(0).final_live_mappings == 0);
}

TEST_CASE("memory follows live requests: a long churn reuses records and segments", "[replay]") {
  const sim::RunConfig runs[] = {config("window:256K")};
  sim::Replay replay(runs);
  // 200k map/unmap pairs with 100 live: the id table never holds more than 100.
  std::uint64_t next_id = 1;
  for (int i = 0; i < 100; ++i, ++next_id) REQUIRE(replay.apply(map(next_id, next_id * 0x1000, 4096)));
  for (int i = 0; i < 200000; ++i, ++next_id) {
    REQUIRE(replay.apply(release(next_id - 100)));
    REQUIRE(replay.apply(map(next_id, (next_id % 5000) * 0x1000, 4096)));
    REQUIRE(replay.live_requests() == 100);
  }
  CHECK(replay.result(0).peak_mappings <= 100);
}

TEST_CASE("too many configurations at once are refused", "[replay]") {
  std::vector<sim::RunConfig> runs(sim::Replay::kMaxRuns + 1, config("direct"));
  CHECK_THROWS_WITH(sim::Replay(runs), Contains("1 to 64 configurations"));
}

TEST_CASE("the host's rules are replayed: a duplicate gpa and a cut region are refusals of their own", "[replay][host]") {
  const sim::RunConfig runs[] = {config("window:256K", "duplicate=refuse,chunk=1M"), config("window:256K")};
  sim::Replay replay(runs);
  REQUIRE(replay.apply(map(1, 0x40000 + 0x1000, 4096), 10));  // the window (0x40000, 256K)
  REQUIRE(replay.apply(map(2, 0x40000, 512 * 1024), 11));      // its own range, at the window's gpa
  REQUIRE(replay.apply(map(3, 0x1000000, 2 << 20), 12));       // two chunks' worth
  REQUIRE(replay.apply(release(2), 13));
  REQUIRE(replay.apply(release(3), 14));
  const auto host = replay.result(0);
  CHECK(host.failed_maps == 2);
  CHECK(host.failures_by_reason[static_cast<int>(dartlab::MapError::Duplicate)] == 1);
  CHECK(host.failures_by_reason[static_cast<int>(dartlab::MapError::Truncated)] == 1);
  REQUIRE(host.first_failure.happened);
  CHECK(host.first_failure.line == 11);
  CHECK(host.first_failure.reason == dartlab::MapError::Duplicate);
  CHECK(host.dropped_unmaps == 2);
  CHECK(host.host_map_calls == 2);  // the window, and the cut region mapped and undone
  CHECK(host.host_unmap_calls == 1);
  CHECK(host.final_live_mappings == 1);
  // The same trace on the default host: shared, and whole.
  const auto share = replay.result(1);
  CHECK(share.failed_maps == 0);
  CHECK(share.dropped_unmaps == 0);
}
