// Generated streams replayed against a model of what is live: well-formed, and shaped as each
// profile promises.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <iterator>
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

struct LiveRequest {
  EventKind kind = EventKind::Map;
  std::vector<Segment> ranges;  // one for Map and Alloc
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
      LiveRequest request{ev.kind, {}};
      if (ev.kind == EventKind::MapSg) {
        if (ev.segments.empty()) return fail(ev, "map_sg without segments");
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
      }
      live_.emplace(ev.id, std::move(request));
    } else if (dartlab::trace::is_unmap_kind(ev.kind)) {
      const auto found = live_.find(ev.id);
      if (found == live_.end()) return fail(ev, "release of an id that is not live");
      const EventKind expected = found->second.kind == EventKind::Map     ? EventKind::Unmap
                                 : found->second.kind == EventKind::MapSg ? EventKind::UnmapSg
                                                                          : EventKind::Free;
      if (ev.kind != expected) return fail(ev, "release kind does not match the map kind");
      live_.erase(found);
    } else {
      return fail(ev, "unexpected event kind");
    }
  }

  const std::string& problem() const { return problem_; }
  std::uint64_t events() const { return events_; }
  const std::unordered_map<std::uint64_t, LiveRequest>& live() const { return live_; }

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
  std::unordered_map<std::uint64_t, LiveRequest> live_;
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

}  // namespace

TEST_CASE("A generated stream is well-formed for replay and drains to nothing live",
          "[traces][gen]") {
  const char* profile = GENERATE("game", "buffers");
  GenParams params;
  params.seed = GENERATE(1u, 2u, 7u, 12345u);
  params.events = 200000;
  params.live_target = 20000;
  auto generator = generator_for(profile, params);
  StreamCheck check(params, *generator);
  Event ev;
  std::uint64_t live_mismatches = 0;
  while (generator->next(ev)) {
    check.feed(ev);
    live_mismatches += generator->live() != check.live().size();
  }
  INFO(profile << " seed " << params.seed);
  CHECK(check.problem() == "");
  CHECK(check.events() == params.events);
  CHECK(live_mismatches == 0);
  CHECK(check.live().empty());
  CHECK(generator->live() == 0);
  CHECK_FALSE(generator->next(ev));
}

TEST_CASE("Without drain the stream ends with its working set still live", "[traces][gen]") {
  const char* profile = GENERATE("game", "buffers");
  GenParams params;
  params.drain = false;
  params.events = 50001;  // odd is fine without drain
  auto generator = generator_for(profile, params);
  StreamCheck check(params, *generator);
  Event ev;
  while (generator->next(ev)) check.feed(ev);
  CHECK(check.problem() == "");
  CHECK(check.events() == params.events);
  CHECK(check.live().size() == generator->live());
  CHECK(generator->live() > 0);
}

TEST_CASE("A game in a small guest stays well-formed when guest RAM runs out", "[traces][gen]") {
  GenParams params;
  params.seed = GENERATE(3u, 4u);
  params.events = 100000;
  params.guest_ram_bytes = 64 * MiB;  // far less than the default working set wants
  params.alloc_fraction = 0.05;
  auto generator = generator_for("game", params);
  StreamCheck check(params, *generator);
  Event ev;
  while (generator->next(ev)) check.feed(ev);
  CHECK(check.problem() == "");
  CHECK(check.events() == params.events);
  CHECK(check.live().empty());
}

