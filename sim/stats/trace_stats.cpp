// SPDX-License-Identifier: MIT
#include "sim/stats/trace_stats.hpp"

#include <bit>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/size_text.hpp"
#include "base/types.hpp"
#include "sim/common/human_units.hpp"

namespace dartlab::sim {

using trace::Event;
using trace::EventKind;

std::string size_class_name(int size_class) {
  if (size_class < static_cast<int>(kSizeClassLimits.size()))
    return fmt::format("<={}", format_size(kSizeClassLimits[static_cast<std::size_t>(size_class)]));
  return fmt::format(">{}", format_size(kSizeClassLimits.back()));
}

int size_class_of(std::uint64_t len_bytes) {
  int c = 0;
  while (c < static_cast<int>(kSizeClassLimits.size()) && len_bytes > kSizeClassLimits[static_cast<std::size_t>(c)]) ++c;
  return c;
}

TraceStatsBuilder::TraceStatsBuilder(std::uint64_t page_bytes) {
  for (std::size_t w = 0; w < kStatsWindowBytes.size(); ++w) stats_.windows[w].window_bytes = kStatsWindowBytes[w];
  stats_.page_bytes = page_bytes;
}

TraceStatsBuilder::Live* TraceStatsBuilder::find(std::uint64_t id) {
  if (id == kNoId) return live_no_id_ ? &*live_no_id_ : nullptr;
  return live_.find(id);
}

void TraceStatsBuilder::insert(std::uint64_t id, const Live& live) {
  if (id == kNoId)
    live_no_id_ = live;
  else
    live_.insert(id, live);
}

void TraceStatsBuilder::erase(std::uint64_t id) {
  if (id == kNoId)
    live_no_id_.reset();
  else
    live_.erase(id);
}

namespace {

// One more or one fewer user of `key`; the key goes when its last user does.
template <class Map, class Key>
void refcount(Map& map, const Key& key, bool add) {
  if (add) {
    ++*map.insert(key, 0).first;
  } else if (std::uint32_t* count = map.find(key); count != nullptr && --*count == 0) {
    map.erase(key);
  }
}

}  // namespace

std::uint64_t TraceStatsBuilder::dart_bytes(std::uint64_t base, std::uint64_t bytes) const {
  const std::uint64_t page = stats_.page_bytes;
  const std::uint64_t first = base / page;
  const std::uint64_t last = (base + (bytes - 1)) / page;
  return (last - first + 1) * page;
}

void TraceStatsBuilder::touch_windows(std::uint64_t gpa, std::uint64_t len_bytes, bool add) {
  if (len_bytes == 0) return;
  const std::uint64_t last = gpa + (len_bytes - 1);  // a range may end exactly at 2^64
  for (std::size_t w = 0; w < kStatsWindowBytes.size(); ++w) {
    const std::uint64_t window = kStatsWindowBytes[w];
    WindowStats& ws = stats_.windows[w];
    WindowState& st = window_state_[w];
    if (len_bytes <= window && gpa / window == last / window) {
      refcount(st.live, gpa / window + 1, add);  // the tables keep 0 for empty slots

      if (add && st.used.insert(gpa / window + 1, true).second) ++ws.distinct_windows;
    } else {
      // The key: the range rounded out to 16 KiB, the guest module's rule (policy.hpp's direct_key).
      constexpr std::uint64_t kKeyPage = dartlab::kHostPageBytes;
      const DirectKey key{gpa / kKeyPage * kKeyPage, (last / kKeyPage - gpa / kKeyPage + 1) * kKeyPage};
      const std::size_t before = st.direct.size();
      refcount(st.direct, key, add);
      const std::uint64_t mapped = dart_bytes(key.base, key.bytes);
      if (st.direct.size() > before) st.direct_bytes += mapped;
      if (st.direct.size() < before) st.direct_bytes -= mapped;
    }
    if (add) {
      ws.peak_live_windows = std::max<std::uint64_t>(ws.peak_live_windows, st.live.size());
      ws.peak_live_mappings = std::max<std::uint64_t>(ws.peak_live_mappings, st.live.size() + st.direct.size());
      // A window is S-aligned: whole pages when S >= the page, else inside one page.
      ws.peak_mapped_bytes = std::max<std::uint64_t>(ws.peak_mapped_bytes,
                                                     st.live.size() * std::max(window, stats_.page_bytes) + st.direct_bytes);
    }
  }
}

void TraceStatsBuilder::add_range(std::uint64_t gpa, std::uint64_t len_bytes, EventKind kind) {
  ++stats_.ranges;
  stats_.bytes_requested += len_bytes;
  ++stats_.ranges_by_class[static_cast<std::size_t>(kind)][static_cast<std::size_t>(size_class_of(len_bytes))];
  if (len_bytes != 0) ++stats_.log2_histogram[static_cast<std::size_t>(std::bit_width(len_bytes) - 1)];
  touch_windows(gpa, len_bytes, true);
}

void TraceStatsBuilder::release(std::uint64_t id, const Live& live) {
  if (live.kind == EventKind::MapSg) {
    if (auto it = sg_segments_.find(id); it != sg_segments_.end()) {
      for (const trace::Segment& s : it->second) touch_windows(s.gpa, s.len_bytes, false);
      sg_segments_.erase(it);
    }
  } else {
    touch_windows(live.gpa, live.len_bytes, false);
  }
  --stats_.live_requests;
  stats_.live_bytes -= live.bytes;
  live_ranges_ -= live.ranges;
}

void TraceStatsBuilder::add(const Event& ev) {
  ++stats_.events;
  ++stats_.by_kind[static_cast<std::size_t>(ev.kind)];
  if (ev.has_time) {
    if (!stats_.has_time) stats_.first_time_ns = ev.time_ns;
    stats_.has_time = true;
    stats_.last_time_ns = ev.time_ns;
  }

  if (trace::is_map_kind(ev.kind)) {
    if (const Live* old = find(ev.id)) {
      ++stats_.reused_ids;
      const Live gone = *old;
      release(ev.id, gone);
      erase(ev.id);
    }
    Live live;
    live.kind = ev.kind;
    if (ev.kind == EventKind::MapSg) {
      for (const trace::Segment& s : ev.segments) {
        add_range(s.gpa, s.len_bytes, ev.kind);
        live.bytes += s.len_bytes;
      }
      live.ranges = static_cast<std::uint32_t>(ev.segments.size());
      sg_segments_[ev.id].assign(ev.segments.begin(), ev.segments.end());
    } else {
      add_range(ev.gpa, ev.len_bytes, ev.kind);
      live.gpa = ev.gpa;
      live.len_bytes = live.bytes = ev.len_bytes;
      live.ranges = 1;
    }
    if (ev.align_bytes != 0) ++stats_.aligned_requests;
    insert(ev.id, live);
    ++stats_.live_requests;
    stats_.live_bytes += live.bytes;
    live_ranges_ += live.ranges;
    if (stats_.live_requests > stats_.peak_live_requests) {
      stats_.peak_live_requests = stats_.live_requests;
      stats_.peak_live_requests_event = stats_.events;
    }
    if (stats_.live_bytes > stats_.peak_live_bytes) {
      stats_.peak_live_bytes = stats_.live_bytes;
      stats_.peak_live_bytes_event = stats_.events;
    }
    if (live_ranges_ > stats_.peak_live_ranges) stats_.peak_live_ranges = live_ranges_;
    return;
  }

  const Live* live = find(ev.id);
  if (live == nullptr) {
    ++stats_.unknown_releases;
    return;
  }
  if (ev.kind == EventKind::Access) return;
  const EventKind made_by = ev.kind == EventKind::Unmap ? EventKind::Map
                            : ev.kind == EventKind::UnmapSg ? EventKind::MapSg
                                                            : EventKind::Alloc;
  if (live->kind != made_by) ++stats_.kind_mismatches;
  const Live gone = *live;
  release(ev.id, gone);
  erase(ev.id);
}

namespace {

constexpr std::array<EventKind, 3> kMapKinds = {EventKind::Map, EventKind::MapSg, EventKind::Alloc};

double ratio(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); }

}  // namespace

