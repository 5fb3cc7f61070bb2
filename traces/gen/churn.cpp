// SPDX-License-Identifier: MIT
// The `churn` profile: long-running map/unmap and alloc/free of mixed sizes around a steady
// number of live bytes, some requests far longer-lived than the rest: the pattern under which
// the host's mappings fragment in long sessions until new games fail to start (BACKGROUND.md).
#include <algorithm>
#include <bit>
#include <vector>

#include "traces/gen/guest_memory.hpp"
#include "traces/gen/live_set.hpp"
#include "traces/gen/profiles.hpp"

namespace dartlab::trace::gen {

namespace {

constexpr std::uint32_t kSgMinRuns = 2;
// A long-lived victim is passed over this many times at most, so that a live set made almost
// only of long-lived requests still yields a victim quickly.
constexpr int kVictimTries = 64;

class ChurnGenerator final : public Generator {
 public:
  explicit ChurnGenerator(const GenParams& params);

  bool next(Event& ev) override;
  const std::vector<std::string>& devices() const override { return gpu_devices(); }
  std::uint64_t live() const override { return live_.size(); }

 private:
  bool map(Event& ev);
  std::size_t victim();

  EventBudget budget_;
  Rng rng_;
  GuestMemory memory_;
  LiveSet live_;
  LiveBand band_;  // over live bytes
  unsigned min_order_;
  unsigned max_doublings_;
  std::uint64_t sg_below_;  // cumulative thresholds on one 32-bit draw
  std::uint64_t alloc_below_;
  Probability long_lived_;
  Probability release_long_lived_;  // 1 / churn_long_factor
  std::uint64_t next_id_ = 1;
};

// Mean bytes of a new request: sizes min << k, k geometric (p = 1/2) capped; a map_sg has
// 5 runs on average.
double mean_request_bytes(const GenParams& params) {
  const unsigned doublings = static_cast<unsigned>(std::countr_zero(params.churn_max_bytes) -
                                                   std::countr_zero(params.churn_min_bytes));
  double mean = 0;
  for (unsigned k = 0; k < doublings; ++k) {
    mean += static_cast<double>(params.churn_min_bytes << k) / static_cast<double>(2ULL << k);
  }
  mean += static_cast<double>(params.churn_max_bytes) / static_cast<double>(1ULL << doublings);
  return mean * (1.0 + 4.0 * params.churn_sg_fraction);
}

std::uint64_t expected_live(const GenParams& params) {
  return static_cast<std::uint64_t>(static_cast<double>(params.churn_live_bytes) /
                                    mean_request_bytes(params));
}

ChurnGenerator::ChurnGenerator(const GenParams& params)
    : budget_(params.events, params.drain),
      rng_(params.seed),
      memory_(params, expected_live(params)),
      live_(params.ram_base, expected_live(params) * 5 / 4),
      band_(params.churn_live_bytes, params.churn_live_bytes / 16),
      min_order_(order_for(params.churn_min_bytes)),
      max_doublings_(order_for(params.churn_max_bytes) - min_order_),
      sg_below_(Probability::of(params.churn_sg_fraction).threshold),
      alloc_below_(Probability::of(params.churn_sg_fraction + params.churn_alloc_fraction).threshold),
      long_lived_(Probability::of(params.churn_long_fraction)),
      release_long_lived_(Probability::of(1.0 / params.churn_long_factor)) {}

bool ChurnGenerator::next(Event& ev) {
  if (budget_.done()) return false;
  ev = Event{};
  if (budget_.must_drain(live())) {
    live_.release(rng_.below(live_.size()), memory_, ev);
  } else if (!(band_.wants_map(live_.bytes(), rng_) && map(ev))) {
    // check_churn_params keeps the live bytes within half of guest RAM, so a failed map has a
    // live request to release instead.
    live_.release(victim(), memory_, ev);
  }
  budget_.count();
  return true;
}

// A random live request; a long-lived one is released only with chance 1 / churn_long_factor,
// so it lives that many times longer on average.
std::size_t ChurnGenerator::victim() {
  std::size_t index = rng_.below(live_.size());
  for (int tries = 1; tries < kVictimTries; ++tries) {
    if (!live_[index].long_lived() || rng_.chance(release_long_lived_)) break;
    index = rng_.below(live_.size());
  }
  return index;
}

bool ChurnGenerator::map(Event& ev) {
  const unsigned order = min_order_ + rng_.halvings(max_doublings_);
  const auto [u, direction_draw] = rng_.pair();
  const bool long_lived = rng_.chance(long_lived_);
  if (u < sg_below_) {
    const auto runs = static_cast<std::uint32_t>(rng_.between(kSgMinRuns, LiveSet::kSgMaxRuns));
    if (!live_.add_sg(memory_, runs, [order] { return order; }, next_id_,
                      draw_direction(direction_draw), long_lived, ev)) {
      return false;
    }
    ++next_id_;
    return true;
  }
  const auto gpa = memory_.alloc(order);
  if (!gpa) return false;
  const bool alloc = u < alloc_below_;
  live_.add_range(next_id_++, alloc ? EventKind::Alloc : EventKind::Map,
                  alloc ? Direction::Bidirectional : draw_direction(direction_draw), *gpa,
                  order_bytes(order), long_lived, ev);
  return true;
}

}  // namespace

std::string check_churn_params(const GenParams& params) {
  auto is_block = [](std::uint64_t bytes) {
    return std::has_single_bit(bytes) && bytes >= kGuestPageBytes &&
           bytes <= order_bytes(kMaxPageOrder);
  };
  if (!is_block(params.churn_min_bytes) || !is_block(params.churn_max_bytes) ||
      params.churn_min_bytes > params.churn_max_bytes) {
    return "--churn-min and --churn-max must be powers of two, 4K <= min <= max <= 4M";
  }
  // Room for a few dozen of the largest requests, and half of guest RAM for the rest.
  if (params.churn_live_bytes < 64 * params.churn_max_bytes ||
      params.churn_live_bytes > params.guest_ram_bytes / 2) {
    return "--churn-live must be at least 64 x --churn-max and at most half of --guest-ram";
  }
  if (!is_fraction(params.churn_sg_fraction) || !is_fraction(params.churn_alloc_fraction) ||
      params.churn_sg_fraction + params.churn_alloc_fraction > 1.0) {
    return "--churn-sg-fraction and --churn-alloc-fraction must be within 0 .. 1, their sum too";
  }
  if (!is_fraction(params.churn_long_fraction)) {
    return "--churn-long-fraction must be within 0 .. 1";
  }
  if (params.churn_long_factor == 0 || params.churn_long_factor > (1u << 20)) {
    return "--churn-long-factor must be 1 .. 2^20";
  }
  return {};
}

std::unique_ptr<Generator> make_churn(const GenParams& params) {
  return std::make_unique<ChurnGenerator>(params);
}

}  // namespace dartlab::trace::gen
