// SPDX-License-Identifier: MIT
// A hostile guest against the device core: every malformed command or register access is
// answered "invalid" with its cause, logged as a guest error, changes no mapping, and leaves the
// device working.
#include <catch2/catch.hpp>

#include <limits>

#include "unit/device/device_fixture.hpp"

using dartlab::test::DeviceUnderTest;

namespace {

constexpr std::uint64_t kGpa = 0x400000;

// The device said invalid for `cause`, logged it, and still maps a good request afterwards.
void require_refused_and_alive(DeviceUnderTest& t, std::uint32_t cause, std::uint64_t live_before = 0) {
  auto& d = t.drv;
  CHECK(d.reg(ADMA_REG_STATUS) == ADMA_STATUS_INVALID);
  CHECK(d.reg(ADMA_REG_INVALID_CAUSE) == cause);
  CHECK(!t.guest.errors.empty());
  CHECK(d.stat(ADMA_STAT_GUEST_ERRORS) >= 1);
  CHECK(d.stat(ADMA_STAT_INVALID_COMMANDS) >= 1);
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == live_before);
  d.req_gpa = t.guest.ram_base + 0x1000;
  d.resp_gpa = t.guest.ram_base + 0x200000;
  d.set_command_page(t.guest.ram_base);
  d.put_map(ADMA_CMD_MAP, 0, kGpa + 0x800000, 0x1000, 0);
  CHECK(d.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_OK);
}

}  // namespace

TEST_CASE("hostile: a command with count 0 is refused as invalid, maps nothing, and the device still maps", "[device][hostile]") {
  DeviceUnderTest t(3);
  CHECK(t.drv.ring(ADMA_CMD_MAP_REQ, 0) == ADMA_STATUS_INVALID);
  CHECK(t.drv.command_status() == ADMA_STATUS_INVALID);
  require_refused_and_alive(t, ADMA_CAUSE_COUNT_ZERO);
}

TEST_CASE("hostile: a count above MAX_ENTRIES is refused as invalid, maps nothing, and the device still maps", "[device][hostile]") {
  DeviceUnderTest t(3);
  CHECK(t.drv.ring(ADMA_CMD_MAP_REQ, ADMA_DEFAULT_MAX_ENTRIES + 1) == ADMA_STATUS_INVALID);
  require_refused_and_alive(t, ADMA_CAUSE_COUNT_TOO_LARGE);
}

TEST_CASE("hostile: a count of 2^32-1 is refused before any size arithmetic", "[device][hostile]") {
  DeviceUnderTest t(2);
  CHECK(t.drv.ring(ADMA_CMD_UNMAP, 0xffffffffu) == ADMA_STATUS_INVALID);
  require_refused_and_alive(t, ADMA_CAUSE_COUNT_TOO_LARGE);
}

TEST_CASE("hostile: an unknown command type, or a v3 type on interface 2, is refused as a bad type", "[device][hostile]") {
  DeviceUnderTest t(2);
  SECTION("command type 9 is refused") { CHECK(t.drv.ring(9, 1) == ADMA_STATUS_INVALID); }
  SECTION("a v3 map request on interface 2 is refused") { CHECK(t.drv.ring(ADMA_CMD_MAP_REQ, 1) == ADMA_STATUS_INVALID); }
  require_refused_and_alive(t, ADMA_CAUSE_BAD_TYPE);
}

TEST_CASE("hostile: a request array outside guest RAM is refused as invalid and the device still maps", "[device][hostile]") {
  DeviceUnderTest t(3);
  SECTION("a request array below RAM is refused") { CHECK(t.drv.ring(ADMA_CMD_MAP_REQ, 1, 0x1000, t.drv.resp_gpa) == ADMA_STATUS_INVALID); }
  SECTION("a request array running off the end of RAM is refused") {
    const std::uint64_t end = t.guest.ram_base + t.guest.ram.size();
    CHECK(t.drv.ring(ADMA_CMD_MAP_REQ, 2, end - 24, t.drv.resp_gpa) == ADMA_STATUS_INVALID);
  }
  SECTION("a request array wrapping past 2^64 is refused") {
    CHECK(t.drv.ring(ADMA_CMD_MAP_REQ, 2, ~0ull - 8, t.drv.resp_gpa) == ADMA_STATUS_INVALID);
  }
  require_refused_and_alive(t, ADMA_CAUSE_REQUEST_NOT_RAM);
}

