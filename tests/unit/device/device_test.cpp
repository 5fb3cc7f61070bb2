// SPDX-License-Identifier: MIT
// The apple-dma device core: interface 2 and 3 commands, the statistics window, limits, reset,
// and translation of the managed device's accesses through the DART.
#include <catch2/catch.hpp>

#include "unit/device/device_fixture.hpp"

using dartlab::test::DeviceUnderTest;

namespace {
constexpr std::uint64_t kGpa = 0x400000;  // inside the fake guest's RAM (1 MiB .. 17 MiB)
}

TEST_CASE("the register file reports version, MAX_ENTRIES and a clean status", "[device]") {
  DeviceUnderTest v2(2), v3(3, "window:256K", "", 64);
  CHECK(v2.drv.reg(ADMA_REG_VERSION) == 2);
  CHECK(v3.drv.reg(ADMA_REG_VERSION) == 3);
  CHECK(v2.drv.reg(ADMA_REG_MAX_ENTRIES) == ADMA_DEFAULT_MAX_ENTRIES);
  CHECK(v3.drv.reg(ADMA_REG_MAX_ENTRIES) == 64);
  CHECK(v2.drv.reg(ADMA_REG_STATUS) == ADMA_STATUS_OK);
  adma_set_managed_bdf(v2.dev.get(), 0x0018);
  CHECK(v2.drv.reg(ADMA_REG_MANAGED_BDF) == 0x0018);
  CHECK(v2.drv.stat(ADMA_STAT_APERTURE_BYTES) == 1536ull << 20);
  CHECK(v2.drv.stat(ADMA_STAT_SLOT_CAPACITY) == 65536);
}

TEST_CASE("an interface 2 map batch maps each range directly and answers id, dma_addr, dma_len", "[device][v2]") {
  DeviceUnderTest t(2);
  auto& d = t.drv;
  d.put_map(ADMA_CMD_MAP, 0, kGpa + 0x10, 0x100, ADMA_DIR_TO_DEVICE);
  d.put_map(ADMA_CMD_MAP, 1, kGpa + 0x5000, 0x1000, ADMA_DIR_FROM_DEVICE);
  // The same 16 KiB page again: `direct` keys host mappings by page range, so it is shared.
  d.put_map(ADMA_CMD_MAP, 2, kGpa + 0x5000, 0x1000, ADMA_DIR_BIDIRECTIONAL);
  REQUIRE(d.ring(ADMA_CMD_MAP, 3) == ADMA_STATUS_OK);
  CHECK(d.command_status() == ADMA_STATUS_OK);
  for (std::uint32_t i = 0; i < 3; ++i) CHECK(d.resp_status(ADMA_CMD_MAP, i) == ADMA_STATUS_OK);
  CHECK(d.resp_word(ADMA_CMD_MAP, 0, 16) == 0x100);  // dma_len
  CHECK(d.resp_dma(ADMA_CMD_MAP, 1) == d.resp_dma(ADMA_CMD_MAP, 2));
  CHECK(d.resp_handle(ADMA_CMD_MAP, 1) != d.resp_handle(ADMA_CMD_MAP, 2));
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 2);
  CHECK(d.stat(ADMA_STAT_LIVE_REQUESTS) == 3);
  CHECK(d.stat(ADMA_STAT_MAPPED_BYTES) == 2 * 16384);
  CHECK(d.stat(ADMA_STAT_REQUESTED_BYTES) == 0x2100);
  CHECK(d.stat(ADMA_STAT_MAP_ENTRIES) == 3);

  std::uint64_t pa = 0;
  REQUIRE(adma_translate(t.dev.get(), d.resp_dma(ADMA_CMD_MAP, 0) + 4, 0, &pa, nullptr) == 0);
  CHECK(pa == kGpa + 0x14);

  const std::uint64_t id0 = d.resp_handle(ADMA_CMD_MAP, 0);
  const std::uint64_t id1 = d.resp_handle(ADMA_CMD_MAP, 1);
  const std::uint64_t bus0 = d.resp_dma(ADMA_CMD_MAP, 0) & ~std::uint64_t{0x3fff};
  const std::uint64_t bus1 = d.resp_dma(ADMA_CMD_MAP, 1) & ~std::uint64_t{0x3fff};
  d.put_unmap(ADMA_CMD_UNMAP, 0, id0, 0x100);
  d.put_unmap(ADMA_CMD_UNMAP, 1, id1, 0x1000);
  REQUIRE(d.ring(ADMA_CMD_UNMAP, 2) == ADMA_STATUS_OK);
  CHECK(d.resp_handle(ADMA_CMD_UNMAP, 1) == id1);
  CHECK(d.resp_status(ADMA_CMD_UNMAP, 1) == ADMA_STATUS_OK);
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 1);  // entry 2 still holds the shared page
  CHECK(d.stat(ADMA_STAT_UNMAP_ENTRIES) == 2);
  // The glue heard of each host mapping made and of the one that went away, whole DART pages.
  // The mapper maps every host mapping both ways: it may come to serve either direction.
  REQUIRE(t.guest.host_maps.size() == 2);
  CHECK(t.guest.host_maps[0].bus_addr == bus0);
  CHECK(t.guest.host_maps[0].len == 16384);
  CHECK(t.guest.host_maps[0].gpa == ((kGpa + 0x10) & ~std::uint64_t{0x3fff}));
  CHECK(t.guest.host_maps[0].perm == (ADMA_PERM_READ | ADMA_PERM_WRITE));
  CHECK(t.guest.host_maps[1].bus_addr == bus1);
  CHECK(t.guest.host_maps[1].gpa == ((kGpa + 0x5000) & ~std::uint64_t{0x3fff}));
  REQUIRE(t.guest.host_unmaps.size() == 1);  // one host mapping went away
  CHECK(t.guest.host_unmaps[0].bus_addr == bus0);
  CHECK(t.guest.host_unmaps[0].len == 16384);
  CHECK(t.guest.invalidations == 0);  // never the whole space outside a reset
  int fault = 0;
  CHECK(adma_translate(t.dev.get(), d.resp_dma(ADMA_CMD_MAP, 0), 0, &pa, &fault) == 1);
  CHECK(fault != ADMA_FAULT_NONE);
  CHECK(t.guest.errors.empty());
}

