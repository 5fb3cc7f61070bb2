// SPDX-License-Identifier: MIT
#include "passthrough/mapper/slot_runs.hpp"

#include <algorithm>
#include <bit>

namespace dartlab::mapper {

namespace {

constexpr std::uint64_t kWordSlots = 64;

// The bits of [lo, hi) within a word, 0 <= lo < hi <= 64.
constexpr std::uint64_t bits_between(std::uint64_t lo, std::uint64_t hi) {
  const std::uint64_t below_hi = hi == kWordSlots ? ~std::uint64_t{0} : (std::uint64_t{1} << hi) - 1;
  return below_hi & ~((std::uint64_t{1} << lo) - 1);
}

}  // namespace

SlotRuns::Node SlotRuns::leaf(std::uint64_t free_bits, std::uint32_t width) {
  Node n;
  n.width = width;
  if (width == 0) return n;
  n.low = static_cast<std::uint32_t>(std::min<int>(std::countr_one(free_bits), static_cast<int>(width)));
  n.high = static_cast<std::uint32_t>(std::countl_one(free_bits << (kWordSlots - width)));
  // The longest run: step from run to run (at most 32 of them in a word).
  for (std::uint64_t rest = free_bits; rest != 0;) {
    rest >>= std::countr_zero(rest);
    const int run = std::countr_one(rest);
    n.longest = std::max(n.longest, static_cast<std::uint32_t>(run));
    rest = run == 64 ? 0 : rest >> run;
  }
  return n;
}

SlotRuns::Node SlotRuns::join(const Node& a, const Node& b) {
  Node n;
  n.width = a.width + b.width;
  n.low = a.low == a.width ? a.width + b.low : a.low;
  n.high = b.high == b.width ? b.width + a.high : b.high;
  n.longest = std::max({a.longest, b.longest, a.high + b.low});
  return n;
}

void SlotRuns::reset(std::uint64_t slots) {
  slots_ = slots;
  free_ = slots;
  const std::uint64_t words = (slots + kWordSlots - 1) / kWordSlots;
  leaves_ = std::bit_ceil(std::max<std::uint64_t>(words, 1));
  bits_.assign(words, 0);
  nodes_.assign(2 * leaves_, Node{});
  give_all();
}

void SlotRuns::give_all() {
  std::fill(bits_.begin(), bits_.end(), ~std::uint64_t{0});
  if (slots_ % kWordSlots != 0) bits_.back() = bits_between(0, slots_ % kWordSlots);
  free_ = slots_;
  for (std::uint64_t w = 0; w < bits_.size(); ++w) {
    const auto width = static_cast<std::uint32_t>(std::min(kWordSlots, slots_ - w * kWordSlots));
    nodes_[leaves_ + w] = leaf(bits_[w], width);
  }
  for (std::uint64_t i = leaves_ - 1; i >= 1; --i) nodes_[i] = join(nodes_[2 * i], nodes_[2 * i + 1]);
}

std::uint64_t SlotRuns::take_run(std::uint64_t n) {
  if (n == 0 || nodes_.empty() || nodes_[1].longest < n) return kNoRun;
  std::uint64_t i = 1;
  std::uint64_t start = 0;
  std::uint64_t first = 0;
  for (;;) {
    if (i >= leaves_) {
      // A word with a run of n inside it (n <= 64): the lowest bit where n free bits begin.
      std::uint64_t starts = bits_[i - leaves_];
      for (std::uint64_t len = 1; len < n;) {
        const std::uint64_t step = std::min(len, n - len);
        starts &= starts >> step;
        len += step;
      }
      first = start + static_cast<std::uint64_t>(std::countr_zero(starts));
      break;
    }
    const Node& left = nodes_[2 * i];
    const Node& right = nodes_[2 * i + 1];
    if (left.longest >= n) {
      i = 2 * i;
    } else if (left.high + right.low >= n) {
      first = start + left.width - left.high;  // the run that crosses from left into right
      break;
    } else {
      start += left.width;
      i = 2 * i + 1;
    }
  }
  set_range(first, n, false);
  return first;
}

bool SlotRuns::give(std::uint64_t first, std::uint64_t n) {
  if (n == 0 || first >= slots_ || n > slots_ - first || !all_taken(first, n)) return false;
  set_range(first, n, true);
  return true;
}

bool SlotRuns::all_taken(std::uint64_t first, std::uint64_t n) const {
  const std::uint64_t end = first + n;
  for (std::uint64_t w = first / kWordSlots; w * kWordSlots < end; ++w) {
    const std::uint64_t lo = std::max(first, w * kWordSlots) - w * kWordSlots;
    const std::uint64_t hi = std::min(end, (w + 1) * kWordSlots) - w * kWordSlots;
    if ((bits_[w] & bits_between(lo, hi)) != 0) return false;
  }
  return true;
}

void SlotRuns::set_range(std::uint64_t first, std::uint64_t n, bool free) {
  const std::uint64_t end = first + n;
  const std::uint64_t w0 = first / kWordSlots;
  const std::uint64_t w1 = (end - 1) / kWordSlots;
  for (std::uint64_t w = w0; w <= w1; ++w) {
    const std::uint64_t lo = std::max(first, w * kWordSlots) - w * kWordSlots;
    const std::uint64_t hi = std::min(end, (w + 1) * kWordSlots) - w * kWordSlots;
    const std::uint64_t mask = bits_between(lo, hi);
    bits_[w] = free ? bits_[w] | mask : bits_[w] & ~mask;
    nodes_[leaves_ + w] = leaf(bits_[w], nodes_[leaves_ + w].width);
  }
  free_ = free ? free_ + n : free_ - n;
  // The parents of the changed leaves, level by level up to the root.
  for (std::uint64_t lo = (leaves_ + w0) / 2, hi = (leaves_ + w1) / 2; lo >= 1; lo /= 2, hi /= 2)
    for (std::uint64_t i = lo; i <= hi; ++i) nodes_[i] = join(nodes_[2 * i], nodes_[2 * i + 1]);
}

}  // namespace dartlab::mapper
