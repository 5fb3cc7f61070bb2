// SPDX-License-Identifier: MIT
// The Mapper: serves DMA-API style requests through a clustering policy, asking the host
// mapping service (a MappingBackend) only when a new host mapping is needed. Host mappings are
// reference-counted per key; the first user maps, the last release unmaps.
//
// Cost per request: one hash probe (O(1) expected); a request served by a live host mapping
// allocates nothing. Memory follows the number of live host mappings.
//
// Which key serves a request is the clustering policy's (clustering_policy.hpp); lazy keeps
// released host mappings for reuse (kept_mappings.hpp). Two policies break the pattern. bounce
// maps one pool at the first request and carves every request from it (bounce_pool.hpp); the
// device then reaches the request's slot, not its gpa, and the caller copies the bytes
// (target_gpa() says where). cap refuses, with MapError::Cap and no change at all, a request
// that would need a host mapping past its limit: the caller waits and asks again after a release
// (the replay), or reports it to the guest (the QEMU device).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/huge_page_allocator.hpp"
#include "base/types.hpp"
#include "passthrough/mapper/bounce_pool.hpp"
#include "passthrough/mapper/clustering_policy.hpp"
#include "passthrough/mapper/kept_mappings.hpp"
#include "passthrough/mapper/mapping.hpp"
#include "passthrough/mapper/mapping_backend.hpp"
#include "passthrough/mapper/policy.hpp"

namespace dartlab::mapper {

class Mapper {
 public:
  Mapper(MappingBackend& backend, const Policy& policy);
  ~Mapper();
  Mapper(const Mapper&) = delete;
  Mapper& operator=(const Mapper&) = delete;

  // Maps [gpa, gpa + len_bytes). The DMA address is the host mapping's bus base + (gpa - key base)
  // (bounce: the bus address of the request's slots). A MapError::Cap refusal changes nothing and
  // is not counted as a request: the same request may be asked again.
  Result<Mapping> map(std::uint64_t gpa, std::uint64_t len_bytes, Direction dir);

  // Releases one request. len_bytes is the length it was mapped with.
  // Invalid when the token names no live mapping.
  Result<bool> unmap(MapToken token, std::uint64_t len_bytes);

  // Scatter-gather: one request per segment, all or nothing (a failure releases the segments
  // already mapped, as dma_map_sg callers expect). `out` must hold segments.size() entries.
  // A list turned away at the cap is no request either: it waits whole.
  Result<bool> map_sg(std::span<const MapSegment> segments, Direction dir, std::span<Mapping> out);

  // Releases every host mapping (device or guest reset).
  void release_all();

  // Where a device access at dma_addr, made for a request of [gpa, ...) served at dma_addr, lands
  // in guest-physical memory: gpa itself, except under bounce, where the device reaches the
  // request's slot in the pool and the bytes get to gpa by the caller's copy.
  std::uint64_t target_gpa(std::uint64_t dma_addr, std::uint64_t gpa) const {
    return bounce() ? bounce_->target_gpa(dma_addr) : gpa;
  }
  bool bounce() const { return bounce_.has_value(); }

  const MapperStats& stats() const { return stats_; }
  const Policy& policy() const { return policy_; }

 private:
  using Entry = HostEntry;  // key_index.hpp

  Entry* live_entry(MapToken token);
  void release(std::uint32_t index, std::uint64_t len_bytes);
  void release_request(MapToken token, std::uint64_t len_bytes);  // a request map() served
  void fail(MapError e);

  void take(std::uint32_t index);  // one more user of a live or kept host mapping
  // Maps a new host mapping for the request; the entry's index, or the reason there is none.
  Result<std::uint32_t> create(std::uint64_t gpa, std::uint64_t len_bytes);
  // With one user. The key by value, in two registers: create() holds it as two 8-byte stores
  // (choose() returns it in registers), which a 16-byte copy from memory cannot be forwarded
  // from (it waited for them behind the host map's own stores).
  std::uint32_t new_entry(Key key, const BackendMapping& host);
  void drop_host_mapping(std::uint32_t index);  // unmaps and frees an entry with no users

  // Lazy: what it keeps goes first when the host is short, when the cap is reached, or past its bounds.
  void evict_oldest();
  void relieve_pressure(std::uint64_t new_bytes);

  MappingBackend& backend_;
  Policy policy_;
  ClusteringPolicy clustering_;
  KeptMappings kept_;
  std::optional<BouncePool> bounce_;  // bounce: every request goes here instead
  HostEntries entries_;
  KeyIndex by_key_{entries_};  // live host mappings by key, to their entry
  // Free entries, newest on top, with the generation each one's next token carries: taking one
  // then only writes its entry (reading a cold free entry would be a cache miss per new mapping).
  struct FreeEntry {
    std::uint32_t index;
    std::uint32_t generation;
  };
  std::vector<FreeEntry> free_entries_;
  MapperStats stats_;
};

}  // namespace dartlab::mapper
