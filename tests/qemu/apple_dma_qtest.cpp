// SPDX-License-Identifier: MIT
// apple-dma-pci inside QEMU 7.2, driven over qtest: identity, interface 2 and 3 batches, the
// statistics window, DART limits, a hostile guest (each case its own test, QEMU answering
// afterwards), guest reset, the DART IOMMU in front of the managed device, and the trace events
// that `dartlab convert` reads.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "qemu/guest.hpp"

using namespace dartlab::qtest;

namespace {

constexpr std::uint64_t kGpa = Guest::kDataGpa;

QemuOptions with(const std::string& props) {
  QemuOptions o;
  o.apple_dma_props = props;
  return o;
}

// QEMU refused the command as invalid for `cause`, logged a guest error, and still maps.
void require_refused_and_alive(Qemu& q, Guest& g, std::uint32_t cause) {
  CHECK(g.reg(ADMA_REG_STATUS) == ADMA_STATUS_INVALID);
  CHECK(g.reg(ADMA_REG_INVALID_CAUSE) == cause);
  CHECK(g.stat(ADMA_STAT_GUEST_ERRORS) >= 1);
  CHECK_THAT(q.log(), Catch::Contains("apple-dma: "));
  REQUIRE(q.alive());
  g.put_map(ADMA_CMD_MAP, 0, kGpa + 0x800000, 0x1000, 0);
  CHECK(g.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_OK);
}

// edu's DMA engine: copy cnt bytes from src to dst (one side is edu's buffer at 0x40000), then
// let virtual time run past its 100 ms timer.
void edu_dma(Qemu& q, std::uint64_t bar, std::uint64_t src, std::uint64_t dst, std::uint64_t cnt, bool to_ram) {
  q.writeq(bar + 0x80, src);
  q.writeq(bar + 0x88, dst);
  q.writeq(bar + 0x90, cnt);
  q.writeq(bar + 0x98, to_ram ? 0x3 : 0x1);
  q.clock_step(200'000'000);
  REQUIRE((q.readq(bar + 0x98) & 1) == 0);  // the transfer ran
}
constexpr std::uint64_t kEduBuffer = 0x40000;
// edu (7.2) takes transfers strictly shorter than its 4 KiB buffer: a full 4096 aborts QEMU.
constexpr std::size_t kDmaBytes = 2048;

// $DARTLAB_BIN, else the dartlab built beside this test (BUILD/tests/test_qemu -> BUILD/sim/dartlab).
std::string dartlab_binary() {
  if (const char* bin = std::getenv("DARTLAB_BIN")) return bin;
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  return std::filesystem::path(self).parent_path().parent_path() / "sim" / "dartlab";
}

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7 + 1);
  return v;
}

}  // namespace

TEST_CASE("apple-dma-pci answers on the PCI bus with the RFC's identity and its properties", "[qemu]") {
  Qemu q(with("interface=3,max-entries=128"));
  CHECK(q.config_read(kAppleDmaSlot, 0x00) == 0x00151b36u);
  CHECK(q.config_read(kAppleDmaSlot, 0x08) >> 8 == 0x088000u);  // class: system peripheral, other
  Guest g(q);
  CHECK(g.reg(ADMA_REG_VERSION) == 3);
  CHECK(g.reg(ADMA_REG_MAX_ENTRIES) == 128);
  CHECK(g.reg(ADMA_REG_MANAGED_BDF) == (kManagedEduSlot << 3));  // bus 0, slot 4, function 0
  CHECK(g.reg(ADMA_REG_STATUS) == ADMA_STATUS_OK);
  CHECK(g.stat(ADMA_STAT_APERTURE_BYTES) == 1536ull << 20);
}

TEST_CASE("the default interface is 2, as the guest module in the wild expects", "[qemu]") {
  Qemu q(with("policy=direct"));
  Guest g(q);
  CHECK(g.reg(ADMA_REG_VERSION) == 2);
  CHECK(g.reg(ADMA_REG_MAX_ENTRIES) == ADMA_DEFAULT_MAX_ENTRIES);
}

