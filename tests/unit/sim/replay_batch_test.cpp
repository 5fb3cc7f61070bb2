// SPDX-License-Identifier: MIT
// Replay::apply_batch against Replay::apply (differential): whatever a batch does to go faster
// (read ahead, and whatever comes next), every result must be what the same events applied one
// at a time give, whatever the batch lengths, and each run's what it gives alone: counts, peaks,
// first failures, waits, accesses, series, warnings and the event an inconsistency stops at.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "sim/replay/replay.hpp"
#include "sim/replay/results_output.hpp"
#include "support/trace_events.hpp"
#include "traces/gen/generator.hpp"

using namespace dartlab;
using test::config;

namespace {

// Everything a replay reports, as results_json writes it (every field, the series included),
// for its runs [first, first + count) (all by default), with its events, warnings and issue.
std::string everything(const sim::Replay& replay, std::size_t first = 0, std::size_t count = SIZE_MAX) {
  sim::TraceOutcome t;
  t.events = replay.events();
  t.warnings = replay.warnings();
  t.warning_samples = replay.warning_samples();
  for (std::size_t r = first; r < replay.run_count() && r - first < count; ++r) t.results.push_back(replay.result(r));
  // The process's peak RSS is no result of the replay: it grows between the two calls.
  auto json = sim::results_json(std::span(&t, 1));
  json.erase("peak_rss_bytes");
  return json.dump() + "|" + replay.issue().message + "|" + std::to_string(replay.issue().event);
}

// Applies events one by one; returns how many were applied before a stop (all when none).
std::size_t one_by_one(sim::Replay& replay, std::span<const trace::Event> events) {
  for (std::size_t i = 0; i < events.size(); ++i)
    if (!replay.apply(events[i], i + 1)) return i;
  return events.size();
}

// The same through apply_batch in batches of random lengths.
std::size_t batched(sim::Replay& replay, std::span<const trace::Event> events, std::mt19937_64& rng) {
  std::vector<std::uint64_t> lines(events.size());
  for (std::size_t i = 0; i < lines.size(); ++i) lines[i] = i + 1;
  std::size_t at = 0;
  while (at < events.size()) {
    const std::size_t n = std::min<std::size_t>(events.size() - at, 1 + rng() % 1500);
    const std::size_t done = replay.apply_batch(events.subspan(at, n), std::span(lines).subspan(at, n));
    if (done < n) return at + done;
    at += n;
  }
  return events.size();
}

// Copies of the events, their sg lists owned by `segs`.
std::vector<trace::Event> generated(const char* generator, std::uint64_t events, std::uint64_t live,
                                    std::vector<std::vector<trace::Segment>>& segs) {
  trace::gen::GenParams params;
  params.events = events;
  params.seed = 7;
  params.live_target = live;
  std::string error;
  auto gen = trace::gen::make_generator(generator, params, &error);
  REQUIRE(gen);
  std::vector<trace::Event> out;
  segs.reserve(events);
  trace::Event ev;
  while (gen->next(ev)) {
    if (!ev.segments.empty()) {
      segs.emplace_back(ev.segments.begin(), ev.segments.end());
      ev.segments = segs.back();
    }
    out.push_back(ev);
  }
  return out;
}

// A trace with every inconsistency and accesses inside and outside requests, over few ids.
std::vector<trace::Event> messy(std::uint64_t count, std::mt19937_64& rng, std::vector<std::vector<trace::Segment>>& segs) {
  std::vector<trace::Event> out;
  segs.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t id = rng() % 300;
    const std::uint64_t gpa = (rng() % 4096) << 12;
    const std::uint64_t len = std::uint64_t{4096} << (rng() % 6);
    switch (rng() % 10) {
      case 0: case 1: case 2: out.push_back(test::map(id, gpa, len)); break;
      case 3: out.push_back(test::map(id, gpa, len, trace::EventKind::Alloc)); break;
      case 4: {
        trace::Event ev = test::map(id, 0, 0, trace::EventKind::MapSg);
        segs.emplace_back();
        for (std::uint64_t s = 0, n = 1 + rng() % 4; s < n; ++s) segs.back().push_back({gpa + (s << 20), len});
        ev.segments = segs.back();
        out.push_back(ev);
        break;
      }
      case 5: case 6: out.push_back(test::release(id)); break;
      case 7: out.push_back(test::release(id, rng() % 2 ? trace::EventKind::Free : trace::EventKind::UnmapSg)); break;
      default:
        out.push_back(test::access(id, gpa + (rng() % 2) * 4096, 1 + rng() % 8192,
                                   rng() % 2 ? trace::Direction::FromDevice : trace::Direction::ToDevice));
    }
  }
  return out;
}

