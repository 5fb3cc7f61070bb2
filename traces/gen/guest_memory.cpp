// SPDX-License-Identifier: MIT
#include "traces/gen/guest_memory.hpp"

#include <algorithm>
#include <cmath>

#include "traces/gen/generator.hpp"

namespace dartlab::trace::gen {

namespace {

// Seeds the guest's own draws apart from the profile's (the first 64 bits of the fractional
// part of sqrt(2), an arbitrary constant).
constexpr std::uint64_t kGuestSeedSalt = 0x6a09e667f3bcc908ULL;

}  // namespace

GuestMemory::GuestMemory(const GenParams& params, std::uint64_t driver_allocs)
    : ram_base_(params.ram_base),
      buddy_(params.ram_base, params.guest_ram_bytes, params.pcp_batch, params.pcp_high),
      rng_(params.seed ^ kGuestSeedSalt),
      others_choices_(static_cast<std::uint32_t>(std::lround(2 * params.other_per_alloc)) + 1),
      others_capacity_(static_cast<std::size_t>(std::min(
          params.other_per_alloc * static_cast<double>(driver_allocs),
          static_cast<double>(buddy_.total_pages() / 2)))) {
  others_.reserve(others_capacity_);
}

std::optional<std::uint64_t> GuestMemory::alloc(unsigned order) {
  for (std::uint32_t others = rng_.below(others_choices_); others > 0; --others) other_alloc();
  for (;;) {
    if (auto gpa = buddy_.alloc(order)) return gpa;
    if (others_.empty()) return std::nullopt;
    // Enough for the block and then some, so that a run of failures reclaims in few steps.
    reclaim(std::max<std::uint64_t>(64, std::uint64_t{2} << order));
  }
}

void GuestMemory::other_alloc() {
  if (others_capacity_ == 0) return;
  const auto gpa = buddy_.alloc(0);
  if (!gpa) return;  // guest RAM is full: the rest of the guest does without
  if (others_.size() < others_capacity_) {
    others_.push_back(*gpa);
    return;
  }
  // Taken first, a random one of its pages freed after: that page heads the per-CPU list for
  // whoever allocates next.
  const std::size_t victim = rng_.below(others_.size());
  buddy_.free(others_[victim], 0);
  others_[victim] = *gpa;
}

void GuestMemory::free_other(std::size_t index) {
  buddy_.free(others_[index], 0);
  others_[index] = others_.back();
  others_.pop_back();
}

void GuestMemory::reclaim(std::uint64_t pages) {
  for (; pages > 0 && !others_.empty(); --pages) free_other(rng_.below(others_.size()));
}

bool alloc_sg_buffer(GuestMemory& memory, std::uint64_t bytes, unsigned chunk_order,
                     std::vector<Segment>& segments) {
  const std::uint64_t chunk_bytes = order_bytes(chunk_order);
  segments.resize(bytes / chunk_bytes);
  std::size_t count = 0;
  for (std::uint64_t done = 0; done < bytes; done += chunk_bytes) {
    const auto gpa = memory.alloc(chunk_order);
    if (!gpa) {
      free_segments(memory, std::span<const Segment>(segments.data(), count));
      segments.clear();
      return false;
    }
    count = append_run(segments.data(), count, *gpa, chunk_bytes);
  }
  segments.resize(count);
  return true;
}

void SgBuffer::write_map(Event& ev, std::uint64_t align_bytes) const {
  ev.kind = EventKind::MapSg;
  ev.dir = Direction::Bidirectional;
  ev.id = id;
  ev.segments = segments;
  ev.align_bytes = align_bytes;
}

void SgBuffer::release(GuestMemory& memory, Event& ev) const {
  free_segments(memory, segments);
  ev.kind = EventKind::UnmapSg;
  ev.dir = Direction::Bidirectional;
  ev.id = id;
}

void free_segments(GuestMemory& memory, std::span<const Segment> segments) {
  for (const Segment& segment : segments) memory.free_range(segment.gpa, segment.len_bytes);
}

}  // namespace dartlab::trace::gen
