// SPDX-License-Identifier: MIT
// Generated streams replayed against a model of what is live: well-formed, bounded, and shaped as
// each profile promises.
#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cstdint>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "traces/gen/generator.hpp"

namespace {

using dartlab::trace::Direction;
using dartlab::trace::Event;
using dartlab::trace::EventKind;
using dartlab::trace::Segment;
using dartlab::trace::gen::Generator;
using dartlab::trace::gen::GenParams;
using dartlab::trace::gen::make_generator;

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;
constexpr std::uint64_t GiB = 1024 * MiB;

const std::vector<const char*> kProfiles{"game", "game-large", "llm", "uvm", "churn"};

struct LiveRequest {
  EventKind kind = EventKind::Map;
  std::uint64_t since = 0;      // the event that made it
  std::vector<Segment> ranges;  // one for Map and Alloc
  std::uint64_t bytes = 0;
};

// Replays a stream and remembers the first thing wrong with it (a REQUIRE per event would be
// slow over millions of events).
class StreamCheck {
 public:
  StreamCheck(const GenParams& params, const Generator& generator)
      : ram_begin_(params.ram_base),
        ram_end_(params.ram_base + params.guest_ram_bytes),
        devices_(generator.devices().size()) {}

  void feed(const Event& ev) {
    ++events_;
    if (ev.device >= devices_) return fail(ev, "device index out of the device table");
    if (dartlab::trace::is_map_kind(ev.kind)) {
      if (ev.id <= last_id_) return fail(ev, "id not above every earlier id");
      last_id_ = ev.id;
      if (ev.align_bytes != 0 && !std::has_single_bit(ev.align_bytes)) {
        return fail(ev, "alignment not a power of two");
      }
      LiveRequest request{ev.kind, events_, {}, 0};
      if (ev.kind == EventKind::MapSg) {
        if (ev.segments.empty()) return fail(ev, "map_sg without segments");
        if (ev.segments.size() > 4096) return fail(ev, "map_sg of more than 4096 segments");
        request.ranges.assign(ev.segments.begin(), ev.segments.end());
      } else {
        request.ranges.push_back(Segment{ev.gpa, ev.len_bytes});
      }
      for (const Segment& range : request.ranges) {
        if (range.len_bytes == 0) return fail(ev, "empty range");
        if (range.gpa + range.len_bytes < range.gpa) return fail(ev, "range overflows");
        if (range.gpa < ram_begin_ || range.gpa + range.len_bytes > ram_end_) {
          return fail(ev, "range outside guest RAM");
        }
        request.bytes += range.len_bytes;
      }
      bytes_ += request.bytes;
      live_.emplace(ev.id, std::move(request));
    } else if (dartlab::trace::is_unmap_kind(ev.kind)) {
      const auto found = live_.find(ev.id);
      if (found == live_.end()) return fail(ev, "release of an id that is not live");
      const EventKind expected = found->second.kind == EventKind::Map     ? EventKind::Unmap
                                 : found->second.kind == EventKind::MapSg ? EventKind::UnmapSg
                                                                          : EventKind::Free;
      if (ev.kind != expected) return fail(ev, "release kind does not match the map kind");
      bytes_ -= found->second.bytes;
      lifetimes_.push_back(events_ - found->second.since);
      live_.erase(found);
    } else {
      return fail(ev, "unexpected event kind");
    }
  }

  const std::string& problem() const { return problem_; }
  std::uint64_t events() const { return events_; }
  std::uint64_t bytes() const { return bytes_; }  // requested, live
  const std::unordered_map<std::uint64_t, LiveRequest>& live() const { return live_; }
  // Events between the map and the release of every request released so far.
  const std::vector<std::uint64_t>& lifetimes() const { return lifetimes_; }

 private:
  void fail(const Event& ev, const char* what) {
    if (problem_.empty()) {
      problem_ =
          "event " + std::to_string(events_) + " (id " + std::to_string(ev.id) + "): " + what;
    }
  }