TEST_CASE("the statistics window counts host map and unmap calls and the peak of mapped bytes", "[device]") {
  DeviceUnderTest t(3, "window:256K");
  auto& d = t.drv;
  d.put_map(ADMA_CMD_MAP_REQ, 0, kGpa, 0x1000, ADMA_DIR_TO_DEVICE);            // window A
  d.put_map(ADMA_CMD_MAP_REQ, 1, kGpa + 0x2000, 0x1000, ADMA_DIR_TO_DEVICE);   // window A again
  d.put_map(ADMA_CMD_MAP_REQ, 2, kGpa + 0x40000, 0x1000, ADMA_DIR_TO_DEVICE);  // window B
  REQUIRE(d.ring(ADMA_CMD_MAP_REQ, 3) == ADMA_STATUS_OK);
  CHECK(d.stat(ADMA_STAT_HOST_MAP_CALLS) == 2);
  CHECK(d.stat(ADMA_STAT_PEAK_MAPPED_BYTES) == 2 * 256 * 1024);
  // The glue hears of each window whole; a window may serve either direction: both permissions.
  REQUIRE(t.guest.host_maps.size() == 2);
  CHECK(t.guest.host_maps[0].bus_addr == d.resp_dma(ADMA_CMD_MAP_REQ, 0));
  CHECK(t.guest.host_maps[0].len == 256 * 1024);
  CHECK(t.guest.host_maps[0].gpa == kGpa);
  CHECK(t.guest.host_maps[0].perm == (ADMA_PERM_READ | ADMA_PERM_WRITE));
  CHECK(t.guest.host_maps[1].gpa == kGpa + 0x40000);
  for (std::uint32_t i = 0; i < 3; ++i) d.put_unmap(ADMA_CMD_UNMAP_REQ, i, d.resp_handle(ADMA_CMD_MAP_REQ, i), 0x1000);
  REQUIRE(d.ring(ADMA_CMD_UNMAP_REQ, 3) == ADMA_STATUS_OK);
  CHECK(d.stat(ADMA_STAT_HOST_UNMAP_CALLS) == 2);
  REQUIRE(t.guest.host_unmaps.size() == 2);
  CHECK(t.guest.host_unmaps[0].bus_addr == t.guest.host_maps[0].bus_addr);
  CHECK(t.guest.host_unmaps[0].len == 256 * 1024);
  CHECK(t.guest.host_unmaps[1].bus_addr == t.guest.host_maps[1].bus_addr);
  CHECK(d.stat(ADMA_STAT_MAPPED_BYTES) == 0);
  CHECK(d.stat(ADMA_STAT_PEAK_MAPPED_BYTES) == 2 * 256 * 1024);  // a peak outlives the mappings
  // A refused map is no host map call.
  DeviceUnderTest small(3, "direct", "slots=1");
  small.drv.put_map(ADMA_CMD_MAP_REQ, 0, kGpa, 0x1000, ADMA_DIR_TO_DEVICE);
  small.drv.put_map(ADMA_CMD_MAP_REQ, 1, kGpa + 0x10000, 0x1000, ADMA_DIR_TO_DEVICE);
  CHECK(small.drv.ring(ADMA_CMD_MAP_REQ, 2) == ADMA_STATUS_IO_ERROR);
  CHECK(small.drv.stat(ADMA_STAT_HOST_MAP_CALLS) == 1);
  CHECK(small.drv.stat(ADMA_STAT_FAIL_SLOTS) == 1);
}

