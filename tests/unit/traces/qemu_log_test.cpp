// SPDX-License-Identifier: MIT
// A QEMU log of the apple-dma-pci device's trace events imports as dartlab trace events: lines of
// both shapes of the log backend, failed maps and unknown unmaps counted, handles reused, resets
// ending every live mapping of their device, one device kept on request, malformed events
// reported at FILE:LINE:COL. Lines are written by hand from the device's trace-events formats.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "open_trace_read.hpp"
#include "text_test_files.hpp"
#include "traces/qemu_log/log_line.hpp"
#include "traces/qemu_log/qemu_log_reader.hpp"
#include "traces/trace_reader.hpp"

using namespace dartlab::trace;
using Catch::Matchers::Contains;
using dartlab::trace::testing::TempDir;

namespace {

// The device's trace-events formats (passthrough/qemu), filled in.
std::string map_line(std::string_view bdf, std::string_view gpa, std::string_view len, std::string_view handle,
                     std::string_view status = "0", std::string_view dir = "to_device") {
  return "apple_dma_map bdf=" + std::string(bdf) + " gpa=" + std::string(gpa) + " len=" + std::string(len) + " dir=" +
         std::string(dir) + " dma=0x100004000 handle=" + std::string(handle) + " status=" + std::string(status) + "\n";
}
std::string unmap_line(std::string_view bdf, std::string_view handle, std::string_view len = "0x1000", std::string_view status = "0") {
  return "apple_dma_unmap bdf=" + std::string(bdf) + " handle=" + std::string(handle) + " len=" + std::string(len) +
         " status=" + std::string(status) + "\n";
}
std::string reset_line(std::string_view bdf, std::string_view live) {
  return "apple_dma_reset bdf=" + std::string(bdf) + " live=" + std::string(live) + "\n";
}
// The stamp -msg timestamp=on puts in front: "%d@%zu.%06zu:".
std::string stamped(std::string_view stamp, const std::string& line) { return std::string(stamp) + ":" + line; }

constexpr std::string_view kGpu = "0000:01:00.0";
constexpr std::string_view kAudio = "0000:01:00.1";

using Read = dartlab::trace::testing::OpenRead;

// Reads `path` through open_trace, as the command line does: sniffed unless `format` says.
Read read_path(const std::string& path, ReaderOptions options = {}, TraceFormat format = TraceFormat::Auto) {
  return dartlab::trace::testing::read_open(path, options, format);
}

Read read_log(const TempDir& dir, std::string_view text, ReaderOptions options = {}) {
  return read_path(dir.write("qemu.log", text), options, TraceFormat::QemuLog);
}

std::filesystem::path samples_dir() { return dartlab::trace::testing::samples_path(); }

}  // namespace

TEST_CASE("A log backend line splits into stamp, event name and arguments, in both shapes", "[traces][qemu-log]") {
  qemu_log::LogLine l;
  SECTION("with -msg timestamp=on: PID@SEC.USEC:NAME ARGS") {
    REQUIRE(qemu_log::split_line("48213@1732160000.123525:apple_dma_reset bdf=0000:01:00.0 live=3", l) == qemu_log::LineKind::Event);
    CHECK(l.has_time);
    CHECK(l.time_ns == 1732160000123525000ULL);
    CHECK(l.name == "apple_dma_reset");
    CHECK(l.args == "bdf=0000:01:00.0 live=3");
  }
  SECTION("without: NAME ARGS") {
    REQUIRE(qemu_log::split_line("apple_dma_unmap bdf=0000:01:00.0 handle=0x1 len=0x1000 status=0", l) == qemu_log::LineKind::Event);
    CHECK_FALSE(l.has_time);
    CHECK(l.name == "apple_dma_unmap");
    CHECK(l.args == "bdf=0000:01:00.0 handle=0x1 len=0x1000 status=0");
  }
  SECTION("an event without arguments") {
    REQUIRE(qemu_log::split_line("vfio_listener_region_add_skip", l) == qemu_log::LineKind::Event);
    CHECK(l.name == "vfio_listener_region_add_skip");
    CHECK(l.args.empty());
  }
  SECTION("QEMU's messages, console text and blank lines are no events") {
    CHECK(qemu_log::split_line("qemu-system-aarch64: warning: host doesn't support requested feature", l) == qemu_log::LineKind::Other);
    CHECK(qemu_log::split_line("2026-11-21T04:00:00.123456Z qemu-system-aarch64: terminating on signal 2", l) == qemu_log::LineKind::Other);
    CHECK(qemu_log::split_line("Hello world", l) == qemu_log::LineKind::Other);  // no '_': not an event name
    CHECK(qemu_log::split_line("48213@1732160000:apple_dma_map bdf=x", l) == qemu_log::LineKind::Other);  // not a stamp
    CHECK(qemu_log::split_line("apple_dma_map:", l) == qemu_log::LineKind::Other);
    CHECK(qemu_log::split_line("  \t", l) == qemu_log::LineKind::Blank);
  }
  SECTION("a stamp of the right shape whose time does not fit is flagged, not read") {
    REQUIRE(qemu_log::split_line("1@99999999999999999999.000001:apple_dma_reset bdf=0000:01:00.0 live=0", l) == qemu_log::LineKind::Event);
    CHECK_FALSE(l.has_time);
    CHECK(l.bad_time != nullptr);
    REQUIRE(qemu_log::split_line("1@5.12:apple_dma_reset bdf=0000:01:00.0 live=0", l) == qemu_log::LineKind::Event);
    CHECK(l.bad_time != nullptr);  // %06zu prints six digits
  }
}

