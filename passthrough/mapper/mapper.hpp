// SPDX-License-Identifier: MIT
// The Mapper: serves DMA-API style requests through a clustering policy, asking the host
// mapping service (a MappingBackend) only when a new host mapping is needed. Host mappings are
// reference-counted per key; the first user maps, the last release unmaps.
//
// Cost per request: one hash probe (O(1) expected); a request served by a live host mapping
// allocates nothing. Memory follows the number of live host mappings.
//
// Two policies break the pattern. bounce maps one pool at the first request and carves every
// request from it (SlotRuns); the device then reaches the request's slot, not its gpa, and the
// caller copies the bytes (target_gpa() says where). cap refuses, with MapError::Cap and no
// change at all, a request that would need a host mapping past its limit: the caller waits and
// asks again after a release (the replay), or reports it to the guest (the QEMU device).
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include <boost/intrusive/set.hpp>

#include "base/flat_map.hpp"
#include "base/huge_page_allocator.hpp"
#include "passthrough/mapper/mapping_backend.hpp"
#include "passthrough/mapper/policy.hpp"
#include "passthrough/mapper/slot_runs.hpp"
#include "base/types.hpp"

namespace dartlab::mapper {

// Names the host mapping a request was served by; given back to unmap(). A stale token (its
// mapping already released) is detected by the generation.
struct MapToken {
  std::uint32_t entry = 0;
  std::uint32_t generation = 0;  // 0 never names a live mapping

  std::uint64_t pack() const { return (std::uint64_t{generation} << 32) | entry; }
  static MapToken unpack(std::uint64_t v) {
    return MapToken{static_cast<std::uint32_t>(v), static_cast<std::uint32_t>(v >> 32)};
  }
};

struct Mapping {
  std::uint64_t dma_addr = 0;
  MapToken token;
};

struct MapSegment {
  std::uint64_t gpa = 0;
  std::uint64_t len_bytes = 0;
};

struct MapperStats {
  std::uint64_t live_mappings = 0;         // host mappings (keys) alive now
  std::uint64_t peak_mappings = 0;
  std::uint64_t mapped_bytes = 0;          // bytes those host mappings cover
  std::uint64_t peak_mapped_bytes = 0;
  std::uint64_t live_requests = 0;         // DMA requests (sg segments count one each) alive now
  std::uint64_t requested_bytes = 0;       // bytes those requests asked for
  std::uint64_t peak_requested_bytes = 0;
  std::uint64_t map_requests = 0;          // every map asked of the mapper, served or not
  std::uint64_t shared_hits = 0;           // requests served by an already-live host mapping
  std::uint64_t reuse_hits = 0;            // requests served by a released host mapping kept alive (lazy)
  std::uint64_t cached_mappings = 0;       // lazy: released host mappings still mapped (in live_mappings too)
  std::uint64_t cached_bytes = 0;          // lazy: the bytes they cover (in mapped_bytes too)
  std::uint64_t evictions = 0;             // lazy: kept host mappings unmapped (bound, pressure, refusal)
  std::uint64_t promotions = 0;            // multi: larger windows mapped because their region filled up
  std::uint64_t adaptations = 0;           // adaptive: window size changes
  std::uint64_t window_bytes_now = 0;      // adaptive: the size new windows get now (else 0)
  std::uint64_t host_map_calls = 0;        // successful backend map calls
  std::uint64_t host_unmap_calls = 0;
  std::uint64_t failed_maps = 0;
  std::uint64_t failures[kMapErrorCount] = {};  // indexed by MapError (Cap never: see cap_refusals)
  std::uint64_t pool_bytes_taken = 0;       // bounce: bytes of the pool's slots live requests hold
  std::uint64_t peak_pool_bytes_taken = 0;
  std::uint64_t cap_refusals = 0;           // cap: maps turned away at the cap (not requests, not failures)
};

struct MapperOptions {
  // Keep an index by bus address so that unmap(dma_addr, len) works. Off by default: callers
  // that hold tokens (replay, the QEMU device's handles) do not pay for it.
  bool index_by_dma_addr = false;
};

class Mapper {
 public:
  Mapper(MappingBackend& backend, const Policy& policy, MapperOptions options = {});
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

  // Releases one request by its DMA address, as dma_unmap_page does: [dma_addr, dma_addr + len)
  // must lie inside one live host mapping. O(log n) in the live host mappings. Needs
  // MapperOptions::index_by_dma_addr (Invalid otherwise).
  Result<bool> unmap(std::uint64_t dma_addr, std::uint64_t len_bytes);

  // Scatter-gather: one request per segment, all or nothing (a failure releases the segments
  // already mapped, as dma_map_sg callers expect). `out` must hold segments.size() entries.
  // A list turned away at the cap is no request either: it waits whole.
  Result<bool> map_sg(std::span<const MapSegment> segments, Direction dir, std::span<Mapping> out);

  // Releases every host mapping (device or guest reset).
  void release_all();

  // Hints for callers that see requests coming (a replay reading ahead): start the cache misses
  // that map() and unmap() of these would take, so that several overlap. No effect on results.
  void prefetch_map(std::uint64_t gpa, std::uint64_t len_bytes) const {
    if (len_bytes != 0 && !bounce()) by_key_.prefetch(key_for(policy_, gpa, len_bytes));
  }
  void prefetch_unmap(MapToken token) const {
    if (!bounce() && token.entry < entries_.size()) __builtin_prefetch(&entries_[token.entry]);
  }

