// SPDX-License-Identifier: MIT
// The replay under the real world's policies: bounce (one pool) and cap (requests wait for room).
#include <catch2/catch.hpp>

#include <variant>
#include <vector>

#include "sim/replay/replay.hpp"
#include "sim/replay/replay_file.hpp"
#include "sim/replay/results_output.hpp"
#include "support/random_requests.hpp"
#include "support/trace_events.hpp"

using namespace dartlab;
using trace::Event;
using trace::EventKind;
using test::config;
using test::map;
using test::release;

namespace {

constexpr std::uint64_t K = 1024;
constexpr std::uint64_t M = 1024 * K;

// An access the device writes.
Event access(std::uint64_t id, std::uint64_t gpa, std::uint64_t len) {
  return test::access(id, gpa, len, trace::Direction::FromDevice);
}

// A 64 KiB window per request id: requests 1..n each need their own window.
Event window_map(std::uint64_t id) { return map(id, 0x4000'0000 + id * 64 * K, 4 * K); }

}  // namespace

TEST_CASE("bounce maps one pool for the whole trace and its accesses reach the pool", "[replay][bounce]") {
  const sim::RunConfig runs[] = {config("bounce:1M,at=0x80000000"), config("direct")};
  sim::Replay replay(runs);
  REQUIRE(replay.apply(map(1, 0x1000'0000, 8 * K)));
  REQUIRE(replay.apply(map(2, 0x2000'0000, 100 * K)));
  REQUIRE(replay.apply(access(2, 0x2000'0000 + 50 * K, 40 * K)));  // crosses 16K pages
  REQUIRE(replay.apply(access(1, 0x1000'0000, 8 * K)));
  REQUIRE(replay.apply(release(1)));
  REQUIRE(replay.apply(release(2)));
  const auto bounce = replay.result(0), direct = replay.result(1);
  CHECK(bounce.host_map_calls == 1);
  CHECK(bounce.peak_mappings == 1);
  CHECK(bounce.peak_mapped_bytes == 1 * M);
  CHECK(bounce.final_live_mappings == 1);  // the pool stays mapped
  CHECK(bounce.final_mapped_bytes == 1 * M);
  CHECK(bounce.access_checks > 0);
  CHECK(bounce.access_faults == 0);
  CHECK(bounce.access_checks == direct.access_checks);
  // The device reaches the whole pool: after the last release all of it is exposure.
  CHECK(bounce.exposure_peak_bytes == 1 * M);
  CHECK(bounce.requests == direct.requests);
}

TEST_CASE("a full bounce pool refuses by reason 'pool' and the refused request's unmap is dropped",
          "[replay][bounce]") {
  const sim::RunConfig runs[] = {config("bounce:64K")};
  sim::Replay replay(runs);
  REQUIRE(replay.apply(map(1, 0x1000'0000, 48 * K), 7));
  REQUIRE(replay.apply(map(2, 0x2000'0000, 32 * K), 8));
  REQUIRE(replay.apply(release(2), 9));
  const auto r = replay.result(0);
  CHECK(r.failed_maps == 1);
  CHECK(r.failures_by_reason[static_cast<int>(dartlab::MapError::Pool)] == 1);
  REQUIRE(r.first_failure.happened);
  CHECK(r.first_failure.reason == dartlab::MapError::Pool);
  CHECK(r.first_failure.line == 8);
  CHECK(r.first_failure.request_bytes == 32 * K);
  CHECK(r.dropped_unmaps == 1);
}

TEST_CASE("under cap a request waits for room and is served at the first release that makes it",
          "[replay][cap]") {
  const sim::RunConfig runs[] = {config("cap:window:64K,windows=2"), config("window:64K")};
  sim::Replay replay(runs, sim::ReplayOptions{.series_points = 64});
  REQUIRE(replay.apply(window_map(1)));  // event 1
  REQUIRE(replay.apply(window_map(2)));  // 2
  REQUIRE(replay.apply(window_map(3)));  // 3: waits
  REQUIRE(replay.apply(window_map(4)));  // 4: waits behind 3
  REQUIRE(replay.apply(map(5, 0x4000'0000 + 1 * 64 * K + 8 * K, 4 * K)));  // 5: inside window 1: no room needed
  REQUIRE(replay.apply(access(3, 0x4000'0000 + 3 * 64 * K, 4 * K)));       // 6: 3 is still waiting: skipped
  auto r = replay.result(0);
  CHECK(r.waits == 2);
  CHECK(r.waiting_at_end == 2);
  CHECK(r.waiting_accesses == 1);
  CHECK(r.access_checks == 0);
  CHECK(r.peak_mappings == 2);
  CHECK(r.longest_wait_events == 6 - 3);  // the open wait counts to the last event
  REQUIRE(replay.apply(release(5)));  // 7: window 1 still held by 1: no room
  CHECK(replay.result(0).waiting_at_end == 2);
  REQUIRE(replay.apply(release(2)));  // 8: window 2 goes: 3 is served, 4 still waits
  r = replay.result(0);
  CHECK(r.waiting_at_end == 1);
  REQUIRE(replay.apply(access(3, 0x4000'0000 + 3 * 64 * K, 4 * K)));  // 9: served now: translated
  CHECK(replay.result(0).access_checks > 0);
  CHECK(replay.result(0).access_faults == 0);
  REQUIRE(replay.apply(release(1)));  // 10: 4 is served
  REQUIRE(replay.apply(release(3)));  // 11
  REQUIRE(replay.apply(release(4)));  // 12
  r = replay.result(0);
  CHECK(r.waits == 2);
  CHECK(r.cancelled_waits == 0);
  CHECK(r.waiting_at_end == 0);
  CHECK(r.longest_wait_events == 10 - 4);
  CHECK(r.failed_maps == 0);
  CHECK(r.dropped_unmaps == 0);
  CHECK(r.final_live_mappings == 0);
  CHECK(r.peak_mappings == 2);
  CHECK(r.requests == replay.result(1).requests);
  // The series: 2 waiting at the peak, none at the end.
  std::uint64_t peak_waiting = 0;
  for (const auto& p : r.series) peak_waiting = std::max(peak_waiting, p.max.waiting);
  CHECK(peak_waiting == 2);
  CHECK(r.series.back().max.waiting == 0);
  // The uncapped run never waited.
  CHECK(replay.result(1).waits == 0);
  CHECK(replay.result(1).peak_mappings == 4);
}

TEST_CASE("under cap an unmap of a request still waiting cancels it, and the queue keeps its order",
          "[replay][cap]") {
  const sim::RunConfig runs[] = {config("cap:window:64K,windows=1")};
  sim::Replay replay(runs);
  REQUIRE(replay.apply(window_map(1)));  // 1
  REQUIRE(replay.apply(window_map(2)));  // 2: waits
  REQUIRE(replay.apply(window_map(3)));  // 3: waits
  REQUIRE(replay.apply(release(2)));     // 4: cancels 2 (its driver gave up before it was served)
  REQUIRE(replay.apply(release(1)));     // 5: room: 3, next in line, is served
  auto r = replay.result(0);
  CHECK(r.cancelled_waits == 1);
  CHECK(r.waiting_at_end == 0);
  CHECK(r.dropped_unmaps == 0);  // a cancelled wait is not a refused request
  CHECK(r.longest_wait_events == 5 - 3);
  CHECK(r.host_map_calls == 2);  // 1 and 3; 2 never
  CHECK(r.requests == 3);        // the cancelled one counts once
  REQUIRE(replay.apply(release(3)));
  CHECK(replay.result(0).final_live_mappings == 0);
  // A map_sg waits whole, and its unmap_sg cancels it whole.
  Event sg;
  sg.kind = EventKind::MapSg;
  sg.id = 9;
  const trace::Segment segs[] = {{0x4000'0000, 4 * K}, {0x5000'0000, 4 * K}};
  sg.segments = segs;
  REQUIRE(replay.apply(window_map(1)));
  REQUIRE(replay.apply(sg));
  CHECK(replay.result(0).waiting_at_end == 1);
  REQUIRE(replay.apply(release(9, EventKind::UnmapSg)));
  CHECK(replay.result(0).cancelled_waits == 2);
  CHECK(replay.result(0).requests == 3 + 1 + 2);
  REQUIRE(replay.apply(release(1)));
  CHECK(replay.result(0).final_live_mappings == 0);
}

TEST_CASE("under cap waits cancelled behind waiting requests leave the rest in their order", "[replay][cap]") {
  // Every tenth request keeps waiting; the others are cancelled while it waits ahead of them,
  // so the queue closes its gaps again and again under them.
  const sim::RunConfig runs[] = {config("cap:window:64K,windows=1")};
  sim::Replay replay(runs);
  REQUIRE(replay.apply(window_map(1)));
  for (std::uint64_t id = 2; id <= 2000; ++id) {
    REQUIRE(replay.apply(window_map(id)));
    if (id % 10 != 0) REQUIRE(replay.apply(release(id)));
  }
  CHECK(replay.result(0).waiting_at_end == 200);  // 10, 20, ..., 2000
  // Each release serves the next in trace order, and only it.
  std::uint64_t holder = 1;
  for (std::uint64_t next = 10; next <= 2000; next += 10) {
    REQUIRE(replay.apply(release(holder)));
    const std::uint64_t checks = replay.result(0).access_checks;
    REQUIRE(replay.apply(access(next, 0x4000'0000 + next * 64 * K, 4 * K)));
    REQUIRE(replay.result(0).access_checks > checks);  // served: its access was translated
    if (next + 10 <= 2000) {
      const std::uint64_t skipped = replay.result(0).waiting_accesses;
      REQUIRE(replay.apply(access(next + 10, 0x4000'0000 + (next + 10) * 64 * K, 4 * K)));
      REQUIRE(replay.result(0).waiting_accesses == skipped + 1);  // the one behind it still waits
    }
    holder = next;
  }
  REQUIRE(replay.apply(release(holder)));
  const auto r = replay.result(0);
  CHECK(r.waits == 1999);
  CHECK(r.cancelled_waits == 1999 - 200);
  CHECK(r.waiting_at_end == 0);
  CHECK(r.access_faults == 0);
  CHECK(r.final_live_mappings == 0);
}

TEST_CASE("under cap a waiting request the host refuses when its turn comes is the run's refusal",
          "[replay][cap]") {
  // The cap lets a third request in once one of two is released, but a 4M aperture with 1M
  // still mapped cannot hold a 4M request.
  const sim::RunConfig runs[] = {config("cap:window:1M,windows=2", "aperture=4M")};
  sim::Replay replay(runs);
  REQUIRE(replay.apply(map(1, 0x4000'0000, 4 * K), 11));
  REQUIRE(replay.apply(map(2, 0x5000'0000, 4 * K), 12));
  REQUIRE(replay.apply(map(3, 0x6000'0000, 4 * M), 13));  // waits
  CHECK_FALSE(replay.result(0).first_failure.happened);
  REQUIRE(replay.apply(release(1), 14));  // its turn: the host refuses it
  auto r = replay.result(0);
  CHECK(r.failed_maps == 1);
  CHECK(r.waiting_at_end == 0);
  REQUIRE(r.first_failure.happened);
  CHECK(r.first_failure.reason == dartlab::MapError::Aperture);
  CHECK(r.first_failure.event == 4);   // the release that let it try
  CHECK(r.first_failure.line == 13);   // its own map
  CHECK(r.first_failure.gpa == 0x6000'0000);
  CHECK(r.first_failure.request_bytes == 4 * M);
  CHECK(r.longest_wait_events == 1);
  REQUIRE(replay.apply(release(3), 15));  // a refused request's unmap: dropped
  CHECK(replay.result(0).dropped_unmaps == 1);
  CHECK(replay.result(0).cancelled_waits == 0);
}

TEST_CASE("every cap run's waits drain and its counts agree with the uncapped run's on random streams",
          "[replay][cap][property]") {
  const auto seed = GENERATE(41u, 42u, 43u);
  const auto windows = GENERATE(as<std::uint64_t>{}, 1, 8, 64);
  CAPTURE(seed, windows);
  const sim::RunConfig runs[] = {config("cap:window:256K,windows=" + std::to_string(windows)),
                                 config("cap:lazy:multi:64K,1M,keep=16,windows=" + std::to_string(windows)),
                                 config("window:256K")};
  sim::Replay replay(runs, sim::ReplayOptions{.series_points = 128});
  test::RandomRequests gen(seed);
  std::vector<std::uint64_t> live;
  std::uint64_t next_id = 1;
  for (int step = 0; step < 3000; ++step) {
    Event ev;
    if (live.empty() || gen.pick(5) < 3) {
      const auto req = gen.next();
      ev = map(next_id, req.gpa, req.len_bytes);
      live.push_back(next_id++);
    } else {
      const std::size_t k = gen.pick(live.size());
      ev = release(live[k]);
      live[k] = live.back();
      live.pop_back();
    }
    REQUIRE(replay.apply(ev));
    for (std::size_t r = 0; r < 2; ++r) REQUIRE(replay.mapper_stats(r).live_mappings <= windows);
  }
  for (const std::uint64_t id : live) REQUIRE(replay.apply(release(id)));
  const auto uncapped = replay.result(2);
  for (std::size_t r = 0; r < 2; ++r) {
    const auto c = replay.result(r);
    CAPTURE(c.policy);
    CHECK(c.peak_mappings <= windows);
    CHECK(c.requests == uncapped.requests);
    CHECK(c.waiting_at_end == 0);
    CHECK(c.cancelled_waits <= c.waits);
    CHECK(replay.mapper_stats(r).live_requests == 0);
    CHECK(c.failed_maps == 0);  // the default host holds everything: only the cap makes anyone wait
    CHECK(c.dropped_unmaps == 0);
    if (windows == 1) CHECK(c.waits > 0);
  }
}

TEST_CASE("a cap run's results carry its waits: JSON, CSV, the series and a line under the table",
          "[replay][cap][output]") {
  const sim::RunConfig runs[] = {config("cap:window:64K,windows=1"), config("window:64K")};
  sim::Replay replay(runs, sim::ReplayOptions{.series_points = 16});
  REQUIRE(replay.apply(window_map(1)));
  REQUIRE(replay.apply(window_map(2)));  // waits
  REQUIRE(replay.apply(window_map(3)));  // waits
  REQUIRE(replay.apply(release(2)));     // cancels 2
  sim::TraceOutcome t;
  t.trace = "t.trace";
  t.format = "text";
  t.events = replay.events();
  t.results = {replay.result(0), replay.result(1)};
  const nlohmann::ordered_json doc = sim::results_json(std::span(&t, 1));
  const auto& capped = doc["results"][0];
  CHECK(capped["waits"]["count"] == 2);
  CHECK(capped["waits"]["longest_events"] == 2);  // 3 is still waiting, since event 3
  CHECK(capped["waits"]["cancelled"] == 1);
  CHECK(capped["waits"]["still_waiting"] == 1);
  CHECK(capped["series"]["waiting"].back() == 1);
  CHECK_FALSE(capped["failures_by_reason"].contains("cap"));  // a replay waits; it never refuses for the cap
  CHECK(capped["failures_by_reason"].contains("pool"));
  CHECK_FALSE(doc["results"][1]["series"].contains("waiting"));
  const std::string csv = sim::results_csv(std::span(&t, 1));
  CHECK(csv.find(",waits_count,waits_longest_events,waits_cancelled,waits_still_waiting,waits_accesses,") != std::string::npos);

  char* text = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&text, &size);
  REQUIRE(out != nullptr);
  sim::print_results_table(out, std::span(&t, 1));
  std::fclose(out);
  const std::string table(text, size);
  std::free(text);
  CHECK_THAT(table, Catch::Contains("cap:window:64K,windows=1: 2 waits, the longest 2 events; 1 cancelled by an unmap, 1 still waiting at the end"));
  CHECK(table.find("window:64K: ") == std::string::npos);  // the uncapped run has no such line
}