TEST_CASE("interface 2 maps and unmaps in batches and the statistics window counts each mapping, byte and doorbell", "[qemu][v2]") {
  Qemu q(with("interface=2"));
  Guest g(q);
  for (std::uint32_t i = 0; i < 8; ++i) g.put_map(ADMA_CMD_MAP, i, kGpa + i * 0x10000, 0x1000, ADMA_DIR_TO_DEVICE);
  REQUIRE(g.ring(ADMA_CMD_MAP, 8) == ADMA_STATUS_OK);
  CHECK(g.command_status() == ADMA_STATUS_OK);
  CHECK(g.stat(ADMA_STAT_LIVE_MAPPINGS) == 8);
  CHECK(g.stat(ADMA_STAT_LIVE_REQUESTS) == 8);
  CHECK(g.stat(ADMA_STAT_MAPPED_BYTES) == 8 * 16384);
  CHECK(g.stat(ADMA_STAT_DOORBELLS) == 1);
  std::vector<std::uint64_t> ids;
  for (std::uint32_t i = 0; i < 8; ++i) {
    CHECK(g.resp_status(ADMA_CMD_MAP, i) == ADMA_STATUS_OK);
    ids.push_back(g.resp_handle(ADMA_CMD_MAP, i));
  }
  for (std::uint32_t i = 0; i < 5; ++i) g.put_unmap(ADMA_CMD_UNMAP, i, ids[i], 0x1000);
  REQUIRE(g.ring(ADMA_CMD_UNMAP, 5) == ADMA_STATUS_OK);
  CHECK(g.stat(ADMA_STAT_LIVE_MAPPINGS) == 3);
  CHECK(g.stat(ADMA_STAT_UNMAP_ENTRIES) == 5);
  CHECK(g.stat(ADMA_STAT_PEAK_MAPPINGS) == 8);
}

TEST_CASE("interface 3 requests are clustered by the device's policy", "[qemu][v3]") {
  Qemu q(with("interface=3,policy=window:256K"));
  Guest g(q);
  for (std::uint32_t i = 0; i < 64; ++i) g.put_map(ADMA_CMD_MAP_REQ, i, kGpa + i * 0x1000, 0x1000, ADMA_DIR_FROM_DEVICE);
  REQUIRE(g.ring(ADMA_CMD_MAP_REQ, 64) == ADMA_STATUS_OK);
  CHECK(g.stat(ADMA_STAT_LIVE_REQUESTS) == 64);
  CHECK(g.stat(ADMA_STAT_LIVE_MAPPINGS) == 1);  // 64 pages in one 256 KiB window
  CHECK(g.stat(ADMA_STAT_MAPPED_BYTES) == 256 * 1024);
  CHECK(g.resp_dma(ADMA_CMD_MAP_REQ, 63) - g.resp_dma(ADMA_CMD_MAP_REQ, 0) == 63 * 0x1000);
  std::vector<std::uint64_t> handles;
  for (std::uint32_t i = 0; i < 64; ++i) handles.push_back(g.resp_handle(ADMA_CMD_MAP_REQ, i));
  for (std::uint32_t i = 0; i < 64; ++i) g.put_unmap(ADMA_CMD_UNMAP_REQ, i, handles[i], 0x1000);
  REQUIRE(g.ring(ADMA_CMD_UNMAP_REQ, 64) == ADMA_STATUS_OK);
  CHECK(g.stat(ADMA_STAT_LIVE_REQUESTS) == 0);
  CHECK(g.stat(ADMA_STAT_LIVE_MAPPINGS) == 0);
}

TEST_CASE("with dart=slots=4 maps past the fourth answer status 1 with reason slots and are counted", "[qemu][limits]") {
  Qemu q(with("interface=3,dart=slots=4"));
  Guest g(q);
  for (std::uint32_t i = 0; i < 6; ++i) g.put_map(ADMA_CMD_MAP_REQ, i, kGpa + i * 0x10000, 0x1000, 0);
  REQUIRE(g.ring(ADMA_CMD_MAP_REQ, 6) == ADMA_STATUS_IO_ERROR);
  CHECK(g.resp_status(ADMA_CMD_MAP_REQ, 3) == ADMA_STATUS_OK);
  CHECK(g.resp_status(ADMA_CMD_MAP_REQ, 4) == ADMA_STATUS_IO_ERROR);
  CHECK(g.resp_reason(ADMA_CMD_MAP_REQ, 4) == ADMA_REASON_SLOTS);
  CHECK(g.reg(ADMA_REG_LAST_ERROR_REASON) == ADMA_REASON_SLOTS);
  CHECK(g.stat(ADMA_STAT_FAIL_SLOTS) == 2);
  CHECK(g.stat(ADMA_STAT_SLOT_CAPACITY) == 4);
  CHECK(g.stat(ADMA_STAT_LIVE_MAPPINGS) == 4);
}

