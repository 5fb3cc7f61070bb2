// SPDX-License-Identifier: MIT
#include "sim/timed/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace dartlab::sim::timed {

unsigned LatencyHistogram::bucket_of(std::uint64_t value) {
  // Values below 2^kSubBits get a bucket each; above, the top kSubBits+1 bits pick it.
  if (value < (std::uint64_t{1} << kSubBits)) return static_cast<unsigned>(value);
  const unsigned top = static_cast<unsigned>(std::bit_width(value)) - 1;  // >= kSubBits
  const unsigned shift = top - kSubBits;
  const auto sub = static_cast<unsigned>((value >> shift) & ((1u << kSubBits) - 1));
  return ((shift + 1) << kSubBits) + sub;
}

std::uint64_t LatencyHistogram::bucket_low(unsigned bucket) {
  if (bucket < (1u << kSubBits)) return bucket;
  const unsigned shift = (bucket >> kSubBits) - 1;
  const std::uint64_t sub = bucket & ((1u << kSubBits) - 1);
  return ((std::uint64_t{1} << kSubBits) | sub) << shift;
}

void LatencyHistogram::record(std::uint64_t value) {
  ++counts_[bucket_of(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

std::uint64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank-th smallest value, 1-based (nearest rank).
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  if (rank >= count_) return max_;
  std::uint64_t seen = 0;
  for (unsigned b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      const std::uint64_t low = bucket_low(b);
      const std::uint64_t high = b + 1 < kBuckets ? bucket_low(b + 1) - 1 : max_;
      return std::clamp(low + (high - low) / 2, min(), max_);
    }
  }
  return max_;
}

}  // namespace dartlab::sim::timed
