// SPDX-License-Identifier: MIT
// A MappingBackend for mapper tests: hands out bus addresses from a bump pointer, enforces an
// optional slot limit and byte limit (reported as pressure when report_pressure is set), and
// remembers every live mapping so tests can check what the mapper did.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>

#include "passthrough/mapper/mapping_backend.hpp"

namespace dartlab::test {

class FakeBackend final : public mapper::MappingBackend {
 public:
  struct Live {
    std::uint64_t gpa, len_bytes, bus_addr;
  };

  std::uint64_t slot_limit = ~0ULL;
  std::uint64_t bytes_limit = ~0ULL;
  bool report_pressure = false;
  bool fail_next_with_fragmented = false;
  std::uint64_t chunk_bytes = 0;  // non-zero: a longer mapping is made and answered cut to this length
  std::uint64_t live_bytes = 0;
  std::uint64_t next_bus = 0x100000;
  std::map<std::uint64_t, Live> live;  // by handle
  std::uint64_t maps = 0, unmaps = 0, bad_unmaps = 0;

  dartlab::Result<mapper::BackendMapping> map(std::uint64_t gpa, std::uint64_t len_bytes, dartlab::Direction) override {
    if (fail_next_with_fragmented) {
      fail_next_with_fragmented = false;
      return dartlab::Result<mapper::BackendMapping>::failure(dartlab::MapError::Fragmented);
    }
    if (live.size() >= slot_limit) return dartlab::Result<mapper::BackendMapping>::failure(dartlab::MapError::Slots);
    if (live_bytes + len_bytes > bytes_limit)
      return dartlab::Result<mapper::BackendMapping>::failure(dartlab::MapError::Aperture);
    const std::uint64_t handle = ++handle_counter_;
    live[handle] = Live{gpa, len_bytes, next_bus};
    live_bytes += len_bytes;
    const mapper::BackendMapping m{handle, next_bus, chunk_bytes != 0 ? std::min(len_bytes, chunk_bytes) : len_bytes};
    next_bus += len_bytes + 0x4000;  // a guard page between mappings
    ++maps;
    return dartlab::Result<mapper::BackendMapping>::success(m);
  }

  bool unmap(std::uint64_t handle) override {
    const auto it = live.find(handle);
    if (it == live.end()) {
      ++bad_unmaps;
      return false;
    }
    live_bytes -= it->second.len_bytes;
    live.erase(it);
    ++unmaps;
    return true;
  }

  // Remembers the hint it was given, then unmaps as unmap() does.
  std::uint64_t hinted_unmaps = 0;
  std::uint64_t hint_bus_addr = 0, hint_len_bytes = 0;
  bool unmap_hinted(std::uint64_t handle, std::uint64_t bus_addr, std::uint64_t len_bytes) override {
    ++hinted_unmaps;
    hint_bus_addr = bus_addr;
    hint_len_bytes = len_bytes;
    return unmap(handle);
  }

  mapper::BackendPressure pressure() const override {
    if (!report_pressure) return {};
    return {live.size(), slot_limit == ~0ULL ? 0 : slot_limit, live_bytes, bytes_limit == ~0ULL ? 0 : bytes_limit};
  }

  // The host mapping (gpa, len) is live.
  bool has(std::uint64_t gpa, std::uint64_t len_bytes) const {
    for (const auto& [h, l] : live)
      if (l.gpa == gpa && l.len_bytes == len_bytes) return true;
    return false;
  }

  // The guest-physical address a bus address reaches, or ~0 when no live mapping covers it.
  std::uint64_t target_of(std::uint64_t bus_addr) const {
    for (const auto& [h, l] : live)
      if (bus_addr >= l.bus_addr && bus_addr < l.bus_addr + l.len_bytes) return l.gpa + (bus_addr - l.bus_addr);
    return ~0ULL;
  }

 private:
  std::uint64_t handle_counter_ = 0;
};

}  // namespace dartlab::test
