// SPDX-License-Identifier: MIT
// alloc=buddy over bitmaps: the same blocks and picks as BuddyAllocator (buddy_aperture.cpp, which
// says why buddy is modelled so), with one bitmap of free block starts per order instead of an
// ordered set of (order, first page).
//
// - Bit j of order k's bitmap: the aligned block of 2^k pages at base + j * 2^k is free (a whole
//   free block, not part of a larger one). base is the aperture's first page rounded down to the
//   largest block order, so block alignment on the bus is alignment of the bit index.
// - Each bitmap has summary levels (a bit per nonzero word below), so the lowest free block of an
//   order is a few count-trailing-zeros from the top, and a bit set or cleared touches a summary
//   only when a word becomes empty or non-empty. A buddy lookup is one bit test.
// - A mask of the orders having free blocks gives the smallest order that fits at once, as before.
// Storage is lazy (lazy_array.hpp, pristine: no block): reset() marks the few maximal blocks the
// aperture starts with, so a large aperture touches a chunk or two per order.
#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <vector>

#include "models/dart/bitmap_aperture.hpp"
#include "models/dart/lazy_array.hpp"

namespace dartlab::dart {

namespace {

constexpr std::uint64_t kNone = ~std::uint64_t{0};

struct NoBits {
  std::uint64_t operator()(std::uint64_t) const { return 0; }
};

// A bitmap with summary levels: level 0 the bits, level l + 1 a bit per nonzero word of level l,
// up to a single word.
class SummarizedBits {
 public:
  explicit SummarizedBits(std::uint64_t bits) {
    std::uint64_t words = (std::max<std::uint64_t>(bits, 1) + 63) / 64;
    for (;;) {
      levels_.emplace_back(words, NoBits{});
      if (words == 1) break;
      words = (words + 63) / 64;
    }
  }
  void clear() {
    for (auto& l : levels_) l.clear();
  }
  bool test(std::uint64_t i) const { return ((levels_[0].get(i / 64) >> (i % 64)) & 1) != 0; }
  void set(std::uint64_t i) {
    for (auto& level : levels_) {
      std::uint64_t& word = level.at(i / 64);
      const bool was_empty = word == 0;
      word |= std::uint64_t{1} << (i % 64);
      if (!was_empty) return;
      i /= 64;
    }
  }
  void reset(std::uint64_t i) {
    for (auto& level : levels_) {
      std::uint64_t& word = level.at(i / 64);
      word &= ~(std::uint64_t{1} << (i % 64));
      if (word != 0) return;
      i /= 64;
    }
  }
  // The lowest set bit, or kNone.
  std::uint64_t lowest() const {
    std::uint64_t i = 0;
    for (std::size_t l = levels_.size(); l-- > 0;) {
      const std::uint64_t word = levels_[l].get(i);
      if (word == 0) return kNone;  // only at the top: a set summary bit has a nonzero word below
      i = i * 64 + static_cast<std::uint64_t>(std::countr_zero(word));
    }
    return i;
  }

 private:
  std::vector<LazyArray<std::uint64_t, NoBits>> levels_;
};

class BitmapBuddy final : public ApertureAllocator {
 public:
  BitmapBuddy(std::uint64_t first_page, std::uint64_t page_count, unsigned max_order, std::uint64_t base)
      : first_(first_page), pages_(page_count), max_order_(max_order), base_(base) {
    const std::uint64_t span = first_page + page_count - base;
    free_.reserve(max_order + 1);
    for (unsigned k = 0; k <= max_order; ++k) free_.emplace_back((span >> k) + 2);  // a buddy one past the end reads 0
    reset();
  }

  std::optional<std::uint64_t> alloc(std::uint64_t pages) override {
    if (pages == 0 || pages > pages_) return std::nullopt;
    const unsigned order = order_of(pages);
    if (order > max_order_) return std::nullopt;
    const std::uint64_t fit = orders_in_use_ >> order;
    if (fit == 0) return std::nullopt;
    unsigned block_order = order + static_cast<unsigned>(std::countr_zero(fit));
    const std::uint64_t first = base_ + (free_[block_order].lowest() << block_order);
    remove(block_order, first);
    while (block_order > order) {  // split: the high half stays free
      --block_order;
      add(block_order, first + (std::uint64_t{1} << block_order));
    }
    free_pages_ -= std::uint64_t{1} << order;
    return first;
  }

