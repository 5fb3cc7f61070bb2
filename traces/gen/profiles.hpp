// The profiles behind make_generator, and what they share. Internal to traces/gen.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "traces/gen/generator.hpp"
#include "traces/gen/guest_memory.hpp"

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

// Guest RAM laid out as the parameters say.
GuestMemory make_guest_memory(const GenParams& params);

// Empty when the parameters suit the profile, else what is wrong, naming the field.
std::string check_memory_params(const GenParams& params);
std::string check_game_params(const GenParams& params);
std::string check_buffers_params(const GenParams& params);

std::unique_ptr<Generator> make_game(const GenParams& params);
std::unique_ptr<Generator> make_buffers(const GenParams& params);

}  // namespace dartlab::trace::gen