  std::uint64_t ram_begin_;
  std::uint64_t ram_end_;
  std::size_t devices_;
  std::uint64_t events_ = 0;
  std::uint64_t last_id_ = 0;
  std::uint64_t bytes_ = 0;
  std::unordered_map<std::uint64_t, LiveRequest> live_;
  std::vector<std::uint64_t> lifetimes_;
  std::string problem_;
};

std::unique_ptr<Generator> generator_for(const char* profile, const GenParams& params) {
  std::string error;
  auto generator = make_generator(profile, params, &error);
  INFO(error);
  REQUIRE(generator != nullptr);
  return generator;
}

// Live 4 KiB maps, by gpa.
std::vector<std::uint64_t> live_small_pages(const StreamCheck& check) {
  std::vector<std::uint64_t> pages;
  for (const auto& [id, request] : check.live()) {
    if (request.kind == EventKind::Map && request.ranges[0].len_bytes == 4 * KiB) {
      pages.push_back(request.ranges[0].gpa);
    }
  }
  return pages;
}

// Overlapping ranges among a set of segments (sorted in place), or "".
std::string overlap(std::vector<Segment>& segments) {
  std::sort(segments.begin(), segments.end(),
            [](const Segment& a, const Segment& b) { return a.gpa < b.gpa; });
  for (std::size_t i = 1; i < segments.size(); ++i) {
    if (segments[i - 1].gpa + segments[i - 1].len_bytes > segments[i].gpa) return "runs overlap";
  }
  return "";
}

// A game small enough for a quick look; its shape does not depend on the scale.
GenParams small_game() {
  GenParams params;
  params.live_target = 24000;
  return params;
}

}  // namespace

// --- every profile ---

TEST_CASE("A generated stream is well-formed for replay and drains to nothing live",
          "[traces][gen]") {
  const char* profile = GENERATE(from_range(kProfiles));
  GenParams params = small_game();
  params.seed = GENERATE(1u, 2u, 7u);
  params.events = 200000;
  auto generator = generator_for(profile, params);
  StreamCheck check(params, *generator);
  Event ev;
  std::uint64_t live_mismatches = 0;
  std::uint64_t misaligned_asks = 0;  // align asked on a release
  while (generator->next(ev)) {
    check.feed(ev);
    live_mismatches += generator->live() != check.live().size();
    misaligned_asks += dartlab::trace::is_unmap_kind(ev.kind) && ev.align_bytes != 0;
  }
  INFO(profile << " seed " << params.seed);
  CHECK(check.problem() == "");
  CHECK(check.events() == params.events);
  CHECK(live_mismatches == 0);
  CHECK(misaligned_asks == 0);
  CHECK(check.live().empty());
  CHECK(generator->live() == 0);
  CHECK_FALSE(generator->next(ev));
}

TEST_CASE("Without drain the stream ends with its working set still live", "[traces][gen]") {
  const char* profile = GENERATE(from_range(kProfiles));
  GenParams params = small_game();
  params.drain = false;
  params.events = 50001;  // odd is fine without drain
  auto generator = generator_for(profile, params);
  StreamCheck check(params, *generator);
  Event ev;
  while (generator->next(ev)) check.feed(ev);
  INFO(profile);
  CHECK(check.problem() == "");
  CHECK(check.events() == params.events);
  CHECK(check.live().size() == generator->live());
  CHECK(generator->live() > 0);
}

TEST_CASE("A small guest stays well-formed when guest RAM runs out", "[traces][gen]") {
  const char* profile = GENERATE("game", "uvm");
  GenParams params;
  params.seed = GENERATE(3u, 4u);
  params.events = 100000;
  params.guest_ram_bytes = 64 * MiB;  // far less than the default working sets want
  params.small_fraction = 0.9;
  params.alloc_fraction = 0.05;
  auto generator = generator_for(profile, params);
  StreamCheck check(params, *generator);
  Event ev;
  std::uint64_t peak_bytes = 0;
  while (generator->next(ev)) {
    check.feed(ev);
    peak_bytes = std::max(peak_bytes, check.bytes());
  }
  INFO(profile << " seed " << params.seed);
  CHECK(check.problem() == "");
  CHECK(check.events() == params.events);
  CHECK(check.live().empty());
  CHECK(peak_bytes > 32 * MiB);  // it did fill guest RAM
}

