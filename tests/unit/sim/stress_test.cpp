// SPDX-License-Identifier: MIT
// Stress soaks and their shrinking: a churn soak fails the way its configuration makes it fail,
// its shrunk trace fails the same way and is far smaller, both are the same for a seed, looping
// a trace keeps it consistent, and a bound stops a soak that does not fail.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <variant>

#include "sim/stress/shrink.hpp"
#include "sim/stress/stress.hpp"

using namespace dartlab;

namespace {

sim::RunConfig config(const char* policy, const char* dart) {
  return {std::get<mapper::Policy>(mapper::parse_policy(policy)), std::get<dart::DartConfig>(dart::parse_dart_spec(dart))};
}

trace::gen::GenParams churn(std::uint64_t live_bytes, std::uint64_t max_bytes, std::uint64_t seed) {
  trace::gen::GenParams p;
  p.churn_live_bytes = live_bytes;
  p.churn_max_bytes = max_bytes;
  p.seed = seed;
  p.events = 1'000'000;
  return p;
}

struct Soak {
  sim::StressResult result;
  sim::StressHistory history;
};

Soak soak(const trace::gen::GenParams& params, const sim::RunConfig& run) {
  std::string error;
  auto source = sim::make_generator_source("churn", params, &error);
  REQUIRE(source);
  Soak s;
  auto outcome = sim::run_stress(*source, run, sim::StressOptions{.limits = {.max_events = params.events}, .history = &s.history});
  REQUIRE(std::holds_alternative<sim::StressResult>(outcome));
  s.result = std::get<sim::StressResult>(std::move(outcome));
  return s;
}

class TempFile {
 public:
  explicit TempFile(const std::string& name)
      : path_((std::filesystem::temp_directory_path() / ("dartlab-stress-" + std::to_string(::getpid()) + "-" + name)).string()) {}
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST_CASE("a churn soak fails for its configuration's reason and shrinks to a small trace that fails the same way",
          "[stress][shrink]") {
  struct Case {
    const char* name;
    const char* policy;
    const char* dart;
    std::uint64_t live_bytes, max_bytes, seed;
    dartlab::MapError reason;
  };
  // Configurations found to fail after thousands of events, each for a different reason.
  const Case c = GENERATE(Case{"few slots", "window:1M", "slots=300", 256u << 20, 4u << 20, 1, dartlab::MapError::Slots},
                          Case{"small aperture", "window:1M", "aperture=96M", 64u << 20, 1u << 20, 1,
                               dartlab::MapError::Aperture},
                          Case{"aperture cut into holes", "window:1M", "aperture=92M", 64u << 20, 1u << 20, 2,
                               dartlab::MapError::Fragmented});
  INFO(c.name);
  const sim::RunConfig run = config(c.policy, c.dart);
  Soak s = soak(churn(c.live_bytes, c.max_bytes, c.seed), run);
  REQUIRE(s.result.failure);
  CHECK(s.result.stop == sim::StressStop::Failure);
  CHECK(s.result.failure->reason == c.reason);
  CHECK(s.result.failure->event == s.result.events);
  CHECK(s.history.size() == s.result.events);
  CHECK(s.result.events > 2000);  // a soak, not an instant failure

  const sim::ShrinkResult shrunk =
      sim::shrink_failure(s.history, s.result.events, run, c.reason, sim::ShrinkOptions{.max_seconds = 600});
  CHECK(shrunk.complete);
  // The shrunk trace fails, the same way, at its last event; and is far smaller.
  const sim::FirstFailure again = sim::replay_events(s.history, shrunk.events, run);
  REQUIRE(again.happened);
  CHECK(again.reason == c.reason);
  CHECK(again.event == shrunk.events.size());
  INFO(shrunk.events.size() << " of " << s.result.events << " events, " << shrunk.predicate_calls << " replays");
  CHECK(shrunk.events.size() * 20 < s.result.events);  // under 5%
  // 1-minimal: without any one of its requests it no longer fails so (checked on the first few).
  std::vector<std::uint32_t> maps;
  for (const std::uint32_t i : shrunk.events)
    if (trace::is_map_kind(s.history.event(i).kind)) maps.push_back(i);
  for (std::size_t k = 0; k < std::min<std::size_t>(maps.size(), 8); ++k) {
    std::vector<std::uint32_t> fewer;
    const std::uint64_t id = s.history.event(maps[k]).id;
    for (const std::uint32_t i : shrunk.events)
      if (s.history.event(i).id != id) fewer.push_back(i);
    const sim::FirstFailure f = sim::replay_events(s.history, fewer, run);
    CHECK_FALSE((f.happened && f.reason == c.reason));
  }
}

TEST_CASE("the same seed gives the same failure event and the same shrunk trace", "[stress][shrink]") {
  const sim::RunConfig run = config("window:1M", "aperture=92M");
  const auto params = churn(64u << 20, 1u << 20, 2);
  Soak a = soak(params, run);
  Soak b = soak(params, run);
  REQUIRE(a.result.failure);
  REQUIRE(b.result.failure);
  CHECK(a.result.failure->event == b.result.failure->event);
  CHECK(a.result.bytes_moved == b.result.bytes_moved);
  const auto shrink = [&](const Soak& s) {
    return sim::shrink_failure(s.history, s.result.events, run, s.result.failure->reason, {.max_seconds = 600});
  };
  CHECK(shrink(a).events == shrink(b).events);

  Soak other = soak(churn(64u << 20, 1u << 20, 3), run);
  CHECK((!other.result.failure || other.result.failure->event != a.result.failure->event));
}

TEST_CASE("a soak that does not fail stops at its bound", "[stress]") {
  const sim::RunConfig run = config("window:256K", "");  // the observed host: churn's 64 MiB fits easily
  auto params = churn(64u << 20, 1u << 20, 1);
  std::string error;
  SECTION("a soak bounded by events stops at exactly that many") {
    auto source = sim::make_generator_source("churn", params, &error);
    auto r = std::get<sim::StressResult>(sim::run_stress(*source, run, {.limits = {.max_events = 5000}}));
    CHECK_FALSE(r.failure);
    CHECK(r.stop == sim::StressStop::MaxEvents);
    CHECK(r.events == 5000);
  }
  SECTION("a soak bounded by bytes stops once it has moved that many") {
    auto source = sim::make_generator_source("churn", params, &error);
    auto r = std::get<sim::StressResult>(sim::run_stress(*source, run, {.limits = {.max_bytes = 32u << 20}}));
    CHECK(r.stop == sim::StressStop::MaxBytes);
    CHECK(r.bytes_moved >= (32u << 20));
    CHECK(r.events < 5000);
  }
}

TEST_CASE("a soak's fragmentation curve is bounded, ends at the failure and holds its peak", "[stress][curve]") {
  const sim::RunConfig run = config("window:1M", "aperture=92M");
  Soak s = soak(churn(64u << 20, 1u << 20, 2), run);
  REQUIRE(s.result.failure);
  const auto& curve = s.result.curve;
  REQUIRE(!curve.empty());
  CHECK(curve.size() <= sim::kCurvePoints);
  CHECK(curve.back().event == s.result.events);
  CHECK(s.result.curve_bucket_events * (curve.size() - 1) < s.result.events);
  double peak = 0;
  std::uint64_t previous = 0;
  for (const auto& p : curve) {
    CHECK(p.event > previous);
    previous = p.event;
    peak = std::max(peak, p.max.frag_index);
  }
  CHECK(peak >= s.result.failure->dart.frag_index());
  CHECK(peak > 0.3);  // the aperture was cut into holes on the way
  CHECK(sim::fragmentation_index(0, 0) == 0.0);
  CHECK(sim::fragmentation_index(1000, 1000) == 0.0);
  CHECK(sim::fragmentation_index(1000, 250) == Approx(0.75));
}

TEST_CASE("a looped trace gets fresh ids and page-aligned shifts per loop, and stays consistent", "[stress][loop]") {
  TempFile file("loop.trace");
  {
    std::FILE* f = std::fopen(file.path().c_str(), "w");
    REQUIRE(f != nullptr);
    // Request 3 is still live at the end of the trace.
    std::fputs("dartlab-trace v1\n"
               "map 1 gpu 0x40000000 4K to_dev\n"
               "map_sg 2 gpu from_dev 0x40100000:64K 0x40300000:16K\n"
               "alloc 3 gpu 0x40400000 2M\n"
               "access 2 0x40300000 4096 from_dev\n"
               "unmap 1\n"
               "unmap_sg 2\n",
               f);
    std::fclose(f);
  }
  const sim::RunConfig run = config("window:256K", "");
  for (const sim::Leftovers leftovers : {sim::Leftovers::Drain, sim::Leftovers::Keep}) {
    INFO(sim::to_string(leftovers));
    auto source = sim::make_looped_trace_source(
        file.path(), {.jitter_bytes = 64u << 20, .seed = 9, .leftovers = leftovers});
    sim::StressHistory history;
    const std::uint64_t loops = 50;
    const std::uint64_t per_loop = leftovers == sim::Leftovers::Drain ? 7 : 6;  // drain adds the free of 3
    auto outcome = sim::run_stress(*source, run, {.limits = {.max_events = loops * per_loop}, .history = &history});
    REQUIRE(std::holds_alternative<sim::StressResult>(outcome));  // consistent: the replay found nothing wrong
    const auto& r = std::get<sim::StressResult>(outcome);
    CHECK_FALSE(r.failure);
    REQUIRE(history.size() == loops * per_loop);
    std::set<std::uint64_t> ids;
    std::set<std::uint64_t> shifts;
    std::set<std::uint64_t> alloc_gpas;
    std::uint64_t frees = 0;
    for (std::size_t i = 0; i < history.size(); ++i) {
      const trace::Event ev = history.event(i);
      frees += ev.kind == trace::EventKind::Free;
      if (ev.kind == trace::EventKind::Alloc) alloc_gpas.insert(ev.gpa);
      if (!trace::is_map_kind(ev.kind)) continue;
      CHECK(ids.insert(ev.id).second);  // never reused
      if (ev.kind == trace::EventKind::Map) {
        const std::uint64_t shift = ev.gpa - 0x40000000;
        CHECK(shift % sim::kJitterUnitBytes == 0);
        CHECK(shift <= (64u << 20));
        if (i < per_loop) CHECK(shift == 0);  // the first loop is the trace as given
        shifts.insert(shift);
      }
    }
    CHECK(ids.size() == loops * 3);
    CHECK(shifts.size() > loops / 2);  // the shifts vary
    // Drain: each loop's leftover alloc is freed before the next loop, the last one too. Keep:
    // never freed, one host mapping per distinct shifted range.
    if (leftovers == sim::Leftovers::Drain) {
      CHECK(frees == loops);
      CHECK(r.final_dart.live_mappings == 0);
    } else {
      CHECK(frees == 0);
      CHECK(r.final_dart.live_mappings == alloc_gpas.size());
      CHECK(alloc_gpas.size() > loops / 2);
    }
  }
}

TEST_CASE("a looped trace's errors name its file and line", "[stress][loop]") {
  TempFile file("bad.trace");
  std::FILE* f = std::fopen(file.path().c_str(), "w");
  REQUIRE(f != nullptr);
  std::fputs("dartlab-trace v1\nmap 1 gpu 0x40000000 4K to_dev\nunmap 2\n", f);
  std::fclose(f);
  auto source = sim::make_looped_trace_source(file.path(), {});
  auto outcome = sim::run_stress(*source, config("direct", ""), {.limits = {.max_events = 100}});
  REQUIRE(std::holds_alternative<std::string>(outcome));
  CHECK_THAT(std::get<std::string>(outcome),
             Catch::Matchers::Contains(file.path() + ":3: error: unmap of id 2 which is not live (loop 1)"));

  auto missing = sim::make_looped_trace_source(file.path() + ".none", {});
  auto none = sim::run_stress(*missing, config("direct", ""), {.limits = {.max_events = 100}});
  REQUIRE(std::holds_alternative<std::string>(none));
  CHECK_THAT(std::get<std::string>(none), Catch::Matchers::Contains(".none"));
}
