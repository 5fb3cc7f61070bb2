// SPDX-License-Identifier: MIT
// The bounce policy (swiotlb): one pool of guest memory mapped through the host at the first
// request and kept; every request takes a run of its slots (SlotRuns, first-fit) and the caller
// copies the bytes between the request's gpa and its slot. A token names the first slot.
#pragma once

#include <cstdint>

#include "passthrough/mapper/mapping.hpp"
#include "passthrough/mapper/slot_runs.hpp"

namespace dartlab::mapper {

class BouncePool {
 public:
  explicit BouncePool(const Policy& policy);

  // A run of slots for len_bytes (a validated request); the pool is mapped first if it is not.
  Result<Mapping> map(std::uint64_t len_bytes, MappingBackend& backend, MapperStats& stats);
  // Gives a request's slots back; false when the token names no live request.
  bool release(MapToken token, std::uint64_t len_bytes, MapperStats& stats);
  // Unmaps the pool and frees every slot; tokens from before become stale.
  void release_all(MappingBackend& backend, MapperStats& stats);

  // Where the device's access at dma_addr lands in guest memory: the slot's place in the pool.
  std::uint64_t target_gpa(std::uint64_t dma_addr) const { return pool_.base + (dma_addr - bus_addr_); }

 private:
  static std::uint64_t slots_for(std::uint64_t len_bytes) {
    return (len_bytes + Policy::kBounceSlotBytes - 1) / Policy::kBounceSlotBytes;
  }

  Key pool_;
  SlotRuns slots_;
  bool mapped_ = false;
  std::uint64_t bus_addr_ = 0;
  std::uint64_t handle_ = 0;
  std::uint32_t generation_ = 1;  // tokens name it; a reset moves it on, so old tokens are stale
};

}  // namespace dartlab::mapper