TEST_CASE("A generator's live set stays bounded over millions of events", "[traces][gen]") {
  const char* profile = GENERATE(from_range(kProfiles));
  GenParams params;
  params.seed = 11;  // one seed: millions of events are slow under the sanitizers
  params.events = 2000000;
  auto generator = generator_for(profile, params);
  Event ev;
  std::uint64_t peak = 0;
  std::uint64_t late_peak = 0;  // over the second half, once the live set is full
  std::uint64_t seen = 0;
  while (generator->next(ev)) {
    ++seen;
    peak = std::max(peak, generator->live());
    if (seen > params.events / 2 && seen < params.events * 9 / 10) {
      late_peak = std::max(late_peak, generator->live());
    }
  }
  const std::string name = profile;
  std::uint64_t bound = 0;
  if (name == "game" || name == "game-large") {
    bound = params.live_target + params.live_target / 16 + 1 + params.resident_bytes / (64 * MiB);
  } else if (name == "llm") {
    bound = params.buffer_count + params.big_alloc_count + params.transfers_in_flight;
  } else if (name == "uvm") {
    bound = params.uvm_live_chunks + params.uvm_live_chunks / 16 + 1 + params.uvm_sysmem_allocs;
  } else {
    bound = (params.churn_live_bytes + params.churn_live_bytes / 16) / params.churn_min_bytes;
  }
  INFO(profile << ": peak " << peak << ", late peak " << late_peak << ", bound " << bound);
  CHECK(peak <= bound);
  CHECK(late_peak >= peak * 9 / 10);  // a steady state, not a slow leak toward the bound
  CHECK(generator->live() == 0);
}

// --- game ---

TEST_CASE("game: over 90% of mapped ranges are 4 KiB", "[traces][gen][game]") {
  GenParams params = small_game();
  params.seed = GENERATE(1u, 2u, 3u);
  params.events = 200000;
  auto generator = generator_for("game", params);
  Event ev;
  std::uint64_t ranges = 0;
  std::uint64_t small = 0;
  std::uint64_t kinds[dartlab::trace::kEventKindCount] = {};
  std::uint64_t to_device = 0;
  while (generator->next(ev)) {
    ++kinds[static_cast<int>(ev.kind)];
    if (ev.kind == EventKind::MapSg) {
      for (const Segment& segment : ev.segments) small += segment.len_bytes == 4 * KiB;
      ranges += ev.segments.size();
    } else if (ev.kind == EventKind::Map || ev.kind == EventKind::Alloc) {
      small += ev.len_bytes == 4 * KiB;
      ++ranges;
      to_device += ev.kind == EventKind::Map && ev.dir == Direction::ToDevice;
    }
  }
  CHECK(static_cast<double>(small) / static_cast<double>(ranges) > 0.9);
  CHECK(static_cast<double>(to_device) / static_cast<double>(kinds[0]) > 0.5);
  CHECK(kinds[static_cast<int>(EventKind::MapSg)] > 0);
  CHECK(kinds[static_cast<int>(EventKind::Alloc)] > 0);
  CHECK(kinds[static_cast<int>(EventKind::Access)] == 0);
}

TEST_CASE("game: live 4 KiB pages cluster in 256 KiB windows without being contiguous",
          "[traces][gen][game]") {
  GenParams params = small_game();
  params.seed = GENERATE(1u, 5u, 9u);
  params.events = 400000;
  const bool level_loads = GENERATE(false, true);
  if (!level_loads) params.level_load_every = 0;  // a steady working set
  auto generator = generator_for("game", params);
  StreamCheck check(params, *generator);
  Event ev;
  // Well into the run, with the working set full (not in a level load's burst).
  const std::uint64_t full = params.live_target - params.live_target / 16;
  for (std::uint64_t i = 0; generator->next(ev); ++i) {
    check.feed(ev);
    if (i >= 150000 && generator->live() >= full) break;
  }
  REQUIRE(check.problem() == "");
  REQUIRE(generator->live() >= full);

  const std::vector<std::uint64_t> pages = live_small_pages(check);
  REQUIRE(pages.size() > params.live_target / 2);
  std::unordered_set<std::uint64_t> windows;
  std::unordered_set<std::uint64_t> granules;  // 16 KiB: the host's page, a direct mapping's unit
  for (std::uint64_t gpa : pages) {
    windows.insert(gpa / (256 * KiB));
    granules.insert(gpa / (16 * KiB));
  }
  const std::unordered_set<std::uint64_t> page_set(pages.begin(), pages.end());
  std::uint64_t with_next_page = 0;
  for (std::uint64_t gpa : pages) with_next_page += page_set.count(gpa + 4 * KiB);
  INFO(pages.size() << " pages in " << granules.size() << " granules, " << windows.size()
                    << " windows, " << with_next_page << " followed by a live page");
  // The calibration rests on this: more than ten granules in use per window (generator.cpp).
  CHECK(granules.size() > 10 * windows.size());
  CHECK(with_next_page * 2 < pages.size());
}

