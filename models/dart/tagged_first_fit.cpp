// SPDX-License-Identifier: MIT
// alloc=first-fit on boundary tags: the runs as boundary_tags.hpp keeps them (a bit at each free
// run's first page and one at its last, its length tagged at both), indexed by a tree over the
// 64-page words of first pages whose nodes hold the longest run starting in their range. The
// lowest run of >= n pages is one descent to the leftmost word with a long enough run and a scan
// of that word's starts; an alloc moves one start bit and two tags, a free reads the bits beside
// it, however long the runs; only the words whose starts changed are re-summarized, their
// ancestors until one does not change. The run that ends at the aperture's end (the top run,
// where a churned aperture's fresh pages come from) is in no leaf: it is taken only when no run
// in the tree fits, and cutting it moves its start alone. The largest free run is the larger of
// the root and the top run.
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
        longest_(shape_.nodes, PristineLongest{}) {
    assert(page_count < (std::uint64_t{1} << 32));
    reset();
  }

  std::uint64_t take(std::uint64_t pages) override {
    if (pages == 0) return kNoFit;
    // One page fits in any free run, so its first fit is the lowest start: in the lowest word
    // that has one, which low_ names or bounds from below (the top run's start included).
    std::uint64_t w = low_;
    std::uint64_t starts = tags_.starts_word(w);
    if (pages != 1 || starts == 0) {
      if (pages <= longest_.get(0)) {  // a run below the top one fits: the lowest such
        w = 0;  // the node at each level, the word at the last
        for (unsigned level = 1; level <= shape_.levels; ++level)
          w = kFan * w + first_child_at_least(shape_.offset[level] + kFan * w, static_cast<std::uint32_t>(pages));
        starts = tags_.starts_word(w);  // the promised run starts below the top run's start
      } else if (pages <= pages_ - top_) {  // only the top run fits
        w = top_ / 64;
        starts = std::uint64_t{1} << (top_ % 64);
      } else {
        return kNoFit;
      }
      if (pages == 1) low_ = w;
    }
    std::uint64_t s = 0;
    std::uint64_t len = 0;
    for (;; starts &= starts - 1) {
      assert(starts != 0 && "the tree promised a run");
      s = w * 64 + static_cast<std::uint64_t>(std::countr_zero(starts));
      len = tags_.length(s);
      if (len >= pages) break;
    }
    free_pages_ -= pages;
    if (s == top_) {  // the top run is in no leaf: its start moves up, the tree stays
      if (tags_.cut_front(s, len, pages)) {
        --extents_;
        top_ = pages_;
      } else {
        top_ += pages;
      }
      return first_ + s;
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
    if (was_longest) {
      // A run of one page was the word's longest only if all its runs were one page long: what
      // is left is one page long, or nothing (no tags to read).
      if (len == 1) {
        set_leaf(w, indexed_starts(w) != 0 ? 1 : 0);
      } else {
        refresh_leaf(w);
      }
    }
    return first_ + s;
  }

  void free(std::uint64_t first_page, std::uint64_t pages) override {
    assert(first_page >= first_ && first_page + pages <= first_ + pages_);
    if (pages == 0) return;
    const std::uint64_t r = first_page - first_;
    const BoundaryTags::Merged m = tags_.give_back(r, pages);
    low_ = std::min(low_, m.first / 64);
    const unsigned merged = (m.below != 0) + (m.above != 0);
    extents_ = extents_ + 1 - merged;
    free_pages_ += pages;
    if (m.end == pages_) {
      // The merged run is the top one (the run above, if swallowed, was): out of the tree. A run
      // it swallowed below was in it, and its word's leaf loses it.
      top_ = m.first;
      if (m.below != 0) refresh_leaf(m.first / 64);
      return;
    }
    // The merged run holds every run it swallowed, so in its own word the longest can only grow
    // to its length (no rescan); the word the swallowed run above started in lost a start.
    raise_leaf(m.first / 64, m.end - m.first);
    if (m.above != 0 && (r + pages) / 64 != m.first / 64) refresh_leaf((r + pages) / 64);
  }

  std::uint64_t free_pages() const override { return free_pages_; }
  std::uint64_t largest_free_pages() const override {
    return std::max<std::uint64_t>(longest_.get(0), pages_ - top_);
  }
  std::uint64_t free_extents() const override { return extents_; }

  void reset() override {
    tags_.clear();
    longest_.clear();
    free_pages_ = pages_;
    extents_ = pages_ > 0 ? 1 : 0;
    top_ = 0;  // the one run [0, pages_) is the top one: every leaf is 0
    low_ = 0;
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

  // A pristine aperture's one run is the top run, in no leaf: every node reads 0.
  struct PristineLongest {
    std::uint32_t operator()(std::uint64_t) const { return 0; }
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

  // Word w's starts but the top run's: the runs the tree indexes.
  std::uint64_t indexed_starts(std::uint64_t w) const {
    // With no top run, top_ is pages_: its bit lies past the aperture and is never a start.
    const std::uint64_t top = top_ / 64 == w ? std::uint64_t{1} << (top_ % 64) : 0;
    return tags_.starts_word(w) & ~top;
  }

  // Word w's longest run from its starts and tags.
  void refresh_leaf(std::uint64_t w) {
    std::uint32_t longest = 0;
    for (std::uint64_t starts = indexed_starts(w); starts != 0; starts &= starts - 1) {
      longest = std::max(longest, static_cast<std::uint32_t>(
                                      tags_.length(w * 64 + static_cast<std::uint64_t>(std::countr_zero(starts)))));
    }
    set_leaf(w, longest);
  }

  // Word w's longest run is now `longest`: its leaf and then its ancestors, until one does not
  // change. A parent is its row's maximum, so it moves only if the child rose to or past it or
  // held it; only then is the row read (a word filling up leaves its parent alone while a
  // neighbour has a run as long).
  void set_leaf(std::uint64_t w, std::uint32_t longest) {
    std::uint32_t was = longest_.get(leaf(w));
    if (was == longest) return;
    longest_.at(leaf(w)) = longest;
    std::uint64_t x = w;
    for (unsigned level = shape_.levels; level > 0; --level) {
      const std::uint64_t parent = x / kFan;
      const std::uint64_t at = shape_.offset[level - 1] + parent;
      const std::uint32_t held = longest_.get(at);
      if (longest < held && was < held) return;  // the child neither reached it nor held it
      const std::uint32_t m = longest >= held ? longest : row_max(shape_.offset[level] + parent * kFan);
      if (held == m) return;
      longest_.at(at) = m;
      was = held;
      longest = m;
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
  // The first page of the free run that ends at the aperture's end (pages_ if none). That run
  // is kept out of the tree: first-fit takes it only when no run below fits, and it is where a
  // churned aperture's new pages come from (the lowest free page, for a one-page map with no
  // hole below it). Cutting it moves its start alone; in the tree, each cut lowered the root
  // and every ancestor, a row's maximum read at each level (a quarter of BM_CoreDirect's allocs).
  std::uint64_t top_ = 0;
  // No word below low_ holds a start. An alloc only moves a start up; a free may make one below,
  // and lowers it there. 98.8% of the allocations `direct` makes for a game trace are one page:
  // the lowest free page is then one load away, not a descent of the tree's levels.
  std::uint64_t low_ = 0;
};

}  // namespace

std::unique_ptr<ApertureAllocator> make_tagged_first_fit(std::uint64_t first_page, std::uint64_t page_count) {
  if (page_count >= (std::uint64_t{1} << 32)) return nullptr;  // tags hold 32-bit lengths
  return std::make_unique<TaggedFirstFit>(first_page, page_count);
}

}  // namespace dartlab::dart