TEST_CASE("apple_dma_* arguments parse in any order, unknown fields skipped", "[traces][qemu-log]") {
  qemu_log::AppleDmaRecord r;
  qemu_log::PayloadError e;
  REQUIRE(qemu_log::parse_apple_dma(qemu_log::EventType::Map,
                                    "bdf=0000:01:00.0 gpa=0x8a20a000 len=0x1000 dir=from_device dma=0x100002000 handle=0x1f status=0", r, e));
  CHECK(r.bdf == "0000:01:00.0");
  CHECK(r.gpa == 0x8a20a000);
  CHECK(r.len_bytes == 0x1000);
  CHECK(r.dir == Direction::FromDevice);
  CHECK(r.dma_addr == 0x100002000);
  CHECK(r.handle == 0x1f);
  CHECK(r.status == 0);
  REQUIRE(qemu_log::parse_apple_dma(qemu_log::EventType::Unmap, "status=-22 new_field=7 handle=0xffffffffffffffff len=0x2000 bdf=0000:01:00.0", r, e));
  CHECK(r.status == -22);
  CHECK(r.handle == ~std::uint64_t{0});
  REQUIRE(qemu_log::parse_apple_dma(qemu_log::EventType::Reset, "bdf=0000:02:00.0 live=18446744073709551615", r, e));
  CHECK(r.live == ~std::uint64_t{0});
}