nlohmann::ordered_json stats_json(const TraceStats& s) {
  nlohmann::ordered_json j;
  j["events"] = s.events;
  nlohmann::ordered_json kinds = nlohmann::ordered_json::object();
  for (int k = 0; k < trace::kEventKindCount; ++k)
    kinds[std::string(trace::to_string(static_cast<EventKind>(k)))] = s.by_kind[static_cast<std::size_t>(k)];
  j["events_by_kind"] = kinds;
  j["ranges"] = s.ranges;
  j["bytes_requested"] = s.bytes_requested;
  nlohmann::ordered_json classes = nlohmann::ordered_json::object();
  for (EventKind k : kMapKinds) {
    nlohmann::ordered_json row = nlohmann::ordered_json::object();
    for (int c = 0; c < kSizeClassCount; ++c)
      row[size_class_name(c)] = s.ranges_by_class[static_cast<std::size_t>(k)][static_cast<std::size_t>(c)];
    classes[std::string(trace::to_string(k))] = row;
  }
  j["ranges_by_size_class"] = classes;
  nlohmann::ordered_json hist = nlohmann::ordered_json::array();
  for (std::size_t b = 0; b < s.log2_histogram.size(); ++b)
    if (s.log2_histogram[b] != 0) hist.push_back({{"log2", b}, {"from_bytes", std::uint64_t{1} << b}, {"ranges", s.log2_histogram[b]}});
  j["size_histogram_log2"] = hist;
  j["aligned_requests"] = s.aligned_requests;
  j["live_requests_at_end"] = s.live_requests;
  j["live_bytes_at_end"] = s.live_bytes;
  j["peak_live_requests"] = s.peak_live_requests;
  j["peak_live_requests_event"] = s.peak_live_requests_event;
  j["peak_live_ranges"] = s.peak_live_ranges;
  j["peak_live_bytes"] = s.peak_live_bytes;
  j["peak_live_bytes_event"] = s.peak_live_bytes_event;
  nlohmann::ordered_json windows = nlohmann::ordered_json::array();
  for (const WindowStats& w : s.windows) {
    windows.push_back({{"window_bytes", w.window_bytes},
                       {"distinct_windows", w.distinct_windows},
                       {"peak_live_windows", w.peak_live_windows},
                       {"peak_live_mappings", w.peak_live_mappings},
                       {"peak_mapped_bytes", w.peak_mapped_bytes},
                       {"mapping_cut", ratio(s.peak_live_ranges, w.peak_live_mappings)}});
  }
  j["clustering_page_bytes"] = s.page_bytes;
  j["clustering"] = windows;
  j["unknown_releases"] = s.unknown_releases;
  j["reused_ids"] = s.reused_ids;
  j["kind_mismatches"] = s.kind_mismatches;
  if (s.has_time) {
    j["first_time_ns"] = s.first_time_ns;
    j["last_time_ns"] = s.last_time_ns;
  }
  return j;
}

