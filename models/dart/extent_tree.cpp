// SPDX-License-Identifier: MIT
#include "models/dart/extent_tree.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <stdexcept>

namespace dartlab::dart {

namespace {

// The longest run of [first_page, first_page + pages) that starts on a 2^order-page boundary,
// kept only if some request of that order fits it: requests of order k > 0 are longer than
// 2^(k-1) pages, so a shorter room counts as none. So an extent (or subtree) of at most m pages
// has rooms only at orders below active_orders(m), and pull() looks no further.
std::uint32_t aligned_room(std::uint64_t first_page, std::uint64_t pages, unsigned order) {
  const std::uint64_t align = std::uint64_t{1} << order;
  const std::uint64_t end = first_page + pages;
  const std::uint64_t start = (first_page + align - 1) & ~(align - 1);
  const std::uint64_t room = start < end && start >= first_page ? end - start : 0;  // start < first_page: wrapped
  return room > align / 2 ? static_cast<std::uint32_t>(room) : 0;  // room <= pages < 2^32: reset() checks
}

unsigned active_orders(std::uint64_t max_pages) {
  return max_pages == 0 ? 0 : static_cast<unsigned>(std::bit_width(max_pages - 1)) + 1;
}

}  // namespace

ExtentTree::ExtentTree(bool by_size, bool aligned) : by_size_(by_size), aligned_(aligned) {
  nodes_.emplace_back();  // the sentinel
}

void ExtentTree::reset(std::uint64_t first_page, std::uint64_t page_count) {
  nodes_.assign(1, Node{});
  nodes_.shrink_to_fit();  // memory follows live extents, also after a reset
  // A request of n <= page_count pages aligns to at most bit_ceil(page_count): order bit_width(page_count - 1).
  if (aligned_ && page_count > UINT32_MAX) throw std::length_error("aligned extent tree: 2^32 pages or more");
  orders_ = aligned_ ? static_cast<unsigned>(std::bit_width(page_count > 0 ? page_count - 1 : 0)) + 1 : 0;
  room_.assign(orders_, 0);  // the sentinel's: no room at any order
  room_.shrink_to_fit();
  free_list_ = kNone;
  root_[kByStart] = root_[kBySize] = kNone;
  free_pages_ = 0;
  extent_count_ = 0;
  if (page_count > 0) give_back(first_page, page_count);
}

bool ExtentTree::key_less(Order order, NodeId a, NodeId b) const {
  const Node& x = nodes_[a];
  const Node& y = nodes_[b];
  if (order == kByStart) return x.first_page < y.first_page;
  return x.pages != y.pages ? x.pages < y.pages : x.first_page < y.first_page;
}

bool ExtentTree::pull(Order order, NodeId n) {
  if (order != kByStart || n == kNone) return false;
  Node& x = nodes_[n];
  const NodeId left = x.child[kByStart][0];
  const NodeId right = x.child[kByStart][1];
  const std::uint64_t max_pages = std::max({x.pages, nodes_[left].max_pages, nodes_[right].max_pages});
  const bool changed = max_pages != x.max_pages;
  const std::uint64_t old_max_pages = x.max_pages;
  x.max_pages = max_pages;
  if (!aligned_) return changed;
  // Orders above both the old and the new active range hold 0 and stay 0 (children's too).
  const unsigned orders = std::min(orders_, active_orders(std::max(max_pages, old_max_pages)));
  bool rooms_changed = false;
  std::uint32_t* mine = room(n);
  const std::uint32_t* l = room(left);
  const std::uint32_t* r = room(right);
  for (unsigned k = 0; k < orders; ++k) {
    const std::uint32_t best = std::max({aligned_room(x.first_page, x.pages, k), l[k], r[k]});
    rooms_changed |= best != mine[k];
    mine[k] = best;
  }
  return changed || rooms_changed;
}

// Splits `root` into keys less than key(key) and the rest.
ExtentTree::SplitPair ExtentTree::split(Order order, NodeId root, NodeId key) {
  if (root == kNone) return {kNone, kNone};
  NodeId* child = nodes_[root].child[order];
  if (key_less(order, root, key)) {
    const SplitPair right = split(order, child[1], key);
    nodes_[root].child[order][1] = right.less;
    pull(order, root);
    return {root, right.not_less};
  }
  const SplitPair left = split(order, child[0], key);
  nodes_[root].child[order][0] = left.not_less;
  pull(order, root);
  return {left.less, root};
}

// Joins two treaps where every key of `a` is less than every key of `b`.
ExtentTree::NodeId ExtentTree::merge(Order order, NodeId a, NodeId b) {
  if (a == kNone) return b;
  if (b == kNone) return a;
  if (nodes_[a].priority > nodes_[b].priority) {
    const NodeId joined = merge(order, nodes_[a].child[order][1], b);
    nodes_[a].child[order][1] = joined;
    pull(order, a);
    return a;
  }
  const NodeId joined = merge(order, a, nodes_[b].child[order][0]);
  nodes_[b].child[order][0] = joined;
  pull(order, b);
  return b;
}

ExtentTree::NodeId ExtentTree::erase_from(Order order, NodeId root, NodeId target) {
  assert(root != kNone && "extent not in tree");
  if (root == target) {
    const NodeId joined = merge(order, nodes_[root].child[order][0], nodes_[root].child[order][1]);
    nodes_[root].child[order][0] = nodes_[root].child[order][1] = kNone;
    return joined;
  }
  const int side = key_less(order, target, root) ? 0 : 1;
  const NodeId replaced = erase_from(order, nodes_[root].child[order][side], target);
  nodes_[root].child[order][side] = replaced;
  pull(order, root);
  return root;
}

void ExtentTree::insert(Order order, NodeId n) {
  nodes_[n].child[order][0] = nodes_[n].child[order][1] = kNone;
  pull(order, n);
  const SplitPair parts = split(order, root_[order], n);
  root_[order] = merge(order, merge(order, parts.less, n), parts.not_less);
}

void ExtentTree::remove(Order order, NodeId n) { root_[order] = erase_from(order, root_[order], n); }

void ExtentTree::refresh_path(std::uint64_t first_page) {
  path_.clear();
  for (NodeId x = root_[kByStart]; x != kNone;) {
    path_.push_back(x);
    if (nodes_[x].first_page == first_page) break;
    x = nodes_[x].child[kByStart][first_page < nodes_[x].first_page ? 0 : 1];
  }
  // Above a node whose aggregates did not change, none do: most updates stop low in the tree.
  for (auto it = path_.rbegin(); it != path_.rend() && pull(kByStart, *it); ++it) {
  }
}

void ExtentTree::resize(NodeId n, std::uint64_t first_page, std::uint64_t pages) {
  if (by_size_) remove(kBySize, n);
  nodes_[n].first_page = first_page;
  nodes_[n].pages = pages;
  refresh_path(first_page);
  if (by_size_) insert(kBySize, n);
}

ExtentTree::NodeId ExtentTree::new_node(std::uint64_t first_page, std::uint64_t pages) {
  NodeId n = free_list_;
  if (n != kNone) {
    free_list_ = nodes_[n].child[kByStart][0];
  } else {
    n = static_cast<NodeId>(nodes_.size());
    nodes_.emplace_back();
    room_.resize(nodes_.size() * orders_);
  }
  // xorshift32: cheap, and any priority sequence keeps the treap's expected O(log n) depth.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 17;
  rng_ ^= rng_ << 5;
  Node& x = nodes_[n];
  x = Node{};
  x.first_page = first_page;
  x.pages = pages;
  x.max_pages = pages;
  x.priority = rng_;
  if (aligned_) {
    for (unsigned k = 0; k < orders_; ++k) room(n)[k] = aligned_room(first_page, pages, k);  // all: reused slots
  }
  return n;
}

void ExtentTree::delete_node(NodeId n) {
  nodes_[n] = Node{};
  nodes_[n].child[kByStart][0] = free_list_;
  free_list_ = n;
}

ExtentTree::NodeId ExtentTree::lowest_fitting(std::uint64_t pages) const {
  NodeId x = root_[kByStart];
  if (nodes_[x].max_pages < pages) return kNone;
  // Invariant: x's subtree holds a fitting extent; the leftmost one is the answer.
  for (;;) {
    const NodeId left = nodes_[x].child[kByStart][0];
    if (nodes_[left].max_pages >= pages) {
      x = left;
    } else if (nodes_[x].pages >= pages) {
      return x;
    } else {
      x = nodes_[x].child[kByStart][1];
    }
  }
}

ExtentTree::NodeId ExtentTree::smallest_fitting(std::uint64_t pages) const {
  assert(by_size_ && "smallest_fitting needs the by-size order");
  NodeId best = kNone;
  for (NodeId x = root_[kBySize]; x != kNone;) {
    if (nodes_[x].pages >= pages) {  // (len, start) >= (pages, 0)
      best = x;
      x = nodes_[x].child[kBySize][0];
    } else {
      x = nodes_[x].child[kBySize][1];
    }
  }
  return best;
}

// Walks the by-start treap from the right. above_lo / below_hi: every start in x's subtree is
// known to be >= lo_page / < hi_page. A subtree known to lie inside the range whose aligned room
// fits always yields an answer, so only the two boundary paths can be walked in vain: O(depth).
ExtentTree::NodeId ExtentTree::highest_aligned_in(NodeId x, std::uint64_t pages, unsigned order,
                                                  std::uint64_t lo_page, std::uint64_t hi_page, bool above_lo,
                                                  bool below_hi) const {
  if (x == kNone || room(x)[order] < pages) return kNone;
  const Node& n = nodes_[x];
  const NodeId left = n.child[kByStart][0];
  const NodeId right = n.child[kByStart][1];
  if (!below_hi && n.first_page >= hi_page) {
    return highest_aligned_in(left, pages, order, lo_page, hi_page, above_lo, false);
  }
  if (!above_lo && n.first_page < lo_page) {
    return highest_aligned_in(right, pages, order, lo_page, hi_page, false, below_hi);
  }
  const NodeId higher = highest_aligned_in(right, pages, order, lo_page, hi_page, true, below_hi);
  if (higher != kNone) return higher;
  if (aligned_room(n.first_page, n.pages, order) >= pages) return x;
  return highest_aligned_in(left, pages, order, lo_page, hi_page, above_lo, true);
}

ExtentTree::NodeId ExtentTree::highest_aligned(std::uint64_t pages, unsigned align_order, std::uint64_t lo_page,
                                               std::uint64_t hi_page) const {
  assert(aligned_ && "highest_aligned needs the aligned rooms");
  if (pages == 0 || align_order >= orders_ || lo_page >= hi_page) return kNone;
  return highest_aligned_in(root_[kByStart], pages, align_order, lo_page, hi_page, false, false);
}

std::uint64_t ExtentTree::largest_aligned_request() const {
  assert(aligned_ && "largest_aligned_request needs the aligned rooms");
  // Requests of order k are n in (2^(k-1), 2^k]; the largest that fits is min(room, 2^k), and
  // any fit at a higher order is longer than every request of a lower one.
  const std::uint32_t* best = room(root_[kByStart]);
  for (unsigned k = std::min(orders_, active_orders(nodes_[root_[kByStart]].max_pages)); k-- > 0;) {
    if (best[k] != 0) return std::min<std::uint64_t>(best[k], std::uint64_t{1} << k);  // non-zero rooms fit their order
  }
  return 0;
}

ExtentTree::Extent ExtentTree::extent(NodeId node) const { return {nodes_[node].first_page, nodes_[node].pages}; }

ExtentTree::NodeId ExtentTree::containing(std::uint64_t page) const {
  const NodeId n = page == UINT64_MAX ? kNone : before(page + 1);
  return n != kNone && page - nodes_[n].first_page < nodes_[n].pages ? n : kNone;
}

std::uint64_t ExtentTree::take_front(NodeId node, std::uint64_t pages) {
  const std::uint64_t first = nodes_[node].first_page;
  take(node, first, pages);
  return first;
}

void ExtentTree::take(NodeId node, std::uint64_t first_page, std::uint64_t pages) {
  const std::uint64_t start = nodes_[node].first_page;
  const std::uint64_t end = start + nodes_[node].pages;
  assert(node != kNone && pages > 0 && first_page >= start && first_page + pages <= end);
  const std::uint64_t head = first_page - start;
  const std::uint64_t tail = end - (first_page + pages);
  free_pages_ -= pages;
  if (head == 0 && tail == 0) {
    remove(kByStart, node);
    if (by_size_) remove(kBySize, node);
    delete_node(node);
    --extent_count_;
  } else if (head == 0) {
    resize(node, first_page + pages, tail);
  } else {
    resize(node, start, head);
    if (tail > 0) {  // cut from the middle: the part above is a new extent
      const NodeId n = new_node(first_page + pages, tail);
      insert(kByStart, n);
      if (by_size_) insert(kBySize, n);
      ++extent_count_;
    }
  }
}

ExtentTree::NodeId ExtentTree::before(std::uint64_t first_page) const {
  NodeId best = kNone;
  for (NodeId x = root_[kByStart]; x != kNone;) {
    if (nodes_[x].first_page < first_page) {
      best = x;
      x = nodes_[x].child[kByStart][1];
    } else {
      x = nodes_[x].child[kByStart][0];
    }
  }
  return best;
}

ExtentTree::NodeId ExtentTree::after(std::uint64_t first_page) const {
  NodeId best = kNone;
  for (NodeId x = root_[kByStart]; x != kNone;) {
    if (nodes_[x].first_page >= first_page) {
      best = x;
      x = nodes_[x].child[kByStart][0];
    } else {
      x = nodes_[x].child[kByStart][1];
    }
  }
  return best;
}

void ExtentTree::give_back(std::uint64_t first_page, std::uint64_t pages) {
  if (pages == 0) return;
  const NodeId prev = before(first_page);
  const NodeId next = after(first_page);
  assert((prev == kNone || nodes_[prev].first_page + nodes_[prev].pages <= first_page) && "double free");
  assert((next == kNone || first_page + pages <= nodes_[next].first_page) && "double free");
  const bool joins_prev = prev != kNone && nodes_[prev].first_page + nodes_[prev].pages == first_page;
  const bool joins_next = next != kNone && first_page + pages == nodes_[next].first_page;
  free_pages_ += pages;

  if (joins_prev && joins_next) {  // fills a hole: prev swallows the run and next
    const std::uint64_t merged = nodes_[prev].pages + pages + nodes_[next].pages;
    remove(kByStart, next);
    if (by_size_) remove(kBySize, next);
    delete_node(next);
    --extent_count_;
    resize(prev, nodes_[prev].first_page, merged);
  } else if (joins_prev) {
    resize(prev, nodes_[prev].first_page, nodes_[prev].pages + pages);
  } else if (joins_next) {
    resize(next, first_page, nodes_[next].pages + pages);
  } else {
    const NodeId n = new_node(first_page, pages);
    insert(kByStart, n);
    if (by_size_) insert(kBySize, n);
    ++extent_count_;
  }
}

std::uint64_t ExtentTree::largest_free_pages() const { return nodes_[root_[kByStart]].max_pages; }

void ExtentTree::collect(NodeId n, std::vector<Extent>& out) const {
  if (n == kNone) return;
  collect(nodes_[n].child[kByStart][0], out);
  out.push_back(extent(n));
  collect(nodes_[n].child[kByStart][1], out);
}

std::vector<ExtentTree::Extent> ExtentTree::extents() const {
  std::vector<Extent> out;
  out.reserve(extent_count_);
  collect(root_[kByStart], out);
  return out;
}

}  // namespace dartlab::dart