TEST_CASE("interface 3 requests go through the policy: one window serves two requests", "[device][v3]") {
  DeviceUnderTest t(3, "window:256K");
  auto& d = t.drv;
  d.put_map(ADMA_CMD_MAP_REQ, 0, kGpa + 0x1000, 0x1000, ADMA_DIR_TO_DEVICE);
  d.put_map(ADMA_CMD_MAP_REQ, 1, kGpa + 0x9000, 0x1000, ADMA_DIR_FROM_DEVICE);
  REQUIRE(d.ring(ADMA_CMD_MAP_REQ, 2) == ADMA_STATUS_OK);
  CHECK(d.resp_dma(ADMA_CMD_MAP_REQ, 1) - d.resp_dma(ADMA_CMD_MAP_REQ, 0) == 0x8000);
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 1);
  CHECK(d.stat(ADMA_STAT_LIVE_REQUESTS) == 2);
  CHECK(d.stat(ADMA_STAT_MAPPED_BYTES) == 256 * 1024);
  REQUIRE(t.guest.maps.size() == 2);
  CHECK(t.guest.maps[1].gpa == kGpa + 0x9000);
  CHECK(t.guest.maps[1].dir == ADMA_DIR_FROM_DEVICE);
  CHECK(t.guest.maps[1].handle == d.resp_handle(ADMA_CMD_MAP_REQ, 1));
  CHECK(t.guest.maps[1].dma_addr == d.resp_dma(ADMA_CMD_MAP_REQ, 1));

  const std::uint64_t h0 = d.resp_handle(ADMA_CMD_MAP_REQ, 0);
  const std::uint64_t h1 = d.resp_handle(ADMA_CMD_MAP_REQ, 1);
  d.put_unmap(ADMA_CMD_UNMAP_REQ, 0, h0, 0x1000);
  REQUIRE(d.ring(ADMA_CMD_UNMAP_REQ, 1) == ADMA_STATUS_OK);
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 1);  // h1 still holds the window
  d.put_unmap(ADMA_CMD_UNMAP_REQ, 0, h1, 0x1000);
  REQUIRE(d.ring(ADMA_CMD_UNMAP_REQ, 1) == ADMA_STATUS_OK);
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 0);
  CHECK(d.stat(ADMA_STAT_LIVE_REQUESTS) == 0);
  REQUIRE(t.guest.unmaps.size() == 2);
  CHECK(t.guest.unmaps[1].handle == h1);
  CHECK(t.guest.unmaps[1].len == 0x1000);
}

TEST_CASE("interface 3 keeps the interface 2 commands, which map directly", "[device][v3]") {
  DeviceUnderTest t(3, "window:1M");
  t.drv.put_map(ADMA_CMD_MAP, 0, kGpa, 0x1000, 0);
  REQUIRE(t.drv.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_OK);
  CHECK(t.drv.stat(ADMA_STAT_MAPPED_BYTES) == 16384);
}

TEST_CASE("a DART of 4 slots refuses the fifth mapping with status 1 and reason slots", "[device][limits]") {
  DeviceUnderTest t(3, "direct", "slots=4");
  auto& d = t.drv;
  for (std::uint32_t i = 0; i < 5; ++i) d.put_map(ADMA_CMD_MAP_REQ, i, kGpa + i * 0x10000, 0x1000, 0);
  REQUIRE(d.ring(ADMA_CMD_MAP_REQ, 5) == ADMA_STATUS_IO_ERROR);
  for (std::uint32_t i = 0; i < 4; ++i) CHECK(d.resp_status(ADMA_CMD_MAP_REQ, i) == ADMA_STATUS_OK);
  CHECK(d.resp_status(ADMA_CMD_MAP_REQ, 4) == ADMA_STATUS_IO_ERROR);
  CHECK(d.resp_word(ADMA_CMD_MAP_REQ, 4, 20) == ADMA_REASON_SLOTS);
  CHECK(d.resp_handle(ADMA_CMD_MAP_REQ, 4) == 0);
  CHECK(d.reg(ADMA_REG_LAST_ERROR_REASON) == ADMA_REASON_SLOTS);
  CHECK(d.stat(ADMA_STAT_FAIL_SLOTS) == 1);
  CHECK(d.stat(ADMA_STAT_SLOT_CAPACITY) == 4);
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 4);
  CHECK(t.guest.errors.empty());  // a full host is not the guest's bug
}

