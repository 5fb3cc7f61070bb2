// SPDX-License-Identifier: MIT
#include "models/dart/bitmap_aperture.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <vector>

#include "models/dart/lazy_array.hpp"

namespace dartlab::dart {

namespace {

// Free runs of a node's range, in pages: at its front, at its back, and the longest. Pages past
// the aperture's end count as in use, so `front == span` means the whole range is free.
//
// Two layouts. Wide: 32 bits each, 16 bytes aligned (a parent is recomputed right after its
// children are written, and a 12-byte stride made some of those stores straddle cache lines and
// stall the loads that follow). Packed: 21 bits each in one word, for apertures under 2^21 pages
// (32 GiB of 16K pages, the default 1.5 GiB among them): half the bytes, so the whole tree of the
// default aperture (4096 nodes) fits in 32 KB, in L1.
struct alignas(16) WideSummary {
  static constexpr std::uint64_t kLimit = std::uint64_t{1} << 32;  // page counts below it
  std::uint32_t front_ = 0;
  std::uint32_t back_ = 0;
  std::uint32_t best_ = 0;
  static WideSummary make(std::uint64_t front, std::uint64_t back, std::uint64_t best) {
    return {static_cast<std::uint32_t>(front), static_cast<std::uint32_t>(back), static_cast<std::uint32_t>(best)};
  }
  std::uint64_t front() const { return front_; }
  std::uint64_t back() const { return back_; }
  std::uint64_t best() const { return best_; }
  bool operator==(const WideSummary&) const = default;
};

struct PackedSummary {
  static constexpr unsigned kBits = 21;
  static constexpr std::uint64_t kLimit = std::uint64_t{1} << kBits;
  std::uint64_t bits = 0;
  static PackedSummary make(std::uint64_t front, std::uint64_t back, std::uint64_t best) {
    return {front | back << kBits | best << (2 * kBits)};
  }
  std::uint64_t front() const { return bits & (kLimit - 1); }
  std::uint64_t back() const { return (bits >> kBits) & (kLimit - 1); }
  std::uint64_t best() const { return bits >> (2 * kBits); }
  bool operator==(const PackedSummary&) const = default;
};

// The longest run of ones, without a branch per run (which mispredicts on fragmented words):
// starts[k] marks where 2^k ones begin; the length is then built greedily from the top bit down.
unsigned longest_ones(std::uint64_t x) {
  if (x == ~std::uint64_t{0}) return 64;
  std::uint64_t starts[6];
  starts[0] = x;
  for (unsigned k = 1; k < 6; ++k) starts[k] = starts[k - 1] & (starts[k - 1] >> (1u << (k - 1)));
  unsigned len = 0;  // some run of len ones begins at each bit of `at`
  std::uint64_t at = ~std::uint64_t{0};
  for (unsigned k = 6; k-- > 0;) {
    const std::uint64_t longer = at & (starts[k] >> len);  // len < 64: x is not all ones
    if (longer != 0) {
      at = longer;
      len += 1u << k;
    }
  }
  return len;
}

template <typename Summary>
Summary summarize(std::uint64_t word) {
  return Summary::make(static_cast<std::uint64_t>(std::countr_one(word)),
                       static_cast<std::uint64_t>(std::countl_one(word)), longest_ones(word));
}

template <typename Summary>
Summary combine(const Summary& l, const Summary& r, std::uint64_t child_span) {
  return Summary::make(l.front() == child_span ? child_span + r.front() : l.front(),
                       r.back() == child_span ? child_span + l.back() : r.back(),
                       std::max({l.best(), r.best(), l.back() + r.front()}));
}

// Lowest bit i with bits i .. i+n-1 all set (n in 1..64, some such i exists).
unsigned lowest_run_in_word(std::uint64_t x, std::uint64_t n) {
  std::uint64_t starts = x;
  for (std::uint64_t k = 1; k < n;) {  // doubling: after it, bit i says "k ones from i"
    const std::uint64_t step = std::min(k, n - k);
    starts &= starts >> step;
    k += step;
  }
  assert(starts != 0);
  return static_cast<unsigned>(std::countr_zero(starts));
}

std::uint64_t bits_mask(unsigned offset, std::uint64_t count) {  // count bits from offset, within a word
  const std::uint64_t ones = count >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1;
  return ones << offset;
}

template <typename Summary>
class BitmapFirstFit final : public ApertureAllocator {
 public:
  BitmapFirstFit(std::uint64_t first_page, std::uint64_t page_count)
      : first_(first_page),
        pages_(page_count),
        width_(std::bit_ceil(std::max<std::uint64_t>(1, (page_count + 63) / 64))),
        levels_(static_cast<unsigned>(std::countr_zero(width_))),
        words_(width_, PristineWord{page_count}),
        nodes_(2 * width_, PristineNode{page_count, width_, levels_}) {
    reset();
  }

  std::uint64_t take(std::uint64_t pages) override {
    if (pages == 0 || pages > nodes_.get(1).best()) return kNoFit;
    const std::uint64_t p = lowest_run(pages);
    set_range(p, pages, /*free=*/false);
    free_pages_ -= pages;
    if (!is_free(p + pages)) --extents_;  // the run was used up; p - 1 is in use (p starts a run)
    return first_ + p;
  }

