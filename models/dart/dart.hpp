// SPDX-License-Identifier: MIT
// The functional DART as the host mapping service drives it: map a physical range to a bus
// range (aperture + slot + page tables), unmap it by handle, translate device accesses.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "base/types.hpp"
#include "models/dart/aperture.hpp"
#include "models/dart/dart_config.hpp"
#include "models/dart/faults.hpp"
#include "models/dart/page_table.hpp"
#include "models/dart/slots.hpp"
#include "models/dart/translation.hpp"

namespace dartlab::dart {

// map() refuses with MapError's first four reasons, in the order it checks them: Invalid, Slots,
// Aperture, Fragmented. The rest are the host service's and the policies', never the DART's.
inline constexpr int kDartMapErrorCount = 4;
static_assert(static_cast<int>(MapError::Fragmented) + 1 == kDartMapErrorCount,
              "the DART's refusals are MapError's first four");

struct DartMapping {
  std::uint64_t handle = 0;
  std::uint64_t bus_addr = 0;
};

// A live mapping's bus range, whole pages.
struct DartRange {
  std::uint64_t bus_addr = 0;
  std::uint64_t len_bytes = 0;
};

struct DartMapResult {
  DartMapping mapping{};
  MapError error = MapError::Invalid;  // valid when !ok
  bool ok = false;
};

struct DartStats {
  std::uint64_t live_mappings = 0;
  std::uint64_t mapped_bytes = 0;       // in whole DART pages
  std::uint64_t peak_mapped_bytes = 0;  // the most mapped_bytes has been
  std::uint64_t free_bytes = 0;
  std::uint64_t largest_free_bytes = 0;
  std::uint64_t aperture_bytes = 0;
  std::uint64_t slot_capacity = 0;  // 0 = unlimited
  std::uint64_t tables_live = 0;
  std::uint64_t map_calls = 0;
  std::uint64_t unmap_calls = 0;
  // Maps served plus unmaps done (and resets): it moves exactly when the state above may have.
  // A refused map or a failed unmap counts a call but changes nothing. Never reset, so that a
  // reader that compares it with a value seen before cannot take a reset for no change.
  std::uint64_t changes = 0;
  std::array<std::uint64_t, kDartMapErrorCount> failures{};     // by MapError
  std::array<std::uint64_t, kFaultCodeCount> faults_by_code{};  // by FaultCode
};

class Dart {
 public:
  // Throws std::invalid_argument for a config parse_dart_spec would refuse.
  explicit Dart(const DartConfig& config);

  // pa and len_bytes page-aligned, len_bytes > 0, pa + len_bytes within the 42-bit PA space, else
  // Invalid; then Slots if the table is full; Aperture if fewer free bytes than the allocator
  // reserves for len_bytes (len_bytes, or its power of two with alloc=buddy); Fragmented if
  // enough free bytes but no contiguous run (aligned, with alloc=linux and buddy).
  DartMapResult map(std::uint64_t pa, std::uint64_t len_bytes, Perms perms);
  bool unmap(std::uint64_t handle);  // false if not live (unknown, stale, double)
  // unmap(handle), told the range the caller believes the handle maps. When the handle is live
  // and maps exactly that range, the unmap works from the range given, which is known before the
  // slot's entry arrives from memory; otherwise it is unmap(handle) itself. Either way the answer
  // and the state are those of unmap(handle).
  bool unmap(std::uint64_t handle, const DartRange& expected);
  // The bus range a live handle maps, for a timed model's range invalidation; nullopt if not live.
  std::optional<DartRange> live_range(std::uint64_t handle) const;

  Translation translate(std::uint64_t bus_addr, Access access);  // latches faults in the error register
  Translation walk(std::uint64_t bus_addr, Access access) const;  // the same, no side effects

  const DartStats& stats() const {
    if (space_stale_) refresh_space_stats();
    return stats_;
  }
  const DartConfig& config() const { return config_; }
  FaultRecord last_fault() const { return faults_.latched(); }  // the first fault since clear_fault()
  void clear_fault() { faults_.clear(); }
  const PageTable& page_table() const { return tables_; }  // for a timed walker

  void reset();  // releases every mapping and table, clears faults and counters

  // Drops the smallest refused page count that map() remembers (see refused_pages_), so that
  // the next map asks the allocator again. The answers are the same either way: for tests.
  void forget_refusals() { refused_pages_ = kNoRefusal; }

 private:
  void refresh_space_stats() const;
  void release_pages(const SlotRecord& range);  // an unmap's work after its slot is released

  DartConfig config_;
  std::uint64_t first_page_;
  std::uint64_t page_count_;
  std::unique_ptr<ApertureAllocator> aperture_;
  SlotTable slots_;
  PageTable tables_;
  FaultRegister faults_;
  // The fields read from the aperture, the page tables and the slot table (free and largest free
  // bytes, tables, live mappings) are brought up to date when stats() is read after a map or an
  // unmap changed them, not by every map and unmap: two virtual calls and ~25 instructions each
  // time, which BM_CoreDirect* (the mapper, which reads no DART stats unless lazy) paid per event.
  mutable DartStats stats_{};
  mutable bool space_stale_ = false;
  // The fewest pages the allocator has refused since pages were last freed: a request of as many
  // or more is refused without asking it again (the contract in aperture.hpp). Under a host out
  // of room most requests are refused one after another, each through the allocator's search
  // (kNoRefusal: none remembered).
  static constexpr std::uint64_t kNoRefusal = ~std::uint64_t{0};
  std::uint64_t refused_pages_ = kNoRefusal;
};

}  // namespace dartlab::dart