TEST_CASE("with dart=aperture=1M a map past the aperture answers status 1 with reason aperture and is counted", "[qemu][limits]") {
  Qemu q(with("interface=2,dart=aperture=1M"));
  Guest g(q);
  for (std::uint32_t i = 0; i < 3; ++i) g.put_map(ADMA_CMD_MAP, i, kGpa + i * 0x100000, 0x80000, 0);
  REQUIRE(g.ring(ADMA_CMD_MAP, 3) == ADMA_STATUS_IO_ERROR);
  CHECK(g.resp_status(ADMA_CMD_MAP, 2) == ADMA_STATUS_IO_ERROR);
  CHECK(g.reg(ADMA_REG_LAST_ERROR_REASON) == ADMA_REASON_APERTURE);
  CHECK(g.stat(ADMA_STAT_FAIL_APERTURE) == 1);
  CHECK(g.stat(ADMA_STAT_APERTURE_BYTES) == 1u << 20);
}

TEST_CASE("a dart spec sets both limits at once when its commas are escaped on QEMU's command line", "[qemu][limits]") {
  Qemu q(with("interface=3,dart=" + escape_commas("slots=2,aperture=1M")));
  Guest g(q);
  CHECK(g.stat(ADMA_STAT_SLOT_CAPACITY) == 2);
  CHECK(g.stat(ADMA_STAT_APERTURE_BYTES) == 1u << 20);
}

TEST_CASE("bad properties stop QEMU with a message naming them", "[qemu]") {
  const auto row = GENERATE(table<std::string, std::string>({{"interface=5", "interface=5"},
                                                             {"interface=3,policy=window:3K", "policy=window:3K"},
                                                             {"dart=slots=none", "dart=slots=none"},
                                                             {"compat=loose", "compat=loose"},
                                                             {"reset-releases=maybe", "reset-releases"}}));
  const auto r = run_expecting_refusal(std::get<0>(row));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.stderr_text, Catch::Contains(std::get<1>(row)));
}

TEST_CASE("hostile: a command with count 0 is refused as invalid, logged, and the device maps afterwards", "[qemu][hostile]") {
  Qemu q;
  Guest g(q);
  CHECK(g.ring(ADMA_CMD_MAP_REQ, 0) == ADMA_STATUS_INVALID);
  CHECK(g.command_status() == ADMA_STATUS_INVALID);
  CHECK_THAT(q.log(), Catch::Contains("count 0"));
  require_refused_and_alive(q, g, ADMA_CAUSE_COUNT_ZERO);
}

TEST_CASE("hostile: a count above MAX_ENTRIES is refused as invalid, logged, and the device maps afterwards", "[qemu][hostile]") {
  Qemu q(with("interface=3,max-entries=16"));
  Guest g(q);
  CHECK(g.ring(ADMA_CMD_MAP_REQ, 17) == ADMA_STATUS_INVALID);
  CHECK_THAT(q.log(), Catch::Contains("exceeds MAX_ENTRIES 16"));
  require_refused_and_alive(q, g, ADMA_CAUSE_COUNT_TOO_LARGE);
}

TEST_CASE("hostile: a request buffer in the device's own BAR is refused as invalid and the device maps afterwards", "[qemu][hostile]") {
  Qemu q;
  Guest g(q);
  CHECK(g.ring(ADMA_CMD_MAP_REQ, 1, kAppleDmaBar, Guest::kResponseGpa) == ADMA_STATUS_INVALID);
  require_refused_and_alive(q, g, ADMA_CAUSE_REQUEST_NOT_RAM);
}

TEST_CASE("hostile: a response buffer outside RAM is refused as invalid and maps nothing", "[qemu][hostile]") {
  Qemu q;
  Guest g(q);
  g.put_map(ADMA_CMD_MAP_REQ, 0, kGpa, 0x1000, 0);
  SECTION("a response buffer above RAM is refused") { CHECK(g.ring(ADMA_CMD_MAP_REQ, 1, Guest::kRequestGpa, 0x40000000) == ADMA_STATUS_INVALID); }
  SECTION("a response buffer on the device's own registers is refused") {
    CHECK(g.ring(ADMA_CMD_MAP_REQ, 1, Guest::kRequestGpa, kAppleDmaBar) == ADMA_STATUS_INVALID);
  }
  CHECK(g.stat(ADMA_STAT_LIVE_MAPPINGS) == 0);
  require_refused_and_alive(q, g, ADMA_CAUSE_RESPONSE_NOT_RAM);
}

TEST_CASE("hostile: a request or response buffer overlapping the command page is refused as invalid", "[qemu][hostile]") {
  Qemu q;
  Guest g(q);
  g.put_map(ADMA_CMD_MAP_REQ, 0, kGpa, 0x1000, 0);
  SECTION("a response buffer on the command page is refused") { CHECK(g.ring(ADMA_CMD_MAP_REQ, 1, Guest::kRequestGpa, Guest::kCommandGpa) == ADMA_STATUS_INVALID); }
  SECTION("a request buffer on the command page is refused") { CHECK(g.ring(ADMA_CMD_MAP_REQ, 1, Guest::kCommandGpa + 8, Guest::kResponseGpa) == ADMA_STATUS_INVALID); }
  require_refused_and_alive(q, g, ADMA_CAUSE_OVERLAP);
}

