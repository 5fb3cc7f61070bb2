// SPDX-License-Identifier: MIT
// The replay's metrics beyond counts: exposure, alignment violations, fragmentation, reuse, and
// the time series.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sim/replay/metrics.hpp"
#include "sim/replay/replay.hpp"
#include "support/trace_events.hpp"
#include "traces/gen/generator.hpp"

using namespace dartlab;
using trace::Event;
using trace::EventKind;
using test::config;
using test::map;
using test::release;

namespace {

// A map whose driver wants its bus address aligned (UVM's 2 MiB pages).
Event aligned_map(std::uint64_t id, std::uint64_t gpa, std::uint64_t len, std::uint64_t align) {
  Event ev = map(id, gpa, len);
  ev.align_bytes = align;
  return ev;
}

// The plain rule of a series, written apart from sim::Series so that the differential tests below
// share no code with it: a sample after every event, each column's maximum over a bucket of
// `width` events, and pairs of points merged (the width doubled) when `limit` are full.
class ReferenceSeries {
 public:
  explicit ReferenceSeries(std::size_t max_points) : limit_(std::max<std::size_t>(2, (max_points + 1) & ~std::size_t{1})) {}
  void add(const sim::SeriesSample& s) {
    ++events_;
    bucket_ = in_bucket_ == 0 ? s : max_of(bucket_, s);
    if (++in_bucket_ != width_) return;
    points_.push_back(sim::SeriesPoint{events_, bucket_});
    in_bucket_ = 0;
    if (points_.size() < limit_) return;
    std::vector<sim::SeriesPoint> merged;
    for (std::size_t i = 0; i + 1 < points_.size(); i += 2)
      merged.push_back(sim::SeriesPoint{points_[i + 1].event, max_of(points_[i].max, points_[i + 1].max)});
    points_ = merged;
    width_ *= 2;
  }
  std::vector<sim::SeriesPoint> points() const {
    std::vector<sim::SeriesPoint> out = points_;
    if (in_bucket_ != 0) out.push_back(sim::SeriesPoint{events_, bucket_});
    return out;
  }

 private:
  static sim::SeriesSample max_of(const sim::SeriesSample& a, const sim::SeriesSample& b) {
    return {std::max(a.live_mappings, b.live_mappings), std::max(a.mapped_bytes, b.mapped_bytes),
            std::max(a.requested_bytes, b.requested_bytes), std::max(a.frag_index, b.frag_index),
            std::max(a.waiting, b.waiting)};
  }
  std::size_t limit_;
  std::vector<sim::SeriesPoint> points_;
  sim::SeriesSample bucket_;
  std::uint64_t width_ = 1;
  std::uint64_t in_bucket_ = 0;
  std::uint64_t events_ = 0;
};

// The plain rule RunMetrics::observe() must agree with: every metric recomputed after every event
// (the observe() the metrics had before they skipped what stood still).
struct ReferenceMetrics {
  explicit ReferenceMetrics(std::size_t series_points) : series(series_points) {}
  std::uint64_t exposure_peak = 0;
  double exposure_sum = 0;
  double frag = 0;
  double frag_peak = 0;
  ReferenceSeries series;
  void observe(const mapper::MapperStats& s, const dart::DartStats& d, std::uint64_t waiting) {
    const std::uint64_t exposure = sim::exposure_bytes(d.mapped_bytes, s.requested_bytes);
    exposure_peak = std::max(exposure_peak, exposure);
    exposure_sum += static_cast<double>(exposure);
    frag = sim::fragmentation_index(d.free_bytes, d.largest_free_bytes);
    frag_peak = std::max(frag_peak, frag);
    series.add(sim::SeriesSample{s.live_mappings, d.mapped_bytes, s.requested_bytes, frag, waiting});
  }
};

void check_same_series(const std::vector<sim::SeriesPoint>& got, const std::vector<sim::SeriesPoint>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("point " << i);
    CHECK(got[i].event == want[i].event);
    CHECK(got[i].max.live_mappings == want[i].max.live_mappings);
    CHECK(got[i].max.mapped_bytes == want[i].max.mapped_bytes);
    CHECK(got[i].max.requested_bytes == want[i].max.requested_bytes);
    CHECK(got[i].max.frag_index == want[i].max.frag_index);
    CHECK(got[i].max.waiting == want[i].max.waiting);
  }
}

}  // namespace

