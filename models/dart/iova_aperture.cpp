// SPDX-License-Identifier: MIT
#include "models/dart/iova_aperture.hpp"

#include <bit>
#include <cassert>

#include "models/dart/bitmap_aperture.hpp"
#include "models/dart/extent_tree.hpp"

namespace dartlab::dart {

namespace {

// What iova.c does, in the free-extent terms of this model (pages = iova.c's pfns, granule = the
// DART page):
//
// - Alignment: alloc_iova(size_aligned) aligns a run of n pages to 2^fls_long(n - 1) pages =
//   bit_ceil(n), relative to pfn 0, so bus addresses are size-aligned whatever the aperture's
//   base. Mainline iova.c caps nothing (a CONFIG_IOMMU_IOVA_ALIGNMENT cap exists only in some
//   vendor kernels); neither do we.
// - Top-down from a cached node: the search walks down from the last run allocated (the cached
//   node; the anchor above the limit at first), takes the highest aligned place that fits below
//   it, and only if none does, retries from the limit down to just above the cached run. Freeing
//   a run at or above the cached one moves the cache to the run above the freed one. This
//   changes which address is picked (a hole above the cache is passed over while anything below
//   fits: next-fit downwards), so it is modelled: `cached_page_` is the first page of the cached
//   run, or the end of the aperture for the anchor.
// - Not modelled: max32_alloc_size, the fast failure of any request at least as large as the last
//   one that failed, until something is freed. With size-aligned requests it changes no result:
//   a fit for a larger request (larger alignment, a multiple of the smaller one) would have been a
//   fit for the smaller one, and the failed search covered the whole range. Nor the second cached
//   node Linux keeps for runs above 4 GiB (one search limit here: the top of the aperture; the
//   default aperture lies below 4 GiB, where Linux uses cached32_node throughout), nor the
//   per-CPU rcache of alloc_iova_fast (a cache of freed runs in front of this allocator).
// - No size rounding: the run is n pages; the alignment alone leaves holes.
//
// Each search is O(log extents): the extent tree keeps per-alignment rooms (extent_tree.hpp).
class IovaAllocator final : public ApertureAllocator {
 public:
  IovaAllocator(std::uint64_t first_page, std::uint64_t page_count)
      : tree_(/*by_size=*/false, /*aligned=*/true), first_page_(first_page), page_count_(page_count) {
    reset();
  }

  std::uint64_t take(std::uint64_t pages) override {
    if (pages == 0 || pages > page_count_) return kNoFit;
    const auto order = static_cast<unsigned>(std::bit_width(pages - 1));  // fls_long(pages - 1)
    const std::uint64_t end = first_page_ + page_count_;
    ExtentTree::NodeId node = tree_.highest_aligned(pages, order, first_page_, cached_page_);
    if (node == ExtentTree::kNone && cached_page_ != end) {  // the retry above the cached run
      node = tree_.highest_aligned(pages, order, cached_page_ + 1, end);
    }
    if (node == ExtentTree::kNone) return kNoFit;
    const ExtentTree::Extent e = tree_.extent(node);
    const std::uint64_t first = (e.first_page + e.pages - pages) & ~((std::uint64_t{1} << order) - 1);
    assert(first >= e.first_page);
    tree_.take(node, first, pages);
    cached_page_ = first;
    return first;
  }

  void free(std::uint64_t first_page, std::uint64_t pages) override {
    assert(first_page >= first_page_ && first_page + pages <= first_page_ + page_count_);
    if (pages == 0) return;
    tree_.give_back(first_page, pages);
    if (first_page >= cached_page_) {  // iova.c: the cache moves to the run above the freed one
      const ExtentTree::Extent e = tree_.extent(tree_.containing(first_page));
      cached_page_ = e.first_page + e.pages;
    }
  }

  std::uint64_t free_pages() const override { return tree_.free_pages(); }
  std::uint64_t largest_free_pages() const override { return tree_.largest_aligned_request(); }
  std::uint64_t free_extents() const override { return tree_.extent_count(); }
  void reset() override {
    tree_.reset(first_page_, page_count_);
    cached_page_ = first_page_ + page_count_;
  }

 private:
  ExtentTree tree_;
  std::uint64_t first_page_;
  std::uint64_t page_count_;
  std::uint64_t cached_page_ = 0;  // first page of the cached run; the aperture's end: the anchor
};

}  // namespace

std::unique_ptr<ApertureAllocator> make_iova_aperture(std::uint64_t first_page, std::uint64_t page_count) {
  if (auto bitmap = make_bitmap_iova(first_page, page_count)) return bitmap;
  return make_extent_iova_aperture(first_page, page_count);
}

std::unique_ptr<ApertureAllocator> make_extent_iova_aperture(std::uint64_t first_page, std::uint64_t page_count) {
  return std::make_unique<IovaAllocator>(first_page, page_count);
}

}  // namespace dartlab::dart
