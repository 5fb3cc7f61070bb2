// SPDX-License-Identifier: MIT
// alloc=linux over a bitmap: the same picks as IovaAllocator (iova_aperture.cpp, which says what
// of iova.c is modelled and why), found by a search from the right in a summary tree instead of
// the extent treap.
//
// - One free bit per page, 64 pages a word, and a binary tree over the words (heap order). The
//   bitmap starts at `base_`, the aperture's first page rounded down to a multiple of the largest
//   alignment any request can need (bit_ceil of the page count, at least a word), and the pages
//   between base_ and the aperture are in use. So a tree node at level L (64 * 2^L pages) is an
//   aligned block of its size on the bus, as size alignment counts from page 0.
// - Each node holds the free run at its front and, for each order k up to its own size, its
//   "room": the longest free run at the front of any 2^k-aligned block inside it (at most 2^k).
//   A request of n pages has order k = bit_width(n - 1) and fits a block iff the block's front
//   run is >= n, so a subtree holds a place iff its room[k] >= n: the search from the right
//   prunes on it and visits O(log aperture) nodes. A node's own order is its front run, the
//   smaller ones the max of its children's.
// - largest_free_pages() (the largest request that fits size-aligned) is the root's largest room:
//   room[k] = v at a block aligned to 2^k >= bit_ceil(v) means v pages fit there, and any request
//   that fits is counted in room[its order].
// - Windows of up to 32 pages are aligned inside one word, so a leaf answers them with shifts;
//   larger ones start at a block node's first page.
//
// Storage is lazy (lazy_array.hpp): a missing chunk reads as the pristine aperture.
#include <algorithm>
#include <array>
#include <bit>
#include <cassert>

#include "base/bits.hpp"
#include "models/dart/bitmap_aperture.hpp"
#include "models/dart/lazy_array.hpp"

namespace dartlab::dart {

namespace {

constexpr std::uint64_t kNotFound = ~std::uint64_t{0};
// u32 per node: the front run, then rooms of orders 0 .. 30 (a 2^24-word tree's root is order
// 30), zero past the node's own order.
constexpr unsigned kStride = 32;
constexpr std::uint64_t kMaxSpan = std::uint64_t{1} << 30;  // pages a bitmap may span

// Bits at multiples of 2^k in a word, k = 0..6.
constexpr std::uint64_t kAligned[7] = {~std::uint64_t{0}, 0x5555555555555555u, 0x1111111111111111u,
                                       0x0101010101010101u, 0x0001000100010001u, 0x0000000100000001u, 1};

// For each byte of free bits, rooms of orders 0..3 inside it (the longest front run of its
// aligned blocks of 1, 2, 4 and 8 bits), each as a thermometer code (v ones) so that the max over
// a word's bytes is an OR: bit 0 order 0, bits 1-2 order 1, bits 3-6 order 2, bits 7-14 order 3.
constexpr std::array<std::uint16_t, 256> kByteRooms = [] {
  std::array<std::uint16_t, 256> table{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    unsigned offset = 0;
    for (unsigned k = 0; k <= 3; ++k) {
      const unsigned size = 1u << k;
      unsigned best = 0;
      for (unsigned at = 0; at < 8; at += size) {
        const unsigned block = (byte >> at) & ((1u << size) - 1);
        best = std::max(best, static_cast<unsigned>(std::countr_one(block)));  // < size unless full
      }
      best = std::min(best, size);
      table[byte] = static_cast<std::uint16_t>(table[byte] | (((1u << best) - 1) << offset));
      offset += size;
    }
  }
  return table;
}();

std::uint64_t bits_from(unsigned offset, std::uint64_t count) {  // count bits from offset, within a word
  const std::uint64_t ones = count >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1;
  return ones << offset;
}

// Bits i of x with bits i .. i+n-1 all set (n in 1..64); runs do not continue past bit 63.
std::uint64_t run_starts(std::uint64_t x, std::uint64_t n) {
  for (std::uint64_t k = 1; k < n;) {
    const std::uint64_t step = std::min(k, n - k);
    x &= x >> step;
    k += step;
  }
  return x;
}

class BitmapIova final : public ApertureAllocator {
 public:
  BitmapIova(std::uint64_t first_page, std::uint64_t page_count, std::uint64_t base, std::uint64_t width)
      : first_(first_page),
        pages_(page_count),
        base_(base),
        width_(width),
        levels_(static_cast<unsigned>(std::countr_zero(width))),
        orders_(levels_ + 7),
        words_(width_, PristineWord{first_page - base, first_page - base + page_count}),
        nodes_(2 * width_ * kStride, PristineNode{first_page - base, first_page - base + page_count, width_,
                                                  levels_}) {
    reset();
  }

