// SPDX-License-Identifier: MIT
// alloc=linux: the aperture allocated the way Linux's drivers/iommu/iova.c does it for the DMA API
// (alloc_iova with size_aligned): a run of n pages starts on a multiple of bit_ceil(n) pages
// counted from bus address 0, at the highest place that fits, searching down from a cached start
// point. Size alignment is what NVIDIA UVM wants (2 MiB requests at 2 MiB-aligned addresses).
#pragma once

#include <cstdint>
#include <memory>

#include "models/dart/aperture.hpp"

namespace dartlab::dart {

// The bitmap version (bitmap_iova.cpp) when it can span the aperture, else the extent tree.
std::unique_ptr<ApertureAllocator> make_iova_aperture(std::uint64_t first_page, std::uint64_t page_count);
// Over the extent tree: the fallback for huge apertures, and the yardstick for tests and benches.
std::unique_ptr<ApertureAllocator> make_extent_iova_aperture(std::uint64_t first_page, std::uint64_t page_count);

}  // namespace dartlab::dart
