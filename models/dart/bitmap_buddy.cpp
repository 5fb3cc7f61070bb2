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
// A large aperture's storage is lazy (lazy_array.hpp, pristine: no block): reset() marks the few
// maximal blocks the aperture starts with, so it touches a chunk or two per order. A small one
// (the default among them) has every word in one flat buffer and a fixed count of levels, so that
// alloc and free are straight-line code: under callgrind (BM_CoreDirectBuddy, 2 M events, 1.49 M
// allocs and as many frees), alloc went from 190 to 104 instructions a call and free from 106 to
// 60, with the vector of lazy arrays per order and the loops over its levels gone.
#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "models/dart/bitmap_aperture.hpp"
#include "models/dart/lazy_array.hpp"

namespace dartlab::dart {

namespace {

// Order 0 has (span + 2) bits, span < 2^31 pages (make_bitmap_buddy): 2^25 + 1 words, then
// summaries of 2^19 + 1, 2^13 + 1, 129, 3 and 1 words. So 2^max_order <= pages < 2^31.
constexpr unsigned kMaxLevels = 6;
constexpr unsigned kMaxOrders = 31;
// Up to this many words in order 0's bitmap (the default 1.5 GiB aperture of 16K pages needs 1537;
// 4 GiB of 16K pages fills it), every level of every order is one flat array: all of them 66 KiB
// at most, as much as the lazy arrays took, which are flat at this size too (lazy_array.hpp).
constexpr std::uint64_t kFlatWords = std::uint64_t{1} << 12;
// So a flat bitmap has at most 3 levels (4096 words, 64, 1); each order gets exactly 3 (a small
// order's top word repeated as 1-word levels, bit 0 above), a count known at compile time: the
// loops below unroll, and the lowest set bit is three loads and count-trailing-zeros.
constexpr unsigned kFlatLevels = 3;
static_assert(kFlatWords <= 64 * 64);

constexpr std::uint64_t bit(unsigned k) { return std::uint64_t{1} << k; }

struct NoBits {
  std::uint64_t operator()(std::uint64_t) const { return 0; }
};

// The words of one summary level. FlatLevel points into one buffer holding every level of every
// order; LazyLevel materializes chunks on first write, for the large apertures.
struct FlatLevel {
  std::uint64_t* words = nullptr;
  std::uint64_t get(std::uint64_t i) const { return words[i]; }
  std::uint64_t& at(std::uint64_t i) { return words[i]; }
};
struct LazyLevel {
  std::optional<LazyArray<std::uint64_t, NoBits>> words;
  std::uint64_t get(std::uint64_t i) const { return words->get(i); }
  std::uint64_t& at(std::uint64_t i) { return words->at(i); }
};

// The words in each level of a bitmap of `bits` bits, bottom up; the level count is returned.
unsigned level_words(std::uint64_t bits, std::array<std::uint64_t, kMaxLevels>& words) {
  std::uint64_t n = (std::max<std::uint64_t>(bits, 1) + 63) / 64;
  for (unsigned l = 0;; ++l) {
    assert(l < kMaxLevels);
    words[l] = n;
    if (n == 1) return l + 1;
    n = (n + 63) / 64;
  }
}

// A bitmap with summary levels: level 0 the bits, level l + 1 a bit per nonzero word of level l,
// up to a single word. The levels sit in a fixed array, not a vector, so a word is one load
// from this object's level pointer, and set_above/clear_above tell when the whole bitmap became
// non-empty or empty (the top word changed), which keeps the allocator's mask of orders in use
// without a count per order.
//
// Levels: their count if fixed (kFlatLevels), else 0 and `count` holds it.
template <typename Level, unsigned Levels>
class SummarizedBits {
 public:
  std::array<Level, Levels != 0 ? Levels : kMaxLevels> levels{};
  unsigned count = Levels;

  unsigned size() const { return Levels != 0 ? Levels : count; }

  // Level 0's word w, for the caller to change a bit of and then call set_above (if it was
  // zero) or clear_above (if it became zero).
  std::uint64_t& word(std::uint64_t w) { return levels[0].at(w); }
  // Sets bit i; true if the bitmap was empty.
  bool set(std::uint64_t i) {
    std::uint64_t& w = word(i / 64);
    const std::uint64_t old = w;
    w = old | bit(i % 64);
    return old == 0 && set_above(i / 64);
  }
  // Sets bit i of an empty bitmap: every word on the way up is zero, so written, not read.
  void set_in_empty(std::uint64_t i) {
    up<0>([&](unsigned l) {
      levels[l].at(l + 1 == size() ? 0 : i / 64) = bit(i % 64);  // the top is one word
      i /= 64;
      return true;
    });
  }
  // Clears the lowest set bit of a non-empty bitmap and returns it; `emptied` if the bitmap is
  // now empty. Level 0's word is the one just read, its lowest bit the one to clear.
  std::uint64_t take_lowest(bool& emptied) {
    std::uint64_t i = 0;
    down([&](unsigned l) {
      const std::uint64_t w = levels[l].get(i);
      assert(w != 0);  // a set summary bit has a nonzero word below; the top is nonzero
      // Not std::countr_zero: defined at 0, it costs a test and a conditional move per level.
      i = i * 64 + static_cast<unsigned>(__builtin_ctzll(w));
    });
    std::uint64_t& w = word(i / 64);
    w &= w - 1;
    emptied = w == 0 && clear_above(i / 64);
    return i;
  }
  // Word w of level 0 became nonzero: set its summary bit and on up; true if the top was zero.
  bool set_above(std::uint64_t w) {
    return up<1>([&](unsigned l) {
      std::uint64_t& summary = levels[l].at(w / 64);
      const std::uint64_t old = summary;
      summary = old | bit(w % 64);
      w /= 64;
      return old == 0;
    });
  }
  // Word w of level 0 became zero: clear its summary bit and on up; true if the top is now zero.
  bool clear_above(std::uint64_t w) {
    return up<1>([&](unsigned l) {
      std::uint64_t& summary = levels[l].at(w / 64);
      summary &= ~bit(w % 64);
      w /= 64;
      return summary == 0;
    });
  }

