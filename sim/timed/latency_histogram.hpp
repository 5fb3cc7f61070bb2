// SPDX-License-Identifier: MIT
// Latencies in fixed memory: log-linear buckets (each power of two split into 32), so a percentile
// is within about 3% of the true value whatever the spread, and recording never allocates.
#pragma once

#include <array>
#include <cstdint>

namespace dartlab::sim::timed {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 5;  // 32 buckets per power of two
  static constexpr unsigned kBuckets = (64 - kSubBits + 1) << kSubBits;

  void record(std::uint64_t value);
  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_); }
  // The value at quantile q (0..1): the middle of the bucket holding it, clamped to [min, max].
  std::uint64_t quantile(double q) const;
  void reset() { *this = LatencyHistogram{}; }

  static unsigned bucket_of(std::uint64_t value);
  static std::uint64_t bucket_low(unsigned bucket);  // smallest value in the bucket

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = ~std::uint64_t{0};
  std::uint64_t max_ = 0;
};

}  // namespace dartlab::sim::timed
