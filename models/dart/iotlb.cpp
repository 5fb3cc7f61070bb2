// SPDX-License-Identifier: MIT
#include "models/dart/iotlb.hpp"

#include <bit>
#include <stdexcept>

namespace dartlab::dart {

std::string_view to_string(Replacement r) {
  switch (r) {
    case Replacement::Lru: return "lru";
    case Replacement::Fifo: return "fifo";
    case Replacement::Random: return "random";
  }
  return "?";
}

Iotlb::Iotlb(const IotlbGeometry& geometry) : geometry_(geometry), set_mask_(geometry.sets - 1) {
  if (!std::has_single_bit(geometry.sets)) throw std::invalid_argument("IOTLB sets must be a power of two");
  if (geometry.ways == 0 || geometry.ways > 64) throw std::invalid_argument("IOTLB ways must be 1 to 64");
  entries_.resize(std::size_t{geometry.sets} * geometry.ways);
}

const Iotlb::Entry* Iotlb::lookup(std::uint16_t stream, std::uint64_t page) {
  Entry* set = set_begin(page);
  for (std::uint32_t w = 0; w < geometry_.ways; ++w) {
    Entry& e = set[w];
    if (e.valid && e.page == page && e.stream == stream) {
      ++stats_.hits;
      if (geometry_.replacement == Replacement::Lru) e.stamp = ++clock_;
      return &e;
    }
  }
  ++stats_.misses;
  return nullptr;
}

void Iotlb::fill(std::uint16_t stream, std::uint64_t page, std::uint64_t pa_page, Perms perms) {
  Entry* set = set_begin(page);
  Entry* victim = nullptr;
  for (std::uint32_t w = 0; w < geometry_.ways && victim == nullptr; ++w)
    if (!set[w].valid || (set[w].page == page && set[w].stream == stream)) victim = &set[w];
  if (victim == nullptr) {
    if (geometry_.replacement == Replacement::Random) {
      random_state_ ^= random_state_ << 13;
      random_state_ ^= random_state_ >> 7;
      random_state_ ^= random_state_ << 17;
      victim = &set[random_state_ % geometry_.ways];
    } else {
      victim = &set[0];  // LRU and FIFO both evict the smallest stamp
      for (std::uint32_t w = 1; w < geometry_.ways; ++w)
        if (set[w].stamp < victim->stamp) victim = &set[w];
    }
    ++stats_.evictions;
  }
  ++stats_.fills;
  *victim = Entry{page, pa_page, ++clock_, stream, perms, true};
}

std::uint64_t Iotlb::drop_range(std::uint16_t stream, std::uint64_t first_page, std::uint64_t pages) {
  std::uint64_t dropped = 0;
  const auto drop = [&](Entry& e) {
    if (e.valid && e.stream == stream && e.page >= first_page && e.page - first_page < pages) {
      e.valid = false;
      ++dropped;
    }
  };
  if (pages < geometry_.sets) {  // probe only the sets the range maps to
    for (std::uint64_t p = first_page; p < first_page + pages; ++p) {
      Entry* set = set_begin(p);
      for (std::uint32_t w = 0; w < geometry_.ways; ++w) drop(set[w]);
    }
  } else {
    for (Entry& e : entries_) drop(e);
  }
  return dropped;
}

void Iotlb::invalidate_all() {
  ++stats_.invalidations;
  for (Entry& e : entries_) {
    stats_.invalidated_entries += e.valid ? 1 : 0;
    e.valid = false;
  }
}

void Iotlb::invalidate_stream(std::uint16_t stream) {
  ++stats_.invalidations;
  for (Entry& e : entries_) {
    if (e.stream != stream) continue;
    stats_.invalidated_entries += e.valid ? 1 : 0;
    e.valid = false;
  }
}

void Iotlb::invalidate_range(std::uint16_t stream, std::uint64_t first_page, std::uint64_t pages) {
  ++stats_.invalidations;
  stats_.invalidated_entries += drop_range(stream, first_page, pages);
}

void Iotlb::forget_range(std::uint16_t stream, std::uint64_t first_page, std::uint64_t pages) {
  stats_.forgotten_entries += drop_range(stream, first_page, pages);
}

bool Iotlb::contains(std::uint16_t stream, std::uint64_t page) const {
  const Entry* set = set_begin(page);
  for (std::uint32_t w = 0; w < geometry_.ways; ++w)
    if (set[w].valid && set[w].page == page && set[w].stream == stream) return true;
  return false;
}

std::uint64_t Iotlb::valid_entries() const {
  std::uint64_t n = 0;
  for (const Entry& e : entries_) n += e.valid ? 1 : 0;
  return n;
}

void Iotlb::reset() {
  for (Entry& e : entries_) e = Entry{};
  clock_ = 0;
  random_state_ = 0x9e3779b97f4a7c15ULL;
  stats_ = IotlbStats{};
}

}  // namespace dartlab::dart
