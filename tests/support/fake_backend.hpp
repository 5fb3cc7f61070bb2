// A MappingBackend for mapper tests: hands out bus addresses from a bump pointer, enforces an
// optional slot limit, and remembers every live mapping so tests can check what the mapper did.
#pragma once

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
  bool fail_next_with_fragmented = false;
  std::uint64_t next_bus = 0x100000;
  std::map<std::uint64_t, Live> live;  // by handle
  std::uint64_t maps = 0, unmaps = 0, bad_unmaps = 0;

  mapper::Result<mapper::BackendMapping> map(std::uint64_t gpa, std::uint64_t len_bytes, mapper::Direction) override {
    if (fail_next_with_fragmented) {
      fail_next_with_fragmented = false;
      return mapper::Result<mapper::BackendMapping>::failure(mapper::MapError::Fragmented);
    }
    if (live.size() >= slot_limit) return mapper::Result<mapper::BackendMapping>::failure(mapper::MapError::Slots);
    const std::uint64_t handle = ++handle_counter_;
    live[handle] = Live{gpa, len_bytes, next_bus};
    const mapper::BackendMapping m{handle, next_bus};
    next_bus += len_bytes + 0x4000;  // a guard page between mappings
    ++maps;
    return mapper::Result<mapper::BackendMapping>::success(m);
  }

  bool unmap(std::uint64_t handle) override {
    if (live.erase(handle) == 0) {
      ++bad_unmaps;
      return false;
    }
    ++unmaps;
    return true;
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
