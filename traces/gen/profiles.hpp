// SPDX-License-Identifier: MIT
// The profiles behind make_generator, and what they share. Internal to traces/gen.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "traces/gen/generator.hpp"
#include "traces/gen/rng.hpp"

namespace dartlab::trace::gen {

// Counts events and says when the rest of the stream must go to releasing what is live.
class EventBudget {
 public:
  EventBudget(std::uint64_t events, bool drain) : events_(events), drain_(drain) {}
  bool done() const { return produced_ == events_; }
  // Every event left is needed to release the live requests. With an even event count, a
  // map (-1 left, +1 live) keeps `left - live` even, so this meets live exactly.
  bool must_drain(std::uint64_t live) const { return drain_ && events_ - produced_ <= live; }
  void count() { ++produced_; }
  std::uint64_t produced() const { return produced_; }

 private:
  std::uint64_t events_;
  bool drain_;
  std::uint64_t produced_ = 0;
};

// The passthrough GPU as the guest sees it. A guess: the first device behind QEMU's first
// PCIe root port on the `virt` machine.
const std::vector<std::string>& gpu_devices();

// The most segments a map_sg may have (FORMAT.md).
inline constexpr std::uint64_t kMaxSgSegments = 4096;

// False for NaN too.
inline bool is_fraction(double x) { return x >= 0.0 && x <= 1.0; }

// Directions of a game's maps, from one 32-bit draw: mostly uploads to the GPU (70% to the
// device, 20% from it, 10% both). Guesses.
Direction draw_direction(std::uint32_t draw);

// The order of the smallest power-of-two block of at least `bytes`.
unsigned order_for(std::uint64_t bytes);

// Empty when the parameters suit the profile, else what is wrong, naming the flag.
std::string check_common_params(const GenParams& params);
std::string check_chunk_params(const GenParams& params);  // chunk_bytes (llm, game-large)
std::string check_game_params(const GenParams& params);
std::string check_game_large_params(const GenParams& params);
std::string check_llm_params(const GenParams& params);
std::string check_uvm_params(const GenParams& params);
std::string check_churn_params(const GenParams& params);

// The game, with a resident pool of resident_bytes mapped first (0: none; game-large).
std::unique_ptr<Generator> make_game_generator(const GenParams& params,
                                               std::uint64_t resident_bytes);
std::unique_ptr<Generator> make_game(const GenParams& params);
std::unique_ptr<Generator> make_game_large(const GenParams& params);
std::unique_ptr<Generator> make_llm(const GenParams& params);
std::unique_ptr<Generator> make_uvm(const GenParams& params);
std::unique_ptr<Generator> make_churn(const GenParams& params);

}  // namespace dartlab::trace::gen
