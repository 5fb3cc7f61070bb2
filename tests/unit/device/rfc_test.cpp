// SPDX-License-Identifier: MIT
// compat=rfc: interface 2 exactly as the RFC device the seed guest module drives (id = the gpa,
// sizes, flags and reserved ignored, duplicates and unknown ids answered status 1, regions cut
// at the host's chunk, lenient registers, no reset release), beside today's strict behaviour.
#include <catch2/catch.hpp>

#include "unit/device/device_fixture.hpp"

using dartlab::test::DeviceUnderTest;

namespace {
constexpr std::uint64_t kGpa = 0x400000;  // inside the fake guest's RAM (1 MiB .. 17 MiB)
constexpr std::uint64_t kWindow = 256 * 1024;

DeviceUnderTest rfc_device(const char* dart = "", int reset = ADMA_RESET_DEFAULT) {
  return DeviceUnderTest(2, "direct", dart, 0, ADMA_COMPAT_DEFAULT, reset);
}
}  // namespace

TEST_CASE("interface 2 defaults to the RFC's behaviour and interface 3 to strict", "[device][rfc]") {
  DeviceUnderTest v2(2, "direct", "", 0, ADMA_COMPAT_DEFAULT), v3(3, "direct", "", 0, ADMA_COMPAT_DEFAULT);
  // A reserved word the RFC ignores: invalid under strict (interface 3's default).
  for (auto* t : {&v2, &v3}) {
    t->drv.put_map(ADMA_CMD_MAP, 0, kGpa, 0x1000, 0);
    std::uint8_t page[dartlab::apple_dma::kCommandBytes];
    dartlab::apple_dma::encode_command({ADMA_CMD_MAP, 1, 7, t->drv.req_gpa, t->drv.resp_gpa}, page);
    std::copy(page, page + sizeof(page), t->guest.at(t->drv.cmd_gpa));
    t->drv.set_command_page(t->drv.cmd_gpa);
    adma_mmio_write(t->dev.get(), ADMA_REG_DOORBELL, 1, 4);
  }
  CHECK(v2.drv.reg(ADMA_REG_STATUS) == ADMA_STATUS_OK);
  CHECK(v3.drv.reg(ADMA_REG_STATUS) == ADMA_STATUS_INVALID);
}

TEST_CASE("the seed module's sequence: one window per doorbell, id = the gpa, unmapped by id with the window's size",
          "[device][rfc]") {
  auto t = rfc_device();
  auto& d = t.drv;
  for (std::uint64_t w = 0; w < 3; ++w) {
    d.put_map(ADMA_CMD_MAP, 0, kGpa + w * kWindow, kWindow, 0x5a5a5a5a);  // flags: ignored
    REQUIRE(d.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_OK);
    CHECK(d.resp_status(ADMA_CMD_MAP, 0) == ADMA_STATUS_OK);
    CHECK(d.resp_handle(ADMA_CMD_MAP, 0) == kGpa + w * kWindow);  // id = the gpa
    CHECK(d.resp_word(ADMA_CMD_MAP, 0, 16) == kWindow);            // dma_len
    std::uint64_t pa = 0;
    REQUIRE(adma_translate(t.dev.get(), d.resp_dma(ADMA_CMD_MAP, 0) + 0x123, 1, &pa, nullptr) == 0);
    CHECK(pa == kGpa + w * kWindow + 0x123);
  }
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 3);
  CHECK(d.stat(ADMA_STAT_LIVE_REQUESTS) == 3);
  CHECK(d.stat(ADMA_STAT_REQUESTED_BYTES) == 3 * kWindow);
  for (std::uint64_t w = 0; w < 3; ++w) {
    d.put_unmap(ADMA_CMD_UNMAP, 0, kGpa + w * kWindow, 0xdeadbeef);  // size: ignored
    REQUIRE(d.ring(ADMA_CMD_UNMAP, 1) == ADMA_STATUS_OK);
    CHECK(d.resp_handle(ADMA_CMD_UNMAP, 0) == kGpa + w * kWindow);
    CHECK(d.resp_status(ADMA_CMD_UNMAP, 0) == ADMA_STATUS_OK);
  }
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 0);
  CHECK(d.stat(ADMA_STAT_HOST_MAP_CALLS) == 3);
  CHECK(d.stat(ADMA_STAT_HOST_UNMAP_CALLS) == 3);
  CHECK(t.guest.errors.empty());
}

