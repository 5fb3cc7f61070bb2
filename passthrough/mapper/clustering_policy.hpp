// SPDX-License-Identifier: MIT
// The clustering policies: which host mapping serves a request, one class each with the state it
// needs. Each has the same members, called by the Mapper through ClusteringPolicy (a variant, so
// no indirect call per request):
//   find(index, gpa, len)   the live host mapping that serves the request, or nullptr;
//   choose(gpa, len, promoted) the key of a new host mapping for it (multi: promoted or not);
//   before_new_mapping(...) adaptive revises its window size from the host's pressure;
//   adapt_to(refusal, ...)  adaptive moves its size after a refusal; true if the key may change;
//   on_host_map/unmap(key) what is live, for the policies that look up or promote by it;
//   reset()                 every host mapping is gone.
// lazy, cap and bounce are not here: lazy and cap act on host mappings whatever their key
// (kept_mappings.hpp, the Mapper), bounce maps no keys at all (bounce_pool.hpp).
#pragma once

#include <cstdint>
#include <variant>

#include "base/flat_map.hpp"
#include "passthrough/mapper/key_index.hpp"
#include "passthrough/mapper/mapping.hpp"

namespace dartlab::mapper {

// Every request gets its own range, rounded out to 16 KiB.
class DirectPolicy {
 public:
  const std::uint32_t* find(const KeyIndex& index, std::uint64_t gpa, std::uint64_t len_bytes) const {
    return index.find(direct_key(gpa, len_bytes));
  }
  Key choose(std::uint64_t gpa, std::uint64_t len_bytes, bool& promoted) const {
    promoted = false;
    return direct_key(gpa, len_bytes);
  }
  void before_new_mapping(MappingBackend&, MapperStats&) {}
  bool adapt_to(MapError, MapperStats&) { return false; }
  void on_host_map(const Key&) {}
  void on_host_unmap(const Key&) {}
  void reset() {}
};

// The seed's rule: a request inside one aligned window maps the whole window, else direct.
class WindowPolicy {
 public:
  explicit WindowPolicy(std::uint64_t window_bytes) : window_bytes_(window_bytes) {}
  const std::uint32_t* find(const KeyIndex& index, std::uint64_t gpa, std::uint64_t len_bytes) const {
    return index.find(window_or_direct(window_bytes_, gpa, len_bytes));  // one key can serve (DESIGN.md)
  }
  Key choose(std::uint64_t gpa, std::uint64_t len_bytes, bool& promoted) const {
    promoted = false;
    return window_or_direct(window_bytes_, gpa, len_bytes);
  }
  void before_new_mapping(MappingBackend&, MapperStats&) {}
  bool adapt_to(MapError, MapperStats&) { return false; }
  void on_host_map(const Key&) {}
  void on_host_unmap(const Key&) {}
  void reset() {}

 private:
  std::uint64_t window_bytes_;
};

// For policies with several window sizes in play: which sizes have a live host mapping of window
// shape (power-of-two size, aligned base) in each region of the largest size, so that a lookup
// probes the key index only for sizes live around the request. Every window in play lies inside
// one aligned region of the largest size, so the region's sizes are the only ones that can hold
// the request. Probing every size live anywhere took 41% of an adaptive replay's samples (nine
// sizes, 16K..4M) under a stingy host (slots=8192,aperture=512M), most of it waiting for index
// slots that held nothing; by region, the replay runs 11% fewer instructions there and 8% fewer
// under the default host (callgrind, 2 M game events).
class LiveWindows {
 public:
  explicit LiveWindows(WindowSizes in_play);
  // Any live window that holds the request, the largest first (after a promotion the larger
  // window takes the new requests and the smaller ones drain), then the request's direct key.
  const std::uint32_t* find(const KeyIndex& index, std::uint64_t gpa, std::uint64_t len_bytes) const;
  // Counts a host mapping in or out; false when it is no window of a size in play.
  bool track(const Key& key, bool added);
  void reset();

 private:
  static constexpr std::uint64_t kNoRegion = ~std::uint64_t{0};  // never a region's base (they are aligned)
  WindowSizes in_play_;
  std::uint64_t region_bytes_;  // the largest size in play (0 when none is)
  // Kept only with four sizes or more in play (adaptive's nine): keeping it cost multi's two or
  // three sizes 1-6% more instructions per event than the probes it spared.
  bool by_region_;
  WindowSizes live_sizes_ = 0;  // sizes with a live window anywhere
  std::uint32_t live_windows_[64] = {};
  // Region base -> the sizes with a live window inside it; {region base, size} -> how many.
  FlatMap<std::uint64_t, WindowSizes, FlatHash<std::uint64_t>, kNoRegion> region_sizes_;
  FlatMap<Key, std::uint32_t, KeyHash> region_counts_;
};

// Several window sizes: the smallest that holds the request, or a larger one when live smaller
// windows already cover enough of its region (promotion).
class MultiPolicy {
 public:
  explicit MultiPolicy(const Policy& policy)
      : sizes_(policy.multi_sizes), promote_fraction_(policy.promote_fraction), live_(policy.multi_sizes) {}
  const std::uint32_t* find(const KeyIndex& index, std::uint64_t gpa, std::uint64_t len_bytes) const {
    return live_.find(index, gpa, len_bytes);
  }
  Key choose(std::uint64_t gpa, std::uint64_t len_bytes, bool& promoted) const;
  void before_new_mapping(MappingBackend&, MapperStats&) {}
  bool adapt_to(MapError, MapperStats&) { return false; }
  void on_host_map(const Key& key) { track(key, true); }
  void on_host_unmap(const Key& key) { track(key, false); }
  void reset();

