// SPDX-License-Identifier: MIT
// A QEMU log of the real apple-dma-pci device (the seed system's) imports at two levels: the
// guest's map and unmap entries (--level guest), or the host mappings QEMU registered with the
// host service (--level host). Lines are written by hand from the real device's trace-events
// formats, with and without the log backend's PID@SEC.USEC: stamp.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "open_trace_read.hpp"
#include "text_test_files.hpp"
#include "traces/qemu_log/log_line.hpp"

using namespace dartlab::trace;
using Catch::Matchers::Contains;
using dartlab::trace::testing::OpenRead;
using dartlab::trace::testing::read_open;
using dartlab::trace::testing::samples_path;
using dartlab::trace::testing::TempDir;

namespace {

// One map entry of one doorbell, as the real device logs it: the host call, then the entry.
constexpr const char* kSession =
    "apple_dma_doorbell cmd_gpa=0x8fff0000 type=1 count=1 req=0x8fff1000 resp=0x8fff2000\n"                          // 1
    "apple_dext_register_dma iova=0x8a200000 client_va=0x30a200000 size=262144 -> bus=0x100004000 len=262144 kr=0x0\n"  // 2
    "apple_dma_handle_map_entry idx=0 gpa=0x8a200000 req_len=262144 -> bus=0x100004000 len=262144 ok=1\n"              // 3
    "apple_dma_doorbell cmd_gpa=0x8fff0000 type=1 count=1 req=0x8fff1000 resp=0x8fff2000\n"                          // 4
    "apple_dext_register_dma iova=0x9c000000 client_va=0x31c000000 size=262144 -> bus=0x0 len=0 kr=0xe00002db\n"      // 5
    "apple_dma_backend_map_fail gpa=0x9c000000 size=262144 reason=register_dma\n"                                     // 6
    "apple_dma_handle_map_entry idx=0 gpa=0x9c000000 req_len=262144 -> bus=0x0 len=0 ok=0\n"                          // 7
    "apple_dma_doorbell cmd_gpa=0x8fff0000 type=1 count=1 req=0x8fff1000 resp=0x8fff2000\n"                          // 8
    "apple_dext_register_dma iova=0x8a23c000 client_va=0x30a23c000 size=32768 -> bus=0x100044000 len=32768 kr=0x0\n"  // 9
    "apple_dma_handle_map_entry idx=0 gpa=0x8a23c000 req_len=32768 -> bus=0x100044000 len=32768 ok=1\n"               // 10
    "apple_dma_doorbell cmd_gpa=0x8fff0000 type=2 count=1 req=0x8fff1000 resp=0x8fff2000\n"                          // 11
    "apple_dext_unregister_dma iova=0x8a200000 kr=0x0\n"                                                              // 12
    "apple_dma_handle_unmap_entry idx=0 id=0x8a200000 status=0\n";                                                    // 13

OpenRead read_log(const TempDir& dir, const std::string& text, LogLevel level = LogLevel::Guest, std::string device = {}) {
  return read_open(dir.write("qemu.log", text), ReaderOptions{.device = std::move(device), .level = level});
}

std::string stamp_every_line(const std::string& text) {
  std::string out;
  std::size_t at = 0;
  for (int i = 0; at < text.size(); ++i) {
    const std::size_t nl = text.find('\n', at);
    out += "48213@1732160004." + std::to_string(203118 + i) + ":" + text.substr(at, nl + 1 - at);
    at = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("The real device's map and unmap entries are the guest level, in both line shapes", "[traces][qemu-log][real]") {
  TempDir dir;
  const bool stamped = GENERATE(false, true);
  const OpenRead r = read_log(dir, stamped ? stamp_every_line(kSession) : std::string(kSession));
  REQUIRE(r.status == TraceReader::Status::End);
  CHECK(r.format == "qemu-log");  // sniffed
  REQUIRE(r.events.size() == 3);
  CHECK(r.devices == std::vector<std::string>{"0000:01:00.0"});  // the events name none: the default
  CHECK(r.events[0].kind == EventKind::Map);
  CHECK(r.events[0].gpa == 0x8a200000);
  CHECK(r.events[0].len_bytes == 262144);
  CHECK(r.events[1].gpa == 0x8a23c000);
  CHECK(r.events[1].len_bytes == 32768);
  CHECK(r.events[2].kind == EventKind::Unmap);
  CHECK(r.events[2].id == r.events[0].id);
  CHECK(r.positions == std::vector<std::uint64_t>{3, 10, 13});
  CHECK(r.events[0].has_time == stamped);
  if (stamped) CHECK(r.events[0].time_ns == 1732160004203120000ULL);
  const ReaderNote* level = r.note("read at --level guest");
  REQUIRE(level != nullptr);
  CHECK_FALSE(level->skips);
  CHECK(r.count("failed map entry (ok=0)") == 1);
  CHECK(r.note("failed map entry (ok=0)")->first_lines == std::vector<std::uint64_t>{7});
  CHECK(r.count("apple_dma_backend_map_fail, reason 'register_dma'") == 1);
  CHECK(r.count("apple_dext_* line of the host level, not replayed at --level guest") == 4);
  CHECK(r.count("apple_dma_doorbell") == 4);
}

TEST_CASE("dartlab's device's own apple_dma_doorbell lines, another form under the same name, are read too",
          "[traces][qemu-log][real]") {
  TempDir dir;
  const OpenRead r = read_log(dir,
                              "apple_dma_doorbell bdf=0000:00:04.0 type=3 count=1 status=0\n"
                              "apple_dma_map bdf=0000:00:04.0 gpa=0x1000000 len=0x1000 dir=to_device dma=0x4000 "
                              "handle=0x1 status=0\n");
  REQUIRE(r.status == TraceReader::Status::End);
  CHECK(r.events.size() == 1);
  CHECK(r.count("apple_dma_doorbell") == 1);
}

TEST_CASE("The host level replays what QEMU registered with the host service", "[traces][qemu-log][real]") {
  TempDir dir;
  const OpenRead r = read_log(dir, kSession, LogLevel::Host, "0000:03:00.0");
  REQUIRE(r.status == TraceReader::Status::End);
  REQUIRE(r.events.size() == 3);
  CHECK(r.devices == std::vector<std::string>{"0000:03:00.0"});  // --device names the one device
  CHECK(r.events[0].gpa == 0x8a200000);  // iova = gpa
  CHECK(r.positions == std::vector<std::uint64_t>{2, 9, 12});
  CHECK(r.events[2].id == r.events[0].id);
  CHECK(r.count("apple_dext_register_dma refused by the host (kr != 0)") == 1);
  CHECK(r.count("map or unmap entry of the guest level, not replayed at --level host") == 4);
  CHECK(r.note("read at --level host") != nullptr);
}

TEST_CASE("A log of one level read at the other is an error naming the level", "[traces][qemu-log][real]") {
  TempDir dir;
  const std::string host_only = "apple_dext_register_dma iova=0x1000 client_va=0x2000 size=16384 -> bus=0x4000 len=16384 kr=0x0\n";
  const OpenRead r = read_log(dir, host_only);
  CHECK(r.status == TraceReader::Status::Error);
  CHECK_THAT(r.error.message, Contains("no events"));
  CHECK_THAT(r.error.message, Contains("not replayed at --level guest (--level host replays them)"));
  CHECK(read_log(dir, host_only, LogLevel::Host).events.size() == 1);
}

TEST_CASE("Unmaps of ids never mapped, failed unmaps and short maps are counted", "[traces][qemu-log][real]") {
  TempDir dir;
  const OpenRead r = read_log(dir,
                              "apple_dma_handle_unmap_entry idx=0 id=0x5000 status=0\n"
                              "apple_dma_handle_map_entry idx=0 gpa=0x8000 req_len=16384 -> bus=0x4000 len=16384 ok=1\n"
                              "apple_dma_handle_unmap_entry idx=0 id=0x8000 status=1\n"
                              "apple_dma_handle_map_entry idx=1 gpa=0x9000 req_len=16384 -> bus=0x8000 len=8192 ok=1\n"
                              "apple_dma_handle_map_entry idx=2 gpa=0x8000 req_len=16384 -> bus=0xc000 len=16384 ok=1\n"
                              "apple_dma_handle_unmap_entry idx=0 id=0x8000 status=0\n");
  REQUIRE(r.status == TraceReader::Status::End);
  CHECK(r.count("unmap entry of an id not mapped in this log") == 1);
  CHECK(r.count("failed unmap entry (status != 0): the mapping stays live") == 1);
  CHECK(r.count("bus len shorter than req_len") == 1);
  CHECK(r.count("map entry of an id (gpa) still live") == 1);
  REQUIRE(r.events.size() == 4);
  CHECK(r.events[3].id == r.events[2].id);  // the latest first
}

TEST_CASE("Malformed real-device events name their line and column", "[traces][qemu-log][real]") {
  struct Case {
    std::string line;
    std::uint32_t column;
    std::string message;
  };
  const Case c = GENERATE(
      Case{"apple_dma_handle_map_entry idx=0 gpa=0x8000 req_len=0x4000 -> bus=0x0 len=0 ok=1", 53,
           "apple_dma_handle_map_entry: req_len must be a decimal number, got '0x4000'"},
      Case{"apple_dma_handle_map_entry idx=0 gpa=0x8000 req_len=16384 -> bus=0x4000 len=16384", 82,
           "apple_dma_handle_map_entry: ok= is missing"},
      Case{"apple_dma_handle_map_entry idx=0 gpa=0x8000 req_len=0 -> bus=0x4000 len=0 ok=1", 79,
           "a successful map of 0 bytes"},
      Case{"apple_dma_handle_unmap_entry idx=0 id=0x8000 status=4294967296", 53, "status does not fit in 32 bits"},
      Case{"apple_dext_unregister_dma iova=0x8000 kr=zz", 42, "kr must be a hex number, got 'zz'"},
      Case{"apple_dext_register_dma iova=0xfffffffffffff000 client_va=0x0 size=8192 -> bus=0x0 len=8192 kr=0x0", 99,
           "gpa + size passes 2^64"},
      Case{"apple_dma_doorbell cmd_gpa=0x1 type=1 count=1 req=0x2 garbage resp=0x3", 55, "expected KEY=VALUE, got 'garbage'"});
  TempDir dir;
  INFO(c.line);
  const LogLevel level = c.line.find("apple_dext") != std::string::npos ? LogLevel::Host : LogLevel::Guest;
  const OpenRead r = read_log(dir, "qemu-system-aarch64: starting\n" + c.line + "\n", level);
  REQUIRE(r.status == TraceReader::Status::Error);
  CHECK(r.error.line == 2);
  CHECK(r.error.column == c.column);
  CHECK_THAT(r.error.message, Contains(c.message));
}

TEST_CASE("The backend's failure reason is the rest of its line, escaped", "[traces][qemu-log][real]") {
  qemu_log::RealDeviceRecord rec;
  qemu_log::PayloadError error;
  REQUIRE(qemu_log::parse_real_device(qemu_log::EventType::BackendMapFail, "gpa=0x1000 size=4096 reason=range not RAM", rec, error));
  CHECK(rec.reason == "range not RAM");
  TempDir dir;
  const OpenRead r = read_log(dir, "apple_dma_backend_map_fail gpa=0x1000 size=4096 reason=bad\x1b[31m\n"
                                   "apple_dma_handle_map_entry idx=0 gpa=0x8000 req_len=16384 -> bus=0x4000 len=16384 ok=1\n");
  CHECK(r.note("apple_dma_backend_map_fail, reason 'bad\\x1b[31m'") != nullptr);
}

TEST_CASE("The real-device samples read the same at both levels: each host registration is one guest map entry",
          "[traces][qemu-log][real]") {
  for (const char* name : {"qemu-apple-dma-real.log", "qemu-apple-dma-real-stderr.log"}) {
    INFO(name);
    const std::string path = (samples_path() / name).string();
    const OpenRead guest = read_open(path, ReaderOptions{.level = LogLevel::Guest});
    const OpenRead host = read_open(path, ReaderOptions{.level = LogLevel::Host});
    REQUIRE(guest.status == TraceReader::Status::End);
    REQUIRE(host.status == TraceReader::Status::End);
    REQUIRE(guest.events.size() == host.events.size());
    REQUIRE(guest.events.size() > 20);
    for (std::size_t i = 0; i < guest.events.size(); ++i) {
      CHECK(guest.events[i].kind == host.events[i].kind);
      CHECK(guest.events[i].gpa == host.events[i].gpa);
      CHECK(guest.events[i].len_bytes == host.events[i].len_bytes);
      CHECK(guest.events[i].id == host.events[i].id);
      CHECK(guest.positions[i] == host.positions[i] + 1);  // the host call is logged just before its entry
    }
    CHECK(guest.count("failed map entry (ok=0)") == host.count("apple_dext_register_dma refused by the host"));
    CHECK(guest.count("failed map entry (ok=0)") >= 3);  // the host's table full, a duplicate iova
  }
}
