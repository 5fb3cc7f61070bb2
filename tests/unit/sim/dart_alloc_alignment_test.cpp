// SPDX-License-Identifier: MIT
// What the size-aligned aperture allocators buy a UVM-shaped workload: the 2 MiB chunks that ask
// for align=2M get 2 MiB-aligned DMA addresses through the mapper under `direct` with alloc=linux
// or buddy, where first-fit hands out whatever the last hole was.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <variant>

#include "models/dart/dart.hpp"
#include "passthrough/backends/dart_backend.hpp"
#include "passthrough/mapper/mapper.hpp"
#include "traces/gen/generator.hpp"

using namespace dartlab;

namespace {

struct AlignmentCount {
  std::uint64_t asked = 0;   // maps with an align= that the DART served
  std::uint64_t broken = 0;  // of those, DMA addresses off the asked alignment
};

// Replays the map and unmap events of a generated uvm trace (scatter-gather buffers one segment
// at a time) through mapper + DART, counting the alignment of single maps that asked for one.
AlignmentCount replay_uvm(const std::string& dart_spec) {
  trace::gen::GenParams params;
  params.events = 40000;
  params.seed = 3;
  std::string error;
  auto gen = trace::gen::make_generator("uvm", params, &error);
  REQUIRE(gen);
  dart::Dart d(std::get<dart::DartConfig>(dart::parse_dart_spec(dart_spec)));
  dartlab::backends::DartBackend backend(d);
  mapper::Mapper m(backend, std::get<mapper::Policy>(mapper::parse_policy("direct")));
  std::multimap<std::uint64_t, std::pair<mapper::MapToken, std::uint64_t>> live;  // id -> (token, len)
  AlignmentCount count;
  trace::Event ev;
  while (gen->next(ev)) {
    if (ev.kind == trace::EventKind::Map || ev.kind == trace::EventKind::Alloc) {
      const auto r = m.map(ev.gpa, ev.len_bytes, dartlab::Direction::Bidirectional);
      if (!r.ok) continue;
      live.emplace(ev.id, std::pair{r.value.token, ev.len_bytes});
      if (ev.align_bytes != 0) {
        ++count.asked;
        if (r.value.dma_addr % ev.align_bytes != 0) ++count.broken;
      }
    } else if (ev.kind == trace::EventKind::MapSg) {
      for (const trace::Segment& s : ev.segments) {
        const auto r = m.map(s.gpa, s.len_bytes, dartlab::Direction::Bidirectional);
        if (r.ok) live.emplace(ev.id, std::pair{r.value.token, s.len_bytes});
      }
    } else if (trace::is_unmap_kind(ev.kind)) {
      const auto [first, last] = live.equal_range(ev.id);
      for (auto it = first; it != last; ++it) REQUIRE(m.unmap(it->second.first, it->second.second).ok);
      live.erase(first, last);
    }
  }
  return count;
}

}  // namespace

TEST_CASE("alloc=linux and alloc=buddy give 2 MiB requests 2 MiB-aligned DMA addresses, first-fit does not",
          "[dart][alloc]") {
  SECTION("size-aligned allocators keep every align=2M request") {
    const std::string alloc = GENERATE(as<std::string>{}, "linux", "buddy");
    CAPTURE(alloc);
    const AlignmentCount c = replay_uvm("alloc=" + alloc);
    CHECK(c.asked > 100);
    CHECK(c.broken == 0);
  }
  SECTION("first-fit breaks many of them") {
    const AlignmentCount c = replay_uvm("alloc=first-fit");
    CHECK(c.asked > 100);
    CHECK(c.broken > c.asked / 2);
  }
}
