// The host mapping service as the mapper sees it. The emulated DART implements it
// (models/dart/dart_backend.hpp); a macOS DriverKit backend would too. The mapper never
// includes a model header.
#pragma once

#include <cstdint>

#include "passthrough/mapper/types.hpp"

namespace dartlab::mapper {

struct BackendMapping {
  std::uint64_t handle = 0;    // opaque to the mapper; given back to unmap()
  std::uint64_t bus_addr = 0;  // bus address of gpa (the host picks it)
};

class MappingBackend {
 public:
  virtual ~MappingBackend() = default;
  // Maps [gpa, gpa + len_bytes) as one contiguous bus range, or says why not.
  virtual Result<BackendMapping> map(std::uint64_t gpa, std::uint64_t len_bytes, Direction dir) = 0;
  // Releases a mapping made by map(). Returns false when the handle is not live.
  virtual bool unmap(std::uint64_t handle) = 0;
};

}  // namespace dartlab::mapper
