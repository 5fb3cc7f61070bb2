// SPDX-License-Identifier: MIT
// alloc=best-fit without the extent treaps: boundary tags for the runs, and a size index split at
// 64 pages.
//
// - Each free run is marked by a bit at its first page and one at its last (boundary_tags.hpp),
//   and both pages carry its length (a tag). Freeing [p, p+k) reads the bit before p and
//   the one after it to find the neighbouring runs and their tags their lengths: O(1) however
//   long the runs, and an alloc that cuts n pages from a run's front moves one bit and two tags.
// - Runs of 1..64 pages: a tree over the 64-page words of start bits whose nodes hold a 64-bit mask
//   of the lengths of the runs starting in their range (bit L-1: some run of L pages). The root
//   gives the smallest length >= n at once; one descent towards the lowest word having it, and a
//   scan of that word's starts, gives the lowest such run. Most requests (and runs) are short.
// - Runs longer than 64 pages: an ordered set keyed by (length, first page), whose lower_bound
//   is the smallest long run >= n, lowest address on ties; its nodes come from a pool that only
//   grows, so steady-state alloc/free allocate nothing.
// So the choice is exactly ExtentTree::smallest_fitting's: the smallest run that fits, ties to
// the lowest address. free_pages and free_extents are counters, largest_free_pages the set's
// last key or the root mask's top bit.
//
// Storage is lazy (lazy_array.hpp): a large aperture costs chunk tables to create and memory
// grows with the part touched; a missing tag reads as the aperture's length, which is right for
// the one run a pristine aperture has (no other tag is read without a bit saying a run is there).
#include <algorithm>
#include <bit>
#include <boost/intrusive/set.hpp>
#include <cassert>
#include <deque>

#include "base/bits.hpp"
#include "models/dart/bitmap_aperture.hpp"
#include "models/dart/boundary_tags.hpp"
#include "models/dart/lazy_array.hpp"

namespace dartlab::dart {

namespace {

constexpr std::uint64_t kShortMax = 64;  // runs up to this many pages live in the mask tree

class BitmapBestFit final : public ApertureAllocator {
 public:
  BitmapBestFit(std::uint64_t first_page, std::uint64_t page_count)
      : first_(first_page),
        pages_(page_count),
        width_(std::bit_ceil(std::max<std::uint64_t>(1, (page_count + 63) / 64))),
        levels_(static_cast<unsigned>(std::countr_zero(width_))),
        tags_(width_, page_count),
        masks_(2 * width_, PristineMask{page_count, width_}),
        counts_(width_ * kShortMax, PristineCount{page_count}) {
    assert(page_count < (std::uint64_t{1} << 32));
    reset();
  }
  ~BitmapBestFit() override { long_.clear(); }  // unlink before the pool goes

  std::uint64_t take(std::uint64_t pages) override {
    if (pages == 0 || pages > largest_free_pages()) return kNoFit;
    std::uint64_t s = 0;
    std::uint64_t len = 0;
    const std::uint64_t classes = pages <= kShortMax ? masks_.get(1) & (~std::uint64_t{0} << (pages - 1)) : 0;
    if (classes != 0) {
      len = static_cast<std::uint64_t>(std::countr_zero(classes)) + 1;
      s = lowest_short(len);
    } else {
      const auto it = long_.lower_bound(key(std::max(pages, kShortMax + 1), 0));
      assert(it != long_.end());
      len = it->key >> 32;
      s = it->key & 0xffffffffu;
      remove_long(*it);
    }
    const std::uint64_t rest = len - pages;
    if (tags_.cut_front(s, len, pages)) {
      --extents_;
    } else if (rest > kShortMax) {
      add_long(s + pages, rest);
    }
    // The leaves that lose or gain a short length (a long run is not in them).
    if (len <= kShortMax) lose_short(s / 64, len);
    if (rest > 0 && rest <= kShortMax) gain_short((s + pages) / 64, rest);
    free_pages_ -= pages;
    return first_ + s;
  }

  void free(std::uint64_t first_page, std::uint64_t pages) override {
    assert(first_page >= first_ && first_page + pages <= first_ + pages_);
    if (pages == 0) return;
    const std::uint64_t r = first_page - first_;
    const BoundaryTags::Merged m = tags_.give_back(r, pages);
    const std::uint64_t a = m.first;  // the merged run: [a, e)
    const std::uint64_t e = m.end;
    if (m.below > kShortMax) {
      remove_long_key(key(m.below, a));
    } else if (m.below != 0) {
      lose_short(a / 64, m.below);
    }
    if (m.above > kShortMax) {
      remove_long_key(key(m.above, r + pages));
    } else if (m.above != 0) {
      lose_short((r + pages) / 64, m.above);
    }
    const unsigned merged = (m.below != 0) + (m.above != 0);
    if (e - a > kShortMax) {
      add_long(a, e - a);
    } else {
      gain_short(a / 64, e - a);
    }
    extents_ = extents_ + 1 - merged;
    free_pages_ += pages;
  }

  std::uint64_t free_pages() const override { return free_pages_; }
  std::uint64_t largest_free_pages() const override {
    if (!long_.empty()) return long_.rbegin()->key >> 32;
    return static_cast<std::uint64_t>(std::bit_width(masks_.get(1)));
  }
  std::uint64_t free_extents() const override { return extents_; }