  std::uint64_t take(std::uint64_t pages) override {
    if (pages == 0 || pages > pages_ || pages > largest_free_pages()) return kNoFit;
    const auto order = static_cast<unsigned>(std::bit_width(pages - 1));  // fls_long(pages - 1)
    const std::uint64_t end = first_ + pages_;
    const std::uint64_t lo = first_ - base_;
    std::uint64_t p = highest_below(order, pages, lo, cached_page_ - base_);
    if (p == kNotFound && cached_page_ != end) p = highest_below(order, pages, cached_page_ + 1 - base_, end - base_);
    if (p == kNotFound) return kNoFit;
    const bool left = p > 0 && is_free(p - 1);
    const bool right = is_free(p + pages);
    set_range(p, pages, /*free=*/false);
    free_pages_ -= pages;
    extents_ = extents_ + (left && right ? 1 : 0) - (!left && !right ? 1 : 0);
    cached_page_ = base_ + p;
    return base_ + p;
  }

  void free(std::uint64_t first_page, std::uint64_t pages) override {
    assert(first_page >= first_ && first_page + pages <= first_ + pages_);
    if (pages == 0) return;
    const std::uint64_t p = first_page - base_;
    const bool left = p > 0 && is_free(p - 1);
    const bool right = is_free(p + pages);
    set_range(p, pages, /*free=*/true);
    free_pages_ += pages;
    extents_ = extents_ + 1 - (left ? 1 : 0) - (right ? 1 : 0);
    // iova.c: freeing at or above the cached run moves the cache to the run above the freed one,
    // which is the first page in use after the merged free run (or the end).
    if (first_page >= cached_page_) cached_page_ = base_ + std::min(next_used(p + pages), first_ + pages_ - base_);
  }

  std::uint64_t free_pages() const override { return free_pages_; }
  std::uint64_t largest_free_pages() const override { return largest_; }
  std::uint64_t free_extents() const override { return extents_; }

  void reset() override {
    words_.clear();
    nodes_.clear();
    free_pages_ = pages_;
    extents_ = pages_ > 0 ? 1 : 0;
    cached_page_ = first_ + pages_;
    update_largest();
  }

 private:
  // Free pages of the pristine aperture, as bitmap positions: [lo, hi).
  struct PristineWord {
    std::uint64_t lo;
    std::uint64_t hi;
    std::uint64_t operator()(std::uint64_t w) const {
      const std::uint64_t a = std::max(lo, w * 64);
      const std::uint64_t b = std::min(hi, w * 64 + 64);
      return a < b ? bits_from(static_cast<unsigned>(a - w * 64), b - a) : 0;
    }
  };
  struct PristineNode {
    std::uint64_t lo;
    std::uint64_t hi;
    std::uint64_t width;
    unsigned levels;
    std::uint32_t operator()(std::uint64_t index) const {
      const std::uint64_t i = index / kStride;
      const std::uint64_t slot = index % kStride;  // 0: front run, 1 + k: room of order k
      if (i == 0 || i >= 2 * width) return 0;
      const auto depth = static_cast<unsigned>(std::bit_width(i)) - 1;
      const unsigned level = levels - depth;
      const std::uint64_t node_lo = ((i - (std::uint64_t{1} << depth)) << level) * 64;
      const std::uint64_t node_hi = node_lo + (std::uint64_t{64} << level);
      if (slot == 0) return node_lo >= lo && node_lo < hi ? static_cast<std::uint32_t>(std::min(node_hi, hi) - node_lo) : 0;
      const unsigned k = static_cast<unsigned>(slot) - 1;
      if (k > level + 6) return 0;
      // The first 2^k-aligned block at or after the free pages' start has the longest front run.
      const std::uint64_t size = std::uint64_t{1} << k;
      const std::uint64_t b = (std::max(node_lo, lo) + size - 1) & ~(size - 1);
      return b < std::min(node_hi, hi) ? static_cast<std::uint32_t>(std::min(size, hi - b)) : 0;
    }
  };

  std::uint32_t front(std::uint64_t i) const { return nodes_.get(i * kStride); }
  std::uint32_t room(std::uint64_t i, unsigned k) const { return nodes_.get(i * kStride + 1 + k); }

  bool is_free(std::uint64_t p) const { return p < width_ * 64 && ((words_.get(p / 64) >> (p % 64)) & 1) != 0; }

