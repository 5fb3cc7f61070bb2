// SPDX-License-Identifier: MIT
// The DART's IOTLB: a set-associative cache of leaf translations keyed by (stream, bus page),
// with a configurable geometry and replacement. Its size is not published (BACKGROUND: the
// performance counters exist, the geometry does not), so every figure here is a parameter.
// Fixed memory: the entries are allocated once, at construction.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "models/dart/translation.hpp"

namespace dartlab::dart {

enum class Replacement : std::uint8_t { Lru, Fifo, Random };
std::string_view to_string(Replacement r);

struct IotlbGeometry {
  std::uint32_t sets = 64;  // a power of two; set = bus page mod sets
  std::uint32_t ways = 4;   // 1..64
  Replacement replacement = Replacement::Lru;
  friend bool operator==(const IotlbGeometry&, const IotlbGeometry&) = default;
};

struct IotlbStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t fills = 0;
  std::uint64_t evictions = 0;            // fills that pushed out a valid entry
  std::uint64_t invalidations = 0;        // invalidation commands
  std::uint64_t invalidated_entries = 0;  // valid entries they emptied
  std::uint64_t forgotten_entries = 0;    // valid entries forget_range() dropped

  double hit_rate() const {
    return hits + misses == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(hits + misses);
  }
};

class Iotlb {
 public:
  // Throws std::invalid_argument for sets not a power of two or ways outside 1..64.
  explicit Iotlb(const IotlbGeometry& geometry);

  struct Entry {
    std::uint64_t page = 0;     // bus page number
    std::uint64_t pa_page = 0;  // physical page number
    std::uint64_t stamp = 0;    // LRU: last use; FIFO: fill order
    std::uint16_t stream = 0;
    Perms perms{};
    bool valid = false;
  };

  // A hit counts and, under LRU, becomes the most recent; nullptr (a miss) counts too.
  const Entry* lookup(std::uint16_t stream, std::uint64_t page);
  // Burst mode: the further TLPs of a page, which hit the entry its first TLP just used.
  void note_repeat_hits(std::uint64_t n) { stats_.hits += n; }
  // After a walk: takes an invalid way of the set, else the replacement's victim.
  void fill(std::uint16_t stream, std::uint64_t page, std::uint64_t pa_page, Perms perms);

  void invalidate_all();
  void invalidate_stream(std::uint16_t stream);
  void invalidate_range(std::uint16_t stream, std::uint64_t first_page, std::uint64_t pages);
  // Drops a range's entries without an invalidation command: a batched host never reuses a bus
  // range before its flush, so a reused range must not hit stale entries (counted apart).
  void forget_range(std::uint16_t stream, std::uint64_t first_page, std::uint64_t pages);

  bool contains(std::uint16_t stream, std::uint64_t page) const;  // no side effects
  std::uint64_t valid_entries() const;
  std::uint64_t set_of(std::uint64_t page) const { return page & set_mask_; }
  const IotlbGeometry& geometry() const { return geometry_; }
  const IotlbStats& stats() const { return stats_; }
  void reset();  // empty, counters zero

 private:
  Entry* set_begin(std::uint64_t page) { return &entries_[(page & set_mask_) * geometry_.ways]; }
  const Entry* set_begin(std::uint64_t page) const { return &entries_[(page & set_mask_) * geometry_.ways]; }
  // Empties the range's entries; returns how many were valid.
  std::uint64_t drop_range(std::uint16_t stream, std::uint64_t first_page, std::uint64_t pages);

  IotlbGeometry geometry_;
  std::uint64_t set_mask_;
  std::vector<Entry> entries_;
  std::uint64_t clock_ = 0;
  std::uint64_t random_state_ = 0x9e3779b97f4a7c15ULL;  // xorshift64: victims repeat from run to run
  IotlbStats stats_{};
};

}  // namespace dartlab::dart