TEST_CASE("game: between level loads the live set hovers near live_target", "[traces][gen][game]") {
  GenParams params = small_game();
  params.seed = GENERATE(1u, 2u, 3u);
  params.events = 300000;
  params.level_load_every = 0;
  auto generator = generator_for("game", params);
  Event ev;
  const std::uint64_t band = params.live_target / 16;
  std::uint64_t steady = 0;
  std::uint64_t in_band = 0;
  std::uint64_t longest_unmap_run = 0;
  std::uint64_t unmap_run = 0;
  double live_sum = 0;
  for (std::uint64_t seen = 1; generator->next(ev); ++seen) {
    if (seen < params.live_target * 2 || seen > params.events - params.live_target * 2) continue;
    ++steady;
    in_band += generator->live() + band >= params.live_target &&
               generator->live() <= params.live_target + band;
    live_sum += static_cast<double>(generator->live());
    unmap_run = dartlab::trace::is_unmap_kind(ev.kind) ? unmap_run + 1 : 0;
    longest_unmap_run = std::max(longest_unmap_run, unmap_run);
  }
  CHECK(in_band == steady);
  CHECK(live_sum / static_cast<double>(steady) ==
        Approx(static_cast<double>(params.live_target)).epsilon(0.02));
  CHECK(longest_unmap_run < 100);  // churn, no bursts
}

TEST_CASE("game: a level load unmaps most of the working set in one burst, then maps it again",
          "[traces][gen][game]") {
  GenParams params = small_game();
  params.seed = GENERATE(1u, 2u, 3u);
  params.events = 400000;
  params.level_load_every = 20000;
  auto generator = generator_for("game", params);
  Event ev;
  const std::uint64_t burst = params.live_target / 2;  // more unmaps in a row than churn gives
  std::uint64_t unmap_run = 0;
  std::uint64_t bursts = 0;
  std::uint64_t refilled = 0;  // bursts after which the live set came back to its band
  bool refilling = false;
  const std::uint64_t drain_from = params.events - params.live_target * 2;
  for (std::uint64_t seen = 1; seen < drain_from && generator->next(ev); ++seen) {
    if (dartlab::trace::is_unmap_kind(ev.kind)) {
      if (++unmap_run == burst) {
        ++bursts;
        refilling = true;
      }
    } else {
      unmap_run = 0;
      if (refilling && generator->live() + params.live_target / 16 >= params.live_target) {
        ++refilled;
        refilling = false;
      }
    }
  }
  // Each cycle: 18,000 unmaps, 18,000 maps, then about 20,000 events of churn.
  CHECK(bursts >= 3);
  CHECK(refilled + 1 >= bursts);
}

TEST_CASE("game: a tiny working set stays well-formed", "[traces][gen][game]") {
  GenParams params;
  params.live_target = GENERATE(1u, 2u, 17u);
  params.level_load_every = GENERATE(0u, 100u);
  params.events = 20000;
  auto generator = generator_for("game", params);
  StreamCheck check(params, *generator);
  Event ev;
  std::uint64_t peak = 0;
  while (generator->next(ev)) {
    check.feed(ev);
    peak = std::max(peak, generator->live());
  }
  CHECK(check.problem() == "");
  CHECK(check.events() == params.events);
  CHECK(check.live().empty());
  CHECK(peak <= params.live_target + params.live_target / 16 + 1);
}

// --- game-large ---