TEST_CASE("exposure is the bytes mapped beyond the bytes requested, as a peak and a mean over events",
          "[replay][metrics]") {
  const sim::RunConfig runs[] = {config("direct"), config("window:256K")};
  sim::Replay replay(runs);
  REQUIRE(replay.apply(map(1, 0x100000, 4096)));  // direct: 16K mapped for 4K; window: 256K
  REQUIRE(replay.apply(map(2, 0x104000, 16384)));  // direct: exact; window: same window
  REQUIRE(replay.apply(release(1)));
  REQUIRE(replay.apply(release(2)));
  const auto direct = replay.result(0), window = replay.result(1);
  CHECK(direct.exposure_peak_bytes == 12288);
  // After each event: 12K, 12K, 0, 0.
  CHECK(direct.exposure_mean_bytes == Approx(6144.0));
  CHECK(window.exposure_peak_bytes == 256 * 1024 - 4096);
  // 252K, 236K, 240K, 0.
  CHECK(window.exposure_mean_bytes == Approx((252.0 + 236.0 + 240.0) * 1024 / 4));
}

TEST_CASE("a request whose DMA address breaks its align= is counted as an alignment violation",
          "[replay][metrics]") {
  // The first page of the aperture is kept back (base=16K): a 2M mapping lands at 16K.
  const sim::RunConfig runs[] = {config("direct"), config("direct", "base=2M")};
  sim::Replay replay(runs);
  REQUIRE(replay.apply(aligned_map(1, 0x4000'0000, 2 << 20, 2 << 20)));
  REQUIRE(replay.apply(map(2, 0x5000'0000, 4096)));  // asks nothing
  CHECK(replay.result(0).alignment_violations == 1);
  CHECK(replay.result(1).alignment_violations == 0);
}

TEST_CASE("the fragmentation index follows the aperture's largest free extent", "[replay][metrics]") {
  // 4 pages of aperture: map 4 single pages, free the 1st and 3rd: 2 pages free, largest 1.
  const sim::RunConfig runs[] = {config("direct", "aperture=64K,base=16K")};
  sim::Replay replay(runs);
  for (std::uint64_t i = 0; i < 4; ++i) REQUIRE(replay.apply(map(i + 1, 0x100000 + i * 0x10000, 4096)));
  CHECK(replay.result(0).frag_index_peak == 0.0);
  REQUIRE(replay.apply(release(1)));
  REQUIRE(replay.apply(release(3)));
  CHECK(replay.result(0).frag_index_final == Approx(0.5));
  CHECK(replay.result(0).frag_index_peak == Approx(0.5));
  REQUIRE(replay.apply(release(2)));
  REQUIRE(replay.apply(release(4)));
  CHECK(replay.result(0).frag_index_final == 0.0);
  CHECK(replay.result(0).frag_index_peak == Approx(0.5));
}

TEST_CASE("reuse hits count requests served by mappings lazy kept", "[replay][metrics]") {
  const sim::RunConfig runs[] = {config("lazy:window:256K,keep=4"), config("window:256K")};
  sim::Replay replay(runs);
  for (std::uint64_t i = 1; i <= 10; ++i) {
    REQUIRE(replay.apply(map(i, 0x100000, 4096)));
    REQUIRE(replay.apply(release(i)));
  }
  CHECK(replay.result(0).reuse_hits == 9);
  CHECK(replay.result(0).host_map_calls == 1);
  CHECK(replay.result(1).reuse_hits == 0);
  CHECK(replay.result(1).host_map_calls == 10);
  // Kept mappings are exposure: the device can still reach them.
  CHECK(replay.result(0).exposure_mean_bytes > replay.result(1).exposure_mean_bytes);
}

TEST_CASE("the time series keeps the peaks of every bucket in a bounded number of points", "[replay][series]") {
  const sim::RunConfig runs[] = {config("direct")};
  sim::Replay replay(runs, sim::ReplayOptions{.series_points = 16});
  // A sawtooth: 50 maps, 50 unmaps, twice. Peaks of 50 live mappings at events 50 and 150.
  std::uint64_t id = 0;
  for (int tooth = 0; tooth < 2; ++tooth) {
    for (std::uint64_t i = 0; i < 50; ++i) REQUIRE(replay.apply(map(++id, 0x100000 + i * 0x4000, 4096)));
    for (std::uint64_t i = 0; i < 50; ++i) REQUIRE(replay.apply(release(id - 49 + i)));
  }
  const auto series = replay.result(0).series;
  REQUIRE(!series.empty());
  CHECK(series.size() <= 16);
  CHECK(series.back().event == 200);
  std::uint64_t peak = 0, previous_event = 0;
  for (const auto& p : series) {
    CHECK(p.event > previous_event);
    previous_event = p.event;
    peak = std::max(peak, p.max.live_mappings);
    CHECK(p.max.mapped_bytes == p.max.live_mappings * 16384);
  }
  CHECK(peak == 50);  // a bucket's max, never averaged away
}

TEST_CASE("a series of fewer events than points has a point per event", "[replay][series]") {
  sim::Series s(8);
  for (std::uint64_t i = 1; i <= 5; ++i) s.add(sim::SeriesSample{i, 0, 0, 0});
  const auto points = s.points();
  REQUIRE(points.size() == 5);
  for (std::uint64_t i = 0; i < 5; ++i) {
    CHECK(points[i].event == i + 1);
    CHECK(points[i].max.live_mappings == i + 1);
  }
  sim::Series none(8);
  CHECK(none.points().empty());
}

TEST_CASE("no series is kept unless asked for", "[replay][series]") {
  const sim::RunConfig runs[] = {config("direct")};
  sim::Replay replay(runs);
  REQUIRE(replay.apply(map(1, 0x100000, 4096)));
  CHECK(replay.result(0).series.empty());
}

TEST_CASE("mapped bytes and exposure count the DART's own pages, not 16 KiB ones", "[replay][metrics]") {
  const sim::RunConfig runs[] = {config("direct", "page=64K"), config("window:16K", "page=64K"), config("direct")};
  sim::Replay replay(runs, sim::ReplayOptions{.series_points = 16});
  REQUIRE(replay.apply(map(1, 0x100000, 4096)));
  REQUIRE(replay.apply(map(2, 0x104000, 4096)));  // another 16K key, in the same 64K page
  const auto direct64 = replay.result(0), window64 = replay.result(1), direct16 = replay.result(2);
  // Two 16K keys, each mapped by the DART as one whole 64K page.
  CHECK(direct64.peak_mapped_bytes == 2 * 65536);
  CHECK(direct64.final_mapped_bytes == 2 * 65536);
  CHECK(direct64.exposure_peak_bytes == 2 * 65536 - 8192);
  CHECK(direct64.page_bytes == 65536);
  REQUIRE(!direct64.series.empty());
  CHECK(direct64.series.back().max.mapped_bytes == 2 * 65536);
  CHECK(window64.peak_mapped_bytes == 2 * 65536);
  CHECK(direct16.peak_mapped_bytes == 2 * 16384);
  CHECK(direct16.page_bytes == 16384);
  REQUIRE(replay.apply(release(1)));
  REQUIRE(replay.apply(release(2)));
  CHECK(replay.result(0).final_mapped_bytes == 0);
  CHECK(replay.result(0).peak_mapped_bytes == 2 * 65536);
}

TEST_CASE("with 16 KiB pages the DART's mapped bytes are the mapper's, for every policy", "[replay][metrics]") {
  const char* policies[] = {"direct", "window:64K", "window:1M", "multi:64K,1M", "adaptive", "lazy:direct,keep=64"};
  std::vector<sim::RunConfig> runs;
  for (const char* p : policies) runs.push_back(config(p));
  sim::Replay replay(runs);
  std::uint64_t gpa = 0x4000'0000;
  for (std::uint64_t id = 1; id <= 400; ++id) {
    gpa += (id * 7919 % 97) * 4096;
    REQUIRE(replay.apply(map(id, gpa, 4096 * (1 + id % 9))));
    if (id % 3 == 0) REQUIRE(replay.apply(release(id - 2)));
  }
  for (std::size_t r = 0; r < runs.size(); ++r) {
    INFO(policies[r]);
    CHECK(replay.result(r).peak_mapped_bytes == replay.mapper_stats(r).peak_mapped_bytes);
    CHECK(replay.result(r).final_mapped_bytes == replay.mapper_stats(r).mapped_bytes);
  }
}

TEST_CASE("the metrics' formulas: exposure never negative, fragmentation 0 for one free run, alignment by mask",
          "[replay][metrics]") {
  CHECK(sim::exposure_bytes(48 * 1024, 16 * 1024) == 32 * 1024);
  CHECK(sim::exposure_bytes(16 * 1024, 48 * 1024) == 0);  // overlapping requests ask for more than is mapped
  CHECK(sim::fragmentation_index(0, 0) == 0.0);
  CHECK(sim::fragmentation_index(1 << 20, 1 << 20) == 0.0);
  CHECK(sim::fragmentation_index(1 << 20, 1 << 18) == Approx(0.75));
  CHECK_FALSE(sim::breaks_alignment(0x200000, 0));  // no align= asked
  CHECK_FALSE(sim::breaks_alignment(0x400000, 0x200000));
  CHECK(sim::breaks_alignment(0x204000, 0x200000));
}

TEST_CASE("RunMetrics gives what recomputing every metric after every event gives (differential)",
          "[replay][metrics]") {
  dart::DartStats d;
  d.free_bytes = 1 << 30;
  d.largest_free_bytes = 1 << 30;
  mapper::MapperStats s;
  sim::RunMetrics metrics(64, d);
  ReferenceMetrics ref(64);
  std::uint64_t x = 12345;
  const auto next = [&] {  // xorshift: a fixed, repeatable sequence
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  std::uint64_t last_waiting = 0;
  for (int event = 1; event <= 20000; ++event) {
    const std::uint64_t r = next();
    // What observe() relies on: the DART's state, and the mapper's host mappings, move only on
    // an event that changed the DART (its change counter moves; a refused call counts a call and
    // moves nothing else).
    if (r % 7 == 0) {  // a host mapping made or released: the free space moves
      ++(next() % 2 == 0 ? d.map_calls : d.unmap_calls);
      ++d.changes;
      d.free_bytes = (next() % 4096) << 14;
      d.largest_free_bytes = d.free_bytes == 0 ? 0 : (next() % (d.free_bytes >> 14) + 1) << 14;
      d.mapped_bytes = (next() % 4096) << 14;
      s.live_mappings = next() % 100;
    } else if (r % 13 == 0) {
      ++d.map_calls;  // refused
    }
    if (r % 3 == 0) s.requested_bytes = (next() % 65536) << 12;
    const std::uint64_t waiting = r % 11 == 0 ? next() % 5 : 0;
    if (waiting != last_waiting) metrics.queue_moved();  // as the replay marks its queue's changes
    last_waiting = waiting;
    metrics.observe(s, d, waiting);
    ref.observe(s, d, waiting);
    REQUIRE(metrics.frag_index() == ref.frag);
    REQUIRE(metrics.frag_index_peak() == ref.frag_peak);
  }
  CHECK(metrics.exposure_peak_bytes() == ref.exposure_peak);
  CHECK(metrics.exposure_mean_bytes(20000) == ref.exposure_sum / 20000.0);
  check_same_series(metrics.series().points(), ref.series.points());
}

TEST_CASE("a replay's metrics are those of every metric recomputed after every event, for every policy",
          "[replay][metrics]") {
  // observe() works out what it reads from the DART only on events that changed it, and the
  // series' columns but the requested bytes only then. This holds it to the plain rule, read from
  // the replay's own mapper and DART after every event: it fails if any of those columns moves on
  // an event that left the DART's change counter alone (the mapper's host mappings, say), and,
  // with the small host's refusals, if a refusal moved anything the metrics read.
  const char* policies[] = {"direct", "window:64K", "multi:64K,1M", "adaptive", "lazy:window:64K,keep=32",
                            "bounce:4M", "cap:window:64K,windows=24"};
  // A small host, so that maps are refused and the aperture fragments.
  const char* dart = "aperture=8M,slots=40,alloc=best-fit";
  std::vector<sim::RunConfig> runs;
  for (const char* p : policies) runs.push_back(config(p, dart));
  constexpr std::size_t kPoints = 16;
  sim::Replay replay(runs, sim::ReplayOptions{.series_points = kPoints});

  // Beside each run's reference, the DART's extremes after every map, as after_map takes them.
  struct Reference {
    ReferenceMetrics metrics{kPoints};
    std::uint64_t peak_tables = 0;
    std::uint64_t min_largest = 0;
  };
  std::vector<Reference> refs(runs.size());
  for (std::size_t r = 0; r < runs.size(); ++r) refs[r].min_largest = replay.dart_stats(r).largest_free_bytes;

  trace::gen::GenParams params;
  params.events = 6000;
  params.seed = 7;
  params.live_target = 3000;
  std::string error;
  auto gen = trace::gen::make_generator("game", params, &error);
  REQUIRE(gen);
  Event ev;
  std::uint64_t events = 0;
  while (gen->next(ev)) {
    REQUIRE(replay.apply(ev));
    ++events;
    for (std::size_t r = 0; r < runs.size(); ++r) {
      const mapper::MapperStats& s = replay.mapper_stats(r);
      const dart::DartStats& d = replay.dart_stats(r);
      const std::uint64_t waiting = replay.result(r).waiting_at_end;
      Reference& ref = refs[r];
      ref.metrics.observe(s, d, waiting);
      if (trace::is_map_kind(ev.kind)) {
        ref.peak_tables = std::max(ref.peak_tables, d.tables_live);
        ref.min_largest = std::min(ref.min_largest, d.largest_free_bytes);
      }
    }
  }
  REQUIRE(events == params.events);
  for (std::size_t r = 0; r < runs.size(); ++r) {
    INFO(policies[r]);
    const sim::RunResult got = replay.result(r);
    const Reference& ref = refs[r];
    CHECK(got.failed_maps + got.waits > 0);  // the small host refused some: the failure paths were taken
    CHECK(got.exposure_peak_bytes == ref.metrics.exposure_peak);
    CHECK(got.exposure_mean_bytes == ref.metrics.exposure_sum / static_cast<double>(events));
    CHECK(got.frag_index_final == ref.metrics.frag);
    CHECK(got.frag_index_peak == ref.metrics.frag_peak);
    // cap serves waiting requests inside an unmap, and takes these after each of them: the
    // reference, which sees only the event's end, cannot follow it there.
    if (std::string_view(policies[r]).starts_with("cap:")) {
      CHECK(got.waits > 0);
    } else {
      CHECK(got.dart_peak_tables == ref.peak_tables);
      CHECK(got.min_largest_free_bytes == ref.min_largest);
    }
    check_same_series(got.series, ref.metrics.series.points());
  }
}
