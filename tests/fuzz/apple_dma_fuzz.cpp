// SPDX-License-Identifier: MIT
// libFuzzer target for the apple-dma device core: the input is a program of guest actions (RAM
// writes, structured map/unmap entries, register accesses of any size and offset, doorbells,
// device DMA translations, resets) against one device over a small fake guest RAM, so that
// command pages, entry arrays and hostile addresses all land near RAM's edges. The device must
// never crash, read or write outside RAM, or break its invariants (checked after every action).
// Built by the `fuzz` preset (tests/fuzz/CMakeLists.txt); seeds in tests/fuzz/corpus/apple_dma_fuzz/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "passthrough/qemu/core/apple_dma.h"
#include "passthrough/qemu/core/command.hpp"
#include "support/fake_guest.hpp"

namespace {

using dartlab::apple_dma::load_u32;
using dartlab::apple_dma::load_u64;

struct Input {
  const std::uint8_t* p;
  std::size_t n;
  bool empty() const { return n == 0; }
  std::uint64_t take(std::size_t bytes) {  // little-endian, zero past the end
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
      if (n > 0) {
        v |= static_cast<std::uint64_t>(*p) << (8 * i);
        ++p;
        --n;
      }
    }
    return v;
  }
};

constexpr const char* kPolicies[] = {"direct", "window:16K", "window:256K", "window:1M"};
constexpr const char* kDarts[] = {"", "slots=4", "aperture=1M", "slots=3,aperture=256K,alloc=best-fit"};

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  const auto config_byte = static_cast<unsigned>(in.take(1));
  dartlab::test::FakeGuest guest(0x100000, 1u << 20);
  guest.record = false;
  const AdmaHostOps ops = guest.ops();
  // Bit 7 swaps the interface's default compat (rfc under 2, strict under 3) for the other one.
  const int interface_version = (config_byte & 1) ? 3 : 2;
  const bool swapped = (config_byte >> 7) & 1;
  const int compat = (interface_version == 2) != swapped ? ADMA_COMPAT_RFC : ADMA_COMPAT_STRICT;
  const AdmaConfig config{interface_version, kPolicies[(config_byte >> 1) & 3], kDarts[(config_byte >> 3) & 3],
                          1u + ((config_byte >> 5) & 3) * 9, compat, ADMA_RESET_DEFAULT};
  std::unique_ptr<AdmaDevice, void (*)(AdmaDevice*)> dev(adma_create(&config, &ops, &guest, nullptr, 0), &adma_destroy);
  check(dev != nullptr);
  const std::uint64_t base = guest.ram_base;
  const std::uint64_t slots = adma_stat(dev.get(), ADMA_STAT_SLOT_CAPACITY);

  while (!in.empty()) {
    switch (in.take(1) % 8) {
      case 0: {  // raw bytes into RAM
        const std::uint64_t off = in.take(3) % guest.ram.size();
        const std::uint64_t len = in.take(1);
        for (std::uint64_t i = 0; i < len && off + i < guest.ram.size(); ++i) guest.ram[off + i] = static_cast<std::uint8_t>(in.take(1));
        break;
      }
      case 1: {  // a map entry, mostly inside RAM
        const auto type = static_cast<std::uint32_t>(in.take(1) & 1 ? ADMA_CMD_MAP_REQ : ADMA_CMD_MAP);
        const std::uint64_t slot = in.take(1) % 64;
        dartlab::apple_dma::MapRequest r;
        r.gpa = base + in.take(3) - 0x100;  // a little below RAM too
        r.len = in.take(2);
        r.flags = static_cast<std::uint32_t>(in.take(1) % 5);
        dartlab::apple_dma::EntryBytes b;
        dartlab::apple_dma::encode_map_request(type, r, b);
        const std::uint64_t at = 0x1000 + slot * 24;
        std::memcpy(guest.at(base + at), b.data(), 24);
        break;
      }
      case 2: {  // an unmap entry naming a handle or id the device gave (read back from responses)
        const std::uint64_t slot = in.take(1) % 64;
        const std::uint64_t from = in.take(1) % 64;
        dartlab::apple_dma::UnmapRequest r{guest.u64(base + 0x8000 + from * 24), in.take(2)};
        dartlab::apple_dma::EntryBytes b;
        dartlab::apple_dma::encode_unmap_request(r, b);
        std::memcpy(guest.at(base + 0x1000 + slot * 16), b.data(), 16);
        break;
      }
      case 3: {  // command page and doorbell; addresses near RAM or anywhere
        const std::uint64_t cmd = in.take(1) & 1 ? base + (in.take(3) % (guest.ram.size() + 64)) : in.take(8);
        dartlab::apple_dma::Command c;
        c.type = static_cast<std::uint32_t>(in.take(1) % 6);
        c.count = static_cast<std::uint32_t>(in.take(1) & 0x80 ? in.take(4) : in.take(1) % 70);
        c.reserved = static_cast<std::uint32_t>(in.take(1) == 0xff);
        c.req_gpa = in.take(1) & 1 ? base + 0x1000 : base + in.take(3) - 0x100;
        c.resp_gpa = in.take(1) & 1 ? base + 0x8000 : base + in.take(3) - 0x100;
        std::uint8_t page[dartlab::apple_dma::kCommandBytes];
        dartlab::apple_dma::encode_command(c, page);
        if (guest.contains(cmd, sizeof(page))) std::memcpy(guest.at(cmd), page, sizeof(page));
        adma_mmio_write(dev.get(), ADMA_REG_CMD_GPA_LO, cmd & 0xffffffffu, 4);
        adma_mmio_write(dev.get(), ADMA_REG_CMD_GPA_HI, cmd >> 32, 4);
        adma_mmio_write(dev.get(), ADMA_REG_DOORBELL, 1, 4);
        const auto status = adma_mmio_read(dev.get(), ADMA_REG_STATUS, 4);
        check(status == ADMA_STATUS_OK || status == ADMA_STATUS_IO_ERROR || status == ADMA_STATUS_INVALID);
        break;
      }
      case 4: {  // any register access
        const std::uint64_t off = in.take(2) % 0x1000;
        const unsigned sz = 1u << (in.take(1) % 4);
        if (in.take(1) & 1) {
          adma_mmio_write(dev.get(), off, in.take(8), sz);
        } else {
          (void)adma_mmio_read(dev.get(), off, sz);
        }
        break;
      }
      case 5: {  // the managed device's DMA
        std::uint64_t pa = 0;
        int code = 0;
        const std::uint64_t bus = in.take(4);
        if (adma_translate(dev.get(), bus, static_cast<int>(in.take(1) & 1), &pa, &code) == 0) {
          check(guest.contains(pa, 1));  // a live mapping only ever leads into guest RAM
        }
        break;
      }
      case 6: {  // a reset releases everything (strict) or changes nothing (rfc: the RFC device)
        const std::uint64_t mappings = adma_stat(dev.get(), ADMA_STAT_LIVE_MAPPINGS);
        const std::uint64_t requests = adma_stat(dev.get(), ADMA_STAT_LIVE_REQUESTS);
        adma_reset(dev.get());
        const bool releases = compat == ADMA_COMPAT_STRICT;
        check(adma_stat(dev.get(), ADMA_STAT_LIVE_MAPPINGS) == (releases ? 0 : mappings));
        check(adma_stat(dev.get(), ADMA_STAT_LIVE_REQUESTS) == (releases ? 0 : requests));
        break;
      }
      default: break;
    }
    const std::uint64_t live = adma_stat(dev.get(), ADMA_STAT_LIVE_MAPPINGS);
    check(slots == 0 || live <= slots);
    check(live <= adma_stat(dev.get(), ADMA_STAT_LIVE_REQUESTS));
    check(adma_stat(dev.get(), ADMA_STAT_MAPPED_BYTES) + adma_stat(dev.get(), ADMA_STAT_FREE_BYTES) ==
          adma_stat(dev.get(), ADMA_STAT_APERTURE_BYTES));
  }
  return 0;
}
