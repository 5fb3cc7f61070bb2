// SPDX-License-Identifier: MIT
// The command page and its entries as bytes in guest RAM (passthrough/qemu/INTERFACE.md):
// layouts, little-endian encode/decode, and the checks a command must pass before any entry runs.
#pragma once

#include <array>
#include <cstdint>

namespace dartlab::apple_dma {

inline constexpr std::uint64_t kCommandBytes = 32;

// Command page: type u32 @0, count u32 @4, status u32 @8 (written by the device),
// reserved u32 @12, req_gpa u64 @16, resp_gpa u64 @24.
struct Command {
  std::uint32_t type = 0;
  std::uint32_t count = 0;
  std::uint32_t reserved = 0;
  std::uint64_t req_gpa = 0;
  std::uint64_t resp_gpa = 0;
};
inline constexpr std::uint64_t kCommandStatusOffset = 8;

// Sizes of one request and one response entry per command type (0 for an unknown type).
struct EntryLayout {
  std::uint64_t request_bytes = 0;
  std::uint64_t response_bytes = 0;
};
EntryLayout entry_layout(std::uint32_t type);

// Interface 2 map {gpa u64, len u32, flags u32} -> {id u64, dma_addr u64, dma_len u32, status u32}.
// Interface 2 unmap {id u64, size u64} -> {id u64, status u32, reserved u32}.
// Interface 3 map {gpa u64, len u64, dir u32, reserved u32} -> {handle u64, dma_addr u64, status u32, reason u32}.
// Interface 3 unmap {handle u64, len u64} -> {handle u64, status u32, reason u32}.
struct MapRequest {
  std::uint64_t gpa = 0;
  std::uint64_t len = 0;
  std::uint32_t flags = 0;  // interface 2: flags; interface 3: dir
  std::uint32_t reserved = 0;
};
struct UnmapRequest {
  std::uint64_t handle = 0;
  std::uint64_t len = 0;
};

inline constexpr std::size_t kMaxEntryBytes = 24;
using EntryBytes = std::array<std::uint8_t, kMaxEntryBytes>;

Command decode_command(const std::uint8_t (&bytes)[kCommandBytes]);
void encode_command(const Command& c, std::uint8_t (&bytes)[kCommandBytes]);  // status word left 0
MapRequest decode_map_request(std::uint32_t type, const EntryBytes& bytes);
UnmapRequest decode_unmap_request(const EntryBytes& bytes);

// Responses: `reason` only exists in interface 3 layouts; `dma_len` only in interface 2 maps.
void encode_map_response(std::uint32_t type, std::uint64_t handle, std::uint64_t dma_addr, std::uint32_t dma_len,
                         std::uint32_t status, std::uint32_t reason, EntryBytes& out);
void encode_unmap_response(std::uint32_t type, std::uint64_t handle, std::uint32_t status, std::uint32_t reason,
                           EntryBytes& out);

// Encoders the tests and the fuzzer use to build guest requests (the guest's side).
void encode_map_request(std::uint32_t type, const MapRequest& r, EntryBytes& out);
void encode_unmap_request(const UnmapRequest& r, EntryBytes& out);

// Where a response entry keeps its status, and (interface 3 only) its reason.
std::uint64_t response_status_offset(std::uint32_t type);
std::uint64_t response_reason_offset(std::uint32_t type);

std::uint32_t load_u32(const std::uint8_t* p);
std::uint64_t load_u64(const std::uint8_t* p);
void store_u32(std::uint8_t* p, std::uint32_t v);
void store_u64(std::uint8_t* p, std::uint64_t v);

// Whether [a, a+a_len) and [b, b+b_len) share a byte; both ranges must not wrap.
bool ranges_overlap(std::uint64_t a, std::uint64_t a_len, std::uint64_t b, std::uint64_t b_len);

}  // namespace dartlab::apple_dma
