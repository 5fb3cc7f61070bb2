// SPDX-License-Identifier: MIT
#include "base/types.hpp"

namespace dartlab {

std::string_view to_string(MapError e) {
  switch (e) {
    case MapError::Invalid: return "invalid";
    case MapError::Slots: return "slots";
    case MapError::Aperture: return "aperture";
    case MapError::Fragmented: return "fragmented";
    case MapError::Pool: return "pool";
    case MapError::Cap: return "cap";
    case MapError::Duplicate: return "duplicate";
    case MapError::Truncated: return "truncated";
  }
  return "?";
}

// From the host extension's RegisterDMARegion (VFIOUserPCIDriver.cpp; docs/REAL-SYSTEM.md).
std::string_view host_return_code(MapError e) {
  switch (e) {
    case MapError::Invalid: return "kIOReturnBadArgument";   // its answer to a zero size
    case MapError::Slots: return "kIOReturnNoSpace";         // every slot of its table taken
    case MapError::Aperture: return "";                      // the DART mapper's own failure, passed on
    case MapError::Fragmented: return "kIOReturnNotAligned";  // a chunk not one full-length segment
    case MapError::Duplicate: return "kIOReturnStillOpen";   // the iova (gpa) already registered
    case MapError::Truncated: return "";                     // the host said success; the caller refused
    case MapError::Pool:                                      // bounce: the guest's pool, not the host
    case MapError::Cap: return "";                            // cap: the guest's own limit
  }
  return "";
}

std::string_view to_string(Direction d) {
  switch (d) {
    case Direction::Bidirectional: return "bidi";
    case Direction::ToDevice: return "to_dev";
    case Direction::FromDevice: return "from_dev";
  }
  return "?";
}

}  // namespace dartlab
