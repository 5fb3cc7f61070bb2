// The fragmentation curve of a stress soak: the DART's state over the run in at most
// kMaxPoints points, each the worst over a bucket of consecutive events. Memory is fixed
// whatever the run's length: when the points are full, neighbours merge and buckets double.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "models/dart/dart.hpp"

namespace dartlab::sim {

// 1 - largest free extent / free bytes: 0 when the free space is one run (or there is none),
// towards 1 when it is cut into many small ones. A map fails as "fragmented" when its size lies
// between the largest extent and the free bytes.
double fragmentation_index(std::uint64_t free_bytes, std::uint64_t largest_free_bytes);

// What a stress report says of the DART at one moment.
struct DartSnapshot {
  std::uint64_t live_mappings = 0;
  std::uint64_t mapped_bytes = 0;
  std::uint64_t free_bytes = 0;
  std::uint64_t largest_free_bytes = 0;
  double frag_index() const { return fragmentation_index(free_bytes, largest_free_bytes); }
};
DartSnapshot snapshot(const dart::DartStats& stats);

class FragmentationCurve {
 public:
  // 1024 points: finer than any terminal or plot shows, 40 KiB.
  static constexpr std::size_t kMaxPoints = 1024;

  struct Point {
    std::uint64_t event = 0;  // the 1-based event that ends the bucket
    double frag_index = 0;    // the highest in the bucket
    std::uint64_t live_mappings = 0;       // the highest
    std::uint64_t mapped_bytes = 0;        // the highest
    std::uint64_t largest_free_bytes = 0;  // the lowest
  };

  FragmentationCurve();
  // The state after event `event` (1-based, one call per event, in order). Allocates nothing.
  void add(std::uint64_t event, const DartSnapshot& state);
  // Ends the curve: a bucket not yet full becomes the last point.
  void finish();

  std::span<const Point> points() const { return points_; }
  std::uint64_t bucket_events() const { return bucket_events_; }  // events per point (the last may have fewer)

 private:
  void merge_pairs();

  std::vector<Point> points_;
  std::uint64_t bucket_events_ = 1;
  Point open_{};                  // the bucket being filled
  std::uint64_t open_events_ = 0;  // events in it so far
};

// One character per column, eight heights (U+2581 .. U+2588) from `low` to `high`; each column
// the highest of the values it covers. At most `width` columns.
std::string sparkline(std::span<const double> values, double low, double high, std::size_t width);

}  // namespace dartlab::sim
