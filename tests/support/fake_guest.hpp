// SPDX-License-Identifier: MIT
// A guest for the apple-dma device core: RAM as a byte vector at a base address (anything else is
// "not RAM"), the guest errors and trace events the device reports, and the guest driver's side
// of the protocol (write a command page and its entries, ring the doorbell, read the responses).
// Used by tests/unit/device and the fuzz target.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "passthrough/qemu/core/apple_dma.h"
#include "passthrough/qemu/core/command.hpp"

namespace dartlab::test {

struct FakeGuest {
  struct MapTrace {
    std::uint64_t gpa, len;
    int dir;
    std::uint64_t dma_addr, handle;
    int status;
  };
  struct UnmapTrace {
    std::uint64_t handle, len;
    int status;
  };
  // A host mapping as the glue hears of it (AdmaHostOps.host_map; host_unmap leaves gpa and perm 0).
  struct HostRange {
    std::uint64_t bus_addr, len, gpa;
    int perm;
  };

  explicit FakeGuest(std::uint64_t base = 0x100000, std::uint64_t size = 16u << 20) : ram_base(base), ram(size) {}

  std::uint64_t ram_base;
  std::vector<std::uint8_t> ram;
  std::vector<std::string> errors;
  std::vector<MapTrace> maps;
  std::vector<UnmapTrace> unmaps;
  std::vector<std::uint64_t> resets;
  std::uint64_t doorbells = 0;
  std::vector<HostRange> host_maps;
  std::vector<HostRange> host_unmaps;
  std::uint64_t invalidations = 0;  // whole-space invalidations (resets)
  bool record = true;  // the fuzzer turns recording off: nothing grows per event

  bool contains(std::uint64_t gpa, std::uint64_t len) const {
    return gpa >= ram_base && len <= ram.size() && gpa - ram_base <= ram.size() - len;
  }
  std::uint8_t* at(std::uint64_t gpa) { return ram.data() + (gpa - ram_base); }

  AdmaHostOps ops() {
    AdmaHostOps o{};
    o.read = [](void* g, std::uint64_t gpa, void* buf, std::uint64_t len) {
      auto* self = static_cast<FakeGuest*>(g);
      if (!self->contains(gpa, len)) return 1;
      std::memcpy(buf, self->at(gpa), len);
      return 0;
    };
    o.write = [](void* g, std::uint64_t gpa, const void* buf, std::uint64_t len) {
      auto* self = static_cast<FakeGuest*>(g);
      if (!self->contains(gpa, len)) return 1;
      std::memcpy(self->at(gpa), buf, len);
      return 0;
    };
    o.is_ram = [](void* g, std::uint64_t gpa, std::uint64_t len) {
      return static_cast<FakeGuest*>(g)->contains(gpa, len) ? 1 : 0;
    };
    o.guest_error = [](void* g, const char* msg) {
      auto* self = static_cast<FakeGuest*>(g);
      if (self->record) self->errors.emplace_back(msg);
    };
    o.trace_map = [](void* g, std::uint64_t gpa, std::uint64_t len, int dir, std::uint64_t dma, std::uint64_t h,
                     int st) {
      auto* self = static_cast<FakeGuest*>(g);
      if (self->record) self->maps.push_back({gpa, len, dir, dma, h, st});
    };
    o.trace_unmap = [](void* g, std::uint64_t h, std::uint64_t len, int st) {
      auto* self = static_cast<FakeGuest*>(g);
      if (self->record) self->unmaps.push_back({h, len, st});
    };
    o.trace_reset = [](void* g, std::uint64_t live) {
      auto* self = static_cast<FakeGuest*>(g);
      if (self->record) self->resets.push_back(live);
    };
    o.trace_doorbell = [](void* g, std::uint32_t, std::uint32_t, int) { ++static_cast<FakeGuest*>(g)->doorbells; };
    o.host_map = [](void* g, std::uint64_t bus, std::uint64_t len, std::uint64_t gpa, int perm) {
      auto* self = static_cast<FakeGuest*>(g);
      if (self->record) self->host_maps.push_back({bus, len, gpa, perm});
    };
    o.host_unmap = [](void* g, std::uint64_t bus, std::uint64_t len) {
      auto* self = static_cast<FakeGuest*>(g);
      if (self->record) self->host_unmaps.push_back({bus, len, 0, 0});
    };
    o.invalidate = [](void* g) { ++static_cast<FakeGuest*>(g)->invalidations; };
    return o;
  }

