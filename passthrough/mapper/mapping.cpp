// SPDX-License-Identifier: MIT
#include "passthrough/mapper/mapping.hpp"

namespace dartlab::mapper {

Result<BackendMapping> map_whole(MappingBackend& backend, const Key& key, MapperStats& stats) {
  const Result<BackendMapping> host = backend.map(key.base, key.size_bytes, Direction::Bidirectional);
  if (!host || host.value.len_bytes >= key.size_bytes) return host;
  // Two round trips to the host that leave nothing mapped: both are counted.
  backend.unmap(host.value.handle);
  ++stats.host_map_calls;
  ++stats.host_unmap_calls;
  return Result<BackendMapping>::failure(MapError::Truncated);
}

}  // namespace dartlab::mapper
