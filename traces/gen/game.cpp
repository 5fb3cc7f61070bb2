// The `game` profile: a live working set of mostly 4 KiB dma_map_page requests, churned, with
// level loads. Shapes from BACKGROUND.md, "The guest side today" and "NVIDIA driver DMA shapes".
#include <algorithm>
#include <optional>
#include <vector>

#include "traces/gen/profiles.hpp"
#include "traces/gen/rng.hpp"

namespace dartlab::trace::gen {

namespace {

constexpr std::uint64_t kSmallBytes = 4096;  // over 90% of a game's mappings (observed)
// Larger maps and coherent allocations: 64 KiB << k, k geometric (p = 1/2) capped at 5, so
// 64 KiB .. 2 MiB, 64 KiB most often. UVM's chunk sizes are 64 KiB and 2 MiB (BACKGROUND.md);
// the sizes between are a guess for resource-manager allocations.
constexpr std::uint64_t kLargeMinBytes = std::uint64_t{64} << 10;
constexpr unsigned kLargeMaxDoublings = 5;
// dma_map_sg over the pages of a small allocation, physically contiguous runs merged
// (nv-dma.c): 2..8 runs of 1, 2 or 4 pages before merging. Guesses.
constexpr std::uint32_t kSgMinRuns = 2;
constexpr std::uint32_t kSgMaxRuns = 8;
constexpr unsigned kSgRunMaxDoublings = 2;
// Directions of the maps: mostly uploads to the GPU. Guesses.
constexpr Probability kToDevice = Probability::of(0.7);
constexpr Probability kToOrFromDevice = Probability::of(0.9);  // the rest is Bidirectional

// 16 bytes, so that the live table of a default run (about 680 KB) mostly stays in cache: a
// victim is a random entry. Guest RAM is at most 2^28 pages, a request at most 2 MiB.
struct Request {
  std::uint64_t id = 0;
  std::uint32_t where = 0;  // Map, Alloc: first page, counted from ram_base; MapSg: its slot
  std::uint16_t size = 0;   // Map, Alloc: pages; MapSg: segments
  EventKind kind = EventKind::Map;
  Direction dir = Direction::Bidirectional;
};
static_assert(sizeof(Request) == 16);

class GameGenerator final : public Generator {
 public:
  explicit GameGenerator(const GenParams& params);

  bool next(Event& ev) override;
  const std::vector<std::string>& devices() const override { return gpu_devices(); }
  std::uint64_t live() const override { return live_.size(); }

 private:
  bool wants_map();
  bool map(Event& ev);  // false when guest RAM has no room for the request drawn
  bool map_sg(Request& request);
  bool map_range(Request& request, std::optional<std::uint64_t> gpa, std::uint64_t bytes,
                 EventKind kind, Direction dir);
  void unmap(Event& ev);
  void prefetch_victims();
  std::uint64_t gpa_of(const Request& request) const {
    return ram_base_ + std::uint64_t{request.where} * kGuestPageBytes;
  }
  static Direction direction(std::uint32_t draw);
  std::uint32_t take_sg_slot();
  Segment* sg_slot(std::uint32_t slot) { return &sg_segments_[slot * kSgMaxRuns]; }
  void schedule_level_load();

