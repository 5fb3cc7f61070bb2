// SPDX-License-Identifier: MIT
#include "traces/ftrace/ftrace_events.hpp"

#include <array>
#include <cstring>

#include "traces/line_import/scan.hpp"

namespace dartlab::trace::ftrace {
namespace {

namespace scan = line_import::scan;

struct Known {
  std::string_view name;
  EventType type;
};

// include/trace/events/dma.h (Linux 6.12 and later) and include/trace/events/iommu.h.
constexpr std::array kKnown = {
    Known{"dma_map_page", EventType::DmaMap},  // 6.12 to 6.17
    Known{"dma_map_phys", EventType::DmaMap},  // the rename for the phys_addr_t based API
    Known{"dma_map_resource", EventType::DmaMap},
    Known{"dma_unmap_page", EventType::DmaUnmap},
    Known{"dma_unmap_phys", EventType::DmaUnmap},
    Known{"dma_unmap_resource", EventType::DmaUnmap},
    Known{"dma_map_sg", EventType::DmaMapSg},
    Known{"dma_unmap_sg", EventType::DmaUnmapSg},
    Known{"dma_alloc", EventType::DmaAlloc},
    Known{"dma_alloc_pages", EventType::DmaAllocPages},
    Known{"dma_free", EventType::DmaFree},
    Known{"dma_free_pages", EventType::DmaFree},
    Known{"dma_alloc_sgt", EventType::DmaAllocSgt},
    Known{"dma_free_sgt", EventType::DmaFreeSgt},
    Known{"map", EventType::IommuMap},
    Known{"unmap", EventType::IommuUnmap},
    Known{"dma_map_sg_err", EventType::Ignored},
    Known{"dma_alloc_sgt_err", EventType::Ignored},
    Known{"dma_sync_single_for_cpu", EventType::Ignored},
    Known{"dma_sync_single_for_device", EventType::Ignored},
    Known{"dma_sync_sg_for_cpu", EventType::Ignored},
    Known{"dma_sync_sg_for_device", EventType::Ignored},
    Known{"add_device_to_group", EventType::Ignored},
    Known{"remove_device_from_group", EventType::Ignored},
    Known{"attach_device_to_domain", EventType::Ignored},
    Known{"detach_device_from_domain", EventType::Ignored},
    Known{"io_page_fault", EventType::Ignored},
};

// Names by length, so a lookup compares only the few of the right length.
constexpr std::size_t kMaxName = 32;
struct ByLength {
  std::array<std::uint8_t, kMaxName + 1> first{};
  std::array<std::uint8_t, kMaxName + 1> count{};
  std::array<std::uint8_t, kKnown.size()> order{};
};
constexpr ByLength kByLength = [] {
  ByLength t;
  std::size_t at = 0;
  for (std::size_t len = 0; len <= kMaxName; ++len) {
    t.first[len] = static_cast<std::uint8_t>(at);
    for (std::size_t i = 0; i < kKnown.size(); ++i) {
      if (kKnown[i].name.size() == len) t.order[at++] = static_cast<std::uint8_t>(i);
    }
    t.count[len] = static_cast<std::uint8_t>(at - t.first[len]);
  }
  return t;
}();

}  // namespace

EventType find_event(std::string_view name) {
  if (name.size() > kMaxName) return EventType::Unknown;
  const std::size_t first = kByLength.first[name.size()];
  for (std::size_t i = first; i < first + kByLength.count[name.size()]; ++i) {
    const Known& k = kKnown[kByLength.order[i]];
    if (scan::same(k.name.data(), name.data(), name.size())) return k.type;
  }
  return EventType::Unknown;
}

}  // namespace dartlab::trace::ftrace
