// SPDX-License-Identifier: MIT
// The ftrace events the importer knows by name, and what each one means for a trace.
// Formats and kernel versions: traces/ftrace/IMPORT.md.
#pragma once

#include <cstdint>
#include <string_view>

namespace dartlab::trace::ftrace {

enum class EventType : std::uint8_t {
  Unknown,
  DmaMap,         // dma:dma_map_page, dma_map_phys, dma_map_resource
  DmaUnmap,       // dma:dma_unmap_page, dma_unmap_phys, dma_unmap_resource
  DmaMapSg,       // dma:dma_map_sg
  DmaUnmapSg,     // dma:dma_unmap_sg
  DmaAlloc,       // dma:dma_alloc
  DmaAllocPages,  // dma:dma_alloc_pages
  DmaFree,        // dma:dma_free, dma_free_pages
  DmaAllocSgt,    // dma:dma_alloc_sgt
  DmaFreeSgt,     // dma:dma_free_sgt
  IommuMap,       // iommu:map
  IommuUnmap,     // iommu:unmap
  Ignored,        // known, but changes no mapping: syncs, error events, iommu groups and faults
};

// The type of the event printed as `name` (without its system); Unknown for any other name.
EventType find_event(std::string_view name);

}  // namespace dartlab::trace::ftrace
