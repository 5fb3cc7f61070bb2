// SPDX-License-Identifier: MIT
#include "traces/gen/live_set.hpp"

#include <algorithm>

namespace dartlab::trace::gen {

LiveSet::LiveSet(std::uint64_t ram_base, std::size_t expected_live) : ram_base_(ram_base) {
  live_.reserve(expected_live);
}

std::uint64_t LiveSet::bytes_of(const LiveRequest& request) const {
  if (request.kind != EventKind::MapSg) return std::uint64_t{request.size} * kGuestPageBytes;
  std::uint64_t bytes = 0;
  const Segment* segments = &sg_segments_[std::size_t{request.where} * kSgMaxRuns];
  for (std::uint16_t s = 0; s < request.size; ++s) bytes += segments[s].len_bytes;
  return bytes;
}

void LiveSet::add_range(std::uint64_t id, EventKind kind, Direction dir, std::uint64_t gpa,
                        std::uint64_t bytes, bool long_lived, Event& ev) {
  LiveRequest request;
  request.id = id;
  request.where = static_cast<std::uint32_t>((gpa - ram_base_) / kGuestPageBytes);
  request.size = static_cast<std::uint16_t>(bytes / kGuestPageBytes);
  request.kind = kind;
  request.flags = static_cast<std::uint8_t>(static_cast<std::uint8_t>(dir) |
                                            (long_lived ? LiveRequest::kLongLived : 0));
  live_.push_back(request);
  bytes_ += bytes;
  ev.kind = kind;
  ev.dir = dir;
  ev.id = id;
  ev.gpa = gpa;
  ev.len_bytes = bytes;
}

std::uint32_t LiveSet::open_sg() {
  if (!free_sg_slots_.empty()) {
    const std::uint32_t slot = free_sg_slots_.back();
    free_sg_slots_.pop_back();
    return slot;
  }
  const auto slot = static_cast<std::uint32_t>(sg_segments_.size() / kSgMaxRuns);
  sg_segments_.resize(sg_segments_.size() + kSgMaxRuns);
  return slot;
}

void LiveSet::commit_sg(std::uint64_t id, std::uint32_t slot, std::uint16_t count, Direction dir,
                        bool long_lived, Event& ev) {
  LiveRequest request;
  request.id = id;
  request.where = slot;
  request.size = count;
  request.kind = EventKind::MapSg;
  request.flags = static_cast<std::uint8_t>(static_cast<std::uint8_t>(dir) |
                                            (long_lived ? LiveRequest::kLongLived : 0));
  live_.push_back(request);
  bytes_ += bytes_of(request);
  ev.kind = EventKind::MapSg;
  ev.dir = dir;
  ev.id = id;
  ev.segments = std::span<const Segment>(sg(slot), count);
}

void LiveSet::release(std::size_t index, GuestMemory& memory, Event& ev) {
  const LiveRequest request = live_[index];
  live_[index] = live_.back();
  live_.pop_back();
  bytes_ -= bytes_of(request);
  switch (request.kind) {
    case EventKind::MapSg:
      free_segments(memory, std::span<const Segment>(sg(request.where), request.size));
      free_sg_slots_.push_back(request.where);
      ev.kind = EventKind::UnmapSg;
      break;
    case EventKind::Alloc:
      memory.free_range(ram_base_ + std::uint64_t{request.where} * kGuestPageBytes,
                        std::uint64_t{request.size} * kGuestPageBytes);
      ev.kind = EventKind::Free;
      break;
    default:
      memory.free_range(ram_base_ + std::uint64_t{request.where} * kGuestPageBytes,
                        std::uint64_t{request.size} * kGuestPageBytes);
      ev.kind = EventKind::Unmap;
      break;
  }
  ev.dir = request.dir();
  ev.id = request.id;
}

LiveBand::LiveBand(std::uint64_t target, std::uint64_t band)
    : target_(target),
      band_(std::clamp<std::uint64_t>(band, 1, target)),
      bias_per_unit_((std::int64_t{1} << 31) / static_cast<std::int64_t>(band_)) {}

bool LiveBand::wants_map(std::uint64_t live, Rng& rng) const {
  if (live < low()) return true;
  if (live > high()) return false;
  const std::int64_t below_target = static_cast<std::int64_t>(target_) - static_cast<std::int64_t>(live);
  const std::int64_t threshold = (std::int64_t{1} << 31) + below_target * bias_per_unit_;
  return static_cast<std::int64_t>(rng.next() >> 32) < threshold;
}

}  // namespace dartlab::trace::gen
