// SPDX-License-Identifier: MIT
#include "passthrough/mapper/bounce_pool.hpp"

#include <algorithm>

namespace dartlab::mapper {

BouncePool::BouncePool(const Policy& policy) : pool_{policy.bounce_pool_gpa, policy.bounce_pool_bytes} {
  slots_.reset(pool_.size_bytes / Policy::kBounceSlotBytes);
}

Result<Mapping> BouncePool::map(std::uint64_t len_bytes, MappingBackend& backend, MapperStats& stats) {
  ++stats.map_requests;
  const std::uint64_t slots = slots_for(len_bytes);
  const std::uint64_t first = slots_.take_run(slots);
  if (first == SlotRuns::kNoRun) return Result<Mapping>::failure(MapError::Pool);
  if (mapped_) {
    ++stats.shared_hits;
  } else {
    const Result<BackendMapping> host = map_whole(backend, pool_, stats);  // a pool the host cuts is no pool
    if (!host) {
      slots_.give(first, slots);
      return Result<Mapping>::failure(host.error);
    }
    mapped_ = true;
    bus_addr_ = host.value.bus_addr;
    handle_ = host.value.handle;
    stats.count_host_map(pool_.size_bytes);
  }
  stats.count_request(len_bytes);
  stats.pool_bytes_taken += slots * Policy::kBounceSlotBytes;
  stats.peak_pool_bytes_taken = std::max(stats.peak_pool_bytes_taken, stats.pool_bytes_taken);
  return Result<Mapping>::success(
      Mapping{bus_addr_ + first * Policy::kBounceSlotBytes, MapToken{static_cast<std::uint32_t>(first), generation_}});
}

bool BouncePool::release(MapToken token, std::uint64_t len_bytes, MapperStats& stats) {
  const std::uint64_t slots = slots_for(len_bytes);
  if (!mapped_ || token.generation != generation_ || !slots_.give(token.entry, slots)) return false;
  stats.count_release(len_bytes);
  stats.pool_bytes_taken -= slots * Policy::kBounceSlotBytes;
  return true;
}

void BouncePool::release_all(MappingBackend& backend, MapperStats& stats) {
  if (!mapped_) return;
  backend.unmap(handle_);
  ++stats.host_unmap_calls;
  mapped_ = false;
  slots_.give_all();
  if (++generation_ == 0) generation_ = 1;
  stats.pool_bytes_taken = 0;
}

}  // namespace dartlab::mapper
