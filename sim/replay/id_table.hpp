// SPDX-License-Identifier: MIT
// The replay's table of live requests: trace id -> the request's record, shaped for the ids
// traces carry. Every generator and importer hands ids out in sequence (1, 2, 3, ...), so live
// ids crowd a window behind the newest: a ring indexed by the id's low bits holds nearly all of
// them with no hashing and no probing, and consecutive maps land in consecutive slots. An id whose
// ring slot is taken by another live id (one that outlived a turn of the ring, or ids that are
// not sequential at all) goes to an ordinary hash map beside it; a byte per ring slot counts the
// ids there that share its index (saturating: at 255 it stays, and only costs lookups in the
// map), so that the common lookup, of an id in the ring or of one not live, never touches it.
// Measured on the development VM, 10 M game events: the FlatMap's find and insert or erase alone
// took 17-21 ns per event, more than the mapper and DART together (14 ns).
//
// Memory follows the live set: the ring doubles when more than half as many ids are live as it
// has slots, or when an eighth of its size has overflowed; nothing is allocated otherwise.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "base/flat_map.hpp"
#include "base/huge_page_allocator.hpp"

namespace dartlab::sim {

template <class V>
class IdTable {
 public:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};  // the one id that cannot be stored

  explicit IdTable(std::size_t expected = 1024) : overflow_(16) { reset(std::bit_ceil(std::max<std::size_t>(16, 2 * expected))); }

  std::size_t size() const { return size_; }

  void prefetch(std::uint64_t id) const { __builtin_prefetch(&ring_[id & mask_]); }

  [[gnu::always_inline]] const V* find(std::uint64_t id) const {
    if (id == kEmpty) return nullptr;  // an empty slot's mark, never a live id
    const std::size_t i = id & mask_;
    if (ring_[i].id == id) return &ring_[i].value;
    return overflowed_[i] == 0 ? nullptr : overflow_.find(id);
  }

  // The caller guarantees id is not live and id != kEmpty.
  [[gnu::always_inline]] void insert(std::uint64_t id, const V& value) {
    if (size_ >= grow_at_) [[unlikely]] grow();
    place(id, value);
    ++size_;
  }

  // insert() of an id that may be live or kEmpty, in one lookup: false, and nothing stored, when
  // it is. A replay's map checked with find() and then inserted: the same slot reached twice.
  [[gnu::always_inline]] bool insert_new(std::uint64_t id, const V& value) {
    if (id == kEmpty || find(id) != nullptr) [[unlikely]] return false;
    insert(id, value);
    return true;
  }

  [[gnu::always_inline]] bool erase(std::uint64_t id) {
    if (id == kEmpty) return false;
    const std::size_t i = id & mask_;
    if (ring_[i].id == id) {
      ring_[i].id = kEmpty;  // its count stays: the overflowed ids sharing the index are still there
      --size_;
      return true;
    }
    if (overflowed_[i] == 0 || !overflow_.erase(id)) return false;
    if (overflowed_[i] != kSticky) --overflowed_[i];
    --size_;
    return true;
  }

  std::size_t overflowed() const { return overflow_.size(); }  // for tests
  std::size_t ring_slots() const { return ring_.size(); }       // for tests

 private:
  struct Slot {
    std::uint64_t id = kEmpty;
    V value{};
  };
  static constexpr std::uint8_t kSticky = 255;  // a count that saturated: maybe some, for good

  void place(std::uint64_t id, const V& value) {
    const std::size_t i = id & mask_;
    if (ring_[i].id == kEmpty) {
      ring_[i] = Slot{id, value};
    } else {
      if (overflowed_[i] != kSticky) ++overflowed_[i];
      overflow_.insert(id, value);
      if (overflow_.size() >= ring_.size() / 8) grow_at_ = 0;  // the next insert grows the ring
    }
  }

  void reset(std::size_t slots) {
    ring_.assign(slots, Slot{});
    overflowed_.assign(slots, 0);
    mask_ = slots - 1;
    grow_at_ = slots / 2;
  }

  void grow() {
    std::vector<std::pair<std::uint64_t, V>> live;
    live.reserve(size_);
    for (const Slot& s : ring_)
      if (s.id != kEmpty) live.emplace_back(s.id, s.value);
    overflow_.for_each([&](std::uint64_t id, const V& value) { live.emplace_back(id, value); });
    overflow_.clear();
    reset(ring_.size() * 2);
    for (const auto& [id, value] : live) place(id, value);
  }

  std::vector<Slot, HugePageAllocator<Slot>> ring_;
  std::vector<std::uint8_t, HugePageAllocator<std::uint8_t>> overflowed_;  // per ring slot: ids of its index in overflow_
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  // insert grows the ring when more than half its size would be live, or when an eighth of it has
  // overflowed (place() then sets this to 0): one compare on the common path.
  std::size_t grow_at_ = 0;
  FlatMap<std::uint64_t, V, FlatHash<std::uint64_t>, kEmpty> overflow_;
};

}  // namespace dartlab::sim
