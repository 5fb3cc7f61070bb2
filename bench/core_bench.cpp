// SPDX-License-Identifier: MIT
// Core rate: the mapper + functional DART over an in-memory stream of generated game-like events,
// and the full replay engine (id table, consistency checks) over the same stream.
//
// The events are generated once, before timing, into a compact array; scatter-gather lists are
// expanded to one request per segment (which is what the mapper sees anyway).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <algorithm>
#include <bit>
#include <climits>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "models/dart/dart.hpp"
#include "passthrough/backends/dart_backend.hpp"
#include "base/flat_map.hpp"
#include "passthrough/mapper/mapper.hpp"
#include "sim/replay/replay.hpp"
#include "traces/gen/generator.hpp"

using namespace dartlab;

namespace {

struct CompactEvent {
  std::uint64_t gpa;
  std::uint32_t len_bytes;
  std::uint32_t slot;  // dense index of the request (recycled), so tokens live in a flat array
  bool map;
};

std::uint64_t event_count() {
  const char* env = std::getenv("DARTLAB_BENCH_EVENTS");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 10'000'000ULL;
}

std::vector<CompactEvent> make_game_events(std::uint64_t live_target) {
    trace::gen::GenParams params;
    params.events = event_count();
    params.seed = 1;
    params.live_target = live_target;
    std::string error;
    auto gen = trace::gen::make_generator("game", params, &error);
    if (!gen) std::abort();
    std::vector<CompactEvent> out;
    out.reserve(params.events + params.events / 8);
    struct Span {
      std::uint32_t first;  // index in `out` of the request's first map
      std::uint32_t count;  // segments
    };
    dartlab::FlatMap<std::uint64_t, Span> live;  // id -> its map events
    std::vector<std::uint32_t> free_slots;
    std::uint32_t next_slot = 0;
    trace::Event ev;
    while (gen->next(ev)) {
      if (trace::is_map_kind(ev.kind)) {
        const trace::Segment single{ev.gpa, ev.len_bytes};
        const std::span<const trace::Segment> segs =
            ev.kind == trace::EventKind::MapSg ? ev.segments : std::span<const trace::Segment>(&single, 1);
        live.insert(ev.id, Span{static_cast<std::uint32_t>(out.size()), static_cast<std::uint32_t>(segs.size())});
        for (const auto& seg : segs) {
          std::uint32_t slot = next_slot;
          if (free_slots.empty()) {
            ++next_slot;
          } else {
            slot = free_slots.back();
            free_slots.pop_back();
          }
          out.push_back({seg.gpa, static_cast<std::uint32_t>(seg.len_bytes), slot, true});
        }
      } else if (trace::is_unmap_kind(ev.kind)) {
        const Span span = *live.find(ev.id);
        live.erase(ev.id);
        for (std::uint32_t i = span.first; i < span.first + span.count; ++i) {
          out.push_back({0, out[i].len_bytes, out[i].slot, false});
          free_slots.push_back(out[i].slot);
        }
      }
    }
    return out;
}

// Generated once per working-set size: 10 M events take a few hundred MB and about a second.
[[gnu::noinline]] const std::vector<CompactEvent>& game_events(std::uint64_t live_target) {
  static std::map<std::uint64_t, std::vector<CompactEvent>> cache;
  auto it = cache.find(live_target);
  if (it == cache.end()) it = cache.emplace(live_target, make_game_events(live_target)).first;
  return it->second;
}

void run_core(benchmark::State& state, const char* policy_spec, const char* dart_spec,
              std::uint64_t live_target = trace::gen::GenParams{}.live_target) {
  const auto& events = game_events(live_target);
  const auto policy = std::get<mapper::Policy>(mapper::parse_policy(policy_spec));
  const auto config = std::get<dart::DartConfig>(dart::parse_dart_spec(dart_spec));
  std::uint64_t failed = 0, peak = 0;
  struct World {
    World(const dart::DartConfig& c, const mapper::Policy& p, std::size_t slots)
        : d(c), backend(d), m(backend, p), held(slots) {}
    dart::Dart d;
    dartlab::backends::DartBackend backend;
    mapper::Mapper m;
    std::vector<mapper::MapToken> held;  // per request slot; generation 0: refused
  };
  for (auto _ : state) {
    state.PauseTiming();
    auto w = std::make_unique<World>(config, policy, events.size() / 2 + 1);
    state.ResumeTiming();
    for (const CompactEvent& e : events) {
      if (e.map) {
        const auto r = w->m.map(e.gpa, e.len_bytes, dartlab::Direction::ToDevice);
        w->held[e.slot] = r.ok ? r.value.token : mapper::MapToken{};
      } else if (w->held[e.slot].generation != 0) {
        w->m.unmap(w->held[e.slot], e.len_bytes);
      }
    }
    state.PauseTiming();
    benchmark::DoNotOptimize(w->m.stats());
    failed = w->m.stats().failed_maps;
    peak = w->m.stats().peak_mappings;
    w.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(events.size()));
  state.counters["events"] = static_cast<double>(events.size());
  state.counters["failed_maps"] = static_cast<double>(failed);
  state.counters["peak_mappings"] = static_cast<double>(peak);
}

void BM_CoreWindow256K(benchmark::State& s) { run_core(s, "window:256K", "alloc=first-fit"); }
// The same policy with a working set past the host's limits (1.5x the default game's: over 1.5 GiB).
void BM_CoreWindow256KOverLimit(benchmark::State& s) { run_core(s, "window:256K", "alloc=first-fit", 160000); }
void BM_CoreWindow256KUnlimited(benchmark::State& s) { run_core(s, "window:256K", "aperture=max,slots=unlimited"); }
void BM_CoreDirect(benchmark::State& s) { run_core(s, "direct", "alloc=first-fit"); }
void BM_CoreDirectBestFit(benchmark::State& s) { run_core(s, "direct", "alloc=best-fit"); }
void BM_CoreDirectBuddy(benchmark::State& s) { run_core(s, "direct", "alloc=buddy"); }
void BM_CoreDirectLinux(benchmark::State& s) { run_core(s, "direct", "alloc=linux"); }
// One pool, every request carved from it first-fit: 1G holds the calibrated game's peak (581 MiB).
void BM_CoreBounce1G(benchmark::State& s) { run_core(s, "bounce:1G", "alloc=first-fit"); }

// The whole replay engine (id table, trace checks, peaks) on in-memory events. They are kept as
// compactly as the core's (a 64-byte trace::Event per event made the engine stream four times the
// core's bytes: 8 ns of its 40 ns per event went to loading the next event's id, even with every
// table in cache) and expanded a batch at a time into one reused buffer, as `dartlab replay`'s
// decoder fills its batches; the expansion is timed with the engine.
struct StoredEvent {
  std::uint64_t id;
  std::uint64_t gpa;
  std::uint32_t len_bytes;
  std::uint32_t seg_first;  // map_sg: its segments in the side array
  std::uint16_t seg_count;
  trace::EventKind kind;
  trace::Direction dir;
  std::uint8_t align_log2;  // 0xff: no alignment asked
};
static_assert(sizeof(StoredEvent) == 32);

void run_replay_engine(benchmark::State& state, const char* policy_spec) {
  trace::gen::GenParams params;
  params.events = event_count();
  std::vector<StoredEvent> events;
  std::vector<trace::Segment> segs;
  {
    std::string error;
    auto gen = trace::gen::make_generator("game", params, &error);
    trace::Event ev;
    events.reserve(params.events);
    while (gen->next(ev)) {
      if (ev.len_bytes > UINT32_MAX || ev.segments.size() > UINT16_MAX) std::abort();
      StoredEvent s{ev.id, ev.gpa, static_cast<std::uint32_t>(ev.len_bytes), static_cast<std::uint32_t>(segs.size()),
                    static_cast<std::uint16_t>(ev.segments.size()), ev.kind, ev.dir,
                    static_cast<std::uint8_t>(ev.align_bytes == 0 ? 0xff : std::countr_zero(ev.align_bytes))};
      segs.insert(segs.end(), ev.segments.begin(), ev.segments.end());
      events.push_back(s);
    }
  }
  const sim::RunConfig runs[] = {{std::get<mapper::Policy>(mapper::parse_policy(policy_spec)),
                                  std::get<dart::DartConfig>(dart::parse_dart_spec(""))}};
  constexpr std::size_t kBatch = 1024;  // as replay_file's batches, given whole to apply_batch
  std::vector<trace::Event> batch(kBatch);
  std::uint64_t waits = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto replay = std::make_unique<sim::Replay>(runs);
    state.ResumeTiming();
    for (std::size_t at = 0; at < events.size(); at += kBatch) {
      const std::size_t n = std::min(kBatch, events.size() - at);
      for (std::size_t i = 0; i < n; ++i) {
        const StoredEvent& s = events[at + i];
        trace::Event& ev = batch[i];
        ev.kind = s.kind;
        ev.dir = s.dir;
        ev.id = s.id;
        ev.gpa = s.gpa;
        ev.len_bytes = s.len_bytes;
        ev.align_bytes = s.align_log2 == 0xff ? 0 : std::uint64_t{1} << s.align_log2;
        ev.segments = std::span<const trace::Segment>(segs.data() + s.seg_first, s.seg_count);
      }
      replay->apply_batch(std::span(batch).first(n), {});
    }
    state.PauseTiming();
    waits = replay->result(0).waits;
    replay.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(events.size()));
  state.counters["waits"] = static_cast<double>(waits);
}