  std::uint32_t u32(std::uint64_t gpa) { return apple_dma::load_u32(at(gpa)); }
  std::uint64_t u64(std::uint64_t gpa) { return apple_dma::load_u64(at(gpa)); }
};

// The guest driver's side: one command page, request and response arrays at fixed places in RAM.
struct GuestDriver {
  FakeGuest& guest;
  AdmaDevice* dev;
  std::uint64_t cmd_gpa;
  std::uint64_t req_gpa;
  std::uint64_t resp_gpa;

  GuestDriver(FakeGuest& g, AdmaDevice* d)
      : guest(g), dev(d), cmd_gpa(g.ram_base), req_gpa(g.ram_base + 0x1000), resp_gpa(g.ram_base + 0x200000) {}

  void set_command_page(std::uint64_t gpa) {
    cmd_gpa = gpa;
    adma_mmio_write(dev, ADMA_REG_CMD_GPA_LO, gpa & 0xffffffffu, 4);
    adma_mmio_write(dev, ADMA_REG_CMD_GPA_HI, gpa >> 32, 4);
  }

  // Writes the command page (type, count, req/resp) and rings; returns the STATUS register.
  std::uint32_t ring(std::uint32_t type, std::uint32_t count, std::uint64_t req, std::uint64_t resp) {
    std::uint8_t page[apple_dma::kCommandBytes];
    apple_dma::encode_command({type, count, 0, req, resp}, page);
    if (guest.contains(cmd_gpa, sizeof(page))) std::memcpy(guest.at(cmd_gpa), page, sizeof(page));
    adma_mmio_write(dev, ADMA_REG_CMD_GPA_LO, cmd_gpa & 0xffffffffu, 4);
    adma_mmio_write(dev, ADMA_REG_CMD_GPA_HI, cmd_gpa >> 32, 4);
    adma_mmio_write(dev, ADMA_REG_DOORBELL, 1, 4);
    return static_cast<std::uint32_t>(adma_mmio_read(dev, ADMA_REG_STATUS, 4));
  }
  std::uint32_t ring(std::uint32_t type, std::uint32_t count) { return ring(type, count, req_gpa, resp_gpa); }

  void put_map(std::uint32_t type, std::uint32_t i, std::uint64_t gpa, std::uint64_t len, std::uint32_t dir_or_flags) {
    apple_dma::EntryBytes b;
    apple_dma::encode_map_request(type, {gpa, len, dir_or_flags, 0}, b);
    const auto size = apple_dma::entry_layout(type).request_bytes;
    std::memcpy(guest.at(req_gpa + i * size), b.data(), size);
  }
  void put_unmap(std::uint32_t type, std::uint32_t i, std::uint64_t handle, std::uint64_t len) {
    apple_dma::EntryBytes b;
    apple_dma::encode_unmap_request({handle, len}, b);
    const auto size = apple_dma::entry_layout(type).request_bytes;
    std::memcpy(guest.at(req_gpa + i * size), b.data(), size);
  }

  // Response fields of entry i: handle/id, dma_addr, status, and (v2 map) dma_len / (v3) reason.
  std::uint64_t resp_handle(std::uint32_t type, std::uint32_t i) {
    return guest.u64(resp_gpa + i * apple_dma::entry_layout(type).response_bytes);
  }
  std::uint64_t resp_dma(std::uint32_t type, std::uint32_t i) {
    return guest.u64(resp_gpa + i * apple_dma::entry_layout(type).response_bytes + 8);
  }
  std::uint32_t resp_status(std::uint32_t type, std::uint32_t i) {
    return guest.u32(resp_gpa + i * apple_dma::entry_layout(type).response_bytes + apple_dma::response_status_offset(type));
  }
  std::uint32_t resp_word(std::uint32_t type, std::uint32_t i, std::uint64_t offset) {
    return guest.u32(resp_gpa + i * apple_dma::entry_layout(type).response_bytes + offset);
  }
  std::uint32_t command_status() { return guest.u32(cmd_gpa + apple_dma::kCommandStatusOffset); }

  std::uint64_t stat(unsigned index) { return adma_mmio_read(dev, ADMA_STATS_BASE + 8u * index, 8); }
  std::uint32_t reg(std::uint64_t offset) { return static_cast<std::uint32_t>(adma_mmio_read(dev, offset, 4)); }
};

}  // namespace dartlab::test