  // The first page in use at or after p (width_ * 64 if none in the bitmap).
  std::uint64_t next_used(std::uint64_t p) const {
    if (p >= width_ * 64) return p;
    const std::uint64_t above = ~words_.get(p / 64) >> (p % 64);
    if (above != 0) return p + static_cast<std::uint64_t>(std::countr_zero(above));
    // Climb to the first right sibling not wholly free, then descend to its first used page.
    std::uint64_t i = width_ + p / 64;
    std::uint64_t span = 64;
    for (; i > 1; i /= 2, span *= 2) {
      if ((i & 1) == 0 && front(i + 1) < span) break;
    }
    if (i <= 1) return width_ * 64;
    i += 1;
    while (i < width_) {
      span /= 2;
      i = front(2 * i) < span ? 2 * i : 2 * i + 1;
    }
    const std::uint64_t w = i - width_;
    return w * 64 + static_cast<std::uint64_t>(std::countr_one(words_.get(w)));
  }

  // The highest start in [lo, hi) of a free window of n pages aligned to 2^k (k = order of n),
  // bottom-up: the leaf (or, for k >= 6, the aligned block) holding page hi - 1 first, then the
  // left siblings met climbing from it, each searched top-down: nearest first, so a window just
  // below hi (the usual case, below the cached run) is found near the leaves.
  std::uint64_t highest_below(unsigned k, std::uint64_t n, std::uint64_t lo, std::uint64_t hi) const {
    if (hi <= lo) return kNotFound;
    unsigned level = k >= 6 ? k - 6 : 0;
    std::uint64_t i = (width_ + (hi - 1) / 64) >> level;
    std::uint64_t span = std::uint64_t{64} << level;
    std::uint64_t node_lo = (i - (width_ >> level)) * span;
    std::uint64_t p = highest(i, level, node_lo, k, n, lo, hi);
    for (; p == kNotFound && i > 1 && node_lo > lo; i /= 2, ++level, span *= 2, node_lo &= ~(span - 1)) {
      if ((i & 1) != 0) p = highest(i - 1, level, node_lo - span, k, n, lo, hi);
    }
    return p;
  }

  // The highest start in [lo, hi) of a free window of n pages aligned to 2^k (k = order of n)
  // inside node i (level, first page node_lo); kNotFound if none.
  std::uint64_t highest(std::uint64_t i, unsigned level, std::uint64_t node_lo, unsigned k, std::uint64_t n,
                        std::uint64_t lo, std::uint64_t hi) const {
    const std::uint64_t span = std::uint64_t{64} << level;
    if (node_lo >= hi || node_lo + span <= lo || room(i, k) < n) return kNotFound;
    if (k >= 6 && level == k - 6) return node_lo >= lo ? node_lo : kNotFound;  // an aligned block: its front fits
    if (level == 0) {  // k < 6: windows lie inside the word
      std::uint64_t s = run_starts(words_.get(i - width_), n) & kAligned[k];
      if (lo > node_lo) s &= ~std::uint64_t{0} << (lo - node_lo);
      if (hi < node_lo + 64) s &= (std::uint64_t{1} << (hi - node_lo)) - 1;
      return s != 0 ? node_lo + 63 - static_cast<std::uint64_t>(std::countl_zero(s)) : kNotFound;
    }
    const std::uint64_t r = highest(2 * i + 1, level - 1, node_lo + span / 2, k, n, lo, hi);
    return r != kNotFound ? r : highest(2 * i, level - 1, node_lo, k, n, lo, hi);
  }

  // Word w's row from its bits; false if it did not change. Orders 0..3 from a table per byte
  // (blocks of up to 8 pages lie in one byte), 4..6 from the front runs of the 16-, 32- and
  // 64-bit blocks.
  bool summarize_leaf(std::uint64_t w) {
    const std::uint64_t x = words_.get(w);
    std::uint32_t rooms[8];
    rooms[0] = static_cast<std::uint32_t>(std::countr_one(x));  // the front run
    std::uint32_t small = 0;
    for (unsigned b = 0; b < 64; b += 8) small |= kByteRooms[(x >> b) & 0xff];
    rooms[1] = static_cast<std::uint32_t>(popcount8(small & 0x1u));
    rooms[2] = static_cast<std::uint32_t>(popcount8((small >> 1) & 0x3u));
    rooms[3] = static_cast<std::uint32_t>(popcount8((small >> 3) & 0xfu));
    rooms[4] = static_cast<std::uint32_t>(popcount8((small >> 7) & 0xffu));
    std::uint32_t r16 = 0;
    for (unsigned b = 0; b < 64; b += 16) {
      r16 = std::max(r16, static_cast<std::uint32_t>(std::countr_one(static_cast<std::uint16_t>(x >> b))));
    }
    rooms[5] = r16;
    rooms[6] = static_cast<std::uint32_t>(std::max(std::countr_one(static_cast<std::uint32_t>(x)),
                                                   std::countr_one(static_cast<std::uint32_t>(x >> 32))));
    rooms[7] = rooms[0];  // order 6: the word is one block
    std::uint32_t* row = &nodes_.at((width_ + w) * kStride);
    std::uint32_t diff = 0;
    for (unsigned k = 0; k < 8; ++k) {
      diff |= row[k] ^ rooms[k];
      row[k] = rooms[k];
    }
    return diff != 0;
  }

