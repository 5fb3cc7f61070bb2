// SPDX-License-Identifier: MIT
#include "sim/stress/shrink.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

#include "base/flat_map.hpp"
#include "sim/stress/ddmin.hpp"

namespace dartlab::sim {

void StressHistory::record(const trace::Event& ev) {
  Stored s{ev.id, ev.gpa, ev.len_bytes, ev.align_bytes, static_cast<std::uint32_t>(segments_.size()),
           static_cast<std::uint32_t>(ev.segments.size()), ev.device, ev.kind, ev.dir};
  segments_.insert(segments_.end(), ev.segments.begin(), ev.segments.end());
  events_.push_back(s);
}

trace::Event StressHistory::event(std::size_t i) const {
  const Stored& s = events_[i];
  trace::Event ev;
  ev.kind = s.kind;
  ev.dir = s.dir;
  ev.device = s.device;
  ev.id = s.id;
  ev.gpa = s.gpa;
  ev.len_bytes = s.len_bytes;
  ev.align_bytes = s.align_bytes;
  if (s.seg_count != 0) ev.segments = std::span<const trace::Segment>(segments_.data() + s.seg_first, s.seg_count);
  return ev;
}

FirstFailure replay_events(const StressHistory& history, std::span<const std::uint32_t> events, const RunConfig& run) {
  Replay replay(std::span<const RunConfig>(&run, 1));
  for (const std::uint32_t i : events) {
    const trace::Event ev = history.event(i);
    if (!replay.apply(ev))
      throw std::logic_error(fmt::format("shrink: a candidate trace is inconsistent: {}", replay.issue().message));
    if (replay.first_failure(0).happened) break;  // at a map, or (cap) at the release a waiting map tried at
  }
  return replay.first_failure(0);
}

namespace {

constexpr std::uint32_t kNotReleased = ~std::uint32_t{0};

std::uint64_t request_bytes(const trace::Event& ev) {
  if (ev.kind != trace::EventKind::MapSg) return ev.len_bytes;
  std::uint64_t bytes = 0;
  for (const trace::Segment& s : ev.segments) bytes += s.len_bytes;
  return bytes;
}

// One request of the prefix: the events that make it (accesses dropped).
struct Unit {
  std::uint32_t map_event;
  std::uint32_t release_event;  // kNotReleased: live at the failure
};

}  // namespace

ShrinkResult shrink_failure(const StressHistory& history, std::uint64_t prefix_events, const RunConfig& run,
                            dartlab::MapError reason, const ShrinkOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (prefix_events > history.size()) throw std::logic_error("shrink: the prefix is longer than the history");

  std::vector<Unit> units;
  {
    dartlab::FlatMap<std::uint64_t, std::uint32_t, dartlab::FlatHash<std::uint64_t>, ~std::uint64_t{0}> unit_of(1024);
    for (std::uint32_t i = 0; i < prefix_events; ++i) {
      const trace::Event ev = history.event(i);
      if (trace::is_map_kind(ev.kind)) {
        unit_of.insert(ev.id, static_cast<std::uint32_t>(units.size()));
        units.push_back(Unit{i, kNotReleased});
      } else if (trace::is_unmap_kind(ev.kind)) {
        if (const std::uint32_t* u = unit_of.find(ev.id)) {
          units[*u].release_event = i;
          unit_of.erase(ev.id);
        }
      }
    }
  }

  ShrinkResult result;
  result.from_events = prefix_events;
  result.from_requests = units.size();
  std::vector<std::uint32_t> events;  // the candidate's events, rebuilt for every test
  const auto candidate_events = [&](std::span<const std::uint32_t> kept) {
    events.clear();
    for (const std::uint32_t u : kept) {
      events.push_back(units[u].map_event);
      if (units[u].release_event != kNotReleased) events.push_back(units[u].release_event);
    }
    std::sort(events.begin(), events.end());
  };
  std::uint64_t calls = 0;
  const DdminTest fails = [&](std::span<const std::uint32_t> kept) {
    ++calls;
    candidate_events(kept);
    const FirstFailure f = replay_events(history, events, run);
    return f.happened && f.reason == reason;
  };

  std::vector<std::uint32_t> all(units.size());
  for (std::uint32_t u = 0; u < all.size(); ++u) all[u] = u;
  if (!fails(all))
    throw std::logic_error(fmt::format("shrink: the soak's {} events do not fail by {} when replayed", prefix_events,
                                       dartlab::to_string(reason)));
  const auto deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(options.max_seconds));
  const auto out_of_time = [&] { return std::chrono::steady_clock::now() >= deadline; };
  DdminStats stats;
  std::vector<std::uint32_t> kept;

  std::vector<std::uint32_t> live;
  for (std::uint32_t u = 0; u < units.size(); ++u)
    if (units[u].release_event == kNotReleased) live.push_back(u);
  if (live.size() == all.size() || fails(live)) {  // nothing released: the whole prefix is live, and fails
    result.live_cut = true;
    // The refused request is the prefix's last map: the last unit.
    const auto refused = static_cast<std::uint32_t>(units.size() - 1);
    std::vector<std::pair<std::uint64_t, std::uint32_t>> by_size;  // (bytes, unit)
    for (const std::uint32_t u : live)
      if (u != refused) by_size.emplace_back(request_bytes(history.event(units[u].map_event)), u);
    std::stable_sort(by_size.begin(), by_size.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    std::vector<std::uint32_t> ranked{refused};
    for (const auto& entry : by_size) ranked.push_back(entry.second);
    kept = shortest_failing_prefix(ranked, fails, out_of_time, stats);
    result.ranked_cut_requests = kept.size();
    kept = remove_singles(std::move(kept), fails, out_of_time, stats);
  } else {
    kept = ddmin(std::move(all), fails, out_of_time, stats);
  }

  candidate_events(kept);
  result.events = events;
  result.failure = replay_events(history, result.events, run);
  result.requests = kept.size();
  result.predicate_calls = calls;
  result.complete = stats.complete;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void write_events(const StressHistory& history, std::span<const std::uint32_t> events, trace::TraceWriter& writer) {
  std::unordered_map<std::uint64_t, std::uint64_t> renumbered;  // once per written trace, not a hot path
  std::uint64_t next_id = 1;
  for (const std::uint32_t i : events) {
    trace::Event ev = history.event(i);
    if (trace::is_map_kind(ev.kind)) {
      renumbered[ev.id] = next_id;
      ev.id = next_id++;
    } else {
      const auto it = renumbered.find(ev.id);
      if (it == renumbered.end()) throw std::logic_error("shrink: a written trace releases an id it never mapped");
      ev.id = it->second;
      if (trace::is_unmap_kind(ev.kind)) renumbered.erase(it);
    }
    writer.write(ev);
  }
}

}  // namespace dartlab::sim
