// SPDX-License-Identifier: MIT
// A time series of a run that fits in a fixed number of points however long the trace is: the
// events are cut into buckets of equal width, each point keeps the maximum of every column over
// its bucket (peaks are what limits are about), and when the points run out neighbouring buckets
// merge and the width doubles. Nothing is allocated after construction.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dartlab::sim {

struct SeriesSample {
  std::uint64_t live_mappings = 0;
  std::uint64_t mapped_bytes = 0;
  std::uint64_t requested_bytes = 0;
  double frag_index = 0;
  std::uint64_t waiting = 0;  // cap: requests waiting for room
};

struct SeriesPoint {
  std::uint64_t event = 0;  // 1-based number of the event that ends the bucket
  SeriesSample max;
};

class Series {
 public:
  static constexpr std::size_t kDefaultPoints = 1024;

  // max_points is rounded up to an even number, at least 2.
  explicit Series(std::size_t max_points = kDefaultPoints) : limit_(std::max<std::size_t>(2, (max_points + 1) & ~std::size_t{1})) {
    points_.reserve(limit_);
  }

  // One sample per event, in event order.
  void add(const SeriesSample& s) {
    note_change(s);
    add_event(s.requested_bytes, [] { return SeriesSample{}; });
  }

  // add() in two halves, for a caller that knows which columns moved: note_change(s) when any
  // column but requested_bytes may differ from the event before (s: this event's sample), then
  // add_event() for every event. A bucket opens with the sample of the event that closed the one
  // before it (full(), read only then), its requested bytes at 0, since every column but those
  // stands still until a note_change(), and the first one in a bucket replaces that sample. The
  // points are add()'s: a bucket's maximum of a column that stood still is the value it had when
  // the bucket opened or last moved. Per event this is a maximum and a countdown.
  void note_change(const SeriesSample& s) {
    if (left_ == width_) {
      bucket_ = s;  // the bucket's first event
    } else {
      fold(bucket_, s);
    }
  }
  template <class Full>
  [[gnu::always_inline]] void add_event(std::uint64_t requested_bytes, Full&& full) {
    bucket_.requested_bytes = std::max(bucket_.requested_bytes, requested_bytes);
    if (--left_ == 0) [[unlikely]] close(full());
  }

  // The finished points plus the open bucket, if any.
  std::vector<SeriesPoint> points() const {
    std::vector<SeriesPoint> out = points_;
    if (left_ != width_) out.push_back(SeriesPoint{first_ + (width_ - left_) - 1, bucket_});
    return out;
  }

  std::uint64_t bucket_events() const { return width_; }

 private:
  static void fold(SeriesSample& into, const SeriesSample& s) {
    into.live_mappings = std::max(into.live_mappings, s.live_mappings);
    into.mapped_bytes = std::max(into.mapped_bytes, s.mapped_bytes);
    into.requested_bytes = std::max(into.requested_bytes, s.requested_bytes);
    into.frag_index = std::max(into.frag_index, s.frag_index);
    into.waiting = std::max(into.waiting, s.waiting);
  }

  // The open bucket's last event has been added; `next` is the sample after it.
  [[gnu::noinline]] void close(const SeriesSample& next) {
    const std::uint64_t last = first_ + width_ - 1;
    points_.push_back(SeriesPoint{last, bucket_});
    first_ = last + 1;
    if (points_.size() == limit_) {
      // Full: merge pairs; the series now covers the same events with half the points.
      for (std::size_t i = 0; i < limit_ / 2; ++i) {
        SeriesPoint merged = points_[2 * i + 1];
        fold(merged.max, points_[2 * i].max);
        points_[i] = merged;
      }
      points_.resize(limit_ / 2);
      width_ *= 2;
    }
    left_ = width_;
    bucket_ = next;
    bucket_.requested_bytes = 0;
  }

  std::size_t limit_;
  std::vector<SeriesPoint> points_;
  SeriesSample bucket_;   // the open bucket's maxima so far
  std::uint64_t width_ = 1;  // events a bucket holds
  std::uint64_t left_ = 1;   // events the open bucket still takes: width_ when it has none yet
  std::uint64_t first_ = 1;  // 1-based number of the open bucket's first event
};

}  // namespace dartlab::sim