  void free(std::uint64_t first_page, std::uint64_t pages) override {
    assert(first_page >= first_ && first_page + pages <= first_ + pages_);
    if (pages == 0) return;
    const std::uint64_t p = first_page - first_;
    const bool left = p > 0 && is_free(p - 1);
    const bool right = is_free(p + pages);
    set_range(p, pages, /*free=*/true);
    free_pages_ += pages;
    extents_ = extents_ + 1 - (left ? 1 : 0) - (right ? 1 : 0);
  }

  std::uint64_t free_pages() const override { return free_pages_; }
  std::uint64_t largest_free_pages() const override { return nodes_.get(1).best(); }
  std::uint64_t free_extents() const override { return extents_; }

  void reset() override {
    words_.clear();
    nodes_.clear();
    free_pages_ = pages_;
    extents_ = pages_ > 0 ? 1 : 0;
  }

 private:
  struct PristineWord {
    std::uint64_t pages;
    std::uint64_t operator()(std::uint64_t w) const {
      const std::uint64_t lo = w * 64;
      if (lo >= pages) return 0;
      return bits_mask(0, pages - lo);
    }
  };
  struct PristineNode {
    std::uint64_t pages;
    std::uint64_t width;
    unsigned levels;
    Summary operator()(std::uint64_t i) const {
      if (i == 0 || i >= 2 * width) return Summary{};  // unused slots: before the root, past the leaves (chunk's tail)
      const auto depth = static_cast<unsigned>(std::bit_width(i)) - 1;
      const unsigned level = levels - depth;
      const std::uint64_t lo = ((i - (std::uint64_t{1} << depth)) << level) * 64;
      const std::uint64_t hi = lo + (std::uint64_t{64} << level);
      const std::uint64_t free = std::min(hi, pages) > lo ? std::min(hi, pages) - lo : 0;
      return Summary::make(free, hi <= pages ? free : 0, free);
    }
  };

  bool is_free(std::uint64_t p) const { return p < pages_ && ((words_.get(p / 64) >> (p % 64)) & 1) != 0; }

  // The lowest page starting `pages` free pages; the root's longest run must fit them.
  std::uint64_t lowest_run(std::uint64_t pages) const {
    std::uint64_t i = 1;
    std::uint64_t start = 0;  // first page of node i
    for (unsigned level = levels_; level > 0; --level) {
      const std::uint64_t child_span = std::uint64_t{64} << (level - 1);
      const Summary l = nodes_.get(2 * i);
      if (l.best() >= pages) {
        i = 2 * i;
        continue;
      }
      const Summary r = nodes_.get(2 * i + 1);
      if (l.back() + r.front() >= pages) return start + child_span - l.back();  // crosses the middle
      i = 2 * i + 1;
      start += child_span;
    }
    return start + lowest_run_in_word(words_.get(i - width_), pages);
  }

  void set_range(std::uint64_t p, std::uint64_t pages, bool free) {
    const std::uint64_t w0 = p / 64;
    const std::uint64_t w1 = (p + pages - 1) / 64;
    for (std::uint64_t w = w0; w <= w1; ++w) {
      const std::uint64_t lo = std::max(p, w * 64);
      const std::uint64_t hi = std::min(p + pages, w * 64 + 64);
      const std::uint64_t mask = bits_mask(static_cast<unsigned>(lo % 64), hi - lo);
      std::uint64_t& word = words_.at(w);
      assert(free ? (word & mask) == 0 : (word & mask) == mask);
      word = free ? word | mask : word & ~mask;
      nodes_.at(width_ + w) = summarize<Summary>(word);
    }
    // Refresh the ancestors level by level; once the touched range is one node whose summary
    // did not change, nothing above it changes either.
    std::uint64_t lo = (width_ + w0) / 2;
    std::uint64_t hi = (width_ + w1) / 2;
    for (std::uint64_t child_span = 64; lo >= 1; lo /= 2, hi /= 2, child_span *= 2) {
      for (std::uint64_t i = lo; i <= hi; ++i) {
        const Summary s = combine(nodes_.get(2 * i), nodes_.get(2 * i + 1), child_span);
        Summary& slot = nodes_.at(i);
        if (lo == hi && slot == s) return;
        slot = s;
      }
    }
  }

  std::uint64_t first_;
  std::uint64_t pages_;
  std::uint64_t width_;  // words in the tree: a power of two, at least the aperture's
  unsigned levels_;      // log2(width_): node 1 is the root, nodes width_ + w the words' leaves
  LazyArray<std::uint64_t, PristineWord> words_;  // bit set: page free
  LazyArray<Summary, PristineNode> nodes_;        // heap order
  std::uint64_t free_pages_ = 0;
  std::uint64_t extents_ = 0;
};

}  // namespace

std::unique_ptr<ApertureAllocator> make_bitmap_first_fit(std::uint64_t first_page, std::uint64_t page_count) {
  if (page_count < PackedSummary::kLimit) {
    return std::make_unique<BitmapFirstFit<PackedSummary>>(first_page, page_count);
  }
  if (page_count < WideSummary::kLimit) return std::make_unique<BitmapFirstFit<WideSummary>>(first_page, page_count);
  return nullptr;
}

}  // namespace dartlab::dart
