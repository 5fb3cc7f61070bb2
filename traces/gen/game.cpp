// SPDX-License-Identifier: MIT
// The `game` profile: a live working set of mostly 4 KiB dma_map_page requests, churned, with
// level loads; and the resident pool game-large adds. Shapes from BACKGROUND.md, "The guest
// side today" and "NVIDIA driver DMA shapes"; the calibration of the defaults is in
// generator.cpp.
#include <algorithm>
#include <vector>

#include "traces/gen/guest_memory.hpp"
#include "traces/gen/live_set.hpp"
#include "traces/gen/profiles.hpp"

namespace dartlab::trace::gen {

namespace {

// Larger maps and coherent allocations: 64 KiB << k, k geometric (p = 1/2) capped at 5, so
// 64 KiB .. 2 MiB, 64 KiB most often. UVM's chunk sizes are 64 KiB and 2 MiB (BACKGROUND.md);
// the sizes between are a guess for resource-manager allocations.
constexpr unsigned kLargeMinOrder = 4;
constexpr unsigned kLargeMaxDoublings = 5;
// dma_map_sg over the pages of a small allocation, contiguous runs merged (nv-dma.c): 2..8
// runs of 1, 2 or 4 pages. Guesses.
constexpr std::uint32_t kSgMinRuns = 2;
constexpr unsigned kSgRunMaxOrder = 2;
// The resident pool (game-large): dma_map_sg buffers of 64 MiB (a guess: large textures and
// streaming pools), fewer bytes when 4096 chunks (the most a map_sg line may have) hold less.
constexpr std::uint64_t kResidentBufferBytes = std::uint64_t{64} << 20;

class GameGenerator final : public Generator {
 public:
  GameGenerator(const GenParams& params, std::uint64_t resident_bytes);

  bool next(Event& ev) override;
  const std::vector<std::string>& devices() const override { return gpu_devices(); }
  std::uint64_t live() const override { return live_.size() + resident_.size(); }

 private:
  bool wants_map();
  bool map(Event& ev);  // false when guest RAM has no room for the request drawn
  bool map_sg(Event& ev);
  void unmap(Event& ev);
  void release(Event& ev);  // the working set first, then the resident pool
  bool map_resident(Event& ev);
  void release_resident(Event& ev);
  void prefetch_victims();
  void schedule_level_load();