TEST_CASE("hostile: a map of length 0 is refused as invalid, logged, and the device maps afterwards", "[qemu][hostile]") {
  Qemu q;
  Guest g(q);
  g.put_map(ADMA_CMD_MAP_REQ, 0, kGpa, 0, 0);
  CHECK(g.ring(ADMA_CMD_MAP_REQ, 1) == ADMA_STATUS_INVALID);
  CHECK(g.resp_status(ADMA_CMD_MAP_REQ, 0) == ADMA_STATUS_INVALID);
  CHECK_THAT(q.log(), Catch::Contains("of length 0"));
  require_refused_and_alive(q, g, ADMA_CAUSE_ZERO_LENGTH);
}

TEST_CASE("hostile: a map whose gpa + len overflows is refused as invalid and the device maps afterwards", "[qemu][hostile]") {
  Qemu q;
  Guest g(q);
  g.put_map(ADMA_CMD_MAP_REQ, 0, ~0ull - 0xfff, 0x10000, 0);
  CHECK(g.ring(ADMA_CMD_MAP_REQ, 1) == ADMA_STATUS_INVALID);
  CHECK(g.resp_reason(ADMA_CMD_MAP_REQ, 0) == ADMA_REASON_INVALID);
  require_refused_and_alive(q, g, ADMA_CAUSE_RANGE_OVERFLOW);
}

TEST_CASE("hostile: a map of memory that is not RAM is refused as invalid and the device maps afterwards", "[qemu][hostile]") {
  Qemu q;
  Guest g(q);
  g.put_map(ADMA_CMD_MAP_REQ, 0, kManagedEduBar, 0x1000, 0);
  CHECK(g.ring(ADMA_CMD_MAP_REQ, 1) == ADMA_STATUS_INVALID);
  require_refused_and_alive(q, g, ADMA_CAUSE_GPA_NOT_RAM);
}

TEST_CASE("hostile: an unmap of an unknown handle is refused as invalid, logged, and the device maps afterwards", "[qemu][hostile]") {
  Qemu q;
  Guest g(q);
  g.put_unmap(ADMA_CMD_UNMAP_REQ, 0, 0x1234567, 0x1000);
  CHECK(g.ring(ADMA_CMD_UNMAP_REQ, 1) == ADMA_STATUS_INVALID);
  CHECK(g.resp_status(ADMA_CMD_UNMAP_REQ, 0) == ADMA_STATUS_INVALID);
  CHECK_THAT(q.log(), Catch::Contains("not a live mapping"));
  require_refused_and_alive(q, g, ADMA_CAUSE_UNKNOWN_HANDLE);
}

TEST_CASE("hostile: a second unmap of a freed handle is refused as invalid and the device maps afterwards", "[qemu][hostile]") {
  Qemu q(with("interface=2,compat=strict"));
  Guest g(q);
  g.put_map(ADMA_CMD_MAP, 0, kGpa, 0x1000, 0);
  REQUIRE(g.ring(ADMA_CMD_MAP, 1) == ADMA_STATUS_OK);
  const std::uint64_t id = g.resp_handle(ADMA_CMD_MAP, 0);
  g.put_unmap(ADMA_CMD_UNMAP, 0, id, 0x1000);
  REQUIRE(g.ring(ADMA_CMD_UNMAP, 1) == ADMA_STATUS_OK);
  CHECK(g.ring(ADMA_CMD_UNMAP, 1) == ADMA_STATUS_INVALID);
  require_refused_and_alive(q, g, ADMA_CAUSE_UNKNOWN_HANDLE);
}

TEST_CASE("hostile: a doorbell with no command page is refused, logged, and the device maps afterwards", "[qemu][hostile]") {
  Qemu q;
  Guest g(q);
  q.writel(kAppleDmaBar + ADMA_REG_DOORBELL, 1);
  CHECK_THAT(q.log(), Catch::Contains("no command page"));
  require_refused_and_alive(q, g, ADMA_CAUSE_NO_COMMAND_PAGE);
}

