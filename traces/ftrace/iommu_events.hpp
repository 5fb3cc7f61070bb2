// SPDX-License-Identifier: MIT
// The payloads of iommu:map and iommu:unmap (include/trace/events/iommu.h), in both forms:
//   map:   "IOMMU: iova=0x%016llx paddr=0x%016llx size=%zu"                 (3.13 on)
//          "IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=%zu"     (from about 5.17)
//   unmap: "IOMMU: iova=0x%016llx size=%zu unmapped_size=%zu"
//          "IOMMU: iova=0x%016llx - 0x%016llx size=%zu unmapped_size=%zu"
#pragma once

#include <cstdint>
#include <string_view>

#include "traces/ftrace/ftrace_events.hpp"
#include "traces/line_import/fields.hpp"

namespace dartlab::trace::ftrace {

using line_import::PayloadError;

struct IommuRecord {
  std::uint64_t iova = 0;
  std::uint64_t paddr = 0;           // map only
  std::uint64_t size_bytes = 0;
  std::uint64_t unmapped_bytes = 0;  // unmap only: what the IOMMU actually unmapped
};

enum class IommuParse : std::uint8_t {
  Ok,
  NotIommu,  // the payload does not start with "IOMMU:": another subsystem's "map"/"unmap" event
  Error,
};

// Reads the payload of an iommu:map (IommuMap) or iommu:unmap (IommuUnmap) event.
IommuParse parse_iommu_payload(EventType type, std::string_view payload, IommuRecord& out, PayloadError& error);

}  // namespace dartlab::trace::ftrace