  EventBudget budget_;
  Rng rng_;
  GuestMemory memory_;
  LiveSet live_;
  LiveBand band_;
  std::uint64_t small_below_;  // cumulative thresholds on one 32-bit draw
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
  // The resident pool: bytes still to map, then its live buffers.
  std::uint64_t resident_left_;
  unsigned chunk_order_;
  std::uint64_t resident_buffer_bytes_;
  std::vector<SgBuffer> resident_;
};

GameGenerator::GameGenerator(const GenParams& params, std::uint64_t resident_bytes)
    : budget_(params.events, params.drain),
      rng_(params.seed),
      memory_(params, params.live_target),
      live_(params.ram_base, params.live_target + params.live_target / 16 + 1),
      band_(params.live_target, params.live_target / 16),
      small_below_(Probability::of(params.small_fraction).threshold),
      sg_below_(Probability::of(params.small_fraction + params.sg_fraction).threshold),
      alloc_below_(
          Probability::of(params.small_fraction + params.sg_fraction + params.alloc_fraction)
              .threshold),
      level_load_every_(params.level_load_every),
      level_load_fraction_(params.level_load_fraction),
      resident_left_(resident_bytes),
      chunk_order_(order_for(params.chunk_bytes)),
      resident_buffer_bytes_(std::min(kResidentBufferBytes, kMaxSgSegments * params.chunk_bytes)) {
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
  if (budget_.must_drain(live())) {
    release(ev);
  } else if (resident_left_ > 0 && map_resident(ev)) {
    // the resident pool first, whole
  } else if (!(wants_map() && map(ev))) {
    // Guest RAM has room for any single request when the working set is empty
    // (check_game_large_params keeps the pool within half of it), so a failed map always
    // has a live request to release instead.
    release(ev);
  }
  budget_.count();
  return true;
}

void GameGenerator::release(Event& ev) {
  if (!live_.empty()) {
    unmap(ev);
  } else {
    release_resident(ev);  // the pool last
  }
}

bool GameGenerator::wants_map() {
  const std::uint64_t live = live_.size();
  if (live == 0) return true;
  if (unload_left_ > 0) {
    --unload_left_;
    return false;
  }
  if (live < band_.low()) return true;  // warming up, or loading a level
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
  return band_.wants_map(live, rng_);
}

bool GameGenerator::map_sg(Event& ev) {
  const auto runs = static_cast<std::uint32_t>(rng_.between(kSgMinRuns, LiveSet::kSgMaxRuns));
  const Direction dir = draw_direction(rng_.pair().high);
  if (!live_.add_sg(memory_, runs, [&] { return rng_.halvings(kSgRunMaxOrder); }, next_id_, dir,
                    false, ev)) {
    return false;
  }
  ++next_id_;
  return true;
}

bool GameGenerator::map(Event& ev) {
  const auto [u, direction_draw] = rng_.pair();
  if (u >= small_below_ && u < sg_below_) return map_sg(ev);
  unsigned order = 0;
  EventKind kind = EventKind::Map;
  Direction dir = draw_direction(direction_draw);
  if (u >= small_below_) {
    order = kLargeMinOrder + rng_.halvings(kLargeMaxDoublings);
    if (u < alloc_below_) {
      kind = EventKind::Alloc;
      dir = Direction::Bidirectional;
    }
  }
  const auto gpa = memory_.alloc(order);
  if (!gpa) return false;
  live_.add_range(next_id_++, kind, dir, *gpa, order_bytes(order), false, ev);
  return true;
}

void GameGenerator::unmap(Event& ev) {
  const auto victim = static_cast<std::size_t>((victim_draw_ * live_.size()) >> 32);
  live_.release(victim, memory_, ev);
  prefetch_victims();
}

// Victims are drawn two unmaps ahead, so that the next victim's entry is fetched into cache while
// other events are made. The live set changes a little in between; a stale hint costs a miss.
void GameGenerator::prefetch_victims() {
  victim_draw_ = victim_draw_after_;
  victim_draw_after_ = rng_.next() >> 32;
  if (!live_.empty()) live_.prefetch((victim_draw_ * live_.size()) >> 32);
}

bool GameGenerator::map_resident(Event& ev) {
  const std::uint64_t bytes = std::min(resident_left_, resident_buffer_bytes_);
  SgBuffer buffer{next_id_, {}};
  if (!alloc_sg_buffer(memory_, bytes, chunk_order_, buffer.segments)) {
    resident_left_ = 0;  // guest RAM is full: the pool stays as large as it got
    return false;
  }
  resident_left_ -= bytes;
  ++next_id_;
  resident_.push_back(std::move(buffer));
  resident_.back().write_map(ev);
  return true;
}

void GameGenerator::release_resident(Event& ev) {
  resident_.back().release(memory_, ev);
  resident_.pop_back();
}

}  // namespace

std::string check_game_params(const GenParams& params) {
  if (params.live_target == 0 || params.live_target > (std::uint64_t{1} << 26)) {
    return "--live-target must be 1 .. 2^26";
  }
  if (!is_fraction(params.small_fraction)) return "--small-fraction must be within 0 .. 1";
  if (!is_fraction(params.sg_fraction)) return "--sg-fraction must be within 0 .. 1";
  if (!is_fraction(params.alloc_fraction)) return "--alloc-fraction must be within 0 .. 1";
  if (params.small_fraction + params.sg_fraction + params.alloc_fraction > 1.0) {
    return "--small-fraction + --sg-fraction + --alloc-fraction must not exceed 1";
  }
  if (!is_fraction(params.level_load_fraction)) {
    return "--level-load-fraction must be within 0 .. 1";
  }
  return {};
}

std::unique_ptr<Generator> make_game_generator(const GenParams& params,
                                               std::uint64_t resident_bytes) {
  return std::make_unique<GameGenerator>(params, resident_bytes);
}

std::unique_ptr<Generator> make_game(const GenParams& params) {
  return make_game_generator(params, 0);
}

}  // namespace dartlab::trace::gen
