// SPDX-License-Identifier: MIT
// The device core over the DART as its host mapping service: the host's own refusals reach the
// guest as reasons, the policies see how full the DART is, and the reasons a guest reads are the
// numbers the guest module knows.
#include <catch2/catch.hpp>

#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "unit/device/device_fixture.hpp"

using dartlab::test::DeviceUnderTest;
namespace apple_dma = dartlab::apple_dma;

namespace {
constexpr std::uint64_t kGpa = 0x400000;  // inside the fake guest's RAM (1 MiB .. 17 MiB)
}  // namespace

TEST_CASE("the host's duplicate and cut refusals reach an interface 3 guest as still open and truncated",
          "[device][host]") {
  DeviceUnderTest t(3, "window:256K", "duplicate=refuse,chunk=1M");
  auto& d = t.drv;
  d.put_map(ADMA_CMD_MAP_REQ, 0, kGpa + 0x1000, 0x1000, ADMA_DIR_TO_DEVICE);  // window at kGpa
  d.put_map(ADMA_CMD_MAP_REQ, 1, kGpa, 512 * 1024, ADMA_DIR_TO_DEVICE);       // a direct range at kGpa too
  d.put_map(ADMA_CMD_MAP_REQ, 2, 0x800000, 2u << 20, ADMA_DIR_TO_DEVICE);     // two chunks
  CHECK(d.ring(ADMA_CMD_MAP_REQ, 3) == ADMA_STATUS_IO_ERROR);
  CHECK(d.resp_status(ADMA_CMD_MAP_REQ, 0) == ADMA_STATUS_OK);
  CHECK(d.resp_word(ADMA_CMD_MAP_REQ, 1, apple_dma::response_reason_offset(ADMA_CMD_MAP_REQ)) == ADMA_REASON_STILL_OPEN);
  CHECK(d.resp_word(ADMA_CMD_MAP_REQ, 2, apple_dma::response_reason_offset(ADMA_CMD_MAP_REQ)) == ADMA_REASON_TRUNCATED);
  CHECK(d.stat(ADMA_STAT_FAIL_STILL_OPEN) == 1);
  CHECK(d.stat(ADMA_STAT_FAIL_TRUNCATED) == 1);
  // The cut mapping was undone before anyone heard of it.
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 1);
  CHECK(d.stat(ADMA_STAT_HOST_MAP_CALLS) == 1);
  CHECK(d.stat(ADMA_STAT_HOST_UNMAP_CALLS) == 0);
  CHECK(t.guest.host_maps.size() == 1);
  CHECK(t.guest.host_unmaps.empty());
}

TEST_CASE("lazy sees how full the DART is and evicts a kept mapping before the slots run out", "[device][host]") {
  DeviceUnderTest t(3, "lazy:direct,keep=100", "aperture=64M,slots=20");
  auto& d = t.drv;
  for (std::uint32_t page = 0; page < 19; ++page) {
    d.put_map(ADMA_CMD_MAP_REQ, 0, kGpa + page * 0x4000, 0x1000, ADMA_DIR_TO_DEVICE);
    REQUIRE(d.ring(ADMA_CMD_MAP_REQ, 1) == ADMA_STATUS_OK);
    d.put_unmap(ADMA_CMD_UNMAP_REQ, 0, d.resp_handle(ADMA_CMD_MAP_REQ, 0), 0x1000);
    REQUIRE(d.ring(ADMA_CMD_UNMAP_REQ, 1) == ADMA_STATUS_OK);
  }
  CHECK(d.stat(ADMA_STAT_LIVE_MAPPINGS) == 19);  // kept
  CHECK(d.stat(ADMA_STAT_LIVE_REQUESTS) == 0);
  // Two new pages, kept live, on 20 slots with 19 kept: each evicts one to stay within 95% (19
  // slots), and the DART never refuses.
  d.put_map(ADMA_CMD_MAP_REQ, 0, 0x800000, 0x1000, ADMA_DIR_TO_DEVICE);
  d.put_map(ADMA_CMD_MAP_REQ, 1, 0x900000, 0x1000, ADMA_DIR_TO_DEVICE);
  REQUIRE(d.ring(ADMA_CMD_MAP_REQ, 2) == ADMA_STATUS_OK);
  CHECK(d.stat(ADMA_STAT_HOST_MAP_CALLS) == 21);
  CHECK(d.stat(ADMA_STAT_HOST_UNMAP_CALLS) == 2);
  CHECK(d.stat(ADMA_STAT_FAIL_SLOTS) == 0);
  CHECK(t.guest.host_unmaps.size() == 2);
}

TEST_CASE("the reasons a guest reads are the numbers the guest module knows them by", "[device][wire]") {
  std::ifstream in(DARTLAB_SOURCE_DIR "/passthrough/guest/apple_dma.h");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string header = text.str();
  // Every "ADMA_REASON_X = N" of its enum (std::regex trips GCC 12's warnings under the sanitizers).
  std::map<std::string, long> guest;
  for (std::size_t at = header.find("ADMA_REASON_"); at != std::string::npos; at = header.find("ADMA_REASON_", at)) {
    std::size_t end = at;
    while (end < header.size() && (std::isupper(static_cast<unsigned char>(header[end])) || header[end] == '_')) ++end;
    const std::string name = header.substr(at, end - at);
    std::size_t value = header.find_first_not_of(" \t", end);
    at = end;
    if (value == std::string::npos || header[value] != '=') continue;
    value = header.find_first_not_of(" \t", value + 1);
    if (value == std::string::npos || !std::isdigit(static_cast<unsigned char>(header[value]))) continue;
    guest[name] = std::stol(header.substr(value));
  }
  const std::map<std::string, long> device = {
      {"ADMA_REASON_NONE", ADMA_REASON_NONE},
      {"ADMA_REASON_INVALID", ADMA_REASON_INVALID},
      {"ADMA_REASON_SLOTS", ADMA_REASON_SLOTS},
      {"ADMA_REASON_APERTURE", ADMA_REASON_APERTURE},
      {"ADMA_REASON_FRAGMENTED", ADMA_REASON_FRAGMENTED},
      {"ADMA_REASON_STILL_OPEN", ADMA_REASON_STILL_OPEN},
      {"ADMA_REASON_NOT_FOUND", ADMA_REASON_NOT_FOUND},
      {"ADMA_REASON_POOL", ADMA_REASON_POOL},
      {"ADMA_REASON_CAP", ADMA_REASON_CAP},
      {"ADMA_REASON_TRUNCATED", ADMA_REASON_TRUNCATED},
  };
  for (const auto& [name, value] : device) {
    INFO(name);
    REQUIRE(guest.count(name) == 1);
    CHECK(guest.at(name) == value);
  }
}
