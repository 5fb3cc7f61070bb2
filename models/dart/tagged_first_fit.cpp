// SPDX-License-Identifier: MIT
// alloc=first-fit on boundary tags: the runs as boundary_tags.hpp keeps them (a bit at each free
// run's first page and one at its last, its length tagged at both), indexed by a tree over the
// 64-page words of first pages whose nodes hold the longest run starting in their range. The
// lowest run of >= n pages is one descent to the leftmost word with a long enough run and a scan
// of that word's starts; an alloc moves one start bit and two tags, a free reads the bits beside
// it, however long the runs; only the words whose starts changed are re-summarized, their
// ancestors until one does not change. The root is the longest free run.
//
// The tree has 16 children a node, each node's children side by side (64 bytes, one cache line):
// the default aperture's 1,536 words are 3 levels below the root instead of 11, and a level's
// step compares a row of 16 lengths at once, without a branch. The binary tree's descent was a
// chain of 11 dependent loads and compares, about half of alloc's time (BM_ApertureFirstFit).
#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>

#include "models/dart/bitmap_aperture.hpp"
#include "models/dart/boundary_tags.hpp"
#include "models/dart/lazy_array.hpp"
#include "models/dart/row16.hpp"

namespace dartlab::dart {

namespace {

class TaggedFirstFit final : public ApertureAllocator {
 public:
  TaggedFirstFit(std::uint64_t first_page, std::uint64_t page_count)
      : first_(first_page),
        pages_(page_count),
        width_(std::bit_ceil(words_for(page_count))),
        shape_(words_for(page_count)),
        tags_(width_, page_count),
        longest_(shape_.nodes, PristineLongest{static_cast<std::uint32_t>(page_count), shape_}) {
    assert(page_count < (std::uint64_t{1} << 32));
    reset();
  }