// What the trace made happen, so that each test can check it exercised what it means to.
struct Seen {
  std::size_t stop = 0;
  std::uint64_t warnings = 0, waits = 0, cancelled = 0, failed = 0, accesses = 0, waiting_accesses = 0;
};

Seen same_either_way(std::span<const sim::RunConfig> runs, std::span<const trace::Event> events, bool lenient,
                     std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const sim::ReplayOptions options{.lenient = lenient, .series_points = 64};
  sim::Replay a(runs, options), b(runs, options);
  const std::size_t stop_a = one_by_one(a, events);
  const std::size_t stop_b = batched(b, events, rng);
  CHECK(stop_a == stop_b);
  CHECK(everything(a) == everything(b));
  // Each of several runs must also end as it does alone, where its maps and unmaps take the
  // one-run path.
  if (runs.size() > 1) {
    for (std::size_t r = 0; r < runs.size(); ++r) {
      sim::Replay alone(runs.subspan(r, 1), options);
      CHECK(one_by_one(alone, events) == stop_a);
      CHECK(everything(alone) == everything(b, r, 1));
    }
  }
  Seen seen{stop_a, a.warnings()};
  for (std::size_t r = 0; r < a.run_count(); ++r) {
    const sim::RunResult res = a.result(r);
    seen.waits += res.waits;
    seen.cancelled += res.cancelled_waits;
    seen.failed += res.failed_maps;
    seen.accesses += res.access_checks;
    seen.waiting_accesses += res.waiting_accesses;
  }
  return seen;
}

}  // namespace

TEST_CASE("a batch gives what apply() gives, event by event (game, caps, a stingy host)",
          "[replay][batch]") {
  std::vector<std::vector<trace::Segment>> segs;
  const auto events = generated("game", 40000, 3000, segs);
  const sim::RunConfig runs[] = {config("window:256K"),
                                 config("direct", "slots=600,aperture=16M,alloc=best-fit"),
                                 config("cap:window:128K,windows=150"),
                                 config("lazy:window:64K,keep=64"),
                                 config("cap:direct,windows=900", "aperture=32M"),
                                 config("multi:16K,256K,4M")};
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const Seen seen = same_either_way(runs, events, false, seed);
    CHECK(seen.stop == events.size());
    CHECK(seen.waits > 0);
    CHECK(seen.failed > 0);
  }
  // One run alone takes the single-run path.
  for (const sim::RunConfig& run : runs) same_either_way(std::span(&run, 1), events, false, 4);
}

TEST_CASE("a batch over several runs gives what apply() gives on a trace full of inconsistencies",
          "[replay][batch]") {
  std::mt19937_64 rng(11);
  std::vector<std::vector<trace::Segment>> segs;
  const auto events = messy(20000, rng, segs);
  const sim::RunConfig runs[] = {config("direct"), config("cap:window:64K,windows=3", "aperture=4M"),
                                 config("window:1M", "slots=20")};
  SECTION("lenient: every inconsistency a warning") {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      const Seen seen = same_either_way(runs, events, true, seed);
      CHECK(seen.stop == events.size());
      CHECK(seen.warnings > 0);
      CHECK(seen.waits > 0);
      CHECK(seen.cancelled > 0);
      CHECK(seen.accesses > 0);
      CHECK(seen.waiting_accesses > 0);
    }
  }
  SECTION("strict: the same event stops both, with the same issue") {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) CHECK(same_either_way(runs, events, false, seed).stop < events.size());
  }
}
