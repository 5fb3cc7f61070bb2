// SPDX-License-Identifier: MIT
// The lazy policy's state: host mappings no request uses any more but kept mapped for reuse, in
// least-recently-released order, bounded in count and bytes. The Mapper decides when to keep and
// when to evict (it owns the host mappings); this keeps the order and the counts.
#pragma once

#include <cstdint>
#include <vector>

#include "passthrough/mapper/mapping.hpp"

namespace dartlab::mapper {

class KeptMappings {
 public:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};

  explicit KeptMappings(const Policy& policy)
      : enabled_(policy.lazy), keep_limit_(policy.lazy_keep), bytes_limit_(policy.lazy_bytes) {}

  bool enabled() const { return enabled_; }
  // The Mapper's entries grew by one: one more link (only when enabled).
  void grow() {
    if (enabled_) links_.emplace_back();
  }
  bool is_kept(std::uint32_t entry) const { return enabled_ && links_[entry].prev != kNotKept; }
  // The least recently released, or kNone.
  std::uint32_t oldest() const { return oldest_; }

  void keep(std::uint32_t entry, std::uint64_t size_bytes, MapperStats& stats);
  void unkeep(std::uint32_t entry, std::uint64_t size_bytes, MapperStats& stats);
  // Past lazy_keep mappings or lazy_bytes bytes.
  bool over_bound(const MapperStats& stats) const {
    return stats.cached_mappings > keep_limit_ || stats.cached_bytes > bytes_limit_;
  }
  // Whether one more host mapping of new_bytes (as the host counts them) would pass
  // Policy::kLazyPressure of the host's slots or bytes.
  static bool under_pressure(const BackendPressure& p, std::uint64_t new_bytes);
  // Nothing kept (the host mappings are gone).
  void clear(MapperStats& stats);

 private:
  static constexpr std::uint32_t kNotKept = kNone - 1;
  struct Link {
    std::uint32_t prev = kNotKept;  // kNotKept: not kept
    std::uint32_t next = kNone;
  };

  bool enabled_;
  std::uint64_t keep_limit_;
  std::uint64_t bytes_limit_;
  std::vector<Link> links_;  // parallel to the Mapper's entries
  std::uint32_t newest_ = kNone;
  std::uint32_t oldest_ = kNone;
};

}  // namespace dartlab::mapper
