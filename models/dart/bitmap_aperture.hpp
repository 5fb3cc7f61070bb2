// SPDX-License-Identifier: MIT
// alloc=first-fit over a bitmap: one free bit per page, 64 pages a word, and a binary summary
// tree over the words whose nodes hold (free run at the front, free run at the back, longest free
// run) of their range. The lowest run of n free pages is one descent (a run crossing a node's
// middle is seen at that node, as left.back + right.front), and an update rewrites only the
// touched words' ancestors, stopping where a summary no longer changes. So alloc and free cost
// O(log aperture) on a few hot cache lines, and largest_free_pages() is the root's longest run.
//
// Storage is lazy: words and nodes live in fixed-size chunks allocated on first write; a missing
// chunk reads as the pristine aperture (every page free, pages past its end in use), computed
// from the position alone. A 64 GiB or `max` aperture costs a chunk table to create, and memory
// grows with the part of the aperture ever touched.
#pragma once

#include <cstdint>
#include <memory>

#include "models/dart/aperture.hpp"

namespace dartlab::dart {

// Summary nodes count pages in 32 bits: apertures of 2^32 pages or more get nullptr. The
// aperture uses make_tagged_first_fit (faster, ~10x the memory: 4 bytes a page, lazily); this
// one is its second oracle in tests and a bench yardstick.
std::unique_ptr<ApertureAllocator> make_bitmap_first_fit(std::uint64_t first_page, std::uint64_t page_count);

// alloc=first-fit on best-fit's boundary tags with a longest-run tree (tagged_first_fit.cpp): the
// same picks. nullptr from 2^32 pages on.
std::unique_ptr<ApertureAllocator> make_tagged_first_fit(std::uint64_t first_page, std::uint64_t page_count);

// alloc=best-fit with boundary tags and a size index (bitmap_best_fit.cpp): the same picks as the
// extent tree's best-fit. nullptr from 2^32 pages on (32-bit tags), as for first-fit.
std::unique_ptr<ApertureAllocator> make_bitmap_best_fit(std::uint64_t first_page, std::uint64_t page_count);

// alloc=linux over a bitmap with per-order aligned rooms (bitmap_iova.cpp): the same picks as the
// extent tree's (make_extent_iova_aperture). nullptr if its bitmap would span 2^31 pages or more.
std::unique_ptr<ApertureAllocator> make_bitmap_iova(std::uint64_t first_page, std::uint64_t page_count);

// alloc=buddy with a bitmap of free block starts per order (bitmap_buddy.cpp): the same blocks and
// picks as the ordered-set buddy (make_set_buddy_aperture). nullptr past 2^31 pages.
std::unique_ptr<ApertureAllocator> make_bitmap_buddy(std::uint64_t first_page, std::uint64_t page_count);

// First-fit (policy FirstFit) or best-fit (anything else) over the extent tree (aperture.cpp): the
// fallback for huge apertures, and a second opinion for tests on apertures too large for the
// page-by-page reference.
std::unique_ptr<ApertureAllocator> make_extent_aperture(AllocPolicy policy, std::uint64_t first_page,
                                                        std::uint64_t page_count);

}  // namespace dartlab::dart