  EventBudget budget_;
  Rng rng_;
  GuestMemory memory_;
  std::uint64_t ram_base_;
  std::uint64_t live_target_;
  std::uint64_t live_low_;
  std::uint64_t live_high_;
  std::int64_t map_bias_per_request_;  // 2^31 / band: the map chance moves this per request
  std::uint64_t small_below_;          // cumulative thresholds on one 32-bit draw
  std::uint64_t sg_below_;
  std::uint64_t alloc_below_;
  std::uint64_t level_load_every_;
  double level_load_fraction_;
  std::uint64_t next_level_load_ = 0;  // due from this event on
  bool level_load_scheduled_ = false;  // scheduled when the working set is full again
  std::uint64_t unload_left_ = 0;      // unmaps left in the current level load
  std::uint64_t next_id_ = 1;
  std::uint64_t victim_draw_ = 0;  // 32-bit draws that pick the next two victims
  std::uint64_t victim_draw_after_ = 0;
  std::vector<Request> live_;         // unordered: a victim is a random index, swapped out
  std::vector<Segment> sg_segments_;  // kSgMaxRuns per slot
  std::vector<std::uint32_t> free_sg_slots_;
};

GameGenerator::GameGenerator(const GenParams& params)
    : budget_(params.events, params.drain),
      rng_(params.seed),
      memory_(make_guest_memory(params)),
      ram_base_(params.ram_base),
      live_target_(params.live_target),
      live_low_(params.live_target - params.live_target / 16),
      live_high_(params.live_target + params.live_target / 16),
      map_bias_per_request_(
          (std::int64_t{1} << 31) /
          static_cast<std::int64_t>(std::max<std::uint64_t>(1, params.live_target / 16))),
      small_below_(Probability::of(params.small_fraction).threshold),
      sg_below_(Probability::of(params.small_fraction + params.sg_fraction).threshold),
      alloc_below_(
          Probability::of(params.small_fraction + params.sg_fraction + params.alloc_fraction)
              .threshold),
      level_load_every_(params.level_load_every),
      level_load_fraction_(params.level_load_fraction) {
  live_.reserve(live_high_ + 1);
  victim_draw_ = rng_.next() >> 32;
  victim_draw_after_ = rng_.next() >> 32;
}

void GameGenerator::schedule_level_load() {
  const std::uint64_t jitter = level_load_every_ / 4;
  next_level_load_ = budget_.produced() + level_load_every_ - jitter + rng_.between(0, 2 * jitter);
  level_load_scheduled_ = true;
}

bool GameGenerator::next(Event& ev) {
  if (budget_.done()) return false;
  ev = Event{};
  // Guest RAM has room for any single request when nothing is live (make_generator checks), so
  // a failed map always has a live request to unmap instead.
  if (!(wants_map() && map(ev))) unmap(ev);
  budget_.count();
  return true;
}

bool GameGenerator::wants_map() {
  const std::uint64_t live = live_.size();
  if (live == 0) return true;
  if (budget_.must_drain(live)) return false;
  if (unload_left_ > 0) {
    --unload_left_;
    return false;
  }
  if (live < live_low_) return true;  // warming up, or loading a level
  if (level_load_every_ != 0) {
    if (!level_load_scheduled_) schedule_level_load();  // the working set is full again
    if (budget_.produced() >= next_level_load_) {
      level_load_scheduled_ = false;
      unload_left_ = static_cast<std::uint64_t>(static_cast<double>(live) * level_load_fraction_);
      if (unload_left_ > 0) {
        --unload_left_;
        return false;
      }
    }
  }
  if (live > live_high_) return false;
  // Churn pulled toward live_target: maps certain at the low edge, even at the target, and
  // never at the high edge.
  const std::int64_t below_target =
      static_cast<std::int64_t>(live_target_) - static_cast<std::int64_t>(live);
  const std::int64_t threshold = (std::int64_t{1} << 31) + below_target * map_bias_per_request_;
  return static_cast<std::int64_t>(rng_.next() >> 32) < threshold;
}

Direction GameGenerator::direction(std::uint32_t draw) {
  if (kToDevice.holds(draw)) return Direction::ToDevice;
  if (kToOrFromDevice.holds(draw)) return Direction::FromDevice;
  return Direction::Bidirectional;
}

std::uint32_t GameGenerator::take_sg_slot() {
  if (!free_sg_slots_.empty()) {
    const std::uint32_t slot = free_sg_slots_.back();
    free_sg_slots_.pop_back();
    return slot;
  }
  const auto slot = static_cast<std::uint32_t>(sg_segments_.size() / kSgMaxRuns);
  sg_segments_.resize(sg_segments_.size() + kSgMaxRuns);
  return slot;
}

bool GameGenerator::map_sg(Request& request) {
  const std::uint32_t slot = take_sg_slot();
  Segment* segments = sg_slot(slot);
  const auto runs = static_cast<std::uint32_t>(rng_.between(kSgMinRuns, kSgMaxRuns));
  std::uint16_t count = 0;
  for (std::uint32_t i = 0; i < runs; ++i) {
    const std::uint32_t pages = 1u << rng_.halvings(kSgRunMaxDoublings);
    const auto gpa = memory_.alloc_pages(rng_, pages);
    if (!gpa) {
      for (std::uint16_t s = 0; s < count; ++s)
        memory_.free(segments[s].gpa, segments[s].len_bytes);
      free_sg_slots_.push_back(slot);
      return false;
    }
    const std::uint64_t bytes = pages * kGuestPageBytes;
    if (count > 0 && segments[count - 1].gpa + segments[count - 1].len_bytes == *gpa) {
      segments[count - 1].len_bytes += bytes;  // contiguous runs merge, as the driver does
    } else {
      segments[count++] = Segment{*gpa, bytes};
    }
  }
  request.kind = EventKind::MapSg;
  request.where = slot;
  request.size = count;
  request.dir = direction(rng_.pair().high);
  return true;
}

bool GameGenerator::map_range(Request& request, std::optional<std::uint64_t> gpa,
                              std::uint64_t bytes, EventKind kind, Direction dir) {
  if (!gpa) return false;
  request.kind = kind;
  request.dir = dir;
  request.where = static_cast<std::uint32_t>((*gpa - ram_base_) / kGuestPageBytes);
  request.size = static_cast<std::uint16_t>(bytes / kGuestPageBytes);
  return true;
}

bool GameGenerator::map(Event& ev) {
  Request request;
  const auto [u, direction_draw] = rng_.pair();
  if (u < small_below_) {
    if (!map_range(request, memory_.alloc_pages(rng_, 1), kSmallBytes, EventKind::Map,
                   direction(direction_draw))) {
      return false;
    }
  } else if (u < sg_below_) {
    if (!map_sg(request)) return false;
  } else {
    const std::uint64_t bytes = kLargeMinBytes << rng_.halvings(kLargeMaxDoublings);
    const auto gpa = memory_.alloc_block(rng_, bytes);
    const bool ok = u < alloc_below_
                        ? map_range(request, gpa, bytes, EventKind::Alloc, Direction::Bidirectional)
                        : map_range(request, gpa, bytes, EventKind::Map, direction(direction_draw));
    if (!ok) return false;
  }
  request.id = next_id_++;
  live_.push_back(request);

  ev.kind = request.kind;
  ev.dir = request.dir;
  ev.id = request.id;
  if (request.kind == EventKind::MapSg) {
    ev.segments = std::span<const Segment>(sg_slot(request.where), request.size);
  } else {
    ev.gpa = gpa_of(request);
    ev.len_bytes = std::uint64_t{request.size} * kGuestPageBytes;
  }
  return true;
}

void GameGenerator::unmap(Event& ev) {
  const auto victim = static_cast<std::uint32_t>((victim_draw_ * live_.size()) >> 32);
  const Request request = live_[victim];
  live_[victim] = live_.back();
  live_.pop_back();
  prefetch_victims();

  switch (request.kind) {
    case EventKind::MapSg: {
      const Segment* segments = sg_slot(request.where);
      for (std::uint16_t s = 0; s < request.size; ++s) {
        memory_.free(segments[s].gpa, segments[s].len_bytes);
      }
      free_sg_slots_.push_back(request.where);
      ev.kind = EventKind::UnmapSg;
      break;
    }
    case EventKind::Alloc:
      memory_.free(gpa_of(request), std::uint64_t{request.size} * kGuestPageBytes);
      ev.kind = EventKind::Free;
      break;
    default:
      memory_.free(gpa_of(request), std::uint64_t{request.size} * kGuestPageBytes);
      ev.kind = EventKind::Unmap;
      break;
  }
  ev.dir = request.dir;
  ev.id = request.id;
}

// Victims are drawn two unmaps ahead, so that the next victim's entry and the bitmap word of the
// one after are fetched into cache while other events are made: both are random reads over
// large tables. The live set changes a little in between; a stale hint costs only a miss.
void GameGenerator::prefetch_victims() {
  victim_draw_ = victim_draw_after_;
  victim_draw_after_ = rng_.next() >> 32;
  if (live_.empty()) return;
  const Request& next = live_[(victim_draw_ * live_.size()) >> 32];
  if (next.kind != EventKind::MapSg) memory_.prefetch(gpa_of(next));
  __builtin_prefetch(&live_[(victim_draw_after_ * live_.size()) >> 32]);
}

}  // namespace

std::string check_game_params(const GenParams& params) {
  auto is_fraction = [](double x) { return x >= 0.0 && x <= 1.0; };  // false for NaN
  if (params.live_target == 0 || params.live_target > (std::uint64_t{1} << 30)) {
    return "live_target must be 1 .. 2^30";
  }
  if (!is_fraction(params.small_fraction)) return "small_fraction must be within 0 .. 1";
  if (!is_fraction(params.sg_fraction)) return "sg_fraction must be within 0 .. 1";
  if (!is_fraction(params.alloc_fraction)) return "alloc_fraction must be within 0 .. 1";
  if (params.small_fraction + params.sg_fraction + params.alloc_fraction > 1.0) {
    return "small_fraction + sg_fraction + alloc_fraction must not exceed 1";
  }
  if (!is_fraction(params.level_load_fraction)) return "level_load_fraction must be within 0 .. 1";
  return {};
}

std::unique_ptr<Generator> make_game(const GenParams& params) {
  return std::make_unique<GameGenerator>(params);
}

}  // namespace dartlab::trace::gen