  // Where a device access at dma_addr, made for a request of [gpa, ...) served at dma_addr, lands
  // in guest-physical memory: gpa itself, except under bounce, where the device reaches the
  // request's slot in the pool and the bytes get to gpa by the caller's copy.
  std::uint64_t target_gpa(std::uint64_t dma_addr, std::uint64_t gpa) const {
    return bounce() ? policy_.bounce_pool_gpa + (dma_addr - pool_bus_addr_) : gpa;
  }
  bool bounce() const { return policy_.kind == PolicyKind::Bounce; }

  const MapperStats& stats() const { return stats_; }
  const Policy& policy() const { return policy_; }

 private:
  // A live (refs > 0) or free host-mapping record. Kept small: the hot path touches only these.
  struct Entry {
    Key key;
    std::uint64_t bus_addr = 0;
    std::uint64_t backend_handle = 0;
    std::uint32_t refs = 0;
    std::uint32_t generation = 0;
  };

  // The optional by-bus-address index: nodes in stable storage, linked into an intrusive tree,
  // so indexing allocates nothing once the pool has grown.
  using BusHook = boost::intrusive::set_member_hook<boost::intrusive::link_mode<boost::intrusive::normal_link>>;
  struct BusNode {
    std::uint64_t bus_addr = 0;
    std::uint64_t size_bytes = 0;
    std::uint32_t entry = 0;
    BusHook hook;
  };
  struct BusNodeAddr {
    using type = std::uint64_t;
    std::uint64_t operator()(const BusNode& n) const { return n.bus_addr; }
  };
  using BusIndex = boost::intrusive::set<BusNode, boost::intrusive::member_hook<BusNode, BusHook, &BusNode::hook>,
                                         boost::intrusive::key_of_value<BusNodeAddr>>;

  struct KeyHash {
    // Bases are 16 KiB-aligned and sizes whole pages: one mix over both is enough.
    std::uint64_t operator()(const Key& k) const { return mix64(k.base ^ (k.size_bytes << 40) ^ (k.size_bytes >> 24)); }
  };

  Entry* live_entry(MapToken token);
  void release(std::uint32_t index, std::uint64_t len_bytes);
  void release_request(MapToken token, std::uint64_t len_bytes);  // a request map() served
  void fail(MapError e);

  // Bounce: the pool is mapped at the first request and stays; requests hold runs of its slots.
  Result<Mapping> map_bounce(std::uint64_t len_bytes);
  bool release_bounce(MapToken token, std::uint64_t len_bytes);
  static std::uint64_t bounce_slots(std::uint64_t len_bytes) {
    return (len_bytes + Policy::kBounceSlotBytes - 1) / Policy::kBounceSlotBytes;
  }

  // A live or kept host mapping that serves the request, taken by one more user; false if none.
  bool find_serving(std::uint64_t gpa, std::uint64_t len_bytes, std::uint32_t& index);
  void take(std::uint32_t index);
  // Maps a new host mapping for the request; the entry's index, or the reason there is none.
  Result<std::uint32_t> create(std::uint64_t gpa, std::uint64_t len_bytes);
  // One backend call for a key. A mapping the host cut short is unmapped again and refused as
  // Truncated, as the seed guest module does: a key is whole or absent.
  Result<BackendMapping> map_on_host(const Key& key);
  Key choose_key(std::uint64_t gpa, std::uint64_t len_bytes, bool& promoted);
  void drop_host_mapping(std::uint32_t index);  // unmaps and frees an entry with no users
  void track(const Key& key, bool added);         // window-shape counts and multi's region coverage

  // Lazy: the LRU of kept host mappings, linked through lru_ (parallel to entries_).
  static constexpr std::uint32_t kNil = ~std::uint32_t{0};
  static constexpr std::uint32_t kNotKept = kNil - 1;
  struct LruLink {
    std::uint32_t prev = kNotKept;  // kNotKept: not in the LRU
    std::uint32_t next = kNil;
  };
  void keep(std::uint32_t index);
  void unkeep(std::uint32_t index);
  void evict_oldest();
  void relieve_pressure(std::uint64_t new_bytes);

  // Adaptive: revise the window size from the host's pressure, or at once after a refusal.
  void decide();
  bool adapt_to(MapError refusal);  // true if the size changed
  void set_window(std::uint64_t bytes);

  MappingBackend& backend_;
  Policy policy_;
  MapperOptions options_;
  FlatMap<Key, std::uint32_t, KeyHash> by_key_;
  std::vector<Entry, HugePageAllocator<Entry>> entries_;
  std::vector<std::uint32_t> free_entries_;
  std::deque<BusNode> bus_nodes_;  // parallel to entries_ when indexing; deque: stable addresses
  BusIndex by_bus_;
  MapperStats stats_;

  // Multi and adaptive: which window sizes may serve a request, and how many live host mappings
  // of window shape (power-of-two size, aligned base) there are of each, so lookups probe only
  // sizes that have some.
  WindowSizes probe_sizes_ = 0;
  WindowSizes live_sizes_ = 0;
  std::uint32_t live_windows_[64] = {};
  // Multi: bytes of live smaller windows inside each larger window's region, by region key.
  FlatMap<Key, std::uint64_t, KeyHash> coverage_;

  std::vector<LruLink> lru_;
  std::uint32_t lru_newest_ = kNil;
  std::uint32_t lru_oldest_ = kNil;

  std::uint64_t window_bytes_ = 0;  // adaptive: the current size
  std::uint32_t maps_since_decision_ = 0;

  SlotRuns pool_slots_;  // bounce
  bool pool_mapped_ = false;
  std::uint64_t pool_bus_addr_ = 0;
  std::uint64_t pool_handle_ = 0;
  std::uint32_t pool_generation_ = 1;  // tokens name it; a reset moves it on, so old tokens are stale
};

}  // namespace dartlab::mapper
