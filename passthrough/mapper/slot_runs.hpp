// SPDX-License-Identifier: MIT
// Runs of slots taken first-fit from a fixed range: the bounce policy's pool. One bit per slot
// (set: free), and over the 64-slot words a tree that keeps, per subtree, its longest free run and
// the free runs at its two ends, so the lowest run of n free slots is found in O(log words)
// however fragmented the pool is. Memory is allocated once, by reset(); take and give allocate
// nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace dartlab::mapper {

class SlotRuns {
 public:
  // Every slot free; slots > 0.
  void reset(std::uint64_t slots);

  static constexpr std::uint64_t kNoRun = ~std::uint64_t{0};  // take_run(): no run that long

  // The first slot of the lowest run of n free slots, now taken; kNoRun when no run is that long
  // (or n == 0). A plain integer, as models/dart/aperture.hpp's take() says why: returned as a
  // std::optional it came back through a stack slot, a load no store can forward.
  std::uint64_t take_run(std::uint64_t n);
  // take_run() as an optional, for tests.
  std::optional<std::uint64_t> take(std::uint64_t n) {
    const std::uint64_t first = take_run(n);
    if (first == kNoRun) return std::nullopt;
    return first;
  }
  // Gives [first, first + n) back. False (and nothing changes) unless every slot of it is taken.
  bool give(std::uint64_t first, std::uint64_t n);
  // Every slot free again.
  void give_all();

  std::uint64_t slots() const { return slots_; }
  std::uint64_t free_slots() const { return free_; }
  std::uint64_t largest_free_run() const { return nodes_.empty() ? 0 : nodes_[1].longest; }

 private:
  // A subtree's summary, in slots: free runs at its low and high ends, and its longest.
  struct Node {
    std::uint32_t low = 0;
    std::uint32_t high = 0;
    std::uint32_t longest = 0;
    std::uint32_t width = 0;  // slots it covers (0 for padding leaves)
  };
  static Node leaf(std::uint64_t free_bits, std::uint32_t width);
  static Node join(const Node& a, const Node& b);
  // Sets (free) or clears the bits of [first, first + n) and brings the tree up to date.
  void set_range(std::uint64_t first, std::uint64_t n, bool free);
  bool all_taken(std::uint64_t first, std::uint64_t n) const;

  std::uint64_t slots_ = 0;
  std::uint64_t free_ = 0;
  std::uint64_t leaves_ = 0;  // a power of two: the tree is complete, leaves at [leaves_, 2 * leaves_)
  std::vector<std::uint64_t> bits_;
  std::vector<Node> nodes_;
};

}  // namespace dartlab::mapper
