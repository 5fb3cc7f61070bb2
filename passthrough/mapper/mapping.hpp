// SPDX-License-Identifier: MIT
// What the Mapper hands out (a DMA address and the token that releases it) and what it counts;
// shared by the Mapper and the policies that keep their own state.
#pragma once

#include <algorithm>
#include <cstdint>

#include "base/types.hpp"
#include "passthrough/mapper/mapping_backend.hpp"
#include "passthrough/mapper/policy.hpp"

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

  // Inline: every request passes here.
  void count_request(std::uint64_t len_bytes) {  // one more live request of len_bytes
    ++live_requests;
    requested_bytes += len_bytes;
    peak_requested_bytes = std::max(peak_requested_bytes, requested_bytes);
  }
  void count_release(std::uint64_t len_bytes) {  // one fewer
    --live_requests;
    requested_bytes -= std::min(requested_bytes, len_bytes);
  }
  void count_host_map(std::uint64_t size_bytes) {  // one more live host mapping
    ++host_map_calls;
    ++live_mappings;
    mapped_bytes += size_bytes;
    peak_mappings = std::max(peak_mappings, live_mappings);
    peak_mapped_bytes = std::max(peak_mapped_bytes, mapped_bytes);
  }
};

// One backend call for a key. A mapping the host cut short is unmapped again and refused as
// Truncated, as the seed guest module does: a key is whole or absent. A host mapping is shared
// by requests of every direction, so it is made bidirectional (as the seed guest module does);
// per-direction keys would multiply slots.
// Inline, with one named result: the backend writes its answer straight where the caller reads
// it (copied back through an out-of-line call it cost a store-forwarding stall per new mapping).
inline Result<BackendMapping> map_whole(MappingBackend& backend, const Key& key, MapperStats& stats) {
  Result<BackendMapping> host = backend.map(key.base, key.size_bytes, Direction::Bidirectional);
  if (host && host.value.len_bytes < key.size_bytes) {
    // Two round trips to the host that leave nothing mapped: both are counted.
    backend.unmap(host.value.handle);
    ++stats.host_map_calls;
    ++stats.host_unmap_calls;
    host = Result<BackendMapping>::failure(MapError::Truncated);
  }
  return host;
}

}  // namespace dartlab::mapper
