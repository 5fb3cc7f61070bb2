// SPDX-License-Identifier: MIT
// Random trace events over the whole range of every field, for round-trip tests of the trace
// formats: extremes included, map_sg up to the segment limit, alignments on a quarter of maps.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "traces/event.hpp"
#include "traces/text_format.hpp"

namespace dartlab::test {

using trace::Direction;
using trace::Event;
using trace::EventKind;
using trace::Segment;
using trace::kEventKindCount;
namespace text = trace::text;

// ev.segments points into `segs`.
inline Event random_event(std::mt19937_64& rng, std::uint16_t device_count, std::vector<Segment>& segs) {
  auto pick = [&](std::uint64_t n) { return rng() % n; };
  // Values across the whole range, small ones and the extremes included.
  auto u64 = [&] {
    switch (pick(4)) {
      case 0: return pick(100);
      case 1: return ~std::uint64_t{0} - pick(3);
      default: return rng() >> pick(64);
    }
  };
  auto range = [&](std::uint64_t& gpa, std::uint64_t& len) {
    gpa = u64();
    std::uint64_t room = ~std::uint64_t{0} - gpa;  // len <= 2^64 - gpa
    len = 1 + (room == 0 ? 0 : (rng() >> pick(64)) % room);
  };
  Event ev;
  ev.kind = static_cast<EventKind>(pick(kEventKindCount));
  ev.has_time = pick(2) == 0;
  if (ev.has_time) ev.time_ns = u64();
  ev.id = u64();
  switch (ev.kind) {
    case EventKind::Map:
      ev.device = static_cast<std::uint16_t>(pick(device_count));
      range(ev.gpa, ev.len_bytes);
      ev.dir = static_cast<Direction>(pick(3));
      break;
    case EventKind::Alloc:
      ev.device = static_cast<std::uint16_t>(pick(device_count));
      range(ev.gpa, ev.len_bytes);
      break;
    case EventKind::Access:
      range(ev.gpa, ev.len_bytes);
      ev.dir = static_cast<Direction>(pick(3));
      break;
    case EventKind::MapSg:
      ev.device = static_cast<std::uint16_t>(pick(device_count));
      ev.dir = static_cast<Direction>(pick(3));
      segs.resize(pick(10) == 0 ? text::kMaxSegments - pick(2) : 1 + pick(64));
      for (auto& s : segs) range(s.gpa, s.len_bytes);
      ev.segments = segs;
      break;
    case EventKind::Unmap:
    case EventKind::UnmapSg:
    case EventKind::Free:
      break;
  }
  if (is_map_kind(ev.kind) && pick(4) == 0) ev.align_bytes = std::uint64_t{1} << pick(64);
  return ev;
}


}  // namespace dartlab::test
