// SPDX-License-Identifier: MIT
// alloc=first-fit on boundary tags: the runs as boundary_tags.hpp keeps them (a bit at each free
// run's first page and one at its last, its length tagged at both), indexed by a tree over the
// 64-page words of first pages whose nodes hold the longest run starting in their range. The
// lowest run of >= n pages is one descent to the leftmost word with a long enough run and a scan
// of that word's starts; an alloc moves one start bit and two tags, a free reads the bits beside
// it, however long the runs; only the words whose starts changed are re-summarized, their
// ancestors until one does not change. The root is the longest free run.
#include <algorithm>
#include <bit>
#include <cassert>

#include "models/dart/bitmap_aperture.hpp"
#include "models/dart/boundary_tags.hpp"
#include "models/dart/lazy_array.hpp"

namespace dartlab::dart {

namespace {

class TaggedFirstFit final : public ApertureAllocator {
 public:
  TaggedFirstFit(std::uint64_t first_page, std::uint64_t page_count)
      : first_(first_page),
        pages_(page_count),
        width_(std::bit_ceil(std::max<std::uint64_t>(1, (page_count + 63) / 64))),
        levels_(static_cast<unsigned>(std::countr_zero(width_))),
        tags_(width_, page_count),
        longest_(2 * width_, PristineLongest{static_cast<std::uint32_t>(page_count), width_}) {
    assert(page_count < (std::uint64_t{1} << 32));
    reset();
  }

  std::optional<std::uint64_t> alloc(std::uint64_t pages) override {
    if (pages == 0 || pages > longest_.get(1)) return std::nullopt;
    std::uint64_t i = 1;
    for (unsigned level = levels_; level > 0; --level) i = longest_.get(2 * i) >= pages ? 2 * i : 2 * i + 1;
    const std::uint64_t w = i - width_;
    std::uint64_t s = 0;
    std::uint64_t len = 0;
    for (std::uint64_t starts = tags_.starts_word(w);; starts &= starts - 1) {
      assert(starts != 0 && "the tree promised a run");
      s = w * 64 + static_cast<std::uint64_t>(std::countr_zero(starts));
      len = tags_.length(s);
      if (len >= pages) break;
    }
    // Word w's longest run changes only if the cut run was it (another run as long may remain:
    // then a rescan). The front's remainder, when it moves to the next word, only raises that
    // word's longest. Rescanning both words on every alloc read up to 64 scattered tags each: it
    // was 4.4% of BM_CoreDirect's profile.
    const bool was_longest = len >= longest_.get(width_ + w);
    if (tags_.cut_front(s, len, pages)) {
      --extents_;
    } else if ((s + pages) / 64 != w) {
      raise_leaf((s + pages) / 64, len - pages);
    }
    if (was_longest) refresh_leaf(w);
    free_pages_ -= pages;
    return first_ + s;
  }

  void free(std::uint64_t first_page, std::uint64_t pages) override {
    assert(first_page >= first_ && first_page + pages <= first_ + pages_);
    if (pages == 0) return;
    const std::uint64_t r = first_page - first_;
    const BoundaryTags::Merged m = tags_.give_back(r, pages);
    const unsigned merged = (m.below != 0) + (m.above != 0);
    // The merged run holds every run it swallowed, so in its own word the longest can only grow
    // to its length (no rescan); the word the swallowed run above started in lost a start.
    raise_leaf(m.first / 64, m.end - m.first);
    if (m.above != 0 && (r + pages) / 64 != m.first / 64) refresh_leaf((r + pages) / 64);
    extents_ = extents_ + 1 - merged;
    free_pages_ += pages;
  }

  std::uint64_t free_pages() const override { return free_pages_; }
  std::uint64_t largest_free_pages() const override { return longest_.get(1); }
  std::uint64_t free_extents() const override { return extents_; }

  void reset() override {
    tags_.clear();
    longest_.clear();
    free_pages_ = pages_;
    extents_ = pages_ > 0 ? 1 : 0;
  }

 private:
  // Pristine arrays: one free run [0, pages).
  struct PristineLongest {  // the run starts in word 0: its leaf and the leaf's ancestors
    std::uint32_t pages;
    std::uint64_t width;
    std::uint32_t operator()(std::uint64_t i) const {
      return i != 0 && (i & (i - 1)) == 0 && i <= width ? pages : 0;
    }
  };

  // Word w's longest run from its starts and tags, then its ancestors' until one does not change.
  void refresh_leaf(std::uint64_t w) {
    std::uint32_t longest = 0;
    for (std::uint64_t starts = tags_.starts_word(w); starts != 0; starts &= starts - 1) {
      longest = std::max(longest, static_cast<std::uint32_t>(
                                      tags_.length(w * 64 + static_cast<std::uint64_t>(std::countr_zero(starts)))));
    }
    std::uint64_t i = width_ + w;
    if (longest_.get(i) == longest) return;
    longest_.at(i) = longest;
    for (i /= 2; i >= 1; i /= 2) {
      const std::uint32_t m = std::max(longest_.get(2 * i), longest_.get(2 * i + 1));
      if (longest_.get(i) == m) return;
      longest_.at(i) = m;
    }
  }

  // Word w gained a start of a run of `len` pages (and lost none that could be its longest):
  // the leaf and its ancestors rise to len where they are below it.
  void raise_leaf(std::uint64_t w, std::uint64_t len) {
    const auto v = static_cast<std::uint32_t>(len);
    for (std::uint64_t i = width_ + w; i >= 1 && longest_.get(i) < v; i /= 2) longest_.at(i) = v;
  }

  std::uint64_t first_;
  std::uint64_t pages_;
  std::uint64_t width_;  // words in the tree: a power of two, at least the aperture's
  unsigned levels_;      // log2(width_): node 1 is the root, nodes width_ + w the words' leaves
  BoundaryTags tags_;
  LazyArray<std::uint32_t, PristineLongest> longest_;  // heap order: longest run starting in the range
  std::uint64_t free_pages_ = 0;
  std::uint64_t extents_ = 0;
};

}  // namespace

std::unique_ptr<ApertureAllocator> make_tagged_first_fit(std::uint64_t first_page, std::uint64_t page_count) {
  if (page_count >= (std::uint64_t{1} << 32)) return nullptr;  // tags hold 32-bit lengths
  return std::make_unique<TaggedFirstFit>(first_page, page_count);
}

}  // namespace dartlab::dart