std::string stats_text(const TraceStats& s) {
  std::string out;
  auto line = [&]<class... Args>(fmt::format_string<Args...> f, Args&&... args) {
    out += fmt::format(f, std::forward<Args>(args)...);
    out += '\n';
  };
  line("events              {}", s.events);
  for (int k = 0; k < trace::kEventKindCount; ++k)
    if (s.by_kind[static_cast<std::size_t>(k)] != 0)
      line("  {:<17} {}", trace::to_string(static_cast<EventKind>(k)), s.by_kind[static_cast<std::size_t>(k)]);
  line("ranges requested    {} ({} in all{})", s.ranges, human_bytes(s.bytes_requested),
       s.aligned_requests != 0 ? fmt::format(", {} requests asked for an alignment", s.aligned_requests) : "");
  line("peak live           {} requests ({} ranges), {}", s.peak_live_requests, s.peak_live_ranges,
       human_bytes(s.peak_live_bytes));
  line("live at end         {} requests, {}", s.live_requests, human_bytes(s.live_bytes));
  if (s.has_time)
    line("time span           {:.3f} s", static_cast<double>(s.last_time_ns - s.first_time_ns) / 1e9);
  if (s.unknown_releases + s.reused_ids + s.kind_mismatches != 0)
    line("inconsistent        {} releases of ids not live, {} ids mapped again while live, {} kind mismatches",
         s.unknown_releases, s.reused_ids, s.kind_mismatches);

  out += "\nranges by size class\n";
  std::string header = fmt::format("  {:<8}", "");
  for (int c = 0; c < kSizeClassCount; ++c) header += fmt::format(" {:>9}", size_class_name(c));
  out += header + '\n';
  for (EventKind k : kMapKinds) {
    const auto& row = s.ranges_by_class[static_cast<std::size_t>(k)];
    std::string r = fmt::format("  {:<8}", trace::to_string(k));
    for (std::uint64_t n : row) r += fmt::format(" {:>9}", n);
    out += r + '\n';
  }

  out += "\nsize histogram (log2 buckets)\n";
  std::uint64_t most = 0;
  for (std::uint64_t n : s.log2_histogram) most = std::max(most, n);
  for (std::size_t b = 0; b < s.log2_histogram.size(); ++b) {
    const std::uint64_t n = s.log2_histogram[b];
    if (n == 0) continue;
    const auto bar = static_cast<std::size_t>(40.0 * ratio(n, most) + 0.5);
    line("  {:>6} .. {:<6} {:>10}  {}", format_size(std::uint64_t{1} << b),
         b == 63 ? std::string("16E") : format_size(std::uint64_t{1} << (b + 1)), n, std::string(std::max<std::size_t>(bar, 1), '#'));
  }

  out += fmt::format("\nclustering potential: window:S with no limits, bytes in {} DART pages (peak live ranges: {})\n",
                     format_size(s.page_bytes), s.peak_live_ranges);
  line("  {:>8} {:>10} {:>12} {:>14} {:>12} {:>6}", "window", "windows", "peak windows", "peak mappings", "peak bytes",
       "cut");
  for (const WindowStats& w : s.windows)
    line("  {:>8} {:>10} {:>12} {:>14} {:>12} {:>5.1f}x", format_size(w.window_bytes), w.distinct_windows,
         w.peak_live_windows, w.peak_live_mappings, human_bytes(w.peak_mapped_bytes),
         ratio(s.peak_live_ranges, w.peak_live_mappings));
  return out;
}

}  // namespace dartlab::sim
