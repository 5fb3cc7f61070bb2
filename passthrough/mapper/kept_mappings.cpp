// SPDX-License-Identifier: MIT
#include "passthrough/mapper/kept_mappings.hpp"

#include <algorithm>

namespace dartlab::mapper {

void KeptMappings::keep(std::uint32_t entry, std::uint64_t size_bytes, MapperStats& stats) {
  links_[entry] = Link{kNone, newest_};
  if (newest_ != kNone) links_[newest_].prev = entry;
  newest_ = entry;
  if (oldest_ == kNone) oldest_ = entry;
  ++stats.cached_mappings;
  stats.cached_bytes += size_bytes;
}

void KeptMappings::unkeep(std::uint32_t entry, std::uint64_t size_bytes, MapperStats& stats) {
  const Link link = links_[entry];
  if (link.prev == kNone) {
    newest_ = link.next;
  } else {
    links_[link.prev].next = link.next;
  }
  if (link.next == kNone) {
    oldest_ = link.prev;
  } else {
    links_[link.next].prev = link.prev;
  }
  links_[entry] = Link{};
  --stats.cached_mappings;
  stats.cached_bytes -= size_bytes;
}

bool KeptMappings::under_pressure(const BackendPressure& p, std::uint64_t new_bytes) {
  return (p.slots_limit != 0 && static_cast<double>(p.slots_used + 1) > Policy::kLazyPressure * static_cast<double>(p.slots_limit)) ||
         (p.bytes_limit != 0 && static_cast<double>(p.bytes_used + new_bytes) > Policy::kLazyPressure * static_cast<double>(p.bytes_limit));
}

void KeptMappings::clear(MapperStats& stats) {
  std::fill(links_.begin(), links_.end(), Link{});
  newest_ = oldest_ = kNone;
  stats.cached_mappings = 0;
  stats.cached_bytes = 0;
}

}  // namespace dartlab::mapper