TEST_CASE("game-large: a resident pool past 1 GiB is mapped first and kept to the end",
          "[traces][gen][game-large]") {
  GenParams params = small_game();
  params.events = 100000;
  auto generator = generator_for("game-large", params);
  StreamCheck check(params, *generator);
  Event ev;
  std::uint64_t pool_bytes = 0;
  std::set<std::uint64_t> pool;
  std::vector<Segment> runs;
  std::string bad;
  std::uint64_t peak_bytes = 0;
  std::uint64_t pool_released_at = 0;  // the event that released the first pool buffer
  while (generator->next(ev)) {
    check.feed(ev);
    peak_bytes = std::max(peak_bytes, check.bytes());
    if (ev.kind == EventKind::MapSg && check.live().at(ev.id).bytes == 64 * MiB) {
      if (check.events() != pool.size() + 1) bad = "a pool buffer after the game started";
      pool.insert(ev.id);
      for (const Segment& segment : ev.segments) {
        pool_bytes += segment.len_bytes;
        runs.push_back(segment);
        if (segment.len_bytes % params.chunk_bytes != 0) bad = "a run is not whole chunks";
      }
    }
    if (ev.kind == EventKind::UnmapSg && pool.count(ev.id) != 0 && pool_released_at == 0) {
      pool_released_at = check.events();
    }
  }
  CHECK(check.problem() == "");
  CHECK(bad == "");
  CHECK(overlap(runs) == "");
  CHECK(pool_bytes == params.resident_bytes);
  CHECK(pool.size() == params.resident_bytes / (64 * MiB));
  // Released in the drain, after the working set: the last pool.size() events.
  CHECK(pool_released_at == params.events - pool.size() + 1);
  CHECK(peak_bytes > params.resident_bytes);
}

// --- llm ---

TEST_CASE("llm: few large pinned buffers of contiguous runs, then many small transfers",
          "[traces][gen][llm]") {
  const char* profile = GENERATE("llm", "buffers");
  GenParams params;
  params.seed = GENERATE(1u, 2u, 3u);
  params.events = 100000;
  auto generator = generator_for(profile, params);
  StreamCheck check(params, *generator);
  Event ev;
  std::uint64_t buffers = 0;
  std::uint64_t large = 0;
  std::uint64_t segments_total = 0;
  std::uint64_t allocs = 0;
  std::uint64_t transfers = 0;
  std::uint64_t small_transfers = 0;
  std::uint64_t first_transfer = 0;
  std::uint64_t first_buffer_release = 0;
  std::string bad;
  std::vector<Segment> runs;  // every segment of every buffer
  bool runs_sorted = false;
  while (generator->next(ev)) {
    check.feed(ev);
    if (ev.kind == EventKind::MapSg) {
      ++buffers;
      std::uint64_t bytes = 0;
      const std::vector<Segment> segments(ev.segments.begin(), ev.segments.end());
      for (std::size_t i = 0; i < segments.size(); ++i) {
        bytes += segments[i].len_bytes;
        if (segments[i].len_bytes % params.chunk_bytes != 0) bad = "a run is not whole chunks";
        if (segments[i].gpa % params.chunk_bytes != 0) bad = "a run is not chunk aligned";
        if (i > 0 && segments[i - 1].gpa + segments[i - 1].len_bytes == segments[i].gpa) {
          bad = "contiguous runs left unmerged";
        }
      }
      large += bytes >= params.buffer_min_bytes && bytes <= params.buffer_max_bytes;
      segments_total += segments.size();
      runs.insert(runs.end(), segments.begin(), segments.end());
    } else if (ev.kind == EventKind::Alloc) {
      ++allocs;
      if (ev.len_bytes != params.big_alloc_bytes || ev.gpa % ev.len_bytes != 0) {
        bad = "coherent allocation not one aligned block of big_alloc_bytes";
      }
    } else if (ev.kind == EventKind::UnmapSg && first_buffer_release == 0) {
      first_buffer_release = check.events();
    } else if (ev.kind == EventKind::Map) {
      ++transfers;
      if (first_transfer == 0) first_transfer = check.events();
      small_transfers += ev.len_bytes <= params.transfer_max_bytes;
      if (ev.len_bytes % (4 * KiB) != 0) bad = "transfer not whole pages";
      if (!runs_sorted) {  // buffers are set up before the first transfer
        bad = bad.empty() ? overlap(runs) : bad;
        runs_sorted = true;
      }
      const auto after =
          std::upper_bound(runs.begin(), runs.end(), ev.gpa,
                           [](std::uint64_t gpa, const Segment& run) { return gpa < run.gpa; });
      const bool within_a_run =
          after != runs.begin() &&
          ev.gpa + ev.len_bytes <= std::prev(after)->gpa + std::prev(after)->len_bytes;
      if (!within_a_run) bad = "transfer outside every buffer run";
    }
  }
  INFO(profile << " seed " << params.seed);
  CHECK(check.problem() == "");
  CHECK(bad == "");
  CHECK(buffers == params.buffer_count);
  CHECK(large == params.buffer_count);
  // Runs of contiguous pages: far fewer segments than chunks.
  CHECK(segments_total * 4 < buffers * params.buffer_min_bytes / params.chunk_bytes);
  CHECK(allocs == params.big_alloc_count);
  CHECK(first_transfer == params.buffer_count + params.big_alloc_count + 1);
  CHECK(transfers > params.events / 3);
  CHECK(small_transfers == transfers);
  // The buffers live through the run: released only in the drain, last.
  CHECK(first_buffer_release == params.events - params.buffer_count + 1);
}

