#include "models/dart/extent_tree.hpp"

#include <algorithm>
#include <cassert>

namespace dartlab::dart {

ExtentTree::ExtentTree(bool by_size) : by_size_(by_size) { nodes_.emplace_back(); }  // the sentinel

void ExtentTree::reset(std::uint64_t first_page, std::uint64_t page_count) {
  nodes_.assign(1, Node{});
  nodes_.shrink_to_fit();  // memory follows live extents, also after a reset
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

void ExtentTree::pull(Order order, NodeId n) {
  if (order != kByStart || n == kNone) return;
  Node& x = nodes_[n];
  x.max_pages = std::max({x.pages, nodes_[x.child[kByStart][0]].max_pages, nodes_[x.child[kByStart][1]].max_pages});
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

void ExtentTree::refresh_path(NodeId root, std::uint64_t first_page) {
  if (root == kNone) return;
  const Node& x = nodes_[root];
  if (first_page != x.first_page) refresh_path(x.child[kByStart][first_page < x.first_page ? 0 : 1], first_page);
  pull(kByStart, root);
}

void ExtentTree::resize(NodeId n, std::uint64_t first_page, std::uint64_t pages) {
  if (by_size_) remove(kBySize, n);
  nodes_[n].first_page = first_page;
  nodes_[n].pages = pages;
  refresh_path(root_[kByStart], first_page);
  if (by_size_) insert(kBySize, n);
}

ExtentTree::NodeId ExtentTree::new_node(std::uint64_t first_page, std::uint64_t pages) {
  NodeId n = free_list_;
  if (n != kNone) {
    free_list_ = nodes_[n].child[kByStart][0];
  } else {
    n = static_cast<NodeId>(nodes_.size());
    nodes_.emplace_back();
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

ExtentTree::Extent ExtentTree::extent(NodeId node) const { return {nodes_[node].first_page, nodes_[node].pages}; }

std::uint64_t ExtentTree::take_front(NodeId node, std::uint64_t pages) {
  assert(node != kNone && nodes_[node].pages >= pages && pages > 0);
  const std::uint64_t first = nodes_[node].first_page;
  free_pages_ -= pages;
  if (nodes_[node].pages == pages) {
    remove(kByStart, node);
    if (by_size_) remove(kBySize, node);
    delete_node(node);
    --extent_count_;
  } else {
    resize(node, first + pages, nodes_[node].pages - pages);
  }
  return first;
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