  void free(std::uint64_t first_page, std::uint64_t pages) override {
    assert(pages > 0 && first_page >= first_ && first_page + pages <= first_ + pages_);
    unsigned order = order_of(pages);
    assert(first_page % (std::uint64_t{1} << order) == 0 && "buddy frees whole blocks");
    free_pages_ += std::uint64_t{1} << order;
    // A buddy that is a free block lies inside the aperture, so the merged block does too; no
    // block of max_order_ has a free buddy (two would not fit the aperture).
    while (order < max_order_) {
      const std::uint64_t buddy = first_page ^ (std::uint64_t{1} << order);
      if (buddy < base_ || !free_[order].test((buddy - base_) >> order)) break;
      remove(order, buddy);
      first_page &= ~(std::uint64_t{1} << order);
      ++order;
    }
    add(order, first_page);
  }

  std::uint64_t reserved_pages(std::uint64_t pages) const override {
    return pages > pages_ ? pages : std::bit_ceil(pages);
  }
  std::uint64_t free_pages() const override { return free_pages_; }
  std::uint64_t largest_free_pages() const override {
    return orders_in_use_ == 0 ? 0 : std::uint64_t{1} << (std::bit_width(orders_in_use_) - 1);
  }
  std::uint64_t free_extents() const override { return blocks_; }

  void reset() override {
    for (auto& f : free_) f.clear();
    counts_ = {};
    orders_in_use_ = 0;
    blocks_ = 0;
    free_pages_ = pages_;
    // The maximal aligned blocks: at each page the largest block that starts there and fits.
    std::uint64_t page = first_;
    const std::uint64_t end = first_ + pages_;
    while (page < end) {
      unsigned order = page == 0 ? 63 : static_cast<unsigned>(std::countr_zero(page));
      while ((std::uint64_t{1} << order) > end - page) --order;
      add(order, page);
      page += std::uint64_t{1} << order;
    }
  }

 private:
  static unsigned order_of(std::uint64_t pages) { return static_cast<unsigned>(std::bit_width(pages - 1)); }

  void add(unsigned order, std::uint64_t first_page) {
    free_[order].set((first_page - base_) >> order);
    if (counts_[order]++ == 0) orders_in_use_ |= std::uint64_t{1} << order;
    ++blocks_;
  }
  void remove(unsigned order, std::uint64_t first_page) {
    free_[order].reset((first_page - base_) >> order);
    if (--counts_[order] == 0) orders_in_use_ &= ~(std::uint64_t{1} << order);
    --blocks_;
  }

  std::uint64_t first_;
  std::uint64_t pages_;
  unsigned max_order_;  // the largest block inside the aperture: 2^max_order_ <= pages_
  std::uint64_t base_;  // first_ rounded down to 2^max_order_: bit j of order k is page base_ + j * 2^k
  std::vector<SummarizedBits> free_;  // by order: the free blocks' starts
  std::array<std::uint64_t, 64> counts_{};  // free blocks by order
  std::uint64_t orders_in_use_ = 0;         // bit k: some free block of order k
  std::uint64_t blocks_ = 0;
  std::uint64_t free_pages_ = 0;
};

}  // namespace

std::unique_ptr<ApertureAllocator> make_bitmap_buddy(std::uint64_t first_page, std::uint64_t page_count) {
  if (page_count == 0) return nullptr;
  const auto max_order = static_cast<unsigned>(std::bit_width(page_count) - 1);
  const std::uint64_t base = first_page & ~((std::uint64_t{1} << max_order) - 1);
  // Order 0's bitmap spans base .. the aperture's end: below 2^31 pages, lazily.
  if (first_page + page_count - base >= (std::uint64_t{1} << 31)) return nullptr;
  return std::make_unique<BitmapBuddy>(first_page, page_count, max_order, base);
}

}  // namespace dartlab::dart
