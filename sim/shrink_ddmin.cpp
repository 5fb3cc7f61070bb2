#include "sim/shrink_ddmin.hpp"

#include <algorithm>

namespace dartlab::sim {

std::vector<std::uint32_t> ddmin(std::vector<std::uint32_t> current, const DdminTest& fails,
                                 const std::function<bool()>& stop, DdminStats& stats) {
  stats = {};
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

}  // namespace dartlab::sim
