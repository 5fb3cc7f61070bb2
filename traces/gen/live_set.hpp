// SPDX-License-Identifier: MIT
// The live requests of a churning profile (game, uvm, churn): each a Map or Alloc of one range
// or a MapSg of a few runs, released in random order. Internal to traces/gen.
#pragma once

#include <cstdint>
#include <vector>

#include "traces/event.hpp"
#include "traces/gen/guest_memory.hpp"
#include "traces/gen/rng.hpp"

namespace dartlab::trace::gen {

// 16 bytes, so that a table of a hundred thousand stays mostly in cache: a victim is a random
// entry.
struct LiveRequest {
  std::uint64_t id = 0;
  std::uint32_t where = 0;  // Map, Alloc: first page, counted from ram_base; MapSg: its slot
  std::uint16_t size = 0;   // Map, Alloc: pages; MapSg: segments
  EventKind kind = EventKind::Map;
  std::uint8_t flags = 0;   // the Direction in the low bits, kLongLived above

  static constexpr std::uint8_t kDirMask = 3;
  static constexpr std::uint8_t kLongLived = 4;
  Direction dir() const { return static_cast<Direction>(flags & kDirMask); }
  bool long_lived() const { return (flags & kLongLived) != 0; }
};
static_assert(sizeof(LiveRequest) == 16);

class LiveSet {
 public:
  // Segments of a MapSg at most: nv_dma_map_pages merges contiguous runs, so a small buffer's
  // list is short.
  static constexpr std::uint32_t kSgMaxRuns = 8;
  LiveSet(std::uint64_t ram_base, std::size_t expected_live);

  std::size_t size() const { return live_.size(); }
  bool empty() const { return live_.empty(); }
  const LiveRequest& operator[](std::size_t index) const { return live_[index]; }
  std::uint64_t bytes() const { return bytes_; }  // bytes of every live range
  std::uint64_t bytes_of(const LiveRequest& request) const;

  // A new Map or Alloc of [gpa, gpa + bytes), written to ev (align 0).
  void add_range(std::uint64_t id, EventKind kind, Direction dir, std::uint64_t gpa,
                 std::uint64_t bytes, bool long_lived, Event& ev);
  // A new MapSg of `runs` runs (at most kSgMaxRuns), each a block of 2^order_of() pages from
  // `memory`, contiguous ones merged, written to ev; false, with nothing kept, when guest RAM
  // runs out.
  template <class OrderOf>
  bool add_sg(GuestMemory& memory, std::uint32_t runs, OrderOf order_of, std::uint64_t id,
              Direction dir, bool long_lived, Event& ev) {
    const std::uint32_t slot = open_sg();
    Segment* segments = sg(slot);
    std::size_t count = 0;
    for (std::uint32_t i = 0; i < runs; ++i) {
      const unsigned order = order_of();
      const auto gpa = memory.alloc(order);
      if (!gpa) {
        free_segments(memory, std::span<const Segment>(segments, count));
        free_sg_slots_.push_back(slot);
        return false;
      }
      count = append_run(segments, count, *gpa, order_bytes(order));
    }
    commit_sg(id, slot, static_cast<std::uint16_t>(count), dir, long_lived, ev);
    return true;
  }

  // Ends request `index` (the last takes its place), gives its memory back and writes its
  // Unmap, UnmapSg or Free to ev.
  void release(std::size_t index, GuestMemory& memory, Event& ev);
  // A hint that request `index` will soon be read.
  void prefetch(std::size_t index) const { __builtin_prefetch(&live_[index]); }

 private:
  std::uint32_t open_sg();
  Segment* sg(std::uint32_t slot) { return &sg_segments_[std::size_t{slot} * kSgMaxRuns]; }
  void commit_sg(std::uint64_t id, std::uint32_t slot, std::uint16_t count, Direction dir,
                 bool long_lived, Event& ev);

  std::uint64_t ram_base_;
  std::uint64_t bytes_ = 0;
  std::vector<LiveRequest> live_;     // unordered
  std::vector<Segment> sg_segments_;  // kSgMaxRuns per slot
  std::vector<std::uint32_t> free_sg_slots_;
};

// Whether a churning live set should grow (map) or shrink (unmap) now: a map is certain at the
// low edge of [target - band, target + band], never at the high edge, and even at the target,
// so the live set hovers near it.
class LiveBand {
 public:
  LiveBand(std::uint64_t target, std::uint64_t band);
  bool wants_map(std::uint64_t live, Rng& rng) const;
  std::uint64_t low() const { return target_ - band_; }
  std::uint64_t high() const { return target_ + band_; }

 private:
  std::uint64_t target_;
  std::uint64_t band_;
  std::int64_t bias_per_unit_;  // 2^31 / band: the map chance moves this per unit off target
};

}  // namespace dartlab::trace::gen