// --- uvm ---

TEST_CASE("uvm: chunks of 4 KiB, 64 KiB and 2 MiB, the 2 MiB ones asking 2 MiB alignment",
          "[traces][gen][uvm]") {
  GenParams params;
  params.seed = GENERATE(1u, 2u);
  params.events = 100000;
  auto generator = generator_for("uvm", params);
  StreamCheck check(params, *generator);
  Event ev;
  std::map<std::uint64_t, std::uint64_t> maps_by_size;
  std::uint64_t aligned_2m = 0;
  std::uint64_t sysmem = 0;
  std::string bad;
  while (generator->next(ev)) {
    check.feed(ev);
    if (ev.kind == EventKind::Map) {
      ++maps_by_size[ev.len_bytes];
      if (ev.dir != Direction::Bidirectional) bad = "a chunk map not bidirectional";
      if (ev.gpa % ev.len_bytes != 0) bad = "a chunk not naturally aligned in guest memory";
      if ((ev.align_bytes == 2 * MiB) != (ev.len_bytes == 2 * MiB)) {
        bad = "align=2M on a chunk other than 2 MiB, or missing on one";
      }
      aligned_2m += ev.align_bytes == 2 * MiB;
    } else if (ev.kind == EventKind::MapSg) {
      ++sysmem;
      if (check.events() != sysmem) bad = "a sysmem allocation after the first chunk";
      if (ev.align_bytes != 2 * MiB) bad = "sysmem allocation without align=2M";
      std::uint64_t bytes = 0;
      for (const Segment& segment : ev.segments) {
        bytes += segment.len_bytes;
        if (segment.gpa % (2 * MiB) != 0 || segment.len_bytes % (2 * MiB) != 0) {
          bad = "sysmem allocation not in 2 MiB pages";
        }
      }
      if (bytes != params.uvm_sysmem_bytes) bad = "sysmem allocation of the wrong size";
    } else if (ev.kind == EventKind::Alloc) {
      bad = "an alloc in uvm";
    }
  }
  CHECK(check.problem() == "");
  CHECK(bad == "");
  CHECK(sysmem == params.uvm_sysmem_allocs);
  REQUIRE(maps_by_size.size() == 3);
  CHECK(maps_by_size.count(4 * KiB) == 1);
  CHECK(maps_by_size.count(64 * KiB) == 1);
  CHECK(maps_by_size.count(2 * MiB) == 1);
  double maps = 0;
  for (const auto& [size, count] : maps_by_size) maps += static_cast<double>(count);
  CHECK(static_cast<double>(maps_by_size[64 * KiB]) / maps ==
        Approx(params.uvm_64k_fraction).margin(0.02));
  CHECK(static_cast<double>(maps_by_size[2 * MiB]) / maps ==
        Approx(params.uvm_2m_fraction).margin(0.02));
  CHECK(aligned_2m == maps_by_size[2 * MiB]);
}