TEST_CASE("hostile: register writes of the wrong size or alignment are refused and ring no doorbell", "[qemu][hostile]") {
  Qemu q;
  Guest g(q);
  SECTION("a byte write to the doorbell is refused") { q.writeb(kAppleDmaBar + ADMA_REG_DOORBELL, 1); }
  SECTION("a 16-bit write to the command address is refused") { q.writew(kAppleDmaBar + ADMA_REG_CMD_GPA_LO, 0x1000); }
  SECTION("a 64-bit write to the command address is refused") { q.writeq(kAppleDmaBar + ADMA_REG_CMD_GPA_LO, Guest::kCommandGpa); }
  SECTION("an unaligned write to the command address is refused") { q.writel(kAppleDmaBar + ADMA_REG_CMD_GPA_LO + 2, 0x1000); }
  CHECK(g.stat(ADMA_STAT_DOORBELLS) == 0);
  CHECK_THAT(q.log(), Catch::Contains("wrong size or alignment"));
  require_refused_and_alive(q, g, ADMA_CAUSE_BAD_ACCESS);
}

TEST_CASE("hostile: writes to read-only registers and the statistics window are refused and VERSION still reads 3", "[qemu][hostile]") {
  Qemu q;
  Guest g(q);
  SECTION("a write to VERSION is refused and VERSION still reads 3") { q.writel(kAppleDmaBar + ADMA_REG_VERSION, 7); }
  SECTION("a write to the statistics window is refused") { q.writel(kAppleDmaBar + ADMA_STATS_BASE, 7); }
  CHECK(g.reg(ADMA_REG_VERSION) == 3);
  require_refused_and_alive(q, g, ADMA_CAUSE_READ_ONLY);
}

TEST_CASE("a guest reset releases every mapping and traces the live count", "[qemu][reset]") {
  Qemu q(with("interface=3,policy=window:64K"));
  Guest g(q);
  for (std::uint32_t i = 0; i < 4; ++i) g.put_map(ADMA_CMD_MAP_REQ, i, kGpa + i * 0x100000, 0x1000, 0);
  REQUIRE(g.ring(ADMA_CMD_MAP_REQ, 4) == ADMA_STATUS_OK);
  REQUIRE(g.stat(ADMA_STAT_LIVE_MAPPINGS) == 4);
  const std::uint64_t handle = g.resp_handle(ADMA_CMD_MAP_REQ, 0);

  q.outb(0xcf9, 0x06);  // PIIX reset control: hard reset of the machine
  Guest after(q);      // the reset cleared BAR0 and the command register: program them again
  CHECK(after.stat(ADMA_STAT_LIVE_MAPPINGS) == 0);
  CHECK(after.stat(ADMA_STAT_LIVE_REQUESTS) == 0);
  CHECK(after.stat(ADMA_STAT_FREE_BYTES) == after.stat(ADMA_STAT_APERTURE_BYTES));
  CHECK_THAT(q.log(), Catch::Contains("apple_dma_reset bdf=0000:00:04.0 live=4"));
  after.put_unmap(ADMA_CMD_UNMAP_REQ, 0, handle, 0x1000);
  CHECK(after.ring(ADMA_CMD_UNMAP_REQ, 1) == ADMA_STATUS_INVALID);  // the handle died with the reset
}

