// SPDX-License-Identifier: MIT
// Basic vocabulary of the mapper: directions, errors, results. No dependencies beyond the standard library.
#pragma once

#include <cstdint>
#include <string_view>

namespace dartlab {

// The DMA-API direction of a request (Linux enum dma_data_direction).
enum class Direction : std::uint8_t { Bidirectional, ToDevice, FromDevice };

// Why a map request was refused. The first four are in the order the DART checks them; later
// reasons are appended (their values are reported and stored: never reorder).
enum class MapError : std::uint8_t {
  Invalid,     // malformed request: zero length, address overflow, unknown handle
  Slots,       // the host's mapping table is full
  Aperture,    // not enough free bus-address bytes
  Fragmented,  // enough free bytes, but no single contiguous range
  Pool,        // bounce: the pool has no free run of slots for the request
  Cap,         // cap: the live host mappings are at the cap; nothing changed, ask again after a release
  Duplicate,   // the host already holds a mapping registered at this gpa (duplicate=refuse)
  Truncated,   // the host mapped less than asked (its first chunk): the mapper undid it and refused
};
inline constexpr int kMapErrorCount = 8;
static_assert(static_cast<int>(MapError::Truncated) + 1 == kMapErrorCount, "kMapErrorCount counts every MapError");

std::string_view to_string(MapError e);
// The host mapping service's own name for a refusal (IOKit's return code: "kIOReturnNoSpace"),
// or "" when it has none. The table and its sources: docs/REAL-SYSTEM.md, "The host's answers".
std::string_view host_return_code(MapError e);
// A refusal for want of room (slots, bytes, a contiguous run): what freeing mappings or changing
// the window size can cure, unlike a malformed request, a duplicate or a cut.
constexpr bool for_lack_of_room(MapError e) {
  return e == MapError::Slots || e == MapError::Aperture || e == MapError::Fragmented;
}
std::string_view to_string(Direction d);

// A value or the reason there is none. Errors are values on the hot path, never exceptions.
template <class T>
struct Result {
  T value{};
  MapError error = MapError::Invalid;
  bool ok = false;

  static Result success(T v) { return Result{v, MapError::Invalid, true}; }
  static Result failure(MapError e) { return Result{T{}, e, false}; }
  explicit operator bool() const { return ok; }
};

inline constexpr std::uint64_t kHostPageBytes = 16 * 1024;  // all Apple Silicon DARTs run 16 KiB pages (BACKGROUND.md)
// The host's limits as observed (docs/REAL-SYSTEM.md): the DART model's defaults, and what a
// report draws against when its results do not carry their own.
inline constexpr std::uint64_t kHostSlots = 65536;                 // the host extension's 65,536-slot table
inline constexpr std::uint64_t kHostApertureBytes = 1536ull << 20;  // about 1.5 GiB registered for DMA at once

}  // namespace dartlab
