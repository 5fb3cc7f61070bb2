// SPDX-License-Identifier: MIT
// The host mapping service as the mapper sees it. The emulated DART implements it
// (passthrough/backends/dart_backend.hpp); a macOS DriverKit backend would too. The mapper never
// includes a model header.
#pragma once

#include <cstdint>

#include "base/types.hpp"

namespace dartlab::mapper {

struct BackendMapping {
  std::uint64_t handle = 0;     // opaque to the mapper; given back to unmap()
  std::uint64_t bus_addr = 0;   // bus address of gpa (the host picks it)
  std::uint64_t len_bytes = 0;  // mapped from gpa on: the length asked, or less when the host cut
                                // the region (the real one answers only its first chunk)
};

// How full the host is, for policies that act before it refuses. A limit of 0 means unknown or
// unlimited: a policy then waits for refusals.
struct BackendPressure {
  std::uint64_t slots_used = 0;
  std::uint64_t slots_limit = 0;
  std::uint64_t bytes_used = 0;
  std::uint64_t bytes_limit = 0;
  // The host's page: it maps whole pages, so bytes_used grows by a request rounded up to it.
  // 0 = unknown: the mapper's own 16 KiB granule is assumed.
  std::uint64_t page_bytes = 0;
};

class MappingBackend {
 public:
  virtual ~MappingBackend() = default;
  // Maps [gpa, gpa + len_bytes) as one contiguous bus range, or says why not. A host that maps
  // only the start says so in len_bytes; the mapping is live all the same (unmap it).
  virtual Result<BackendMapping> map(std::uint64_t gpa, std::uint64_t len_bytes, Direction dir) = 0;
  // Releases a mapping made by map(). Returns false when the handle is not live.
  virtual bool unmap(std::uint64_t handle) = 0;
  // unmap(handle), told where the caller believes the mapping lies: the bus_addr map() answered
  // and the bytes asked. Only a hint, which a host may use so as not to wait for its own record
  // of the handle (a cache miss): the handle is validated as by unmap(), and a wrong hint costs
  // time, never changes the answer or the state.
  virtual bool unmap_hinted(std::uint64_t handle, std::uint64_t /*bus_addr*/, std::uint64_t /*len_bytes*/) {
    return unmap(handle);
  }
  // The host's state now. Called only when a new host mapping is about to be made.
  virtual BackendPressure pressure() const { return {}; }
};

}  // namespace dartlab::mapper