TEST_CASE("hostile: a response array outside guest RAM is refused as invalid and maps nothing", "[device][hostile]") {
  DeviceUnderTest t(3);
  t.drv.put_map(ADMA_CMD_MAP_REQ, 0, kGpa, 0x1000, 0);
  CHECK(t.drv.ring(ADMA_CMD_MAP_REQ, 1, t.drv.req_gpa, 0xfee00000) == ADMA_STATUS_INVALID);
  require_refused_and_alive(t, ADMA_CAUSE_RESPONSE_NOT_RAM);  // and nothing was mapped
}

TEST_CASE("hostile: buffers overlapping the command page or each other are refused as an overlap", "[device][hostile]") {
  DeviceUnderTest t(3);
  auto& d = t.drv;
  d.put_map(ADMA_CMD_MAP_REQ, 0, kGpa, 0x1000, 0);
  SECTION("responses over the command page are refused") {
    CHECK(d.ring(ADMA_CMD_MAP_REQ, 1, d.req_gpa, d.cmd_gpa + 16) == ADMA_STATUS_INVALID);
  }
  SECTION("requests over the command page are refused") {
    CHECK(d.ring(ADMA_CMD_MAP_REQ, 1, d.cmd_gpa, d.resp_gpa) == ADMA_STATUS_INVALID);
  }
  SECTION("responses over the requests are refused") {
    CHECK(d.ring(ADMA_CMD_MAP_REQ, 4, d.req_gpa, d.req_gpa + 24) == ADMA_STATUS_INVALID);
  }
  require_refused_and_alive(t, ADMA_CAUSE_OVERLAP);
}

TEST_CASE("hostile: a map of length 0 is refused as invalid while its batch's good entry still maps", "[device][hostile]") {
  DeviceUnderTest t(2);
  t.drv.put_map(ADMA_CMD_MAP, 0, kGpa, 0x1000, 0);
  t.drv.put_map(ADMA_CMD_MAP, 1, kGpa + 0x4000, 0, 0);
  CHECK(t.drv.ring(ADMA_CMD_MAP, 2) == ADMA_STATUS_INVALID);
  CHECK(t.drv.resp_status(ADMA_CMD_MAP, 0) == ADMA_STATUS_OK);  // entries are independent
  CHECK(t.drv.resp_status(ADMA_CMD_MAP, 1) == ADMA_STATUS_INVALID);
  CHECK(t.drv.stat(ADMA_STAT_FAIL_INVALID) == 1);
  require_refused_and_alive(t, ADMA_CAUSE_ZERO_LENGTH, 1);
}

TEST_CASE("hostile: a map whose gpa + len wraps past 2^64 is refused as invalid with reason invalid", "[device][hostile]") {
  DeviceUnderTest t(3);
  t.drv.put_map(ADMA_CMD_MAP_REQ, 0, ~0ull - 0xfff, 0x2000, 0);
  CHECK(t.drv.ring(ADMA_CMD_MAP_REQ, 1) == ADMA_STATUS_INVALID);
  CHECK(t.drv.resp_status(ADMA_CMD_MAP_REQ, 0) == ADMA_STATUS_INVALID);
  CHECK(t.drv.resp_word(ADMA_CMD_MAP_REQ, 0, 20) == ADMA_REASON_INVALID);
  require_refused_and_alive(t, ADMA_CAUSE_RANGE_OVERFLOW);
}

TEST_CASE("hostile: a map of memory that is not guest RAM is refused as invalid and the device still maps", "[device][hostile]") {
  DeviceUnderTest t(3);
  t.drv.put_map(ADMA_CMD_MAP_REQ, 0, 0xfebf0000, 0x1000, 0);  // where a BAR would live
  CHECK(t.drv.ring(ADMA_CMD_MAP_REQ, 1) == ADMA_STATUS_INVALID);
  require_refused_and_alive(t, ADMA_CAUSE_GPA_NOT_RAM);
}