  void reset() override {
    long_.clear();
    pool_.clear();
    spare_ = nullptr;
    tags_.clear();
    masks_.clear();
    counts_.clear();
    free_pages_ = pages_;
    extents_ = pages_ > 0 ? 1 : 0;
    if (pages_ > kShortMax) add_long(0, pages_);  // a short one is in the pristine masks
  }

 private:
  // Pristine arrays: one free run [0, pages).
  struct PristineMask {  // a short run lies in word 0: its leaf and the leaf's ancestors
    std::uint64_t pages;
    std::uint64_t width;
    std::uint64_t operator()(std::uint64_t i) const {
      const bool on_path = is_power_of_two(i) && i <= width;
      return on_path && pages > 0 && pages <= kShortMax ? std::uint64_t{1} << (pages - 1) : 0;
    }
  };

  struct PristineCount {  // the short run, if the one run is short, starts in word 0
    std::uint64_t pages;
    std::uint8_t operator()(std::uint64_t i) const { return pages > 0 && pages <= kShortMax && i == pages - 1 ? 1 : 0; }
  };

  using Hook = boost::intrusive::set_member_hook<boost::intrusive::link_mode<boost::intrusive::normal_link>>;
  struct LongRun {
    std::uint64_t key = 0;  // length << 32 | first page
    LongRun* next_spare = nullptr;
    Hook hook;
  };
  struct KeyOf {
    using type = std::uint64_t;
    std::uint64_t operator()(const LongRun& b) const { return b.key; }
  };
  using LongSet = boost::intrusive::set<LongRun, boost::intrusive::member_hook<LongRun, Hook, &LongRun::hook>,
                                        boost::intrusive::key_of_value<KeyOf>>;

  static std::uint64_t key(std::uint64_t len, std::uint64_t first) { return len << 32 | first; }

  void add_long(std::uint64_t first, std::uint64_t len) {
    LongRun* n = spare_;
    if (n != nullptr) {
      spare_ = n->next_spare;
    } else {
      n = &pool_.emplace_back();  // a deque: nodes never move
    }
    n->key = key(len, first);
    long_.insert(*n);
  }
  void remove_long(LongRun& n) {
    long_.erase(long_.iterator_to(n));
    n.next_spare = spare_;
    spare_ = &n;
  }
  void remove_long_key(std::uint64_t k) {
    const auto it = long_.find(k);
    assert(it != long_.end());
    remove_long(*it);
  }

  // The lowest run of exactly `len` (<= 64) pages; the root mask says one exists.
  std::uint64_t lowest_short(std::uint64_t len) const {
    const std::uint64_t bit = std::uint64_t{1} << (len - 1);
    std::uint64_t i = 1;
    for (unsigned level = levels_; level > 0; --level) i = (masks_.get(2 * i) & bit) != 0 ? 2 * i : 2 * i + 1;
    const std::uint64_t w = i - width_;
    for (std::uint64_t starts = tags_.starts_word(w); starts != 0; starts &= starts - 1) {
      const std::uint64_t s = w * 64 + static_cast<std::uint64_t>(std::countr_zero(starts));
      if (tags_.length(s) == len) return s;
    }
    assert(false && "the mask tree promised a run");
    return 0;
  }

  // Word w has one run of `len` (<= 64) pages fewer, or more. A leaf's mask bit is its count of
  // such runs above zero, so neither reads the word's starts and their scattered tags: the rescan
  // that did (refresh_leaf) was 4.6% of BM_CoreDirectBestFit's profile.
  void lose_short(std::uint64_t w, std::uint64_t len) {
    if (--counts_.at(w * kShortMax + len - 1) != 0) return;
    std::uint64_t i = width_ + w;
    masks_.at(i) &= ~(std::uint64_t{1} << (len - 1));
    for (i /= 2; i >= 1; i /= 2) {  // ancestors from their children, until one does not change
      const std::uint64_t m = masks_.get(2 * i) | masks_.get(2 * i + 1);
      if (masks_.get(i) == m) return;
      masks_.at(i) = m;
    }
  }
  void gain_short(std::uint64_t w, std::uint64_t len) {
    if (counts_.at(w * kShortMax + len - 1)++ != 0) return;
    const std::uint64_t bit = std::uint64_t{1} << (len - 1);
    for (std::uint64_t i = width_ + w; i >= 1 && (masks_.get(i) & bit) == 0; i /= 2) masks_.at(i) |= bit;
  }

  std::uint64_t first_;
  std::uint64_t pages_;
  std::uint64_t width_;  // words in the mask tree: a power of two, at least the aperture's
  unsigned levels_;      // log2(width_): node 1 is the root, nodes width_ + w the words' leaves
  BoundaryTags tags_;
  LazyArray<std::uint64_t, PristineMask> masks_;  // heap order
  // Runs starting in each word by length 1..64 (at most 64 a word: a byte each), 128 KiB for
  // the default aperture's 2048-word tree: the leaves' masks are these above zero.
  LazyArray<std::uint8_t, PristineCount, 17, 14> counts_;
  std::deque<LongRun> pool_;
  LongRun* spare_ = nullptr;  // unused pool nodes, chained
  LongSet long_;
  std::uint64_t free_pages_ = 0;
  std::uint64_t extents_ = 0;
};

}  // namespace

std::unique_ptr<ApertureAllocator> make_bitmap_best_fit(std::uint64_t first_page, std::uint64_t page_count) {
  if (page_count >= (std::uint64_t{1} << 32)) return nullptr;  // tags and keys hold 32-bit pages
  return std::make_unique<BitmapBestFit>(first_page, page_count);
}

}  // namespace dartlab::dart
