// SPDX-License-Identifier: MIT
// alloc=buddy: a binary buddy allocator over the aperture's pages. A run of n pages takes a whole
// block of bit_ceil(n) pages (the rounding is internal fragmentation: bus space reserved that the
// DART does not map), blocks are aligned to their size counted from bus address 0, split in
// halves on demand and merged with their free buddy on release.
#pragma once

#include <cstdint>
#include <memory>

#include "models/dart/aperture.hpp"

namespace dartlab::dart {

// The bitmap version (bitmap_buddy.cpp) when it can span the aperture, else the ordered set.
std::unique_ptr<ApertureAllocator> make_buddy_aperture(std::uint64_t first_page, std::uint64_t page_count);
// Over an ordered set of free blocks: the fallback for huge apertures, and the yardstick for tests
// and benches.
std::unique_ptr<ApertureAllocator> make_set_buddy_aperture(std::uint64_t first_page, std::uint64_t page_count);

}  // namespace dartlab::dart