TEST_CASE("the managed device's DMA goes through the DART; others keep plain memory", "[qemu][iommu]") {
  Qemu q(with("interface=2"));
  Guest g(q);
  q.enable(kManagedEduSlot, kManagedEduBar, true);
  q.enable(kPlainEduSlot, kPlainEduBar, true);
  const std::uint64_t src = kGpa, dst = kGpa + 0x10000;
  const auto data = pattern(kDmaBytes, 3);
  q.write(src, data);
  g.put_map(ADMA_CMD_MAP, 0, src, kDmaBytes, ADMA_DIR_TO_DEVICE);
  g.put_map(ADMA_CMD_MAP, 1, dst, kDmaBytes, ADMA_DIR_FROM_DEVICE);
  REQUIRE(g.ring(ADMA_CMD_MAP, 2) == ADMA_STATUS_OK);
  const std::uint64_t dma_src = g.resp_dma(ADMA_CMD_MAP, 0), dma_dst = g.resp_dma(ADMA_CMD_MAP, 1);
  REQUIRE(dma_src != src);  // bus addresses are the DART's, not guest-physical ones

  SECTION("through live mappings the data arrives intact") {
    edu_dma(q, kManagedEduBar, dma_src, kEduBuffer, kDmaBytes, false);
    edu_dma(q, kManagedEduBar, kEduBuffer, dma_dst, kDmaBytes, true);
    CHECK(q.read(dst, kDmaBytes) == data);
    CHECK(g.stat(ADMA_STAT_DART_FAULTS) == 0);
    CHECK(g.reg(ADMA_REG_FAULT_STATUS) == 0);
  }
  SECTION("outside a live mapping the access faults and nothing is written") {
    const std::uint64_t stray = dma_dst + 0x100000;  // no mapping there
    const auto before = q.read(stray, 64);            // the same number as a guest-physical address
    edu_dma(q, kManagedEduBar, dma_src, kEduBuffer, 64, false);
    edu_dma(q, kManagedEduBar, kEduBuffer, stray, 64, true);
    CHECK(q.read(stray, 64) == before);
    CHECK(g.stat(ADMA_STAT_DART_FAULTS) >= 1);
    CHECK(g.stat(ADMA_STAT_LAST_FAULT_ADDR) >= stray);  // the latest of the transfer's faulting accesses
    CHECK(g.stat(ADMA_STAT_LAST_FAULT_ADDR) < stray + 64);
    CHECK(g.reg(ADMA_REG_FAULT_STATUS) != 0);
    CHECK(g.reg(ADMA_REG_FAULT_ADDR_LO) == static_cast<std::uint32_t>(stray));
    CHECK_THAT(q.log(), Catch::Contains("apple_dma_fault bdf=0000:00:04.0"));
    q.writel(kAppleDmaBar + ADMA_REG_FAULT_STATUS, 0);
    CHECK(g.reg(ADMA_REG_FAULT_STATUS) == 0);
  }
  SECTION("after unmap the same bus address faults") {
    g.put_unmap(ADMA_CMD_UNMAP, 0, g.resp_handle(ADMA_CMD_MAP, 1), kDmaBytes);
    REQUIRE(g.ring(ADMA_CMD_UNMAP, 1) == ADMA_STATUS_OK);
    const auto before = q.read(dst, 64);
    edu_dma(q, kManagedEduBar, kEduBuffer, dma_dst, 64, true);
    CHECK(q.read(dst, 64) == before);
    CHECK(g.stat(ADMA_STAT_DART_FAULTS) >= 1);
  }
  SECTION("a device not managed reaches guest-physical memory directly") {
    const std::uint64_t plain_dst = kGpa + 0x20000;
    edu_dma(q, kPlainEduBar, src, kEduBuffer, kDmaBytes, false);
    edu_dma(q, kPlainEduBar, kEduBuffer, plain_dst, kDmaBytes, true);
    CHECK(q.read(plain_dst, kDmaBytes) == data);
    CHECK(g.stat(ADMA_STAT_DART_FAULTS) == 0);
  }
}

TEST_CASE("the device's trace events carry every field dartlab convert reads", "[qemu][trace]") {
  Qemu q(with("interface=3,policy=window:256K"));
  Guest g(q);
  g.put_map(ADMA_CMD_MAP_REQ, 0, kGpa + 0x3000, 0x1800, ADMA_DIR_TO_DEVICE);
  REQUIRE(g.ring(ADMA_CMD_MAP_REQ, 1) == ADMA_STATUS_OK);
  const std::uint64_t h = g.resp_handle(ADMA_CMD_MAP_REQ, 0);
  const std::uint64_t dma = g.resp_dma(ADMA_CMD_MAP_REQ, 0);
  g.put_unmap(ADMA_CMD_UNMAP_REQ, 0, h, 0x1800);
  REQUIRE(g.ring(ADMA_CMD_UNMAP_REQ, 1) == ADMA_STATUS_OK);
  char map_line[256], unmap_line[256];
  std::snprintf(map_line, sizeof(map_line),
                "apple_dma_map bdf=0000:00:04.0 gpa=0x%llx len=0x1800 dir=to_device dma=0x%llx handle=0x%llx status=0",
                static_cast<unsigned long long>(kGpa + 0x3000), static_cast<unsigned long long>(dma),
                static_cast<unsigned long long>(h));
  std::snprintf(unmap_line, sizeof(unmap_line), "apple_dma_unmap bdf=0000:00:04.0 handle=0x%llx len=0x1800 status=0",
                static_cast<unsigned long long>(h));
  const std::string log = q.log();
  CHECK_THAT(log, Catch::Contains(map_line));
  CHECK_THAT(log, Catch::Contains(unmap_line));
}