  // Node i at `level` >= 1 from its children; false if it did not change. The children's rows
  // share a chunk with the child on the updated path, so reading them through at() makes nothing.
  // Only the node's own orders: a whole-row loop, vectorized, measured slower (most nodes
  // updated are low in the tree, with few orders).
  bool summarize_node(std::uint64_t i, unsigned level) {
    const std::uint32_t child_span = 64u << (level - 1);
    const std::uint32_t* l = &nodes_.at(2 * i * kStride);
    const std::uint32_t* r = l + kStride;
    std::uint32_t* row = &nodes_.at(i * kStride);
    const std::uint32_t front = l[0] == child_span ? child_span + r[0] : l[0];
    std::uint32_t diff = row[0] ^ front;
    row[0] = front;
    for (unsigned k = 1; k <= level + 6; ++k) {
      const std::uint32_t v = std::max(l[k], r[k]);
      diff |= row[k] ^ v;
      row[k] = v;
    }
    diff |= row[level + 7] ^ front;  // the node is one aligned block of its order
    row[level + 7] = front;
    return diff != 0;
  }

  void set_range(std::uint64_t p, std::uint64_t pages, bool free) {
    const std::uint64_t w0 = p / 64;
    const std::uint64_t w1 = (p + pages - 1) / 64;
    for (std::uint64_t w = w0; w <= w1; ++w) {
      const std::uint64_t lo = std::max(p, w * 64);
      const std::uint64_t hi = std::min(p + pages, w * 64 + 64);
      const std::uint64_t mask = bits_from(static_cast<unsigned>(lo % 64), hi - lo);
      std::uint64_t& word = words_.at(w);
      assert(free ? (word & mask) == 0 : (word & mask) == mask);
      word = free ? word | mask : word & ~mask;
      if (!summarize_leaf(w) && w0 == w1) return;  // nothing above changes either
    }
    // Ancestors level by level; once the touched range is one node that did not change, stop.
    std::uint64_t lo = (width_ + w0) / 2;
    std::uint64_t hi = (width_ + w1) / 2;
    for (unsigned level = 1; lo >= 1; lo /= 2, hi /= 2, ++level) {
      for (std::uint64_t i = lo; i <= hi; ++i) {
        if (!summarize_node(i, level) && lo == hi) return;
      }
    }
    update_largest();  // the root changed
  }

  void update_largest() {
    std::uint32_t best = 0;
    for (unsigned k = 0; k < orders_; ++k) best = std::max(best, room(1, k));
    largest_ = best;
  }

  std::uint64_t first_;
  std::uint64_t pages_;
  std::uint64_t base_;   // bus page of bit 0: aligned to every request's alignment
  std::uint64_t width_;  // words in the tree: a power of two
  unsigned levels_;      // log2(width_): node 1 is the root, nodes width_ + w the words' leaves
  unsigned orders_;      // rooms per node: orders 0 .. levels_ + 6 (the root's own)
  LazyArray<std::uint64_t, PristineWord> words_;  // bit set: page free
  // Rows of kStride u32 per node, heap order: the default aperture's 4096 rows of 32 in one flat
  // array, a larger tree in chunks of 2^14 (512 rows: a multiple of the stride, so a row never
  // straddles two; small, as an update touches one chunk per level).
  LazyArray<std::uint32_t, PristineNode, 17, 14> nodes_;
  std::uint64_t free_pages_ = 0;
  std::uint64_t extents_ = 0;
  std::uint64_t cached_page_ = 0;  // first page of the cached run; the aperture's end: the anchor
  std::uint64_t largest_ = 0;      // the root's largest room, kept as the root changes
};

}  // namespace

std::unique_ptr<ApertureAllocator> make_bitmap_iova(std::uint64_t first_page, std::uint64_t page_count) {
  if (page_count == 0) return nullptr;
  // Every alignment a request can need divides base; the bitmap spans base .. the aperture's end.
  const std::uint64_t align = std::max<std::uint64_t>(64, std::bit_ceil(page_count));
  const std::uint64_t base = first_page & ~(align - 1);
  const std::uint64_t width = std::bit_ceil((first_page + page_count - base + 63) / 64);
  // Rows hold orders up to 30: `max` with 4K pages (2^30 - 1 pages from page 1) just fits.
  if (width * 64 > kMaxSpan) return nullptr;
  return std::make_unique<BitmapIova>(first_page, page_count, base, width);
}

}  // namespace dartlab::dart