TEST_CASE("a 1 MiB aperture refuses what does not fit with status 1 and reason aperture", "[device][limits]") {
  DeviceUnderTest t(2, "direct", "aperture=1M");
  auto& d = t.drv;
  d.put_map(ADMA_CMD_MAP, 0, kGpa, 0x80000, 0);
  d.put_map(ADMA_CMD_MAP, 1, kGpa + 0x100000, 0x80000, 0);
  d.put_map(ADMA_CMD_MAP, 2, kGpa + 0x200000, 0x80000, 0);
  REQUIRE(d.ring(ADMA_CMD_MAP, 3) == ADMA_STATUS_IO_ERROR);
  CHECK(d.resp_status(ADMA_CMD_MAP, 1) == ADMA_STATUS_OK);
  CHECK(d.resp_status(ADMA_CMD_MAP, 2) == ADMA_STATUS_IO_ERROR);
  CHECK(d.reg(ADMA_REG_LAST_ERROR_REASON) == ADMA_REASON_APERTURE);
  CHECK(d.stat(ADMA_STAT_FAIL_APERTURE) == 1);
  CHECK(d.stat(ADMA_STAT_APERTURE_BYTES) == 1u << 20);
}

TEST_CASE("a batch of exactly MAX_ENTRIES runs; one more is refused whole", "[device]") {
  DeviceUnderTest t(3, "direct", "", 64);
  auto& d = t.drv;
  for (std::uint32_t i = 0; i < 65; ++i) d.put_map(ADMA_CMD_MAP_REQ, i, kGpa + i * 0x4000, 0x1000, 0);
  CHECK(d.ring(ADMA_CMD_MAP_REQ, 65) == ADMA_STATUS_INVALID);
  CHECK(d.reg(ADMA_REG_INVALID_CAUSE) == ADMA_CAUSE_COUNT_TOO_LARGE);
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 0);
  REQUIRE(d.ring(ADMA_CMD_MAP_REQ, 64) == ADMA_STATUS_OK);
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 64);
}

TEST_CASE("reset releases every mapping, clears registers and counters, and traces the live count", "[device]") {
  DeviceUnderTest t(3, "window:256K");
  auto& d = t.drv;
  d.put_map(ADMA_CMD_MAP_REQ, 0, kGpa, 0x1000, 0);
  d.put_map(ADMA_CMD_MAP_REQ, 1, kGpa + 0x100000, 0x1000, 0);
  REQUIRE(d.ring(ADMA_CMD_MAP_REQ, 2) == ADMA_STATUS_OK);
  d.put_map(ADMA_CMD_MAP, 0, kGpa, 0x1000, 0);
  REQUIRE(d.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_OK);
  const std::uint64_t dma = d.resp_dma(ADMA_CMD_MAP, 0);
  const std::uint64_t id = d.resp_handle(ADMA_CMD_MAP, 0);
  REQUIRE(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 3);

  adma_reset(t.dev.get());
  REQUIRE(t.guest.resets.size() == 1);
  CHECK(t.guest.resets[0] == 3);
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 0);
  CHECK(d.stat(ADMA_STAT_LIVE_REQUESTS) == 0);
  CHECK(d.stat(ADMA_STAT_MAPPED_BYTES) == 0);
  CHECK(d.stat(ADMA_STAT_FREE_BYTES) == d.stat(ADMA_STAT_APERTURE_BYTES));
  CHECK(d.stat(ADMA_STAT_DOORBELLS) == 0);
  std::uint64_t pa = 0;
  CHECK(adma_translate(t.dev.get(), dma, 0, &pa, nullptr) == 1);
  // The command page address is forgotten too; an id from before the reset is dead.
  adma_mmio_write(t.dev.get(), ADMA_REG_DOORBELL, 1, 4);
  CHECK(d.reg(ADMA_REG_INVALID_CAUSE) == ADMA_CAUSE_NO_COMMAND_PAGE);
  d.put_unmap(ADMA_CMD_UNMAP, 0, id, 0x1000);
  CHECK(d.ring(ADMA_CMD_UNMAP, 1) == ADMA_STATUS_INVALID);
  CHECK(d.reg(ADMA_REG_INVALID_CAUSE) == ADMA_CAUSE_UNKNOWN_HANDLE);
}

