// The emulated DART as the mapper's host mapping service. Guest-physical addresses are taken as
// host-physical (identity), ranges are rounded out to DART pages.
#pragma once

#include <cstdint>

#include "models/dart/dart.hpp"
#include "passthrough/mapper/mapping_backend.hpp"

namespace dartlab::dart {

// What a DMA direction lets the device do (ToDevice: the device reads memory).
Perms perms_for(mapper::Direction dir);
mapper::MapError to_map_error(MapFailure failure);

class DartBackend final : public mapper::MappingBackend {
 public:
  explicit DartBackend(Dart& dart) : dart_(dart) {}

  // The bus address returned is that of gpa itself: mapping base + (gpa - rounded-down gpa).
  mapper::Result<mapper::BackendMapping> map(std::uint64_t gpa, std::uint64_t len_bytes,
                                             mapper::Direction dir) override;
  bool unmap(std::uint64_t handle) override { return dart_.unmap(handle); }
  mapper::BackendPressure pressure() const override {
    const DartStats& s = dart_.stats();
    return {s.live_mappings, s.slot_capacity, s.mapped_bytes, s.aperture_bytes};
  }

 private:
  Dart& dart_;
};

}  // namespace dartlab::dart
