// SPDX-License-Identifier: MIT
// Where a generated request lives in guest-physical memory: the driver's allocations, made from
// the guest's page allocator (buddy_allocator.hpp) while the rest of the guest allocates from it
// too.
//
// The rest of the guest (the game's own memory, page cache, slab, page tables) is one pool of
// order-0 pages. Before each allocation of the driver it allocates 0 .. 2 x other_per_alloc
// pages (uniform) from the same per-CPU list, and once the pool holds other_per_alloc pages per
// live allocation the profile expects of the driver, it frees a random one of them after each
// of its allocations. So:
// - pages the driver takes close in time lie close together, a few of the guest's own between
//   them: clustered in guest-physical memory, rarely contiguous (BACKGROUND.md, "over 90% of a
//   game's mappings are 4 KiB, not contiguous but clustered");
// - a page the driver frees goes to the head of the per-CPU list, and the next allocation,
//   the driver's or the guest's, takes it back: the driver's pages stay within the region they
//   first took, mixed ever more with the guest's, at about one driver page to other_per_alloc
//   of the guest's.
// When the buddy allocator has no block for the driver, the guest gives pages back (as reclaim
// would) until one frees up or the pool is empty.
// Nothing is allocated after construction.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "traces/event.hpp"
#include "traces/gen/buddy_allocator.hpp"
#include "traces/gen/rng.hpp"

namespace dartlab::trace::gen {

struct GenParams;

class GuestMemory {
 public:
  // Guest RAM, the per-CPU list and other_per_alloc from `params`; the rest of the guest's
  // working set is other_per_alloc times `driver_allocs`, the allocations the profile expects
  // the driver to keep live (at most half of guest RAM).
  GuestMemory(const GenParams& params, std::uint64_t driver_allocs);

  // A naturally aligned block of 2^order pages for the driver, or nothing when guest RAM has
  // none even after the rest of the guest gave all its pages back.
  std::optional<std::uint64_t> alloc(unsigned order);
  void free(std::uint64_t gpa, unsigned order) { buddy_.free(gpa, order); }
  void free_range(std::uint64_t gpa, std::uint64_t bytes) { buddy_.free_range(gpa, bytes); }

  std::uint64_t ram_base() const { return ram_base_; }
  std::uint64_t other_pages_live() const { return others_.size(); }
  const BuddyAllocator& buddy() const { return buddy_; }

 private:
  void other_alloc();
  void reclaim(std::uint64_t pages);
  void free_other(std::size_t index);

  std::uint64_t ram_base_;
  BuddyAllocator buddy_;
  Rng rng_;  // apart from the profile's, so that the guest's draws do not shift the profile's
  std::uint32_t others_choices_;  // 2 x other_per_alloc + 1, rounded: pages drawn below it
  std::size_t others_capacity_;
  std::vector<std::uint64_t> others_;  // gpas of the guest's own live pages, unordered
};

// dma_map_sg lists as the NVIDIA driver builds them: nv_alloc_system_pages allocates an
// allocation's pages in chunks of get_order(page_size), and nv_dma_map_pages hands dma_map_sg
// a scatterlist with physically contiguous runs merged (BACKGROUND.md).

// Appends [gpa, gpa + bytes) to the first `count` segments, merged into the last one when it
// continues it; returns the new count. There must be room for one more segment.
inline std::size_t append_run(Segment* segments, std::size_t count, std::uint64_t gpa,
                              std::uint64_t bytes) {
  if (count > 0 && segments[count - 1].gpa + segments[count - 1].len_bytes == gpa) {
    segments[count - 1].len_bytes += bytes;
    return count;
  }
  segments[count] = Segment{gpa, bytes};
  return count + 1;
}

// A long-lived dma_map_sg buffer: its id and its runs.
struct SgBuffer {
  std::uint64_t id = 0;
  std::vector<Segment> segments;

  // Writes its dma_map_sg to ev: bidirectional, as the resource manager maps.
  void write_map(Event& ev, std::uint64_t align_bytes = 0) const;
  // Gives its memory back and writes its dma_unmap_sg to ev.
  void release(GuestMemory& memory, Event& ev) const;
};

// `bytes` (a multiple of the chunk) in chunks of 2^chunk_order pages into `segments` (replaced).
// False, with nothing kept, when guest RAM runs out.
bool alloc_sg_buffer(GuestMemory& memory, std::uint64_t bytes, unsigned chunk_order,
                     std::vector<Segment>& segments);
void free_segments(GuestMemory& memory, std::span<const Segment> segments);

}  // namespace dartlab::trace::gen
