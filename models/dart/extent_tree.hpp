// SPDX-License-Identifier: MIT
// The free extents of an aperture. One node pool, two treaps over it: by start address
// (augmented with the longest extent of each subtree, for first-fit and the largest-free
// metric) and, for best-fit only, by (length, start). Nodes are indices into a vector reused
// through a free list, so steady-state alloc/free never touches the heap; memory follows the
// number of free extents.
//
// Cutting from an extent's front or growing it by a neighbour never changes its place in address
// order, so those updates happen in place and only the max-length path is refreshed (one
// descent); a node is relinked only in the by-size order, and only when that order is kept.
#pragma once

#include <cstdint>
#include <vector>

namespace dartlab::dart {

class ExtentTree {
 public:
  using NodeId = std::uint32_t;
  static constexpr NodeId kNone = 0;  // node 0 is a sentinel with length 0

  struct Extent {
    std::uint64_t first_page = 0;
    std::uint64_t pages = 0;
  };

  // by_size: keep the (length, start) order that smallest_fitting() needs; aligned: keep the
  // aligned rooms that highest_aligned() and largest_aligned_request() need.
  explicit ExtentTree(bool by_size = true, bool aligned = false);

  // Drops every extent; then [first_page, first_page + page_count) is one free extent. Throws
  // std::length_error with aligned rooms and page_count >= 2^32.
  void reset(std::uint64_t first_page, std::uint64_t page_count);

  NodeId lowest_fitting(std::uint64_t pages) const;    // lowest start with length >= pages
  NodeId smallest_fitting(std::uint64_t pages) const;  // smallest (length, start) with length >= pages; needs by_size
  Extent extent(NodeId node) const;
  NodeId containing(std::uint64_t page) const;  // the extent holding that page, or kNone

  // Needs aligned. Among extents whose first page lies in [lo_page, hi_page), the highest one
  // with room for `pages` pages starting on a 2^align_order boundary (relative to page 0);
  // kNone if none. The highest such start within it is round_down(end - pages, 2^align_order).
  NodeId highest_aligned(std::uint64_t pages, unsigned align_order, std::uint64_t lo_page,
                         std::uint64_t hi_page) const;
  // Needs aligned. The largest n that fits some extent when aligned to bit_ceil(n) pages.
  std::uint64_t largest_aligned_request() const;

  // Takes `pages` from the front of `node` (which must fit them); returns their first page.
  std::uint64_t take_front(NodeId node, std::uint64_t pages);
  // Takes [first_page, first_page + pages), which must lie inside `node`; what is left on either
  // side stays free (the part above becomes a new extent).
  void take(NodeId node, std::uint64_t first_page, std::uint64_t pages);
  // Adds a free run, merging it with the extents that touch it.
  void give_back(std::uint64_t first_page, std::uint64_t pages);

  std::uint64_t free_pages() const { return free_pages_; }
  std::uint64_t largest_free_pages() const;
  std::uint64_t extent_count() const { return extent_count_; }

  // Extents in address order (tests and diagnostics).
  std::vector<Extent> extents() const;

 private:
  enum Order : unsigned { kByStart = 0, kBySize = 1 };
  struct Node {
    std::uint64_t first_page = 0;
    std::uint64_t pages = 0;
    std::uint64_t max_pages = 0;  // longest extent in this node's by-start subtree
    std::uint32_t priority = 0;
    NodeId child[2][2] = {{kNone, kNone}, {kNone, kNone}};  // [order][left, right]
  };
  struct SplitPair {
    NodeId less;
    NodeId not_less;
  };

  bool key_less(Order order, NodeId a, NodeId b) const;
  bool pull(Order order, NodeId n);  // true if n's subtree aggregates changed
  SplitPair split(Order order, NodeId root, NodeId key);
  NodeId merge(Order order, NodeId a, NodeId b);
  NodeId erase_from(Order order, NodeId root, NodeId target);
  void insert(Order order, NodeId n);
  void remove(Order order, NodeId n);
  void resize(NodeId n, std::uint64_t first_page, std::uint64_t pages);  // in place, address order kept
  // Re-pulls the aggregates from the node starting at first_page up, until one does not change.
  void refresh_path(std::uint64_t first_page);
  NodeId new_node(std::uint64_t first_page, std::uint64_t pages);
  void delete_node(NodeId n);
  NodeId before(std::uint64_t first_page) const;  // highest start < first_page
  NodeId after(std::uint64_t first_page) const;   // lowest start >= first_page
  void collect(NodeId n, std::vector<Extent>& out) const;
  std::uint32_t* room(NodeId n) { return room_.data() + std::size_t{n} * orders_; }
  const std::uint32_t* room(NodeId n) const { return room_.data() + std::size_t{n} * orders_; }
  NodeId highest_aligned_in(NodeId x, std::uint64_t pages, unsigned order, std::uint64_t lo_page,
                            std::uint64_t hi_page, bool above_lo, bool below_hi) const;

  std::vector<Node> nodes_;
  NodeId free_list_ = kNone;  // chained through child[kByStart][0]
  NodeId root_[2] = {kNone, kNone};
  std::uint64_t free_pages_ = 0;
  std::uint64_t extent_count_ = 0;
  bool by_size_ = true;
  bool aligned_ = false;
  unsigned orders_ = 0;              // aligned: orders 0 .. orders_-1, enough for any request that fits
  // aligned: orders_ per node, the subtree's best aligned room. 32 bits: rooms are at most the
  // aperture's page count, which reset() checks (2^42 bytes of 4K pages is 2^30), and half the
  // bytes make pull() measurably faster.
  std::vector<std::uint32_t> room_;
  std::vector<NodeId> path_;         // refresh_path's scratch, kept to allocate nothing per call
  std::uint32_t rng_ = 0x9e3779b9u;  // treap priorities; fixed seed keeps runs reproducible
};

}  // namespace dartlab::dart
