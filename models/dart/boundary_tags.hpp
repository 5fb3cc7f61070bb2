// SPDX-License-Identifier: MIT
// The free runs of an aperture as boundary tags, shared by the first-fit and best-fit bitmap
// allocators (tagged_first_fit.cpp, bitmap_best_fit.cpp): a bit at each free run's first page
// (starts), one at its last (ends), and the run's length tagged at both pages. Freeing reads the
// bits beside the freed pages to find its neighbours, and cutting a run's front moves one bit
// and two tags: O(1) however long the runs. Each allocator keeps its own index over the starts.
// Lazy (lazy_array.hpp): a missing tag reads as the aperture's length, which is right for the one
// run a pristine aperture has (no other tag is read without a bit saying a run is there).
#pragma once

#include <algorithm>
#include <cstdint>

#include "models/dart/lazy_array.hpp"

namespace dartlab::dart {

class BoundaryTags {
 public:
  // `words`: 64-page words of the bitmaps (at least the aperture's); `pages`: below 2^32.
  BoundaryTags(std::uint64_t words, std::uint64_t pages)
      : pages_(pages),
        starts_(words, PristineBit{0, pages}),
        ends_(words, PristineBit{pages - 1, pages}),
        len_(std::max<std::uint64_t>(1, pages), PristineTag{static_cast<std::uint32_t>(pages)}) {}

  std::uint64_t starts_word(std::uint64_t w) const { return starts_.get(w); }  // bit: a run starts
  std::uint64_t length(std::uint64_t first) const { return len_.get(first); }  // of the run at first

  // Takes `pages` from the front of the free run [s, s + len): its start bit moves up and its
  // tags change, or the run goes. True when it went (one free extent fewer).
  bool cut_front(std::uint64_t s, std::uint64_t len, std::uint64_t pages) {
    clear_page_bit(starts_, s);
    if (len > pages) {
      set_page_bit(starts_, s + pages);
      tag(s + pages, s + len - 1, len - pages);
      return false;
    }
    clear_page_bit(ends_, s + len - 1);
    return true;
  }

  // The free run [first, end) that freeing made, and the lengths of the neighbouring runs it
  // swallowed below and above (0: none there).
  struct Merged {
    std::uint64_t first;
    std::uint64_t end;
    std::uint64_t below;
    std::uint64_t above;
  };
  Merged give_back(std::uint64_t r, std::uint64_t pages) {
    Merged m{r, r + pages, 0, 0};
    if (r > 0 && test_page_bit(ends_, r - 1)) {  // a free run ends just below: grow it
      m.below = len_.get(r - 1);
      m.first = r - m.below;
      clear_page_bit(ends_, r - 1);
    } else {
      set_page_bit(starts_, r);
    }
    if (m.end < pages_ && test_page_bit(starts_, m.end)) {  // a free run starts just above: swallow it
      m.above = len_.get(m.end);
      clear_page_bit(starts_, m.end);
      m.end += m.above;
    } else {
      set_page_bit(ends_, m.end - 1);
    }
    tag(m.first, m.end - 1, m.end - m.first);
    return m;
  }

  void clear() {  // back to one free run [0, pages)
    starts_.clear();
    ends_.clear();
    len_.clear();
  }

 private:
  struct PristineBit {  // the bit at `page` set
    std::uint64_t page;
    std::uint64_t pages;
    std::uint64_t operator()(std::uint64_t w) const {
      return pages > 0 && page / 64 == w ? std::uint64_t{1} << (page % 64) : 0;
    }
  };
  struct PristineTag {
    std::uint32_t pages;
    std::uint32_t operator()(std::uint64_t) const { return pages; }
  };

  void tag(std::uint64_t first, std::uint64_t last, std::uint64_t len) {
    len_.at(first) = static_cast<std::uint32_t>(len);
    len_.at(last) = static_cast<std::uint32_t>(len);
  }

  std::uint64_t pages_;
  LazyArray<std::uint64_t, PristineBit> starts_;
  LazyArray<std::uint64_t, PristineBit> ends_;
  // The default aperture's 98,304 tags in one flat array, a larger aperture in chunks of 2^14
  // (`max`, 2^30 pages of 4K: a 65,536-entry table).
  LazyArray<std::uint32_t, PristineTag, 17, 14> len_;
};

}  // namespace dartlab::dart
