// SPDX-License-Identifier: MIT
// The bounce and cap policies inside the device: bounce copies between a request's memory and its
// slot in the pool (the managed device's DMA reaches the slot), cap refuses with a reason the
// guest can act on.
#include <catch2/catch.hpp>

#include <vector>

#include "unit/device/device_fixture.hpp"

using dartlab::test::DeviceUnderTest;

namespace {
constexpr std::uint64_t kGpa = 0x400000;   // inside the fake guest's RAM (1 MiB .. 17 MiB)
constexpr std::uint64_t kPool = 0xc00000;  // 1 MiB of it, the pool

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + 13 * i);
  return v;
}
}  // namespace

TEST_CASE("under bounce the managed device's DMA reaches the slot, filled at the map and copied back at the unmap",
          "[device][bounce]") {
  DeviceUnderTest t(3, "bounce:1M,at=0xc00000");
  auto& d = t.drv;
  const auto out = pattern(3000, 1);
  std::copy(out.begin(), out.end(), t.guest.at(kGpa + 0x100));
  d.put_map(ADMA_CMD_MAP_REQ, 0, kGpa + 0x100, out.size(), ADMA_DIR_TO_DEVICE);
  d.put_map(ADMA_CMD_MAP_REQ, 1, kGpa + 0x8000, 0x1000, ADMA_DIR_FROM_DEVICE);
  REQUIRE(d.ring(ADMA_CMD_MAP_REQ, 2) == ADMA_STATUS_OK);
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 1);  // the pool, mapped once
  CHECK(d.stat(ADMA_STAT_MAPPED_BYTES) == 1u << 20);

  // What the device reads through the first DMA address is the request's data, from the pool.
  std::uint64_t pa = 0;
  REQUIRE(adma_translate(t.dev.get(), d.resp_dma(ADMA_CMD_MAP_REQ, 0), 0, &pa, nullptr) == 0);
  CHECK(pa >= kPool);
  CHECK(pa < kPool + (1u << 20));
  CHECK(std::equal(out.begin(), out.end(), t.guest.at(pa)));
  CHECK(d.stat(ADMA_STAT_BOUNCE_BYTES) == out.size());  // the from-device one was not copied in

  // The device writes the second request's slot; the unmap brings it home.
  REQUIRE(adma_translate(t.dev.get(), d.resp_dma(ADMA_CMD_MAP_REQ, 1), 1, &pa, nullptr) == 0);
  const auto in = pattern(0x1000, 7);
  std::copy(in.begin(), in.end(), t.guest.at(pa));
  d.put_unmap(ADMA_CMD_UNMAP_REQ, 0, d.resp_handle(ADMA_CMD_MAP_REQ, 1), 0x1000);
  d.put_unmap(ADMA_CMD_UNMAP_REQ, 1, d.resp_handle(ADMA_CMD_MAP_REQ, 0), out.size());
  REQUIRE(d.ring(ADMA_CMD_UNMAP_REQ, 2) == ADMA_STATUS_OK);
  CHECK(std::equal(in.begin(), in.end(), t.guest.at(kGpa + 0x8000)));
  CHECK(std::equal(out.begin(), out.end(), t.guest.at(kGpa + 0x100)));  // to-device: never copied back
  CHECK(d.stat(ADMA_STAT_BOUNCE_BYTES) == out.size() + 0x1000);
}

TEST_CASE("a full pool refuses with reason pool; a pool that is no guest RAM, or left at 0, is refused at creation",
          "[device][bounce]") {
  DeviceUnderTest t(3, "bounce:64K,at=0xc00000");
  t.drv.put_map(ADMA_CMD_MAP_REQ, 0, kGpa, 48 * 1024, ADMA_DIR_TO_DEVICE);
  t.drv.put_map(ADMA_CMD_MAP_REQ, 1, kGpa + 0x10000, 32 * 1024, ADMA_DIR_TO_DEVICE);
  CHECK(t.drv.ring(ADMA_CMD_MAP_REQ, 2) == ADMA_STATUS_IO_ERROR);
  CHECK(t.drv.resp_status(ADMA_CMD_MAP_REQ, 0) == ADMA_STATUS_OK);
  CHECK(t.drv.resp_word(ADMA_CMD_MAP_REQ, 1, dartlab::apple_dma::response_reason_offset(ADMA_CMD_MAP_REQ)) == ADMA_REASON_POOL);
  CHECK(t.drv.stat(ADMA_STAT_FAIL_POOL) == 1);

  dartlab::test::FakeGuest g;
  const AdmaHostOps ops = g.ops();
  char err[256] = {};
  for (const char* policy : {"bounce:1M", "bounce:1M,at=0x40000000"}) {
    INFO(policy);
    AdmaConfig c{3, policy, nullptr, 0, 0, 0};
    CHECK(adma_create(&c, &ops, &g, err, sizeof(err)) == nullptr);
    CHECK_THAT(err, Catch::Contains("at="));
  }
}

TEST_CASE("cap refuses past its live host mappings with reason cap, and the same entry goes through after an unmap",
          "[device][cap]") {
  DeviceUnderTest t(3, "cap:direct,windows=2");
  auto& d = t.drv;
  for (std::uint32_t i = 0; i < 3; ++i) d.put_map(ADMA_CMD_MAP_REQ, i, kGpa + i * 0x10000, 0x1000, ADMA_DIR_TO_DEVICE);
  CHECK(d.ring(ADMA_CMD_MAP_REQ, 3) == ADMA_STATUS_IO_ERROR);
  CHECK(d.resp_status(ADMA_CMD_MAP_REQ, 2) == ADMA_STATUS_IO_ERROR);
  CHECK(d.resp_word(ADMA_CMD_MAP_REQ, 2, dartlab::apple_dma::response_reason_offset(ADMA_CMD_MAP_REQ)) == ADMA_REASON_CAP);
  CHECK(d.resp_dma(ADMA_CMD_MAP_REQ, 2) == 0);
  CHECK(d.stat(ADMA_STAT_FAIL_CAP) == 1);
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 2);
  const std::uint64_t first = d.resp_handle(ADMA_CMD_MAP_REQ, 0);
  d.put_unmap(ADMA_CMD_UNMAP_REQ, 0, first, 0x1000);
  REQUIRE(d.ring(ADMA_CMD_UNMAP_REQ, 1) == ADMA_STATUS_OK);
  d.put_map(ADMA_CMD_MAP_REQ, 0, kGpa + 0x20000, 0x1000, ADMA_DIR_TO_DEVICE);
  CHECK(d.ring(ADMA_CMD_MAP_REQ, 1) == ADMA_STATUS_OK);
}