TEST_CASE("a gpa mapped twice is refused as still open and an unknown id as not found, both status 1",
          "[device][rfc]") {
  auto t = rfc_device();
  auto& d = t.drv;
  d.put_map(ADMA_CMD_MAP, 0, kGpa, kWindow, 0);
  d.put_map(ADMA_CMD_MAP, 1, kGpa, 2 * kWindow, 0);  // another size, the same gpa: the host's key
  d.put_map(ADMA_CMD_MAP, 2, kGpa + kWindow, 0x1000, 0);
  CHECK(d.ring(ADMA_CMD_MAP, 3) == ADMA_STATUS_IO_ERROR);  // one entry failed, the others ran
  CHECK(d.resp_status(ADMA_CMD_MAP, 0) == ADMA_STATUS_OK);
  CHECK(d.resp_status(ADMA_CMD_MAP, 1) == ADMA_STATUS_IO_ERROR);
  CHECK(d.resp_dma(ADMA_CMD_MAP, 1) == 0);
  CHECK(d.resp_status(ADMA_CMD_MAP, 2) == ADMA_STATUS_OK);
  CHECK(d.stat(ADMA_STAT_FAIL_STILL_OPEN) == 1);
  CHECK(d.reg(ADMA_REG_LAST_ERROR_REASON) == ADMA_REASON_STILL_OPEN);
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 2);

  d.put_unmap(ADMA_CMD_UNMAP, 0, kGpa + 0x5000, 0);
  CHECK(d.ring(ADMA_CMD_UNMAP, 1) == ADMA_STATUS_IO_ERROR);
  CHECK(d.resp_status(ADMA_CMD_UNMAP, 0) == ADMA_STATUS_IO_ERROR);
  CHECK(d.stat(ADMA_STAT_FAIL_NOT_FOUND) == 1);
  CHECK(d.reg(ADMA_REG_LAST_ERROR_REASON) == ADMA_REASON_NOT_FOUND);
  // Unmapped, the gpa can be registered again.
  d.put_unmap(ADMA_CMD_UNMAP, 0, kGpa, 0);
  REQUIRE(d.ring(ADMA_CMD_UNMAP, 1) == ADMA_STATUS_OK);
  d.put_map(ADMA_CMD_MAP, 0, kGpa, 2 * kWindow, 0);
  CHECK(d.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_OK);
  CHECK(t.guest.errors.size() == 2);  // each refusal is logged
}

TEST_CASE("strict keeps its checks where rfc answers status 1 or goes on", "[device][rfc]") {
  DeviceUnderTest strict(2, "direct", "", 0, ADMA_COMPAT_STRICT);
  auto rfc = rfc_device();
  SECTION("an unmap of an unknown id is invalid under strict and status 1 under rfc") {
    strict.drv.put_unmap(ADMA_CMD_UNMAP, 0, 0x1234, 0x1000);
    rfc.drv.put_unmap(ADMA_CMD_UNMAP, 0, 0x1234, 0x1000);
    CHECK(strict.drv.ring(ADMA_CMD_UNMAP, 1) == ADMA_STATUS_INVALID);
    CHECK(rfc.drv.ring(ADMA_CMD_UNMAP, 1) == ADMA_STATUS_IO_ERROR);
  }
  SECTION("a map of a range that is not RAM is invalid under strict and status 1 under rfc") {
    strict.drv.put_map(ADMA_CMD_MAP, 0, 0xf0000000, 0x1000, 0);
    rfc.drv.put_map(ADMA_CMD_MAP, 0, 0xf0000000, 0x1000, 0);
    CHECK(strict.drv.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_INVALID);
    CHECK(rfc.drv.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_IO_ERROR);
  }
  SECTION("flags beyond the direction are invalid under strict and go through under rfc") {
    strict.drv.put_map(ADMA_CMD_MAP, 0, kGpa, 0x1000, 0x100);
    rfc.drv.put_map(ADMA_CMD_MAP, 0, kGpa, 0x1000, 0x100);
    CHECK(strict.drv.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_INVALID);
    CHECK(rfc.drv.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_OK);
  }
  SECTION("a register offset that does not exist: read 0, write ignored, logged, STATUS untouched") {
    for (auto* t : {&strict, &rfc}) {
      CHECK(adma_mmio_read(t->dev.get(), 0x80, 4) == 0);
      adma_mmio_write(t->dev.get(), 0x84, 1, 4);
      CHECK(t->guest.errors.size() == 2);
    }
    CHECK(strict.drv.reg(ADMA_REG_STATUS) == ADMA_STATUS_INVALID);
    CHECK(rfc.drv.reg(ADMA_REG_STATUS) == ADMA_STATUS_OK);
    CHECK(rfc.drv.stat(ADMA_STAT_INVALID_COMMANDS) == 0);
  }
  SECTION("an array address of 0 is refused by both") {
    CHECK(rfc.drv.ring(ADMA_CMD_MAP, 1, 0, rfc.drv.resp_gpa) == ADMA_STATUS_INVALID);
  }
}