TEST_CASE("the IOMMU hears of exactly each host mapping's bus range when it is made and when it goes", "[qemu][trace]") {
  QemuOptions options = with("interface=3,policy=window:256K");
  options.extra_args = {"-trace", "apple_dma_notify_map", "-trace", "apple_dma_notify_unmap"};
  Qemu q(options);
  Guest g(q);
  // 6 KiB inside one 256 KiB window: the host mapping is the whole window, 256 KiB aligned in gpa.
  const std::uint64_t gpa = kGpa + 0x3000, window = 0x40000, window_gpa = gpa & ~(window - 1);
  g.put_map(ADMA_CMD_MAP_REQ, 0, gpa, 0x1800, ADMA_DIR_TO_DEVICE);
  REQUIRE(g.ring(ADMA_CMD_MAP_REQ, 1) == ADMA_STATUS_OK);
  const std::uint64_t h = g.resp_handle(ADMA_CMD_MAP_REQ, 0);
  const std::uint64_t window_bus = g.resp_dma(ADMA_CMD_MAP_REQ, 0) - (gpa - window_gpa);
  char map_line[256], unmap_line[256];
  std::snprintf(map_line, sizeof(map_line), "apple_dma_notify_map bdf=0000:00:04.0 bus=0x%llx len=0x%llx gpa=0x%llx perm=",
                static_cast<unsigned long long>(window_bus), static_cast<unsigned long long>(window),
                static_cast<unsigned long long>(window_gpa));
  std::snprintf(unmap_line, sizeof(unmap_line), "apple_dma_notify_unmap bdf=0000:00:04.0 bus=0x%llx len=0x%llx",
                static_cast<unsigned long long>(window_bus), static_cast<unsigned long long>(window));
  CHECK_THAT(q.log(), Catch::Contains(map_line));
  CHECK_THAT(q.log(), !Catch::Contains("apple_dma_notify_unmap"));  // nothing released yet
  g.put_unmap(ADMA_CMD_UNMAP_REQ, 0, h, 0x1800);
  REQUIRE(g.ring(ADMA_CMD_UNMAP_REQ, 1) == ADMA_STATUS_OK);
  CHECK_THAT(q.log(), Catch::Contains(unmap_line));
}

TEST_CASE("a run recorded with -trace converts with dartlab convert and replays offline", "[qemu][trace]") {
  const std::string dartlab = dartlab_binary();
  Qemu q(with("interface=3,policy=window:256K"));
  Guest g(q);
  for (std::uint32_t i = 0; i < 8; ++i) g.put_map(ADMA_CMD_MAP_REQ, i, kGpa + i * 0x3000, 0x1000, ADMA_DIR_TO_DEVICE);
  REQUIRE(g.ring(ADMA_CMD_MAP_REQ, 8) == ADMA_STATUS_OK);
  std::vector<std::uint64_t> handles;
  for (std::uint32_t i = 0; i < 8; ++i) handles.push_back(g.resp_handle(ADMA_CMD_MAP_REQ, i));
  for (std::uint32_t i = 0; i < 8; ++i) g.put_unmap(ADMA_CMD_UNMAP_REQ, i, handles[i], 0x1000);
  REQUIRE(g.ring(ADMA_CMD_UNMAP_REQ, 8) == ADMA_STATUS_OK);

  const std::string trace = q.dir() + "/run.trace", json = q.dir() + "/replay.json";
  const std::string convert = dartlab + " convert -q " + q.log_path() + " " + trace;
  REQUIRE(std::system(convert.c_str()) == 0);
  const std::string replay = dartlab + " replay -q " + trace + " -p window:256K --json " + json;
  REQUIRE(std::system(replay.c_str()) == 0);
  std::ifstream in(json);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string results = ss.str();
  // The 8 requests the guest made, in one 256 KiB window offline as in the device, all released.
  CHECK(std::regex_search(results, std::regex("\"requests\": ?8[,}]")));
  CHECK(std::regex_search(results, std::regex("\"peak_mappings\": ?1[,}]")));
  CHECK(std::regex_search(results, std::regex("\"final_live_mappings\": ?0[,}]")));
}

namespace {

// The seed guest module's map of one window: one entry per doorbell, the window's gpa and size,
// flags 0. Returns the response's status and, on success, its dma_addr.
std::uint32_t seed_map(Guest& g, std::uint64_t gpa, std::uint64_t size, std::uint64_t* dma = nullptr) {
  g.put_map(ADMA_CMD_MAP, 0, gpa, size, 0);
  const std::uint32_t status = g.ring(ADMA_CMD_MAP, 1);
  CHECK(g.resp_status(ADMA_CMD_MAP, 0) == status);
  if (status == ADMA_STATUS_OK) {
    CHECK(g.resp_handle(ADMA_CMD_MAP, 0) == gpa);  // the id is the gpa
    CHECK(g.resp_word(ADMA_CMD_MAP, 0, 16) == size);
    if (dma != nullptr) *dma = g.resp_dma(ADMA_CMD_MAP, 0);
  }
  return status;
}

// The seed module's unmap: the id it got (the gpa) and the window's size.
std::uint32_t seed_unmap(Guest& g, std::uint64_t gpa, std::uint64_t size) {
  g.put_unmap(ADMA_CMD_UNMAP, 0, gpa, size);
  const std::uint32_t status = g.ring(ADMA_CMD_UNMAP, 1);
  CHECK(g.resp_status(ADMA_CMD_UNMAP, 0) == status);
  CHECK(g.resp_handle(ADMA_CMD_UNMAP, 0) == gpa);
  return status;
}

}  // namespace