void BM_ReplayEngine(benchmark::State& s) { run_replay_engine(s, "window:256K"); }
// The downstream build's cap: requests wait, and every release tries the queue's head.
void BM_ReplayEngineCap5600(benchmark::State& s) { run_replay_engine(s, "cap:window:128K,windows=5600"); }

// One request served by a live window: the path the issue says must not allocate.
void BM_WindowHit(benchmark::State& state) {
  dart::Dart d(std::get<dart::DartConfig>(dart::parse_dart_spec("")));
  dartlab::backends::DartBackend backend(d);
  mapper::Mapper m(backend, std::get<mapper::Policy>(mapper::parse_policy("window:256K")));
  const auto anchor = m.map(0x4000'0000, 4096, dartlab::Direction::ToDevice);
  std::uint64_t i = 0;
  for (auto _ : state) {
    const auto r = m.map(0x4000'0000 + ((i++ & 63) << 12), 4096, dartlab::Direction::ToDevice);
    m.unmap(r.value.token, 4096);
  }
  benchmark::DoNotOptimize(anchor);
  state.SetItemsProcessed(state.iterations() * 2);
}

// One request carved from a bounce pool already a third full in scattered runs, and given back.
void BM_BounceHit(benchmark::State& state) {
  dart::Dart d(std::get<dart::DartConfig>(dart::parse_dart_spec("")));
  dartlab::backends::DartBackend backend(d);
  mapper::Mapper m(backend, std::get<mapper::Policy>(mapper::parse_policy("bounce:64M")));
  std::vector<mapper::Mapping> held;
  for (std::uint64_t i = 0; i < 3 * 4096; ++i) held.push_back(m.map(i << 12, 4096, dartlab::Direction::ToDevice).value);
  for (std::uint64_t i = 0; i < held.size(); i += 3) m.unmap(held[i].token, 4096);  // holes of 4 KiB
  std::uint64_t i = 0;
  for (auto _ : state) {
    const std::uint64_t len = 4096 << (i++ & 3);  // 4K fits a hole; 8K..32K go past them
    const auto r = m.map(0x4000'0000, len, dartlab::Direction::ToDevice);
    m.unmap(r.value.token, len);
  }
  state.SetItemsProcessed(state.iterations() * 2);
}

}  // namespace

BENCHMARK(BM_CoreWindow256K)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_CoreWindow256KOverLimit)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_CoreWindow256KUnlimited)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_CoreDirect)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_CoreDirectBestFit)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_CoreDirectBuddy)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_CoreDirectLinux)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_CoreBounce1G)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ReplayEngine)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ReplayEngineCap5600)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_WindowHit);
BENCHMARK(BM_BounceHit);

BENCHMARK_MAIN();