TEST_CASE("a region longer than the host's 1.5 GiB chunk comes back cut, status 0, dma_len short", "[device][rfc]") {
  // A guest whose RAM reaches past 2 GiB (only its first 16 MiB backed: the commands live there,
  // and mapping reads no data), and a DART aperture that could hold it all.
  dartlab::test::FakeGuest big;
  AdmaConfig c{2, nullptr, "aperture=4G", 0, ADMA_COMPAT_RFC, ADMA_RESET_DEFAULT};
  AdmaHostOps ops = big.ops();
  ops.is_ram = [](void*, std::uint64_t gpa, std::uint64_t len) {
    return gpa >= 0x100000 && gpa + len <= 0x100000 + (3ull << 30) ? 1 : 0;
  };
  char err[256] = {};
  std::unique_ptr<AdmaDevice, void (*)(AdmaDevice*)> dev(adma_create(&c, &ops, &big, err, sizeof(err)), &adma_destroy);
  REQUIRE(dev != nullptr);
  dartlab::test::GuestDriver d(big, dev.get());
  d.put_map(ADMA_CMD_MAP, 0, 0x200000, 0x80000000u, 0);  // 2 GiB
  REQUIRE(d.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_OK);
  CHECK(d.resp_status(ADMA_CMD_MAP, 0) == ADMA_STATUS_OK);
  CHECK(d.resp_word(ADMA_CMD_MAP, 0, 16) == 1536u << 20);
  CHECK(d.stat(ADMA_STAT_MAPPED_BYTES) == 1536ull << 20);
  std::uint64_t pa = 0;
  CHECK(adma_translate(dev.get(), d.resp_dma(ADMA_CMD_MAP, 0) + (1536ull << 20) - 1, 0, &pa, nullptr) == 0);
  CHECK(adma_translate(dev.get(), d.resp_dma(ADMA_CMD_MAP, 0) + (1536ull << 20), 0, &pa, nullptr) == 1);
}

TEST_CASE("a reset keeps the RFC device's registrations unless reset-releases is on", "[device][rfc]") {
  for (const int reset : {ADMA_RESET_DEFAULT, ADMA_RESET_RELEASE}) {
    auto t = rfc_device("", reset);
    t.drv.put_map(ADMA_CMD_MAP, 0, kGpa, kWindow, 0);
    REQUIRE(t.drv.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_OK);
    const std::uint64_t dma = t.drv.resp_dma(ADMA_CMD_MAP, 0);
    adma_reset(t.dev.get());
    std::uint64_t pa = 0;
    const bool kept = adma_translate(t.dev.get(), dma, 0, &pa, nullptr) == 0;
    CHECK(kept == (reset == ADMA_RESET_DEFAULT));
    // A rebooted guest mapping the same gpa: refused while the old registration lives.
    t.drv.set_command_page(t.drv.cmd_gpa);
    t.drv.put_map(ADMA_CMD_MAP, 0, kGpa, kWindow, 0);
    CHECK(t.drv.ring(ADMA_CMD_MAP, 1) == (kept ? ADMA_STATUS_IO_ERROR : ADMA_STATUS_OK));
  }
}
