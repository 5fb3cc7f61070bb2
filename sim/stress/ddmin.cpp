// SPDX-License-Identifier: MIT
#include "sim/stress/ddmin.hpp"

#include <algorithm>

namespace dartlab::sim {

std::vector<std::uint32_t> ddmin(std::vector<std::uint32_t> current, const DdminTest& fails,
                                 const std::function<bool()>& stop, DdminStats& stats) {
  stats.complete = false;
  std::vector<std::uint32_t> candidate;  // one buffer for every subset tried
  candidate.reserve(current.size());
  std::size_t n = 2;
  std::size_t resume = 0;  // the chunk whose complement is tried first
  while (current.size() >= 2) {
    n = std::min(n, current.size());
    // Chunk i is current[bound(i), bound(i + 1)): sizes differ by one at most.
    const auto bound = [&](std::size_t i) { return static_cast<std::ptrdiff_t>(i * current.size() / n); };
    bool reduced = false;
    for (std::size_t k = 0; k < n && !reduced; ++k) {
      const std::size_t i = (resume + k) % n;
      if (stop()) return current;
      candidate.assign(current.begin(), current.begin() + bound(i));
      candidate.insert(candidate.end(), current.begin() + bound(i + 1), current.end());
      ++stats.tests;
      if (fails(candidate)) {
        current.swap(candidate);
        n = std::max<std::size_t>(n - 1, 2);
        resume = i;  // the chunks before it were just found needed; start after them
        reduced = true;
      }
    }
    // With two chunks each is the other's complement: already tried.
    for (std::size_t i = 0; i < n && !reduced && n > 2; ++i) {
      if (stop()) return current;
      candidate.assign(current.begin() + bound(i), current.begin() + bound(i + 1));
      ++stats.tests;
      if (fails(candidate)) {
        current.swap(candidate);
        n = 2;
        resume = 0;
        reduced = true;
      }
    }
    if (reduced) continue;
    if (n == current.size()) break;  // every single element was tried out: 1-minimal
    n = std::min(2 * n, current.size());
    resume = 0;
  }
  stats.complete = true;
  return current;
}

std::vector<std::uint32_t> remove_singles(std::vector<std::uint32_t> current, const DdminTest& fails,
                                          const std::function<bool()>& stop, DdminStats& stats) {
  stats.complete = false;
  std::vector<std::uint32_t> candidate;
  candidate.reserve(current.size());
  for (bool removed = true; removed;) {
    removed = false;
    // Back to front: erasing position i leaves the positions still to try where they were.
    for (std::size_t i = current.size(); i-- > 0;) {
      if (current.size() < 2) break;  // the empty set never fails
      if (stop()) return current;
      candidate.assign(current.begin(), current.end());
      candidate.erase(candidate.begin() + static_cast<std::ptrdiff_t>(i));
      ++stats.tests;
      if (fails(candidate)) {
        current.swap(candidate);
        removed = true;
      }
    }
  }
  stats.complete = true;
  return current;
}

std::vector<std::uint32_t> shortest_failing_prefix(std::span<const std::uint32_t> ranked, const DdminTest& fails,
                                                   const std::function<bool()>& stop, DdminStats& stats) {
  std::vector<std::uint32_t> candidate;
  candidate.reserve(ranked.size());
  const auto prefix = [&](std::size_t n) {
    candidate.assign(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n));
    std::sort(candidate.begin(), candidate.end());
  };
  std::size_t low = 1;                // shorter prefixes than this are not known to fail...
  std::size_t high = ranked.size();  // ...and this one does
  while (low < high && !stop()) {
    const std::size_t mid = low + (high - low) / 2;
    prefix(mid);
    ++stats.tests;
    if (fails(candidate))
      high = mid;
    else
      low = mid + 1;
  }
  prefix(high);
  return candidate;
}

}  // namespace dartlab::sim