TEST_CASE("A game with a tiny working set stays well-formed", "[traces][gen][game]") {
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

TEST_CASE("game: over 90% of mapped ranges are 4 KiB", "[traces][gen][game]") {
  GenParams params;
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
  GenParams params;
  params.seed = GENERATE(1u, 5u, 9u);
  params.events = 200000;
  params.level_load_every = 0;  // look at a steady working set
  auto generator = generator_for("game", params);
  StreamCheck check(params, *generator);
  Event ev;
  for (int i = 0; i < 150000 && generator->next(ev); ++i) check.feed(ev);
  REQUIRE(check.problem() == "");

  const std::vector<std::uint64_t> pages = live_small_pages(check);
  REQUIRE(pages.size() > params.live_target / 2);
  std::unordered_set<std::uint64_t> windows;
  for (std::uint64_t gpa : pages) windows.insert(gpa / (256 * KiB));
  const std::unordered_set<std::uint64_t> page_set(pages.begin(), pages.end());
  std::uint64_t with_next_page = 0;
  for (std::uint64_t gpa : pages) with_next_page += page_set.count(gpa + 4 * KiB);
  INFO(pages.size() << " pages in " << windows.size() << " windows, " << with_next_page
                    << " followed by a live page");
  CHECK(windows.size() * 3 < pages.size());
  CHECK(with_next_page * 2 < pages.size());
}

TEST_CASE("game: between level loads the live set hovers near live_target", "[traces][gen][game]") {
  GenParams params;
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
  GenParams params;
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
  // Each cycle: 30,000 unmaps, 30,000 maps, then about 20,000 events of churn.
  CHECK(bursts >= 3);
  CHECK(refilled + 1 >= bursts);
}

TEST_CASE("game: the generator's live table stays bounded over 2 M events", "[traces][gen][game]") {
  GenParams params;
  params.seed = 11;  // one seed: 2 M events are slow under the sanitizers
  params.events = 2000000;
  auto generator = generator_for("game", params);
  Event ev;
  std::uint64_t peak = 0;
  while (generator->next(ev)) peak = std::max(peak, generator->live());
  CHECK(peak <= params.live_target + params.live_target / 16 + 1);
  CHECK(peak >= params.live_target);
}

TEST_CASE("buffers: large scatter-gather buffers of page runs, then transfers within them",
          "[traces][gen][buffers]") {
  GenParams params;
  params.seed = GENERATE(1u, 2u, 3u);
  params.events = 100000;
  auto generator = generator_for("buffers", params);
  StreamCheck check(params, *generator);
  Event ev;
  std::uint64_t buffers = 0;
  std::uint64_t large = 0;
  std::uint64_t allocs = 0;
  std::uint64_t transfers = 0;
  std::uint64_t transfers_at_least_min = 0;
  std::string bad;
  std::vector<Segment> runs;  // every segment of every buffer
  bool runs_sorted = false;
  while (generator->next(ev)) {
    check.feed(ev);
    if (ev.kind == EventKind::MapSg) {
      ++buffers;
      std::uint64_t bytes = 0;
      std::vector<Segment> segments(ev.segments.begin(), ev.segments.end());
      for (std::size_t i = 0; i < segments.size(); ++i) {
        bytes += segments[i].len_bytes;
        if (segments[i].len_bytes % (16 * KiB) != 0) bad = "a run is not a multiple of 16 KiB";
        if (i > 0 && segments[i - 1].gpa + segments[i - 1].len_bytes == segments[i].gpa) {
          bad = "contiguous runs left unmerged";
        }
      }
      std::sort(segments.begin(), segments.end(),
                [](const Segment& a, const Segment& b) { return a.gpa < b.gpa; });
      for (std::size_t i = 1; i < segments.size(); ++i) {
        if (segments[i - 1].gpa + segments[i - 1].len_bytes > segments[i].gpa) bad = "runs overlap";
      }
      large += bytes >= params.buffer_min_bytes;
      runs.insert(runs.end(), segments.begin(), segments.end());
    } else if (ev.kind == EventKind::Alloc) {
      ++allocs;
    } else if (ev.kind == EventKind::Map) {
      ++transfers;
      transfers_at_least_min += ev.len_bytes >= params.transfer_min_bytes;
      if (ev.len_bytes > params.transfer_max_bytes || ev.len_bytes % (4 * KiB) != 0) {
        bad = "transfer size out of range";
      }
      if (!runs_sorted) {  // buffers are set up before the first transfer
        std::sort(runs.begin(), runs.end(),
                  [](const Segment& a, const Segment& b) { return a.gpa < b.gpa; });
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
  CHECK(check.problem() == "");
  CHECK(bad == "");
  CHECK(buffers == params.buffer_count);
  CHECK(large == params.buffer_count);
  CHECK(allocs == params.big_alloc_count);
  CHECK(transfers > params.events / 3);
  CHECK(transfers_at_least_min * 2 > transfers);
}
