// SPDX-License-Identifier: MIT
// `dartlab stats` counts what a trace asks for; its clustering potential must be exactly what
// the window policy makes of the trace when the DART sets no limits.
#include <catch2/catch.hpp>

#include <vector>

#include "sim/replay/replay.hpp"
#include "sim/stats/trace_stats.hpp"
#include "support/trace_events.hpp"
#include "traces/gen/generator.hpp"

using namespace dartlab;
using trace::Event;
using trace::EventKind;
using trace::Segment;
using test::map;
using test::release;

TEST_CASE("stats counts events by kind, ranges by size class and log2 bucket", "[stats]") {
  sim::TraceStatsBuilder b;
  b.add(map(1, 0x10000, 4096));
  b.add(map(2, 0x20000, 4097));
  b.add(map(3, 0x400000, 2u << 20, EventKind::Alloc));
  const std::vector<Segment> segs = {{0x800000, 16384}, {0x900000, 3u << 20}};
  Event sg = map(4, 0, 0, EventKind::MapSg);
  sg.segments = segs;
  sg.align_bytes = 2u << 20;
  b.add(sg);
  b.add(release(1));

  const sim::TraceStats& s = b.stats();
  CHECK(s.events == 5);
  CHECK(s.by_kind[static_cast<int>(EventKind::Map)] == 2);
  CHECK(s.by_kind[static_cast<int>(EventKind::Unmap)] == 1);
  CHECK(s.ranges == 5);
  CHECK(s.bytes_requested == 4096 + 4097 + (2u << 20) + 16384 + (3u << 20));
  const auto& by_map = s.ranges_by_class[static_cast<int>(EventKind::Map)];
  CHECK(by_map[static_cast<std::size_t>(sim::size_class_of(4096))] == 1);
  CHECK(sim::size_class_of(4096) == 0);
  CHECK(sim::size_class_of(4097) == 1);
  CHECK(by_map[1] == 1);
  CHECK(s.ranges_by_class[static_cast<int>(EventKind::Alloc)][5] == 1);  // <=2M
  CHECK(s.ranges_by_class[static_cast<int>(EventKind::MapSg)][1] == 1);  // <=16K
  CHECK(s.ranges_by_class[static_cast<int>(EventKind::MapSg)][6] == 1);  // >2M
  CHECK(sim::size_class_name(6) == ">2M");
  CHECK(s.log2_histogram[12] == 2);  // 4096 and 4097
  CHECK(s.log2_histogram[14] == 1);
  CHECK(s.log2_histogram[21] == 2);  // 2 MiB and 3 MiB
  CHECK(s.aligned_requests == 1);
}

TEST_CASE("stats follows live requests and bytes to their peaks and back to zero", "[stats]") {
  sim::TraceStatsBuilder b;
  const std::vector<Segment> segs = {{0x100000, 8192}, {0x200000, 8192}};
  Event sg = map(7, 0, 0, EventKind::MapSg);
  sg.segments = segs;
  b.add(map(1, 0x1000, 4096));
  b.add(sg);
  b.add(map(2, 0x3000, 4096, EventKind::Alloc));
  b.add(release(1));
  b.add(release(7, EventKind::UnmapSg));
  b.add(release(2, EventKind::Free));
  const sim::TraceStats& s = b.stats();
  CHECK(s.peak_live_requests == 3);
  CHECK(s.peak_live_ranges == 4);
  CHECK(s.peak_live_bytes == 4096 + 16384 + 4096);
  CHECK(s.peak_live_requests_event == 3);
  CHECK(s.live_requests == 0);
  CHECK(s.live_bytes == 0);
  CHECK(s.unknown_releases + s.reused_ids + s.kind_mismatches == 0);
  for (const sim::WindowStats& w : s.windows) CHECK(w.peak_live_mappings > 0);
}