TEST_CASE("Malformed apple_dma_* arguments are refused with what and where", "[traces][qemu-log]") {
  struct Case {
    qemu_log::EventType type;
    std::string args;
    std::string message;
    std::size_t offset;  // where error.at points, into args
  };
  const std::string full_unmap = "bdf=0000:01:00.0 handle=0x1 len=0x1000 status=0";
  const std::vector<Case> cases = {
      {qemu_log::EventType::Map, "bdf=0000:01:00.0 gpa=0xzz len=0x1000 dir=to_device dma=0x0 handle=0x1 status=0",
       "gpa must be a hex number, got '0xzz'", 21},
      {qemu_log::EventType::Map, "bdf=0000:01:00.0 gpa=0x10000000000000000 len=0x1000 dir=to_device dma=0x0 handle=0x1 status=0",
       "gpa does not fit in 64 bits", 21},
      {qemu_log::EventType::Map, "bdf=0000:01:00.0 gpa=0x1000 len=0x1000 dir=sideways dma=0x0 handle=0x1 status=0",
       "dir must be bidirectional, to_device or from_device, got 'sideways'", 43},
      {qemu_log::EventType::Map, "bdf=0000:01:00.0 gpa=0x1000 len=0x1000 dir=to_device dma=0x0 handle=0x1",
       "apple_dma_map: status= is missing (the line may be cut short)", 71},
      {qemu_log::EventType::Map, "bdf=0000:01:00.0 gpa=0x1000 len=0x10", "dir= is missing", 36},
      {qemu_log::EventType::Unmap, "bdf=0000:01:00.0 handle=0x1 len=0x1000 status=4294967296", "status must be a decimal int", 46},
      {qemu_log::EventType::Unmap, "bdf=0000:01:00.0 handle=0x1 len=0x1000 status=", "status must be a decimal int", 46},
      {qemu_log::EventType::Unmap, "bdf=0000:01:00.0 handle=0x1 len=0x1000 status=0 garbage", "expected KEY=VALUE, got 'garbage'", 48},
      {qemu_log::EventType::Unmap, "bdf=(null) handle=0x1 len=0x1000 status=0", "bdf must be a PCI address", 4},
      {qemu_log::EventType::Reset, "bdf=0000:01:00.0 live=-1", "live must be a decimal number, got '-1'", 22},
      {qemu_log::EventType::Reset, "", "apple_dma_reset: bdf= is missing", 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    qemu_log::AppleDmaRecord r;
    qemu_log::PayloadError e;
    REQUIRE_FALSE(qemu_log::parse_apple_dma(c.type, c.args, r, e));
    CHECK_THAT(e.message, Contains(c.message));
    CHECK(static_cast<std::size_t>(e.at - c.args.data()) == c.offset);
  }
}

TEST_CASE("A QEMU log imports as maps with ids from 1 and unmaps of those ids; stamps become times", "[traces][qemu-log]") {
  TempDir dir;
  const std::string text = "qemu-system-aarch64: -device apple-dma-pci: info: 65536 mapping slots\n" +  // line 1
                           stamped("7@100.000001", map_line(kGpu, "0x8a20a000", "0x1000", "0x1")) +      // 2
                           stamped("7@100.000002", map_line(kAudio, "0x8a004000", "0x2000", "0x1", "0", "bidirectional")) +  // 3
                           "7@100.000003:vfio_region_write (0000:01:00.0:region0+0x40, 0x1, 4)\n" +   // 4
                           stamped("7@100.000004", unmap_line(kGpu, "0x1")) +                           // 5
                           stamped("7@100.000005", unmap_line(kAudio, "0x1", "0x2000"));                // 6
  const Read r = read_log(dir, text);
  REQUIRE(r.status == TraceReader::Status::End);
  REQUIRE(r.events.size() == 4);
  CHECK(r.format == "qemu-log");
  CHECK(r.devices == std::vector<std::string>{std::string(kGpu), std::string(kAudio)});
  const Event& m1 = r.events[0];
  CHECK(m1.kind == EventKind::Map);
  CHECK(m1.id == 1);
  CHECK(m1.gpa == 0x8a20a000);
  CHECK(m1.len_bytes == 0x1000);
  CHECK(m1.dir == Direction::ToDevice);
  CHECK(m1.device == 0);
  CHECK(m1.has_time);
  CHECK(m1.time_ns == 100'000'001'000ULL);
  CHECK(r.events[1].id == 2);  // the audio function's handle 0x1 is another mapping
  CHECK(r.events[1].device == 1);
  CHECK(r.events[1].dir == Direction::Bidirectional);
  CHECK(r.events[2].kind == EventKind::Unmap);
  CHECK(r.events[2].id == 1);
  CHECK(r.events[3].kind == EventKind::Unmap);
  CHECK(r.events[3].id == 2);
  CHECK(r.positions == std::vector<std::uint64_t>{2, 3, 5, 6});
  CHECK(r.count("line is not a trace event") == 1);
  CHECK(r.first_lines("line is not a trace event") == std::vector<std::uint64_t>{1});
  CHECK(r.count("other trace event 'vfio_region_write'") == 1);
  CHECK(r.first_lines("other trace event 'vfio_region_write'") == std::vector<std::uint64_t>{4});
}

TEST_CASE("A handle freed and mapped again is a new mapping with a new id", "[traces][qemu-log]") {
  TempDir dir;
  const std::string text = map_line(kGpu, "0x1000", "0x1000", "0x5") + unmap_line(kGpu, "0x5") +
                           map_line(kGpu, "0x9000", "0x1000", "0x5") + unmap_line(kGpu, "0x5");
  const Read r = read_log(dir, text);
  REQUIRE(r.status == TraceReader::Status::End);
  REQUIRE(r.events.size() == 4);
  CHECK(r.events[0].id == 1);
  CHECK(r.events[1].id == 1);
  CHECK(r.events[2].id == 2);
  CHECK(r.events[2].gpa == 0x9000);
  CHECK(r.events[3].id == 2);
  CHECK(r.notes.empty());
}

TEST_CASE("Failed maps and unmaps, unknown handles and a live handle mapped again are counted, never fatal", "[traces][qemu-log]") {
  TempDir dir;
  const std::string text = unmap_line(kGpu, "0x7f3") +                              // 1: mapped before the log began
                           map_line(kGpu, "0x1000", "0x1000", "0x0", "-28") +       // 2: ENOSPC: nothing mapped
                           map_line(kGpu, "0x2000", "0x1000", "0x1") +              // 3: id 1
                           unmap_line(kGpu, "0x1", "0x1000", "-22") +               // 4: failed: 0x1 stays live
                           map_line(kGpu, "0x3000", "0x1000", "0x1") +              // 5: 0x1 again: ends id 1, maps id 2
                           unmap_line(kGpu, "0x1", "0x4000") +                      // 6: ends id 2, len differs
                           unmap_line(kAudio, "0x1");                               // 7: a device never seen
  const Read r = read_log(dir, text);
  REQUIRE(r.status == TraceReader::Status::End);
  REQUIRE(r.events.size() == 4);
  CHECK(r.events[0].kind == EventKind::Map);
  CHECK(r.events[0].id == 1);
  CHECK(r.events[1].kind == EventKind::Unmap);  // line 5: the missing unmap of id 1 first
  CHECK(r.events[1].id == 1);
  CHECK(r.events[2].kind == EventKind::Map);
  CHECK(r.events[2].id == 2);
  CHECK(r.events[3].kind == EventKind::Unmap);
  CHECK(r.events[3].id == 2);
  CHECK(r.positions == std::vector<std::uint64_t>{3, 5, 5, 6});
  CHECK(r.count("failed apple_dma_map") == 1);
  CHECK(r.first_lines("failed apple_dma_map") == std::vector<std::uint64_t>{2});
  CHECK(r.count("failed apple_dma_unmap") == 1);
  CHECK(r.count("apple_dma_unmap of a handle not mapped in this log") == 2);
  CHECK(r.first_lines("apple_dma_unmap of a handle not mapped in this log") == std::vector<std::uint64_t>{1, 7});
  CHECK(r.count("handle still live") == 1);
  CHECK(r.count("len differs") == 1);
  CHECK(r.devices == std::vector<std::string>{std::string(kGpu)});
}

TEST_CASE("A reset unmaps every live mapping of its device, in map order, and only of that device", "[traces][qemu-log]") {
  TempDir dir;
  std::string text;
  for (int h = 1; h <= 40; ++h) text += map_line(kGpu, "0x" + std::to_string(h) + "000", "0x1000", "0x" + std::to_string(h));  // ids 1..40
  text += map_line(kAudio, "0x100000", "0x1000", "0x3");  // id 41
  text += unmap_line(kGpu, "0x7");                         // id 7 ends before the reset
  text += reset_line(kGpu, "39");                          // line 43
  text += map_line(kGpu, "0x200000", "0x1000", "0x1");     // id 42: handle 0x1 reused after the reset
  text += unmap_line(kAudio, "0x3");
  text += reset_line(kAudio, "5");                         // nothing live: live=5 disagrees
  const Read r = read_log(dir, text);
  REQUIRE(r.status == TraceReader::Status::End);
  std::vector<std::uint64_t> reset_ids;
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    if (r.positions[i] == 43) {
      CHECK(r.events[i].kind == EventKind::Unmap);
      reset_ids.push_back(r.events[i].id);
    }
  }
  std::vector<std::uint64_t> expected;
  for (std::uint64_t id = 1; id <= 40; ++id) {
    if (id != 7) expected.push_back(id);
  }
  CHECK(reset_ids == expected);
  REQUIRE(r.events.size() == 41 + 1 + 39 + 1 + 1);
  CHECK(r.events[r.events.size() - 2].id == 42);
  CHECK(r.events.back().kind == EventKind::Unmap);
  CHECK(r.events.back().id == 41);
  CHECK(r.count("apple_dma_reset with mappings live") == 1);
  CHECK(r.count("live= differs") == 1);
  CHECK(r.first_lines("live= differs") == std::vector<std::uint64_t>{46});
}

TEST_CASE("Malformed known events stop the import at FILE:LINE:COL; lenient skips and counts them", "[traces][qemu-log]") {
  TempDir dir;
  const std::string good = map_line(kGpu, "0x1000", "0x1000", "0x1");
  struct Case {
    std::string line;
    std::string message;
    std::uint32_t column;
  };
  const std::vector<Case> cases = {
      {"apple_dma_map bdf=0000:01:00.0 gpa=0x1000 len=0xqq dir=to_device dma=0x0 handle=0x2 status=0\n", "len must be a hex number", 47},
      {"apple_dma_map bdf=0000:01:00.0 gpa=0x1000 len=0x1000 dir=to_dev\n", "dir must be bidirectional", 58},
      {"apple_dma_map bdf=0000:01:00.0 gpa=0x1000 len=0x1000\n", "dir= is missing (the line may be cut short)", 53},
      {"7@1.000002:apple_dma_unmap bdf=0000:01:00.0 handle=0x1 len=0x1000\n", "status= is missing", 66},
      {"apple_dma_map bdf=0000:01:00.0 gpa=0x1000 len=0x0 dir=to_device dma=0x0 handle=0x2 status=0\n", "len=0 with status=0", 92},
      {"apple_dma_map bdf=0000:01:00.0 gpa=0xfffffffffffff000 len=0x2000 dir=to_device dma=0x0 handle=0x2 status=0\n",
       "gpa + len passes 2^64", 107},
      {"7@1.5:apple_dma_reset bdf=0000:01:00.0 live=0\n", "stamp must have six digits", 3},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    const std::string text = good + c.line + unmap_line(kGpu, "0x1");
    SECTION("strict: " + c.message) {
      const Read r = read_log(dir, text);
      REQUIRE(r.status == TraceReader::Status::Error);
      CHECK(r.events.size() == 1);
      CHECK(r.error.line == 2);
      CHECK(r.error.column == c.column);
      CHECK_THAT(r.error.message, Contains(c.message));
      CHECK_THAT(r.error.to_string(), Contains("qemu.log:2:" + std::to_string(c.column) + ": error: "));
    }
    SECTION("lenient: " + c.message) {
      ReaderOptions options;
      options.lenient = true;
      const Read r = read_log(dir, text, options);
      REQUIRE(r.status == TraceReader::Status::End);
      CHECK(r.events.size() == 2);
      CHECK(r.warnings == 1);
      REQUIRE(r.warning_samples.size() == 1);
      CHECK_THAT(r.warning_samples[0], Contains("qemu.log:2:" + std::to_string(c.column) + ": warning: "));
    }
  }
}

TEST_CASE("Garbage, truncated lines, huge numbers and a line past the limit never stop the import", "[traces][qemu-log]") {
  TempDir dir;
  std::string text = map_line(kGpu, "0x1000", "0x1000", "0x1");
  text += "\x01\x02\xff garbage \xfe\n";
  text += "apple_dma_ma";  // a line cut inside the event's name: another name, counted
  text += "\n";
  text += std::string(std::size_t{1} << 21, 'x') + "\n";  // longer than the 1 MiB line limit
  text += map_line(kGpu, "0xffffffffffffe000", "0x2000", "0xffffffffffffffff");  // the top page, the largest handle
  text += unmap_line(kGpu, "0xffffffffffffffff", "0x2000");
  text += unmap_line(kGpu, "0x1");
  text += "apple_dma_unmap bdf=0000:01:00.0 handle=0x1";  // cut short, last line without '\n'
  ReaderOptions options;
  options.lenient = true;
  options.block_bytes = 7;  // seams inside every line
  const Read r = read_log(dir, text, options);
  REQUIRE(r.status == TraceReader::Status::End);
  REQUIRE(r.events.size() == 4);
  CHECK(r.events[1].gpa == 0xffffffffffffe000);
  CHECK(r.events[2].id == r.events[1].id);
  CHECK(r.count("line is not a trace event") == 1);
  CHECK(r.count("other trace event 'apple_dma_ma'") == 1);
  CHECK(r.count("line longer than") == 1);
  CHECK(r.warnings == 1);
  REQUIRE(r.warning_samples.size() == 1);
  CHECK_THAT(r.warning_samples[0], Contains(":8:") && Contains("len= is missing"));
}

TEST_CASE("the device filter keeps one device's mappings and its unmaps and resets; the rest is counted", "[traces][qemu-log]") {
  TempDir dir;
  const std::string text = map_line(kGpu, "0x1000", "0x1000", "0x1") + map_line(kAudio, "0x2000", "0x1000", "0x1") +
                           map_line(kAudio, "0x3000", "0x1000", "0x2") + unmap_line(kGpu, "0x1") + reset_line(kAudio, "2");
  ReaderOptions options;
  options.device = std::string(kAudio);
  const Read r = read_path(dir.write("qemu.log", text), options);  // sniffed, and filtered by open_trace
  REQUIRE(r.status == TraceReader::Status::End);
  CHECK(r.format == "qemu-log");
  REQUIRE(r.events.size() == 4);
  CHECK(r.events[0].gpa == 0x2000);
  CHECK(r.events[1].gpa == 0x3000);
  CHECK(r.events[2].kind == EventKind::Unmap);
  CHECK(r.events[3].kind == EventKind::Unmap);
  CHECK(r.events[2].id == r.events[0].id);
  CHECK(r.events[3].id == r.events[1].id);
  CHECK(r.count("event of another device than 0000:01:00.1") == 2);  // the GPU's map and unmap
}

TEST_CASE("open_trace tells a QEMU log from text, ftrace and other logs by its apple_dma_* lines", "[traces][qemu-log]") {
  CHECK(sniff_format("qemu-system-aarch64: warning: x\nvfio_region_write (a, 0x1, 4)\n" +
                     map_line(kGpu, "0x1000", "0x1000", "0x1")) == TraceFormat::QemuLog);
  CHECK(sniff_format(stamped("9@1.000000", reset_line(kGpu, "0"))) == TraceFormat::QemuLog);
  CHECK(sniff_format("dartlab-trace v1\nmap 1 0000:01:00.0 0x1000 4096 to_dev\n") == TraceFormat::Text);
  CHECK(sniff_format("   kworker/u16:2-56      [001] d..1.  1234.567890: dma_map_page: 0000:01:00.0 dir=TO_DEVICE\n") ==
        TraceFormat::Ftrace);
  CHECK(sniff_format("vfio_region_write (a, 0x1, 4)\nqemu-system-aarch64: terminating\n") != TraceFormat::QemuLog);
  TempDir dir;
  const Read r = read_path(dir.write("q.log", "qemu-system-aarch64: info\n" + map_line(kGpu, "0x1000", "0x1000", "0x1")));
  CHECK(r.format == "qemu-log");
  CHECK(r.events.size() == 1);
  CHECK(parse_trace_format("qemu-log") == TraceFormat::QemuLog);
}

TEST_CASE("The QEMU log samples import whole and end with nothing live", "[traces][qemu-log]") {
  for (const char* name : {"qemu-apple-dma.log", "qemu-apple-dma-stderr.log"}) {
    CAPTURE(name);
    const std::string path = (samples_dir() / name).string();
    QemuLogReader reader(path);
    Event ev;
    std::size_t maps = 0, unmaps = 0;
    TraceReader::Status status;
    while ((status = reader.next(ev)) == TraceReader::Status::Event) (ev.kind == EventKind::Map ? maps : unmaps) += 1;
    REQUIRE(status == TraceReader::Status::End);
    CHECK(maps > 50);
    CHECK(maps == unmaps);  // the GPU is drained and the audio function reset
    CHECK(reader.live_mappings() == 0);
    CHECK(reader.devices().size() == 2);
    bool failed = false, reset = false, other = false;
    for (const ReaderNote& n : reader.notes()) {
      failed |= n.what.find("failed apple_dma_map") != std::string::npos;
      reset |= n.what.find("apple_dma_reset with mappings live") != std::string::npos;
      other |= n.what.find("line is not a trace event") != std::string::npos;
    }
    CHECK(failed);
    CHECK(reset);
    CHECK(other);
  }
}