TEST_CASE("uvm: the kprobe workaround allocates sysmem in 4 KiB pages and asks no alignment",
          "[traces][gen][uvm]") {
  GenParams params;
  params.events = 20000;
  params.uvm_default_page_size = true;
  params.uvm_sysmem_allocs = 3;
  auto generator = generator_for("uvm", params);
  Event ev;
  std::uint64_t sysmem = 0;
  std::uint64_t runs_below_2m = 0;
  while (generator->next(ev)) {
    if (ev.kind != EventKind::MapSg) continue;
    ++sysmem;
    CHECK(ev.align_bytes == 0);
    for (const Segment& segment : ev.segments) {
      CHECK(segment.len_bytes % (4 * KiB) == 0);
      runs_below_2m += segment.len_bytes < 2 * MiB;
    }
  }
  CHECK(sysmem == 3);
  CHECK(runs_below_2m > 0);  // the guest's pages between them break the runs
}

// --- churn ---

TEST_CASE("churn: mixed sizes and kinds around a steady number of live bytes",
          "[traces][gen][churn]") {
  GenParams params;
  params.seed = GENERATE(1u, 2u);
  params.events = 400000;
  params.churn_live_bytes = 256 * MiB;
  auto generator = generator_for("churn", params);
  StreamCheck check(params, *generator);
  Event ev;
  std::set<std::uint64_t> sizes;
  std::uint64_t kinds[dartlab::trace::kEventKindCount] = {};
  const std::uint64_t band = params.churn_live_bytes / 16;
  // Past the band by at most one request: eight runs of the largest size.
  const std::uint64_t slack = 8 * params.churn_max_bytes;
  std::uint64_t steady = 0;
  std::uint64_t in_band = 0;
  bool warm = false;
  const std::uint64_t drain_from = params.events - 40000;
  while (generator->next(ev)) {
    check.feed(ev);
    ++kinds[static_cast<int>(ev.kind)];
    if (ev.kind == EventKind::Map || ev.kind == EventKind::Alloc) sizes.insert(ev.len_bytes);
    warm = warm || check.bytes() + band >= params.churn_live_bytes;
    if (warm && check.events() < drain_from) {
      ++steady;
      in_band += check.bytes() + band + slack >= params.churn_live_bytes &&
                 check.bytes() <= params.churn_live_bytes + band + slack;
    }
  }
  CHECK(check.problem() == "");
  CHECK(sizes.size() == 11);  // every power of two from 4 KiB to 4 MiB
  CHECK(*sizes.begin() == params.churn_min_bytes);
  CHECK(*sizes.rbegin() == params.churn_max_bytes);
  CHECK(kinds[static_cast<int>(EventKind::Map)] > kinds[static_cast<int>(EventKind::MapSg)]);
  CHECK(kinds[static_cast<int>(EventKind::MapSg)] > 0);
  CHECK(kinds[static_cast<int>(EventKind::Alloc)] > 0);
  CHECK(steady > params.events / 2);
  CHECK(in_band == steady);
}

TEST_CASE("churn: long-lived requests outlive the churn around them", "[traces][gen][churn]") {
  GenParams params;
  params.events = 400000;
  params.drain = false;  // lifetimes of requests released by churn only
  params.churn_live_bytes = 256 * MiB;
  params.churn_long_fraction = GENERATE(0.0, 0.05);
  auto generator = generator_for("churn", params);
  StreamCheck check(params, *generator);
  Event ev;
  while (generator->next(ev)) check.feed(ev);
  REQUIRE(check.problem() == "");
  const auto& lifetimes = check.lifetimes();
  REQUIRE(lifetimes.size() > params.events / 4);
  double mean = 0;
  for (std::uint64_t lifetime : lifetimes) mean += static_cast<double>(lifetime);
  mean /= static_cast<double>(lifetimes.size());
  const auto very_long = static_cast<double>(std::count_if(
      lifetimes.begin(), lifetimes.end(),
      [&](std::uint64_t lifetime) { return static_cast<double>(lifetime) > 8 * mean; }));
  const double share = very_long / static_cast<double>(lifetimes.size());
  INFO("long-lived fraction " << params.churn_long_fraction << ": " << share
                              << " of requests live over 8x the mean");
  if (params.churn_long_fraction > 0) {
    CHECK(share > 0.01);
  } else {
    CHECK(share < 0.001);
  }
}