 private:
  // step(l) for the levels from First up while it returns true; true if it always did. A fixed
  // count is unrolled: GCC 12 at -O2 kept the three-level loops as loops (8 instructions a level
  // for the lowest bit's walk), and unrolled, alloc took 97 instructions a call instead of 122.
  template <unsigned First, typename Step>
  bool up(Step step) {
    if constexpr (Levels != 0) {
      return [&]<unsigned... L>(std::integer_sequence<unsigned, L...>) {
        return (step(First + L) && ...);
      }(std::make_integer_sequence<unsigned, Levels - First>{});
    } else {
      for (unsigned l = First; l < count; ++l) {
        if (!step(l)) return false;
      }
      return true;
    }
  }
  // step(l) for every level from the top down.
  template <typename Step>
  void down(Step step) {
    if constexpr (Levels != 0) {
      [&]<unsigned... L>(std::integer_sequence<unsigned, L...>) {
        (step(Levels - 1 - L), ...);
      }(std::make_integer_sequence<unsigned, Levels>{});
    } else {
      for (unsigned l = count; l-- > 0;) step(l);
    }
  }
};

template <typename Level, unsigned Levels>
class BitmapBuddy final : public ApertureAllocator {
  static constexpr bool kFlat = std::is_same_v<Level, FlatLevel>;

 public:
  BitmapBuddy(std::uint64_t first_page, std::uint64_t page_count, unsigned max_order, std::uint64_t base)
      : first_(first_page), pages_(page_count), max_order_(max_order), base_(base) {
    assert(max_order < kMaxOrders);
    const std::uint64_t span = first_page + page_count - base;
    std::array<std::array<std::uint64_t, kMaxLevels>, kMaxOrders> words{};
    for (unsigned k = 0; k <= max_order; ++k) {
      free_[k].count = level_words((span >> k) + 2, words[k]);  // a buddy one past the end reads 0
      if constexpr (Levels != 0) {
        assert(free_[k].count <= Levels);
        for (unsigned l = free_[k].count; l < Levels; ++l) words[k][l] = 1;
        free_[k].count = Levels;
      }
      for (unsigned l = 0; l < free_[k].count; ++l) storage_words_ += words[k][l];
    }
    if constexpr (kFlat) storage_ = std::make_unique_for_overwrite<std::uint64_t[]>(storage_words_);
    std::uint64_t offset = 0;
    for (unsigned k = 0; k <= max_order; ++k) {
      for (unsigned l = 0; l < free_[k].count; ++l) {
        if constexpr (kFlat) {
          free_[k].levels[l].words = storage_.get() + offset;
          offset += words[k][l];
        } else {
          free_[k].levels[l].words.emplace(words[k][l], NoBits{});
        }
      }
    }
    reset();
  }

  // The lowest free block of the smallest order that fits. The orders from `order` up to the
  // block's are all empty (else one of them would be the block's), so the split's high halves
  // are each the only block of their order: stored into zero words without a read or a test,
  // and their orders marked in use at once.
  std::uint64_t take(std::uint64_t pages) override {
    // One test for all three refusals: pages == 0 makes order 64, and pages > pages_ (at least
    // 2^max_order_) an order above max_order_.
    const unsigned order = order_of(pages);
    if (order > max_order_) return kNoFit;
    const std::uint64_t fit = orders_in_use_ >> order;
    if (fit == 0) return kNoFit;
    const unsigned block_order = order + static_cast<unsigned>(std::countr_zero(fit));
    bool emptied = false;
    const std::uint64_t start = free_[block_order].take_lowest(emptied) << block_order;  // from base_
    if (emptied) orders_in_use_ &= ~bit(block_order);
    for (unsigned k = block_order; k-- > order;) free_[k].set_in_empty((start >> k) | 1);  // the high half
    orders_in_use_ |= bit(block_order) - bit(order);
    // The split's orders are below block_order: only its emptying can change the largest.
    if (emptied) largest_ = std::bit_floor(orders_in_use_);
    blocks_ += block_order - order;  // one block taken, one added per split
    --blocks_;
    free_pages_ -= bit(order);
    return base_ + start;
  }

