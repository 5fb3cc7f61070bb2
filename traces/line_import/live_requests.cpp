// SPDX-License-Identifier: MIT
#include "traces/line_import/live_requests.hpp"

#include <utility>

namespace dartlab::trace::line_import {
namespace {

constexpr std::size_t kInitialSlots = 1024;

std::size_t hash(const LiveKey& k) {
  std::uint64_t x = k.addr ^ (std::uint64_t{k.device} << 48) ^ (std::uint64_t{static_cast<std::uint8_t>(k.family)} << 40) ^
                    (k.len * 0x9e3779b97f4a7c15ULL);
  x ^= x >> 33;  // murmur3's finaliser: page-aligned addresses differ only in their high bits
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return static_cast<std::size_t>(x);
}

}  // namespace

LiveRequests::LiveRequests() : slots_(kInitialSlots), mask_(kInitialSlots - 1) {}

LiveKey LiveRequests::key_of(const Slot& s) { return {s.addr, s.device, s.family, s.key_len}; }

std::size_t LiveRequests::find(const LiveKey& key) const {
  for (std::size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (!s.used || (s.addr == key.addr && s.device == key.device && s.family == key.family && s.key_len == key.len)) return i;
  }
}

bool LiveRequests::add(const LiveKey& key, const LiveRequest& request) {
  if ((used_ + 1) * 4 > slots_.size() * 3) grow();  // at most 3/4 full: probes stay short
  Slot& s = slots_[find(key)];
  ++live_;
  if (s.used) {
    std::uint32_t at;
    if (free_behind_ != 0) {
      at = free_behind_ - 1;
      free_behind_ = behind_[at].behind;
    } else {
      at = static_cast<std::uint32_t>(behind_.size());
      behind_.emplace_back();
    }
    behind_[at] = {{s.id, s.len_bytes}, s.behind};
    s.id = request.id;
    s.len_bytes = request.len_bytes;
    s.behind = at + 1;
    return true;
  }
  s = Slot{key.addr, request.id, request.len_bytes, key.len, 0, key.device, key.family, true};
  ++used_;
  return false;
}

std::optional<LiveRequest> LiveRequests::take(const LiveKey& key) {
  const std::size_t i = find(key);
  Slot& s = slots_[i];
  if (!s.used) return std::nullopt;
  const LiveRequest taken{s.id, s.len_bytes};
  --live_;
  if (s.behind != 0) {  // the request it hid is live again
    const std::uint32_t at = s.behind - 1;
    s.id = behind_[at].request.id;
    s.len_bytes = behind_[at].request.len_bytes;
    s.behind = behind_[at].behind;
    behind_[at].behind = free_behind_;
    free_behind_ = at + 1;
  } else {
    erase(i);
  }
  return taken;
}

void LiveRequests::take_device(std::uint16_t device, Family family, std::vector<LiveRequest>& out) {
  // Keys first, then take() each: erasing moves slots, so the table cannot be walked meanwhile.
  device_keys_.clear();
  for (const Slot& s : slots_) {
    if (s.used && s.device == device && s.family == family) device_keys_.push_back({s.addr, device, family, s.key_len});
  }
  for (const LiveKey& key : device_keys_) {
    while (const auto r = take(key)) out.push_back(*r);
  }
}

// Linear probing without tombstones: later slots of the probe run move back into the hole.
void LiveRequests::erase(std::size_t hole) {
  slots_[hole].used = false;
  --used_;
  for (std::size_t i = (hole + 1) & mask_; slots_[i].used; i = (i + 1) & mask_) {
    const std::size_t home = hash(key_of(slots_[i])) & mask_;
    // Move slot i into the hole unless its home lies cyclically in (hole, i].
    const bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (stays) continue;
    slots_[hole] = slots_[i];
    slots_[i].used = false;
    hole = i;
  }
}

void LiveRequests::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  std::swap(old, slots_);
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.used) slots_[find(key_of(s))] = s;
  }
}

}  // namespace dartlab::trace::line_import