TEST_CASE("compat=rfc takes the seed module's command sequence as the real device does, status by status",
          "[qemu][rfc]") {
  Qemu q(with("interface=2"));  // rfc is interface 2's default
  Guest g(q);
  constexpr std::uint64_t kWindow = 256 * 1024;
  std::uint64_t dma = 0;
  // Three windows, one doorbell each; the managed device's DMA reaches the first through the DART.
  REQUIRE(seed_map(g, kGpa, kWindow, &dma) == ADMA_STATUS_OK);
  REQUIRE(seed_map(g, kGpa + kWindow, kWindow) == ADMA_STATUS_OK);
  REQUIRE(seed_map(g, kGpa + 2 * kWindow, kWindow) == ADMA_STATUS_OK);
  q.enable(kManagedEduSlot, kManagedEduBar, true);
  const auto data = pattern(kDmaBytes, 3);
  q.write(kGpa + 0x100, data);
  edu_dma(q, kManagedEduBar, dma + 0x100, kEduBuffer, kDmaBytes, false);
  edu_dma(q, kManagedEduBar, kEduBuffer, dma + 0x10000, kDmaBytes, true);
  CHECK(q.read(kGpa + 0x10000, kDmaBytes) == data);
  CHECK(g.stat(ADMA_STAT_DART_FAULTS) == 0);

  // The host's rules: a gpa registered twice (another size, same key) and an unknown id are
  // status 1, the device goes on.
  CHECK(seed_map(g, kGpa, 2 * kWindow) == ADMA_STATUS_IO_ERROR);
  CHECK(g.reg(ADMA_REG_LAST_ERROR_REASON) == ADMA_REASON_STILL_OPEN);
  CHECK(seed_unmap(g, kGpa + 0x4000, kWindow) == ADMA_STATUS_IO_ERROR);
  CHECK(g.reg(ADMA_REG_LAST_ERROR_REASON) == ADMA_REASON_NOT_FOUND);
  CHECK(g.stat(ADMA_STAT_FAIL_STILL_OPEN) == 1);
  CHECK(g.stat(ADMA_STAT_FAIL_NOT_FOUND) == 1);
  CHECK_THAT(q.log(), Catch::Contains("still registered"));

  // Unmap by id with the window's size; then the gpa can be registered again.
  for (std::uint64_t w = 0; w < 3; ++w) CHECK(seed_unmap(g, kGpa + w * kWindow, kWindow) == ADMA_STATUS_OK);
  CHECK(g.stat(ADMA_STAT_LIVE_MAPPINGS) == 0);
  CHECK(seed_map(g, kGpa, kWindow) == ADMA_STATUS_OK);
  CHECK(g.stat(ADMA_STAT_HOST_MAP_CALLS) == 4);
  CHECK(g.stat(ADMA_STAT_DOORBELLS) == 9);

  // The register file: no register at 0x80 reads 0, a write is ignored, STATUS keeps its value.
  CHECK(q.readl(kAppleDmaBar + 0x80) == 0);
  q.writel(kAppleDmaBar + 0x84, 1);
  CHECK(g.reg(ADMA_REG_STATUS) == ADMA_STATUS_OK);
  CHECK(g.stat(ADMA_STAT_INVALID_COMMANDS) == 0);
  REQUIRE(q.alive());
}

TEST_CASE("compat=rfc keeps its registrations over a guest reset unless reset-releases=on", "[qemu][rfc][reset]") {
  const auto [props, kept] = GENERATE(table<std::string, bool>({{"interface=2", true},
                                                                {"interface=2,reset-releases=on", false}}));
  Qemu q(with(props));
  Guest g(q);
  REQUIRE(seed_map(g, kGpa, 0x40000) == ADMA_STATUS_OK);
  q.outb(0xcf9, 0x06);  // PIIX reset control: hard reset of the machine
  Guest after(q);
  CHECK(after.stat(ADMA_STAT_LIVE_MAPPINGS) == (kept ? 1u : 0u));
  // The rebooted guest maps the same window again: the host still holds it.
  CHECK(seed_map(after, kGpa, 0x40000) == (kept ? ADMA_STATUS_IO_ERROR : ADMA_STATUS_OK));
}