TEST_CASE("stats counts inconsistencies instead of stopping", "[stats]") {
  sim::TraceStatsBuilder b;
  b.add(release(9));                               // never mapped
  b.add(map(~std::uint64_t{0}, 0x1000, 4096));     // the largest id is an id like any other
  b.add(map(~std::uint64_t{0}, 0x2000, 4096));     // mapped again while live
  b.add(release(~std::uint64_t{0}, EventKind::Free));  // made by map, released by free
  b.add(release(~std::uint64_t{0}));               // gone already
  const sim::TraceStats& s = b.stats();
  CHECK(s.unknown_releases == 2);
  CHECK(s.reused_ids == 1);
  CHECK(s.kind_mismatches == 1);
  CHECK(s.live_requests == 0);
  CHECK(s.live_bytes == 0);
}

TEST_CASE("stats' clustering potential is what window:S maps with no DART limits, in the DART's pages", "[stats]") {
  const auto profile = GENERATE(as<std::string>{}, "game", "buffers");
  const auto seed = GENERATE(1u, 2u);
  const auto page_bytes = GENERATE(std::uint64_t{16384}, std::uint64_t{65536}, std::uint64_t{4096});
  trace::gen::GenParams params;
  params.events = 40000;
  params.seed = seed;
  params.live_target = 4000;
  std::string error;
  auto gen = trace::gen::make_generator(profile, params, &error);
  REQUIRE(gen);

  const auto unlimited = std::get<dart::DartConfig>(
      dart::parse_dart_spec("aperture=max,slots=unlimited,page=" + std::to_string(page_bytes)));
  std::vector<sim::RunConfig> runs;
  for (std::uint64_t window : sim::kStatsWindowBytes)
    runs.push_back({std::get<mapper::Policy>(mapper::parse_policy("window:" + std::to_string(window))), unlimited});
  sim::Replay replay(runs, {});
  sim::TraceStatsBuilder stats(page_bytes);
  Event ev;
  while (gen->next(ev)) {
    stats.add(ev);
    REQUIRE(replay.apply(ev));
  }
  INFO(profile << " seed " << seed << " page " << page_bytes);
  for (std::size_t w = 0; w < sim::kStatsWindowBytes.size(); ++w) {
    const sim::RunResult r = replay.result(w);
    INFO("window " << sim::kStatsWindowBytes[w]);
    CHECK(stats.stats().windows[w].peak_live_mappings == r.peak_mappings);
    CHECK(stats.stats().windows[w].peak_mapped_bytes == r.peak_mapped_bytes);
    CHECK(r.failed_maps == 0);
  }
  CHECK(stats.stats().peak_live_bytes == replay.result(0).peak_requested_bytes);
}

TEST_CASE("stats counts a straddling range's direct mapping in whole DART pages", "[stats]") {
  // 32 KiB at 0x1c000 straddles the 64K, 256K and 1M windows' boundary at 0x20000: direct under
  // each, its 16 KiB-rounded key [0x1c000, 0x24000) mapped by a 64 KiB-page DART as 0x10000..0x30000.
  const Event ev = map(1, 0x1c000, 0x8000);
  for (const std::uint64_t page : {std::uint64_t{16384}, std::uint64_t{65536}}) {
    sim::TraceStatsBuilder stats(page);
    stats.add(ev);
    const auto config = std::get<dart::DartConfig>(dart::parse_dart_spec("page=" + std::to_string(page)));
    const sim::RunConfig runs[] = {{std::get<mapper::Policy>(mapper::parse_policy("window:64K")), config}};
    sim::Replay replay(runs, {});
    REQUIRE(replay.apply(ev));
    const std::uint64_t expected = page == 16384 ? 0x8000 : 0x20000;
    INFO("page " << page);
    CHECK(stats.stats().page_bytes == page);
    CHECK(stats.stats().windows[0].peak_mapped_bytes == expected);
    CHECK(replay.result(0).peak_mapped_bytes == expected);
  }
}