TEST_CASE("hostile: an unknown direction or reserved flag bits are refused as bad flags", "[device][hostile]") {
  DeviceUnderTest t(3);
  SECTION("a v3 map with direction 3 is refused") {
    t.drv.put_map(ADMA_CMD_MAP_REQ, 0, kGpa, 0x1000, 3);
    CHECK(t.drv.ring(ADMA_CMD_MAP_REQ, 1) == ADMA_STATUS_INVALID);
  }
  SECTION("v2 flags with high bits set are refused") {
    t.drv.put_map(ADMA_CMD_MAP, 0, kGpa, 0x1000, 0x80000001u);
    CHECK(t.drv.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_INVALID);
  }
  require_refused_and_alive(t, ADMA_CAUSE_BAD_FLAGS);
}

TEST_CASE("hostile: an unmap of an unknown handle is refused as invalid and the device still maps", "[device][hostile]") {
  DeviceUnderTest t(3);
  t.drv.put_unmap(ADMA_CMD_UNMAP_REQ, 0, 0xdeadbeef, 0x1000);
  CHECK(t.drv.ring(ADMA_CMD_UNMAP_REQ, 1) == ADMA_STATUS_INVALID);
  CHECK(t.drv.resp_status(ADMA_CMD_UNMAP_REQ, 0) == ADMA_STATUS_INVALID);
  require_refused_and_alive(t, ADMA_CAUSE_UNKNOWN_HANDLE);
}

TEST_CASE("hostile: an unmap of a handle already freed in the same batch is refused and the other mapping stays live", "[device][hostile]") {
  DeviceUnderTest t(2);
  auto& d = t.drv;
  d.put_map(ADMA_CMD_MAP, 0, kGpa, 0x1000, 0);
  d.put_map(ADMA_CMD_MAP, 1, kGpa + 0x1000, 0x1000, 0);
  REQUIRE(d.ring(ADMA_CMD_MAP, 2) == ADMA_STATUS_OK);
  const std::uint64_t id = d.resp_handle(ADMA_CMD_MAP, 0);
  d.put_unmap(ADMA_CMD_UNMAP, 0, id, 0x1000);
  d.put_unmap(ADMA_CMD_UNMAP, 1, id, 0x1000);
  CHECK(d.ring(ADMA_CMD_UNMAP, 2) == ADMA_STATUS_INVALID);
  CHECK(d.resp_status(ADMA_CMD_UNMAP, 0) == ADMA_STATUS_OK);
  CHECK(d.resp_status(ADMA_CMD_UNMAP, 1) == ADMA_STATUS_INVALID);
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 1);  // the other mapping was not taken instead
  require_refused_and_alive(t, ADMA_CAUSE_UNKNOWN_HANDLE, 1);
}

TEST_CASE("hostile: an unmap with the wrong length is refused as an unknown handle and the mapping stays live", "[device][hostile]") {
  DeviceUnderTest t(2);
  t.drv.put_map(ADMA_CMD_MAP, 0, kGpa, 0x1000, 0);
  REQUIRE(t.drv.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_OK);
  t.drv.put_unmap(ADMA_CMD_UNMAP, 0, t.drv.resp_handle(ADMA_CMD_MAP, 0), 0x2000);
  CHECK(t.drv.ring(ADMA_CMD_UNMAP, 1) == ADMA_STATUS_INVALID);
  require_refused_and_alive(t, ADMA_CAUSE_UNKNOWN_HANDLE, 1);
}

TEST_CASE("hostile: a doorbell with no command page is counted, refused as invalid, and the device still maps", "[device][hostile]") {
  DeviceUnderTest t(3);
  adma_mmio_write(t.dev.get(), ADMA_REG_DOORBELL, 1, 4);
  CHECK(t.drv.stat(ADMA_STAT_DOORBELLS) == 1);
  require_refused_and_alive(t, ADMA_CAUSE_NO_COMMAND_PAGE);
}