 private:
  void track(const Key& key, bool added);

  WindowSizes sizes_;
  double promote_fraction_;
  LiveWindows live_;
  // Bytes of live smaller windows inside each larger window's region, by region key.
  FlatMap<Key, std::uint64_t, KeyHash> coverage_;
};

// One window size at a time, moved up as the host's slots run short and down as its bytes do.
class AdaptivePolicy {
 public:
  explicit AdaptivePolicy(const Policy& policy);
  const std::uint32_t* find(const KeyIndex& index, std::uint64_t gpa, std::uint64_t len_bytes) const {
    return live_.find(index, gpa, len_bytes);
  }
  Key choose(std::uint64_t gpa, std::uint64_t len_bytes, bool& promoted) const {
    promoted = false;
    return window_or_direct(window_bytes_, gpa, len_bytes);
  }
  // Every decide_every new host mappings, revise the size from the host's pressure.
  void before_new_mapping(MappingBackend& backend, MapperStats& stats);
  // A refusal for want of room moves the size at once.
  bool adapt_to(MapError refusal, MapperStats& stats);
  void on_host_map(const Key& key) { live_.track(key, true); }
  void on_host_unmap(const Key& key) { live_.track(key, false); }
  void reset() { live_.reset(); }

 private:
  void set_window(std::uint64_t bytes, MapperStats& stats);

  std::uint64_t start_bytes_;
  std::uint64_t min_bytes_;
  std::uint64_t max_bytes_;
  double high_water_;
  double low_water_;
  std::uint32_t decide_every_;
  LiveWindows live_;
  std::uint64_t window_bytes_;  // the current size
  std::uint32_t maps_since_decision_ = 0;
};

// The policy a spec names (bounce: none of these; the Mapper never asks it).
class ClusteringPolicy {
  using Variant = std::variant<DirectPolicy, WindowPolicy, MultiPolicy, AdaptivePolicy>;
  static_assert(std::variant_size_v<Variant> == 4, "visit() names every alternative");

  // std::visit, as a switch always inlined: through std::visit's table (or a switch left out of
  // line) each call stayed a call, and the Key that choose() returned went through memory on the
  // way back, read as one 16-byte load of two 8-byte stores: a store-forwarding stall (profiled).
  template <class F>
  [[gnu::always_inline]] decltype(auto) visit(F&& f) {
    switch (policy_.index()) {
      case 1: return f(*std::get_if<1>(&policy_));
      case 2: return f(*std::get_if<2>(&policy_));
      case 3: return f(*std::get_if<3>(&policy_));
      default: return f(*std::get_if<0>(&policy_));
    }
  }
  template <class F>
  [[gnu::always_inline]] decltype(auto) visit(F&& f) const {
    switch (policy_.index()) {
      case 1: return f(*std::get_if<1>(&policy_));
      case 2: return f(*std::get_if<2>(&policy_));
      case 3: return f(*std::get_if<3>(&policy_));
      default: return f(*std::get_if<0>(&policy_));
    }
  }

 public:
  explicit ClusteringPolicy(const Policy& policy);

  const std::uint32_t* find(const KeyIndex& index, std::uint64_t gpa, std::uint64_t len_bytes) const {
    return visit([&](const auto& p) { return p.find(index, gpa, len_bytes); });
  }
  Key choose(std::uint64_t gpa, std::uint64_t len_bytes, bool& promoted) const {
    return visit([&](const auto& p) { return p.choose(gpa, len_bytes, promoted); });
  }
  void before_new_mapping(MappingBackend& backend, MapperStats& stats) {
    visit([&](auto& p) { p.before_new_mapping(backend, stats); });
  }
  bool adapt_to(MapError refusal, MapperStats& stats) {
    return visit([&](auto& p) { return p.adapt_to(refusal, stats); });
  }
  void on_host_map(const Key& key) {
    visit([&](auto& p) { p.on_host_map(key); });
  }
  void on_host_unmap(const Key& key) {
    visit([&](auto& p) { p.on_host_unmap(key); });
  }
  void reset() {
    visit([](auto& p) { p.reset(); });
  }

 private:
  Variant policy_;
};

}  // namespace dartlab::mapper
