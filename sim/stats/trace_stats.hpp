// SPDX-License-Identifier: MIT
// `dartlab stats`: what a trace asks of the mapper, before any policy is applied. Counts by
// event kind and size class, live peaks, a log2 size histogram, and how well the requests would
// cluster into windows.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/flat_map.hpp"
#include "traces/event.hpp"

namespace dartlab::sim {

// Size classes of a requested range, as the driver shapes them (BACKGROUND.md: 4 KiB pages,
// UVM's 64 KiB and 2 MiB chunks) and as the DART maps them (16 KiB pages).
inline constexpr std::array<std::uint64_t, 6> kSizeClassLimits = {4096, 16384, 65536, 262144, 1u << 20, 2u << 20};
inline constexpr int kSizeClassCount = static_cast<int>(kSizeClassLimits.size()) + 1;  // + "larger"
// "<=4K", ..., "<=2M", ">2M".
std::string size_class_name(int size_class);
int size_class_of(std::uint64_t len_bytes);

// The window sizes whose clustering potential is measured: the guest module's default (256 KiB)
// and one step finer and coarser.
inline constexpr std::array<std::uint64_t, 3> kStatsWindowBytes = {64u << 10, 256u << 10, 1u << 20};

// What `window:S` would make of the trace with no limits (DESIGN.md's semantics): a range that
// fits in one S-aligned window shares that window; any other range is a direct mapping of its
// 16 KiB pages. Mapped bytes are counted as a DART of the given page size maps each of those:
// rounded out to its own pages.
struct WindowStats {
  std::uint64_t window_bytes = 0;
  std::uint64_t distinct_windows = 0;     // windows ever used by a range that fits in one
  std::uint64_t peak_live_windows = 0;
  std::uint64_t peak_live_mappings = 0;   // live windows + live direct ranges, at their peak
  std::uint64_t peak_mapped_bytes = 0;    // their bytes, at their peak
};

struct TraceStats {
  std::uint64_t events = 0;
  std::array<std::uint64_t, trace::kEventKindCount> by_kind{};
  // Ranges requested (a map or alloc is one range, a map_sg one per segment), by creating kind
  // (Map, MapSg, Alloc) and size class.
  std::array<std::array<std::uint64_t, kSizeClassCount>, trace::kEventKindCount> ranges_by_class{};
  std::uint64_t ranges = 0;
  std::uint64_t bytes_requested = 0;
  // Ranges by floor(log2(len)): bucket b holds lengths in [2^b, 2^(b+1)).
  std::array<std::uint64_t, 64> log2_histogram{};
  std::uint64_t aligned_requests = 0;  // map kinds that carried an align= request

  std::uint64_t live_requests = 0;  // at the end of the trace
  std::uint64_t live_bytes = 0;
  std::uint64_t peak_live_requests = 0;
  std::uint64_t peak_live_ranges = 0;
  std::uint64_t peak_live_bytes = 0;
  std::uint64_t peak_live_requests_event = 0;  // 1-based ordinal of the event that set the peak
  std::uint64_t peak_live_bytes_event = 0;

  std::array<WindowStats, kStatsWindowBytes.size()> windows{};
  std::uint64_t page_bytes = 0;  // the DART page the windows' mapped bytes are counted in

  // Events that do not fit the trace so far; stats counts them and goes on (replay stops).
  std::uint64_t unknown_releases = 0;  // unmap/free/access of an id not live
  std::uint64_t reused_ids = 0;        // a map of an id still live (the old request is dropped)
  std::uint64_t kind_mismatches = 0;   // e.g. free of a request made by map

  bool has_time = false;
  std::uint64_t first_time_ns = 0;
  std::uint64_t last_time_ns = 0;
};

// Feeds events one at a time; memory follows the live requests and the windows they touch.
class TraceStatsBuilder {
 public:
  // page_bytes: the DART's page (a power of two); mapped bytes are counted in it.
  explicit TraceStatsBuilder(std::uint64_t page_bytes = kDefaultPageBytes);
  static constexpr std::uint64_t kDefaultPageBytes = 16384;  // spec: every Apple Silicon DART (dart_config.hpp)
  void add(const trace::Event& ev);
  const TraceStats& stats() const { return stats_; }

 private:
  struct Live {
    std::uint64_t gpa = 0;  // single-range requests; map_sg keeps its segments aside
    std::uint64_t len_bytes = 0;
    std::uint64_t bytes = 0;  // all ranges
    std::uint32_t ranges = 0;
    trace::EventKind kind = trace::EventKind::Map;
  };
  static constexpr std::uint64_t kNoId = ~std::uint64_t{0};

  Live* find(std::uint64_t id);
  void insert(std::uint64_t id, const Live& live);
  void erase(std::uint64_t id);
  void add_range(std::uint64_t gpa, std::uint64_t len_bytes, trace::EventKind kind);
  void touch_windows(std::uint64_t gpa, std::uint64_t len_bytes, bool add);
  // Bytes the DART maps for [base, base + bytes): rounded out to its pages.
  std::uint64_t dart_bytes(std::uint64_t base, std::uint64_t bytes) const;
  void release(std::uint64_t id, const Live& live);

  TraceStats stats_;
  std::uint64_t live_ranges_ = 0;
  dartlab::FlatMap<std::uint64_t, Live, dartlab::FlatHash<std::uint64_t>, kNoId> live_;
  std::optional<Live> live_no_id_;  // the one id the table cannot hold
  // map_sg segments of live requests, by id (rare next to single-range maps).
  std::unordered_map<std::uint64_t, std::vector<trace::Segment>> sg_segments_;
  // Per window size: window index + 1 -> live ranges in it; every window ever used; the live
  // direct ranges and their bytes.
  // Direct ranges are reference-counted by key as the policy does: ranges with the same
  // 16 KiB-rounded base and size share one mapping.
  struct DirectKey {  // no member initializers: the table's empty key is the value-initialized {0, 0}
    std::uint64_t base;
    std::uint64_t bytes;  // never 0 in use
    bool operator==(const DirectKey&) const = default;
  };
  struct DirectKeyHash {
    std::uint64_t operator()(const DirectKey& k) const { return dartlab::mix64(k.base ^ dartlab::mix64(k.bytes)); }
  };
  struct WindowState {
    dartlab::FlatMap<std::uint64_t, std::uint32_t> live;
    dartlab::FlatMap<std::uint64_t, bool> used;
    dartlab::FlatMap<DirectKey, std::uint32_t, DirectKeyHash> direct;
    std::uint64_t direct_bytes = 0;
  };
  std::array<WindowState, kStatsWindowBytes.size()> window_state_;
};

nlohmann::ordered_json stats_json(const TraceStats& stats);
// A table for people.
std::string stats_text(const TraceStats& stats);

}  // namespace dartlab::sim