TEST_CASE("an access outside a live mapping is a fault: counted, latched, cleared by a write", "[device][iommu]") {
  DeviceUnderTest t(2);
  auto& d = t.drv;
  d.put_map(ADMA_CMD_MAP, 0, kGpa, 0x1000, ADMA_DIR_TO_DEVICE);
  REQUIRE(d.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_OK);
  const std::uint64_t dma = d.resp_dma(ADMA_CMD_MAP, 0);
  std::uint64_t pa = 0;
  int fault = 0;
  CHECK(adma_translate(t.dev.get(), dma, 0, &pa, &fault) == 0);
  CHECK(d.reg(ADMA_REG_FAULT_STATUS) == 0);
  CHECK(adma_translate(t.dev.get(), dma + 0x100000, 1, &pa, &fault) == 1);
  CHECK(fault != ADMA_FAULT_NONE);
  CHECK(d.reg(ADMA_REG_FAULT_ADDR_LO) == ((dma + 0x100000) & 0xffffffffu));
  CHECK(d.reg(ADMA_REG_FAULT_STATUS) != 0);
  CHECK(d.stat(ADMA_STAT_DART_FAULTS) == 1);
  CHECK(d.stat(ADMA_STAT_LAST_FAULT_CODE) == static_cast<std::uint64_t>(fault));
  adma_mmio_write(t.dev.get(), ADMA_REG_FAULT_STATUS, 0, 4);
  CHECK(d.reg(ADMA_REG_FAULT_STATUS) == 0);
  CHECK(d.stat(ADMA_STAT_DART_FAULTS) == 1);  // the counter stays
}

TEST_CASE("statistics read as one 8-byte access equal two 4-byte halves", "[device]") {
  DeviceUnderTest t(2);
  const std::uint64_t off = ADMA_STATS_BASE + 8 * ADMA_STAT_APERTURE_BYTES;
  const std::uint64_t whole = adma_mmio_read(t.dev.get(), off, 8);
  const std::uint64_t lo = adma_mmio_read(t.dev.get(), off, 4);
  const std::uint64_t hi = adma_mmio_read(t.dev.get(), off + 4, 4);
  CHECK(whole == (hi << 32 | lo));
  CHECK(t.guest.errors.empty());
}

TEST_CASE("a bad configuration is refused with a message naming the property", "[device]") {
  dartlab::test::FakeGuest g;
  const AdmaHostOps ops = g.ops();
  char err[256] = {};
  SECTION("interface=4 is refused and named") {
    AdmaConfig c{4, nullptr, nullptr, 0, 0, 0};
    CHECK(adma_create(&c, &ops, &g, err, sizeof(err)) == nullptr);
    CHECK_THAT(err, Catch::Contains("interface=4"));
  }
  SECTION("policy=window:3K is refused and named") {
    AdmaConfig c{3, "window:3K", nullptr, 0, 0, 0};
    CHECK(adma_create(&c, &ops, &g, err, sizeof(err)) == nullptr);
    CHECK_THAT(err, Catch::Contains("policy=window:3K"));
  }
  SECTION("dart=slots=lots is refused and named") {
    AdmaConfig c{3, nullptr, "slots=lots", 0, 0, 0};
    CHECK(adma_create(&c, &ops, &g, err, sizeof(err)) == nullptr);
    CHECK_THAT(err, Catch::Contains("dart=slots=lots"));
  }
  SECTION("a max-entries above the limit is refused and named") {
    AdmaConfig c{3, nullptr, nullptr, ADMA_MAX_MAX_ENTRIES + 1, 0, 0};
    CHECK(adma_create(&c, &ops, &g, err, sizeof(err)) == nullptr);
    CHECK_THAT(err, Catch::Contains("max-entries"));
  }
  SECTION("compat=3 is refused and named") {
    AdmaConfig c{2, nullptr, nullptr, 0, 3, 0};
    CHECK(adma_create(&c, &ops, &g, err, sizeof(err)) == nullptr);
    CHECK_THAT(err, Catch::Contains("compat=3"));
  }
  SECTION("reset-releases=-1 is refused and named") {
    AdmaConfig c{2, nullptr, nullptr, 0, 0, -1};
    CHECK(adma_create(&c, &ops, &g, err, sizeof(err)) == nullptr);
    CHECK_THAT(err, Catch::Contains("reset-releases"));
  }
}
