// SPDX-License-Identifier: MIT
#include "passthrough/mapper/clustering_policy.hpp"

#include <algorithm>
#include <bit>

#include "base/bits.hpp"

namespace dartlab::mapper {

LiveWindows::LiveWindows(WindowSizes in_play)
    : in_play_(in_play),
      region_bytes_(in_play == 0 ? 0 : std::uint64_t{1} << (63 - std::countl_zero(in_play))),
      by_region_(std::popcount(in_play) > 3) {}

const std::uint32_t* LiveWindows::find(const KeyIndex& index, std::uint64_t gpa, std::uint64_t len_bytes) const {
  WindowSizes sizes = live_sizes_;
  // With one size live (a steady state), it is probed without the region's lookup.
  if (by_region_ && (sizes & (sizes - 1)) != 0) {
    // No window in play holds a request that crosses a region's boundary.
    const WindowSizes* here =
        fits_window(gpa, len_bytes, region_bytes_) ? region_sizes_.find(gpa & ~(region_bytes_ - 1)) : nullptr;
    sizes = here != nullptr ? *here : 0;
  }
  while (sizes != 0) {
    const int bit = 63 - std::countl_zero(sizes);
    sizes &= ~(WindowSizes{1} << bit);
    const std::uint64_t bytes = std::uint64_t{1} << bit;
    if (!fits_window(gpa, len_bytes, bytes)) continue;
    if (const std::uint32_t* found = index.find(window_key(gpa, bytes))) return found;
  }
  return index.find(direct_key(gpa, len_bytes));
}

bool LiveWindows::track(const Key& key, bool added) {
  if (!is_power_of_two(key.size_bytes) || (key.base & (key.size_bytes - 1)) != 0 || (in_play_ & key.size_bytes) == 0)
    return false;
  const int bit = std::countr_zero(key.size_bytes);
  const std::uint64_t region = key.base & ~(region_bytes_ - 1);
  if (added) {
    if (live_windows_[bit]++ == 0) live_sizes_ |= key.size_bytes;
    if (by_region_ && (*region_counts_.insert(Key{region, key.size_bytes}, 0).first)++ == 0)
      *region_sizes_.insert(region, 0).first |= key.size_bytes;
    return true;
  }
  if (--live_windows_[bit] == 0) live_sizes_ &= ~key.size_bytes;
  if (!by_region_) return true;
  std::uint32_t* count = region_counts_.find(Key{region, key.size_bytes});  // counted in when it was mapped
  if (count != nullptr && --*count == 0) {
    region_counts_.erase(Key{region, key.size_bytes});  // memory follows live windows
    WindowSizes* sizes = region_sizes_.find(region);
    if (sizes != nullptr && (*sizes &= ~key.size_bytes) == 0) region_sizes_.erase(region);
  }
  return true;
}

void LiveWindows::reset() {
  live_sizes_ = 0;
  std::fill(std::begin(live_windows_), std::end(live_windows_), 0u);
  region_sizes_.clear();
  region_counts_.clear();
}

Key MultiPolicy::choose(std::uint64_t gpa, std::uint64_t len_bytes, bool& promoted) const {
  promoted = false;
  const Key smallest = smallest_window_or_direct(sizes_, gpa, len_bytes);
  if (promote_fraction_ <= 0 || !is_power_of_two(smallest.size_bytes) || (sizes_ & smallest.size_bytes) == 0)
    return smallest;  // a direct mapping, or promotion off
  // The largest listed window whose region is already covered enough by live smaller windows.
  for (WindowSizes larger = sizes_ & ~((smallest.size_bytes << 1) - 1); larger != 0;) {
    const int bit = 63 - std::countl_zero(larger);
    larger &= ~(WindowSizes{1} << bit);
    const Key region = window_key(gpa, std::uint64_t{1} << bit);
    const std::uint64_t* covered = coverage_.find(region);
    if (covered != nullptr && static_cast<double>(*covered) >= promote_fraction_ * static_cast<double>(region.size_bytes)) {
      promoted = true;
      return region;
    }
  }
  return smallest;
}

void MultiPolicy::track(const Key& key, bool added) {
  if (!live_.track(key, added) || promote_fraction_ <= 0) return;
  for (WindowSizes larger = sizes_ & ~((key.size_bytes << 1) - 1); larger != 0; larger &= larger - 1) {
    const Key region = window_key(key.base, std::uint64_t{1} << std::countr_zero(larger));
    if (added) {
      *coverage_.insert(region, 0).first += key.size_bytes;
    } else if (std::uint64_t* covered = coverage_.find(region); covered != nullptr) {
      *covered -= std::min(*covered, key.size_bytes);
      if (*covered == 0) coverage_.erase(region);  // memory follows live windows
    }
  }
}

void MultiPolicy::reset() {
  live_.reset();
  coverage_.clear();
}

AdaptivePolicy::AdaptivePolicy(const Policy& policy)
    : start_bytes_(policy.window_bytes),
      min_bytes_(policy.adaptive_min_bytes),
      max_bytes_(policy.adaptive_max_bytes),
      high_water_(policy.high_water),
      low_water_(policy.low_water),
      decide_every_(policy.decide_every),
      live_((max_bytes_ | (max_bytes_ - 1)) & ~(min_bytes_ - 1)),  // every size the window may take: min..max
      window_bytes_(policy.window_bytes) {}

void AdaptivePolicy::before_new_mapping(MappingBackend& backend, MapperStats& stats) {
  if (++maps_since_decision_ < decide_every_) return;
  maps_since_decision_ = 0;
  const BackendPressure p = backend.pressure();
  const double slots = p.slots_limit == 0 ? 0.0 : static_cast<double>(p.slots_used) / static_cast<double>(p.slots_limit);
  const double bytes = p.bytes_limit == 0 ? 0.0 : static_cast<double>(p.bytes_used) / static_cast<double>(p.bytes_limit);
  if (slots >= high_water_ && bytes < high_water_) {
    set_window(std::min(window_bytes_ * 2, max_bytes_), stats);  // trade bytes for slots
  } else if (bytes >= high_water_ && slots < high_water_) {
    set_window(std::max(window_bytes_ / 2, min_bytes_), stats);  // trade slots for bytes
  } else if (slots < low_water_ && bytes < low_water_ && window_bytes_ != start_bytes_) {
    set_window(window_bytes_ < start_bytes_ ? window_bytes_ * 2 : window_bytes_ / 2, stats);
  }
}

bool AdaptivePolicy::adapt_to(MapError refusal, MapperStats& stats) {
  const std::uint64_t before = window_bytes_;
  if (refusal == MapError::Slots) {
    set_window(std::min(window_bytes_ * 2, max_bytes_), stats);
  } else {
    set_window(std::max(window_bytes_ / 2, min_bytes_), stats);
  }
  maps_since_decision_ = 0;
  return window_bytes_ != before;
}

void AdaptivePolicy::set_window(std::uint64_t bytes, MapperStats& stats) {
  if (bytes == window_bytes_) return;
  window_bytes_ = bytes;
  stats.window_bytes_now = bytes;
  ++stats.adaptations;
}

namespace {

std::variant<DirectPolicy, WindowPolicy, MultiPolicy, AdaptivePolicy> policy_of(const Policy& p) {
  switch (p.kind) {
    case PolicyKind::Window: return WindowPolicy(p.window_bytes);
    case PolicyKind::Multi: return MultiPolicy(p);
    case PolicyKind::Adaptive: return AdaptivePolicy(p);
    case PolicyKind::Direct:
    case PolicyKind::Bounce: break;  // bounce maps no keys: the Mapper never asks
  }
  return DirectPolicy();
}

}  // namespace

ClusteringPolicy::ClusteringPolicy(const Policy& policy) : policy_(policy_of(policy)) {}

}  // namespace dartlab::mapper
