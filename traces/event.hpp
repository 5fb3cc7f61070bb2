// SPDX-License-Identifier: MIT
// One trace event, as every reader produces it and every writer consumes it.
// Traces know nothing of models or policies.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace dartlab::trace {

enum class EventKind : std::uint8_t {
  Map,      // dma_map_page / dma_map_single: one range
  Unmap,    // its unmap, by id
  MapSg,    // dma_map_sg: several segments, one id
  UnmapSg,  // its unmap, by id
  Alloc,    // dma_alloc_coherent / dma_alloc_pages: one range, bidirectional
  Free,     // its free, by id
  Access,   // the device touches [gpa, gpa+len) of a live request (timed mode; checked in functional mode)
};
inline constexpr int kEventKindCount = 7;

// DMA-API direction (Linux enum dma_data_direction).
enum class Direction : std::uint8_t { Bidirectional, ToDevice, FromDevice };

struct Segment {
  std::uint64_t gpa = 0;
  std::uint64_t len_bytes = 0;
};

struct Event {
  EventKind kind = EventKind::Map;
  Direction dir = Direction::Bidirectional;
  std::uint16_t device = 0;       // index into the reader's device table (BDF strings)
  bool has_time = false;
  std::uint64_t time_ns = 0;      // optional timestamp
  std::uint64_t id = 0;           // ties an unmap/free/access to its map/alloc
  std::uint64_t gpa = 0;          // Map, Alloc, Access
  std::uint64_t len_bytes = 0;    // Map, Alloc, Access
  // Map, MapSg, Alloc: the alignment the driver wanted of the bus address (a power of two;
  // 0: none asked). The host cannot honour it (BACKGROUND.md); a replay counts the breaks.
  std::uint64_t align_bytes = 0;
  std::span<const Segment> segments;  // MapSg only; valid until the next event is read
};

std::string_view to_string(EventKind k);
std::string_view to_string(Direction d);

// True for events that create a live request (Map, MapSg, Alloc).
constexpr bool is_map_kind(EventKind k) {
  return k == EventKind::Map || k == EventKind::MapSg || k == EventKind::Alloc;
}
// True for events that end one (Unmap, UnmapSg, Free).
constexpr bool is_unmap_kind(EventKind k) {
  return k == EventKind::Unmap || k == EventKind::UnmapSg || k == EventKind::Free;
}

}  // namespace dartlab::trace
