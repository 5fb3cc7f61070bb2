// SPDX-License-Identifier: MIT
// The host mapping service over the emulated DART, as the mapper's backend. Guest-physical
// addresses are taken as host-physical (identity), ranges are rounded out to DART pages. The
// service's own rules come from the DART's config: what a second map at a registered gpa gets
// (duplicate=) and how long one region may be before it is cut (chunk=).
#pragma once

#include <cstdint>
#include <vector>

#include "models/dart/dart.hpp"
#include "base/flat_map.hpp"
#include "passthrough/mapper/mapping_backend.hpp"

namespace dartlab::backends {

// What a DMA direction lets the device do (ToDevice: the device reads memory). Inline: every
// map asks it, and out of line it was a call of its own on each.
inline dart::Perms perms_for(dartlab::Direction dir) {
  switch (dir) {
    case dartlab::Direction::ToDevice: return dart::Perms{true, false};
    case dartlab::Direction::FromDevice: return dart::Perms{false, true};
    case dartlab::Direction::Bidirectional: break;
  }
  return dart::Perms{true, true};
}

class DartBackend final : public mapper::MappingBackend {
 public:
  // observed: the host extension keeps at most this many chunks per region
  // (VFIO_USER_MAX_CLIENT_DMA_CHUNKS; 64 in an earlier version) and answers kIOReturnNoSpace beyond.
  static constexpr std::uint64_t kMaxChunks = 128;

  explicit DartBackend(dart::Dart& dart) : dart_(dart) {}

  // The bus address returned is that of gpa itself: mapping base + (gpa - rounded-down gpa).
  // In order: Invalid (the DART's checks come first for an empty or wrapping range); Duplicate
  // under duplicate=refuse when gpa is registered; Slots when the range needs more than
  // kMaxChunks chunks; then the DART's refusals. A range longer than a chunk maps its first chunk
  // only, and len_bytes says how much of [gpa, gpa + len_bytes) that covers.
  dartlab::Result<mapper::BackendMapping> map(std::uint64_t gpa, std::uint64_t len_bytes,
                                             dartlab::Direction dir) override;
  // False when the handle is not live: the host's kIOReturnNotFound.
  bool unmap(std::uint64_t handle) override;
  // unmap() with the range the mapping at bus_addr would have, for dart::Dart::unmap(handle, range).
  bool unmap_hinted(std::uint64_t handle, std::uint64_t bus_addr, std::uint64_t len_bytes) override;
  mapper::BackendPressure pressure() const override {
    const dart::DartStats& s = dart_.stats();
    return {s.live_mappings, s.slot_capacity, s.mapped_bytes, s.aperture_bytes, dart_.config().page_bytes};
  }
  // Resets the DART (dart::Dart::reset) and forgets every registered gpa with it.
  void reset();

 private:
  // What unmap() does after the DART's own unmap succeeded.
  void forget(std::uint64_t handle);

  static constexpr std::uint64_t kNoGpa = ~std::uint64_t{0};  // never a mapped gpa: its range wraps

  dart::Dart& dart_;
  // duplicate=refuse only: the gpas registered now, and the gpa of each live mapping by its slot
  // index (a handle's low 32 bits, slots.hpp). Memory follows live mappings.
  dartlab::FlatMap<std::uint64_t, std::uint64_t, dartlab::FlatHash<std::uint64_t>, kNoGpa> handle_by_gpa_;
  std::vector<std::uint64_t> gpa_by_slot_;
};

}  // namespace dartlab::backends
