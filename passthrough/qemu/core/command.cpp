// SPDX-License-Identifier: MIT
// Byte layouts of the command page and its entries; see command.hpp and INTERFACE.md.
#include "passthrough/qemu/core/command.hpp"

#include "passthrough/qemu/core/apple_dma.h"

namespace dartlab::apple_dma {

std::uint32_t load_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

std::uint64_t load_u64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(load_u32(p)) | static_cast<std::uint64_t>(load_u32(p + 4)) << 32;
}

void store_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

void store_u64(std::uint8_t* p, std::uint64_t v) {
  store_u32(p, static_cast<std::uint32_t>(v));
  store_u32(p + 4, static_cast<std::uint32_t>(v >> 32));
}

EntryLayout entry_layout(std::uint32_t type) {
  switch (type) {
    case ADMA_CMD_MAP: return {16, 24};
    case ADMA_CMD_UNMAP: return {16, 16};
    case ADMA_CMD_MAP_REQ: return {24, 24};
    case ADMA_CMD_UNMAP_REQ: return {16, 16};
    default: return {};
  }
}

std::uint64_t response_status_offset(std::uint32_t type) {
  switch (type) {
    case ADMA_CMD_MAP: return 20;
    case ADMA_CMD_MAP_REQ: return 16;
    default: return 8;
  }
}

std::uint64_t response_reason_offset(std::uint32_t type) { return response_status_offset(type) + 4; }

Command decode_command(const std::uint8_t (&bytes)[kCommandBytes]) {
  Command c;
  c.type = load_u32(bytes);
  c.count = load_u32(bytes + 4);
  c.reserved = load_u32(bytes + 12);
  c.req_gpa = load_u64(bytes + 16);
  c.resp_gpa = load_u64(bytes + 24);
  return c;
}

void encode_command(const Command& c, std::uint8_t (&bytes)[kCommandBytes]) {
  store_u32(bytes, c.type);
  store_u32(bytes + 4, c.count);
  store_u32(bytes + 8, 0);
  store_u32(bytes + 12, c.reserved);
  store_u64(bytes + 16, c.req_gpa);
  store_u64(bytes + 24, c.resp_gpa);
}

MapRequest decode_map_request(std::uint32_t type, const EntryBytes& b) {
  MapRequest r;
  r.gpa = load_u64(b.data());
  if (type == ADMA_CMD_MAP) {
    r.len = load_u32(b.data() + 8);
    r.flags = load_u32(b.data() + 12);
  } else {
    r.len = load_u64(b.data() + 8);
    r.flags = load_u32(b.data() + 16);
    r.reserved = load_u32(b.data() + 20);
  }
  return r;
}

void encode_map_request(std::uint32_t type, const MapRequest& r, EntryBytes& out) {
  out.fill(0);
  store_u64(out.data(), r.gpa);
  if (type == ADMA_CMD_MAP) {
    store_u32(out.data() + 8, static_cast<std::uint32_t>(r.len));
    store_u32(out.data() + 12, r.flags);
  } else {
    store_u64(out.data() + 8, r.len);
    store_u32(out.data() + 16, r.flags);
    store_u32(out.data() + 20, r.reserved);
  }
}

UnmapRequest decode_unmap_request(const EntryBytes& b) { return {load_u64(b.data()), load_u64(b.data() + 8)}; }

void encode_unmap_request(const UnmapRequest& r, EntryBytes& out) {
  out.fill(0);
  store_u64(out.data(), r.handle);
  store_u64(out.data() + 8, r.len);
}

void encode_map_response(std::uint32_t type, std::uint64_t handle, std::uint64_t dma_addr, std::uint32_t dma_len,
                         std::uint32_t status, std::uint32_t reason, EntryBytes& out) {
  out.fill(0);
  store_u64(out.data(), handle);
  store_u64(out.data() + 8, dma_addr);
  if (type == ADMA_CMD_MAP) {
    store_u32(out.data() + 16, dma_len);
  } else {
    store_u32(out.data() + response_reason_offset(type), reason);
  }
  store_u32(out.data() + response_status_offset(type), status);
}

void encode_unmap_response(std::uint32_t type, std::uint64_t handle, std::uint32_t status, std::uint32_t reason,
                           EntryBytes& out) {
  out.fill(0);
  store_u64(out.data(), handle);
  store_u32(out.data() + response_status_offset(type), status);
  store_u32(out.data() + response_reason_offset(type), type == ADMA_CMD_UNMAP_REQ ? reason : 0);
}

bool ranges_overlap(std::uint64_t a, std::uint64_t a_len, std::uint64_t b, std::uint64_t b_len) {
  if (a_len == 0 || b_len == 0) return false;
  return a < b + b_len && b < a + a_len;
}

}  // namespace dartlab::apple_dma