TEST_CASE("hostile: a doorbell with its command page outside guest RAM is refused as invalid", "[device][hostile]") {
  DeviceUnderTest t(3);
  SECTION("a command page that is not RAM is refused") { t.drv.set_command_page(0xfed00000); }
  SECTION("a command page wrapping past 2^64 is refused") { t.drv.set_command_page(~0ull - 8); }
  adma_mmio_write(t.dev.get(), ADMA_REG_DOORBELL, 1, 4);
  require_refused_and_alive(t, ADMA_CAUSE_COMMAND_NOT_RAM);
}

TEST_CASE("hostile: a command page whose reserved word is set is refused as invalid and the device still maps", "[device][hostile]") {
  DeviceUnderTest t(3);
  t.drv.put_map(ADMA_CMD_MAP_REQ, 0, kGpa, 0x1000, 0);
  dartlab::apple_dma::Command c{ADMA_CMD_MAP_REQ, 1, 7, t.drv.req_gpa, t.drv.resp_gpa};
  std::uint8_t page[dartlab::apple_dma::kCommandBytes];
  dartlab::apple_dma::encode_command(c, page);
  std::memcpy(t.guest.at(t.drv.cmd_gpa), page, sizeof(page));
  t.drv.set_command_page(t.drv.cmd_gpa);
  adma_mmio_write(t.dev.get(), ADMA_REG_DOORBELL, 1, 4);
  require_refused_and_alive(t, ADMA_CAUSE_RESERVED_NONZERO);
}

TEST_CASE("hostile: a doorbell written 1, 2 or 8 bytes wide is refused and not taken as a doorbell", "[device][hostile]") {
  DeviceUnderTest t(3);
  const auto size = GENERATE(1u, 2u, 8u);
  adma_mmio_write(t.dev.get(), ADMA_REG_DOORBELL, 1, size);
  CHECK(t.drv.stat(ADMA_STAT_DOORBELLS) == 0);  // not taken as a doorbell
  require_refused_and_alive(t, ADMA_CAUSE_BAD_ACCESS);
}

TEST_CASE("hostile: an unaligned 4-byte write or a 2-byte read is refused as a bad access", "[device][hostile]") {
  DeviceUnderTest t(3);
  SECTION("an unaligned 4-byte write is refused") { adma_mmio_write(t.dev.get(), ADMA_REG_CMD_GPA_LO + 1, 0x1234, 4); }
  SECTION("a 2-byte read of STATUS is refused and reads 0") { CHECK(adma_mmio_read(t.dev.get(), ADMA_REG_STATUS, 2) == 0); }
  require_refused_and_alive(t, ADMA_CAUSE_BAD_ACCESS);
}

TEST_CASE("hostile: writes to read-only registers and the statistics window are refused and VERSION still reads 3", "[device][hostile]") {
  DeviceUnderTest t(3);
  SECTION("a write to VERSION is refused") { adma_mmio_write(t.dev.get(), ADMA_REG_VERSION, 9, 4); }
  SECTION("a write to the statistics window is refused") { adma_mmio_write(t.dev.get(), ADMA_STATS_BASE, 9, 4); }
  CHECK(t.drv.reg(ADMA_REG_VERSION) == 3);
  require_refused_and_alive(t, ADMA_CAUSE_READ_ONLY);
}

TEST_CASE("hostile: accesses where no register is are refused as invalid and reads there give 0", "[device][hostile]") {
  DeviceUnderTest t(3);
  SECTION("a read where no register is gives 0") { CHECK(adma_mmio_read(t.dev.get(), 0x80, 4) == 0); }
  SECTION("a write where no register is is refused") { adma_mmio_write(t.dev.get(), 0xffc, 1, 4); }
  SECTION("a read past the statistics window gives 0") { CHECK(adma_mmio_read(t.dev.get(), ADMA_STATS_BASE + 8 * ADMA_STAT_COUNT, 8) == 0); }
  require_refused_and_alive(t, ADMA_CAUSE_NO_REGISTER);
}