  std::optional<std::uint64_t> alloc(std::uint64_t pages) override {
    if (pages == 0 || pages > longest_.get(0)) return std::nullopt;
    std::uint64_t w = 0;  // the node at each level, the word at the last
    for (unsigned level = 1; level <= shape_.levels; ++level)
      w = kFan * w + first_child_at_least(shape_.offset[level] + kFan * w, static_cast<std::uint32_t>(pages));
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
    const bool was_longest = len >= longest_.get(leaf(w));
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
  std::uint64_t largest_free_pages() const override { return longest_.get(0); }
  std::uint64_t free_extents() const override { return extents_; }

  void reset() override {
    tags_.clear();
    longest_.clear();
    free_pages_ = pages_;
    extents_ = pages_ > 0 ? 1 : 0;
  }

 private:
  static constexpr std::uint64_t kFan = row16::kWidth;  // children a node
  static constexpr unsigned kMaxLevels = 7;  // below 2^32 pages: below 2^26 words, 16^7 = 2^28

  // 64-page words over the aperture, at least one.
  static std::uint64_t words_for(std::uint64_t pages) { return std::max<std::uint64_t>(1, (pages + 63) / 64); }

  // Where each level lies in longest_: level 0 is the root, the last level the words. A level
  // holds just the nodes over the words, rounded up to whole rows of 16 (a row is a node's
  // children), so a large aperture's tree is about as long as its words.
  struct Shape {
    explicit Shape(std::uint64_t words) {
      std::uint64_t up[kMaxLevels + 1];  // nodes a level, from the words up to the root's one
      up[0] = words;
      for (levels = 0; up[levels] > 1; ++levels) up[levels + 1] = (up[levels] + kFan - 1) / kFan;
      for (unsigned l = 0; l <= levels; ++l) {
        offset[l] = nodes;
        nodes += (up[levels - l] + kFan - 1) / kFan * kFan;
      }
    }
    unsigned levels = 0;
    std::uint64_t offset[kMaxLevels + 1] = {};
    std::uint64_t nodes = 0;
  };

  // Pristine arrays: one free run [0, pages).
  struct PristineLongest {  // the run starts in word 0: the first node of every level
    std::uint32_t pages;
    Shape shape;
    std::uint32_t operator()(std::uint64_t i) const {
      for (unsigned l = 0; l <= shape.levels; ++l)
        if (i == shape.offset[l]) return pages;
      return 0;
    }
  };

  std::uint64_t leaf(std::uint64_t w) const { return shape_.offset[shape_.levels] + w; }

  // The 16 lengths of the row at `row` (a multiple of 16), read in place or, in a part of a
  // large aperture never written, computed.
  const std::uint32_t* row_of(std::uint64_t row, std::uint32_t (&scratch)[kFan]) const {
    if (const std::uint32_t* p = longest_.find(row)) return p;
    for (std::uint64_t k = 0; k < kFan; ++k) scratch[k] = longest_.get(row + k);
    return scratch;
  }

  // The first child in the row whose longest run is at least `pages`; its parent promised one.
  unsigned first_child_at_least(std::uint64_t row, std::uint32_t pages) const {
    alignas(16) std::uint32_t scratch[kFan];
    const std::uint32_t fits = row16::at_least(row_of(row, scratch), pages);
    assert(fits != 0 && "the tree promised a run");
    return static_cast<unsigned>(std::countr_zero(fits));
  }

  std::uint32_t row_max(std::uint64_t row) const {
    alignas(16) std::uint32_t scratch[kFan];
    return row16::longest(row_of(row, scratch));
  }

  // Word w's longest run from its starts and tags, then its ancestors' until one does not change.
  void refresh_leaf(std::uint64_t w) {
    std::uint32_t longest = 0;
    for (std::uint64_t starts = tags_.starts_word(w); starts != 0; starts &= starts - 1) {
      longest = std::max(longest, static_cast<std::uint32_t>(
                                      tags_.length(w * 64 + static_cast<std::uint64_t>(std::countr_zero(starts)))));
    }
    if (longest_.get(leaf(w)) == longest) return;
    longest_.at(leaf(w)) = longest;
    std::uint64_t x = w;
    for (unsigned level = shape_.levels; level > 0; --level) {
      const std::uint64_t parent = x / kFan;
      const std::uint32_t m = row_max(shape_.offset[level] + parent * kFan);
      const std::uint64_t at = shape_.offset[level - 1] + parent;
      if (longest_.get(at) == m) return;
      longest_.at(at) = m;
      x = parent;
    }
  }

  // Word w gained a start of a run of `len` pages (and lost none that could be its longest):
  // the leaf and its ancestors rise to len where they are below it.
  void raise_leaf(std::uint64_t w, std::uint64_t len) {
    const auto v = static_cast<std::uint32_t>(len);
    std::uint64_t x = w;
    for (unsigned level = shape_.levels + 1; level-- > 0; x /= kFan) {
      const std::uint64_t at = shape_.offset[level] + x;
      if (longest_.get(at) >= v) return;
      longest_.at(at) = v;
    }
  }

  std::uint64_t first_;
  std::uint64_t pages_;
  std::uint64_t width_;  // words of the tags' bitmaps: a power of two, at least the aperture's
  Shape shape_;
  BoundaryTags tags_;
  // The longest run starting in each node's range, level by level (Shape). The default
  // aperture's 1,664 nodes (3 levels below the root) are one flat array of 6.5 KiB; a larger
  // aperture's are in lazy chunks.
  LazyArray<std::uint32_t, PristineLongest> longest_;
  std::uint64_t free_pages_ = 0;
  std::uint64_t extents_ = 0;
};

}  // namespace

std::unique_ptr<ApertureAllocator> make_tagged_first_fit(std::uint64_t first_page, std::uint64_t page_count) {
  if (page_count >= (std::uint64_t{1} << 32)) return nullptr;  // tags hold 32-bit lengths
  return std::make_unique<TaggedFirstFit>(first_page, page_count);
}

}  // namespace dartlab::dart
