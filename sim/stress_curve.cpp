#include "sim/stress_curve.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace dartlab::sim {

double fragmentation_index(std::uint64_t free_bytes, std::uint64_t largest_free_bytes) {
  if (free_bytes == 0) return 0.0;
  return 1.0 - static_cast<double>(largest_free_bytes) / static_cast<double>(free_bytes);
}

DartSnapshot snapshot(const dart::DartStats& stats) {
  return {stats.live_mappings, stats.mapped_bytes, stats.free_bytes, stats.largest_free_bytes};
}

FragmentationCurve::FragmentationCurve() { points_.reserve(kMaxPoints); }

namespace {

// The worse of two: highest index, mappings and bytes, lowest largest extent.
void worst_into(FragmentationCurve::Point& into, const FragmentationCurve::Point& p) {
  into.frag_index = std::max(into.frag_index, p.frag_index);
  into.live_mappings = std::max(into.live_mappings, p.live_mappings);
  into.mapped_bytes = std::max(into.mapped_bytes, p.mapped_bytes);
  into.largest_free_bytes = std::min(into.largest_free_bytes, p.largest_free_bytes);
  into.event = std::max(into.event, p.event);
}

}  // namespace

void FragmentationCurve::add(std::uint64_t event, const DartSnapshot& state) {
  const Point p{event, state.frag_index(), state.live_mappings, state.mapped_bytes, state.largest_free_bytes};
  if (open_events_ == 0)
    open_ = p;
  else
    worst_into(open_, p);
  if (++open_events_ < bucket_events_) return;
  if (points_.size() == kMaxPoints) {
    merge_pairs();  // the buckets double: this one fills on to the new width
    return;
  }
  points_.push_back(open_);
  open_events_ = 0;
}

void FragmentationCurve::merge_pairs() {
  std::size_t out = 0;
  for (std::size_t i = 0; i + 1 < points_.size(); i += 2) {
    Point merged = points_[i];
    worst_into(merged, points_[i + 1]);
    points_[out++] = merged;
  }
  points_.resize(out);  // kMaxPoints is even: nothing is left over
  bucket_events_ *= 2;
}

void FragmentationCurve::finish() {
  if (open_events_ == 0) return;
  if (points_.size() == kMaxPoints) merge_pairs();
  points_.push_back(open_);
  open_events_ = 0;
}

std::string sparkline(std::span<const double> values, double low, double high, std::size_t width) {
  static constexpr std::array<std::string_view, 8> kBars = {"\u2581", "\u2582", "\u2583", "\u2584",
                                                            "\u2585", "\u2586", "\u2587", "\u2588"};
  std::string out;
  if (values.empty() || width == 0) return out;
  const std::size_t columns = std::min(width, values.size());
  const double range = high > low ? high - low : 1.0;
  for (std::size_t c = 0; c < columns; ++c) {
    const std::size_t first = c * values.size() / columns;
    const std::size_t last = (c + 1) * values.size() / columns;  // exclusive, > first
    const double v = *std::max_element(values.begin() + static_cast<std::ptrdiff_t>(first),
                                       values.begin() + static_cast<std::ptrdiff_t>(last));
    const double t = std::clamp((v - low) / range, 0.0, 1.0);
    out += kBars[std::min<std::size_t>(7, static_cast<std::size_t>(t * 8.0))];
  }
  return out;
}

}  // namespace dartlab::sim