  void free(std::uint64_t first_page, std::uint64_t pages) override {
    assert(pages > 0 && first_page >= first_ && first_page + pages <= first_ + pages_);
    unsigned order = order_of(pages);
    assert(first_page % bit(order) == 0 && "buddy frees whole blocks");
    free_pages_ += bit(order);
    // A buddy that is a free block lies inside the aperture, so the merged block does too; no
    // block of max_order_ has a free buddy (two would not fit the aperture). base_ is aligned
    // to 2^max_order_, so a buddy below that order is never below base_. A block and its buddy
    // are bits 2j and 2j + 1 of one word, loaded once to test the one and set the other.
    std::uint64_t start = first_page - base_;
    for (;; ++order) {
      const std::uint64_t i = start >> order;
      std::uint64_t& word = free_[order].word(i / 64);
      const std::uint64_t buddy = bit((i ^ 1) % 64);
      if (order == max_order_ || (word & buddy) == 0) {
        const std::uint64_t old = word;
        word = old | bit(i % 64);
        if (old == 0 && free_[order].set_above(i / 64)) {
          orders_in_use_ |= bit(order);
          largest_ = std::max(largest_, bit(order));  // the merges emptied only lower orders
        }
        ++blocks_;
        return;
      }
      word &= ~buddy;  // merge
      if (word == 0 && free_[order].clear_above(i / 64)) orders_in_use_ &= ~bit(order);
      --blocks_;
      start &= ~bit(order);
    }
  }

  std::uint64_t reserved_pages(std::uint64_t pages) const override {
    return pages > pages_ ? pages : std::bit_ceil(pages);
  }
  std::uint64_t free_pages() const override { return free_pages_; }
  // Kept, not computed from orders_in_use_: the DART reads it after every map and unmap (2 calls
  // an event, 8 instructions each when computed), and it changes only when an order empties or
  // fills, which alloc and free see anyway.
  std::uint64_t largest_free_pages() const override { return largest_; }
  std::uint64_t free_extents() const override { return blocks_; }

  void reset() override {
    if constexpr (kFlat) {
      std::fill_n(storage_.get(), storage_words_, std::uint64_t{0});
    } else {
      for (unsigned k = 0; k <= max_order_; ++k) {
        for (unsigned l = 0; l < free_[k].count; ++l) free_[k].levels[l].words->clear();
      }
    }
    orders_in_use_ = 0;
    blocks_ = 0;
    free_pages_ = pages_;
    // The maximal aligned blocks: at each page the largest block that starts there and fits.
    std::uint64_t page = first_;
    const std::uint64_t end = first_ + pages_;
    while (page < end) {
      unsigned order = page == 0 ? 63 : static_cast<unsigned>(std::countr_zero(page));
      while (bit(order) > end - page) --order;
      if (free_[order].set((page - base_) >> order)) orders_in_use_ |= bit(order);
      ++blocks_;
      page += bit(order);
    }
    largest_ = std::bit_floor(orders_in_use_);
  }

 private:
  static unsigned order_of(std::uint64_t pages) { return static_cast<unsigned>(std::bit_width(pages - 1)); }

  std::uint64_t first_;
  std::uint64_t pages_;
  unsigned max_order_;  // the largest block inside the aperture: 2^max_order_ <= pages_
  std::uint64_t base_;  // first_ rounded down to 2^max_order_: bit j of order k is page base_ + j * 2^k
  std::array<SummarizedBits<Level, Levels>, kMaxOrders> free_{};  // by order: the free blocks' starts
  std::uint64_t orders_in_use_ = 0;  // bit k: some free block of order k (order k's top word is nonzero)
  std::uint64_t largest_ = 0;  // the largest free block's pages: the top bit of orders_in_use_
  std::uint64_t blocks_ = 0;
  std::uint64_t free_pages_ = 0;
  std::uint64_t storage_words_ = 0;            // all levels of all orders
  std::unique_ptr<std::uint64_t[]> storage_;  // FlatLevel's words
};

}  // namespace

std::unique_ptr<ApertureAllocator> make_bitmap_buddy(std::uint64_t first_page, std::uint64_t page_count) {
  if (page_count == 0) return nullptr;
  const auto max_order = static_cast<unsigned>(std::bit_width(page_count) - 1);
  const std::uint64_t base = first_page & ~((std::uint64_t{1} << max_order) - 1);
  // Order 0's bitmap spans base .. the aperture's end: below 2^31 pages, lazily.
  if (first_page + page_count - base >= (std::uint64_t{1} << 31)) return nullptr;
  if ((first_page + page_count - base + 2 + 63) / 64 <= kFlatWords) {
    return std::make_unique<BitmapBuddy<FlatLevel, kFlatLevels>>(first_page, page_count, max_order, base);
  }
  return std::make_unique<BitmapBuddy<LazyLevel, 0>>(first_page, page_count, max_order, base);
}

}  // namespace dartlab::dart
