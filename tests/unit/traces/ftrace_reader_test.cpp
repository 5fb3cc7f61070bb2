// SPDX-License-Identifier: MIT
// An ftrace recording imports as dartlab trace events: fresh ids, unmaps tied to their maps,
// one device kept on request, everything skipped counted, malformed known events reported where
// they are. Recordings are written by hand, line by line, from the TP_printk format strings.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "ftrace_test_files.hpp"
#include "traces/ftrace/ftrace_reader.hpp"

using namespace dartlab::trace;
using Catch::Matchers::Contains;
using dartlab::trace::testing::FtraceRead;
using dartlab::trace::testing::read_ftrace;
using dartlab::trace::testing::read_ftrace_text;
using dartlab::trace::testing::Segs;
using dartlab::trace::testing::TempDir;
using dartlab::trace::testing::trace_line;

namespace {

std::string map_page(std::string_view dev, std::string_view dma, std::string_view phys, std::string_view size = "4096",
                     std::string_view dir = "TO_DEVICE") {
  return trace_line("dma_map_page", std::string(dev) + " dir=" + std::string(dir) + " dma_addr=" + std::string(dma) + " size=" +
                                        std::string(size) + " phys_addr=" + std::string(phys) + " attrs=");
}
std::string unmap_page(std::string_view dev, std::string_view dma, std::string_view size = "4096") {
  return trace_line("dma_unmap_page", std::string(dev) + " dir=TO_DEVICE dma_addr=" + std::string(dma) + " size=" + std::string(size) + " attrs=");
}
std::string iommu_map(std::string_view iova, std::string_view paddr, std::string_view size) {
  return trace_line("map", "IOMMU: iova=" + std::string(iova) + " paddr=" + std::string(paddr) + " size=" + std::string(size));
}
std::string iommu_unmap(std::string_view iova, std::string_view size, std::string_view unmapped) {
  return trace_line("unmap", "IOMMU: iova=" + std::string(iova) + " size=" + std::string(size) + " unmapped_size=" + std::string(unmapped));
}

std::filesystem::path samples_dir() {
  return std::filesystem::path(__FILE__).parent_path() / ".." / ".." / ".." / "traces" / "samples";
}

}  // namespace

TEST_CASE("An ftrace recording imports as events with ids from 1, times, devices, addresses and directions", "[traces][ftrace]") {
  TempDir dir;
  const std::string text =
      "# tracer: nop\n"
      "#\n" +
      map_page("0000:01:00.0", "fff00040", "12345040", "1500", "FROM_DEVICE") +                                                // line 3
      trace_line("dma_map_sg", "0000:01:00.0 dir=TO_DEVICE dma_addrs={0xfff01000,0xfff02000} sizes={0x1000,0x2000} "
                               "phys_addrs={0x20000000,0x30000000} attrs=SKIP_CPU_SYNC", "1234.600000") +                     // 4
      trace_line("dma_alloc", "0000:02:00.0 dir=BIDIRECTIONAL dma_addr=80000000 size=8192 virt_addr=000000003b3c6c5e flags=GFP_KERNEL attrs=") +  // 5
      iommu_map("0x00000000fff00000", "0x0000000012345000", "8192") +                                                         // 6
      unmap_page("0000:01:00.0", "fff00040", "1500") +                                                                        // 7
      trace_line("dma_unmap_sg", "0000:01:00.0 dir=TO_DEVICE phys_addrs={0x20000000,0x30000000} attrs=SKIP_CPU_SYNC") +      // 8
      trace_line("dma_free", "0000:02:00.0 dir=BIDIRECTIONAL dma_addr=80000000 size=8192 virt_addr=000000003b3c6c5e attrs=") +  // 9
      iommu_unmap("0x00000000fff00000", "8192", "8192");                                                                      // 10
  const FtraceRead r = read_ftrace_text(dir, text);
  REQUIRE(r.status == TraceReader::Status::End);
  REQUIRE(r.events.size() == 8);
  CHECK(r.devices == std::vector<std::string>{"0000:01:00.0", "0000:02:00.0", "iommu"});
  CHECK(r.lines == std::vector<std::uint64_t>{3, 4, 5, 6, 7, 8, 9, 10});

  const Event& map = r.events[0];
  CHECK(map.kind == EventKind::Map);
  CHECK(map.id == 1);
  CHECK(map.device == 0);
  CHECK(map.gpa == 0x12345040);
  CHECK(map.len_bytes == 1500);
  CHECK(map.dir == Direction::FromDevice);
  CHECK(map.has_time);
  CHECK(map.time_ns == 1234567890000ULL);

  const Event& sg = r.events[1];
  CHECK(sg.kind == EventKind::MapSg);
  CHECK(sg.id == 2);
  CHECK(sg.dir == Direction::ToDevice);
  CHECK(sg.time_ns == 1234600000000ULL);
  CHECK(r.segments[1] == Segs{{0x20000000, 0x1000}, {0x30000000, 0x2000}});

  const Event& alloc = r.events[2];
  CHECK(alloc.kind == EventKind::Alloc);
  CHECK(alloc.id == 3);
  CHECK(alloc.device == 1);
  CHECK(alloc.gpa == 0x80000000);  // no physical address printed: the DMA address stands in
  CHECK(alloc.len_bytes == 8192);
  CHECK(r.count("dma_alloc without a physical address: DMA address used as GPA") == 1);

  const Event& iommu = r.events[3];
  CHECK(iommu.kind == EventKind::Map);
  CHECK(iommu.id == 4);
  CHECK(iommu.device == 2);
  CHECK(iommu.gpa == 0x12345000);
  CHECK(iommu.dir == Direction::Bidirectional);

  CHECK(r.events[4].kind == EventKind::Unmap);
  CHECK(r.events[4].id == 1);
  CHECK(r.events[5].kind == EventKind::UnmapSg);
  CHECK(r.events[5].id == 2);
  CHECK(r.events[6].kind == EventKind::Free);
  CHECK(r.events[6].id == 3);
  CHECK(r.events[7].kind == EventKind::Unmap);
  CHECK(r.events[7].id == 4);
  CHECK(r.live == 0);
}

TEST_CASE("Unmaps tie to maps by device and DMA address", "[traces][ftrace]") {
  TempDir dir;
  SECTION("two devices with the same DMA address") {
    const FtraceRead r = read_ftrace_text(dir, map_page("0000:01:00.0", "1000", "a000") + map_page("0000:02:00.0", "1000", "b000") +
                                                   unmap_page("0000:02:00.0", "1000") + unmap_page("0000:01:00.0", "1000"));
    REQUIRE(r.events.size() == 4);
    CHECK(r.events[2].id == 2);
    CHECK(r.events[2].device == 1);
    CHECK(r.events[3].id == 1);
    CHECK(r.events[3].device == 0);
  }
  SECTION("an address mapped again after its unmap ties to the new map") {
    const FtraceRead r = read_ftrace_text(dir, map_page("d", "1000", "a000") + unmap_page("d", "1000") + map_page("d", "1000", "c000") +
                                                   unmap_page("d", "1000"));
    REQUIRE(r.events.size() == 4);
    CHECK(r.events[1].id == 1);
    CHECK(r.events[2].id == 2);
    CHECK(r.events[3].id == 2);
  }
  SECTION("two live maps of one address (dma-direct maps a buffer twice) end the latest first") {
    const FtraceRead r = read_ftrace_text(dir, map_page("d", "1000", "1000") + map_page("d", "1000", "1000") + unmap_page("d", "1000") +
                                                   unmap_page("d", "1000"));
    REQUIRE(r.events.size() == 4);
    CHECK(r.events[2].id == 2);
    CHECK(r.events[3].id == 1);
    CHECK(r.count("already live") == 1);
    CHECK(r.live == 0);
  }
  SECTION("a free does not end a map, nor an unmap an allocation") {
    const FtraceRead r = read_ftrace_text(
        dir, map_page("d", "1000", "a000") +
                 trace_line("dma_free", "d dma_addr=1000 size=4096 virt_addr=00000000deadbeef attrs=") + unmap_page("d", "1000"));
    REQUIRE(r.events.size() == 2);
    CHECK(r.count("free of an allocation never made in this recording") == 1);
    CHECK(r.events[1].kind == EventKind::Unmap);
  }
  SECTION("an unmap of an address never mapped (the recording started later) is counted, with its line") {
    const FtraceRead r = read_ftrace_text(dir, unmap_page("d", "1000") + map_page("d", "2000", "a000") + unmap_page("d", "3000"));
    REQUIRE(r.status == TraceReader::Status::End);
    REQUIRE(r.events.size() == 1);
    const ReaderNote* n = r.note("unmap of an address never mapped in this recording");
    REQUIRE(n != nullptr);
    CHECK(n->count == 2);
    CHECK(n->first_lines == std::vector<std::uint64_t>{1, 3});
    CHECK(r.live == 1);
  }
}

TEST_CASE("A failed map or allocation is skipped and counted", "[traces][ftrace]") {
  TempDir dir;
  const FtraceRead r = read_ftrace_text(
      dir, map_page("d", "ffffffffffffffff", "a000") +
               trace_line("dma_alloc", "d dir=BIDIRECTIONAL dma_addr=0 size=4096 virt_addr=0000000000000000 flags=GFP_KERNEL attrs="));
  CHECK(r.events.empty());
  CHECK(r.count("failed map") == 1);
  CHECK(r.count("failed allocation") == 1);
}

TEST_CASE("dma_unmap_sg ties to its dma_map_sg by the physical addresses of the scatterlist", "[traces][ftrace]") {
  TempDir dir;
  SECTION("same device, same list") {
    const FtraceRead r = read_ftrace_text(
        dir, trace_line("dma_map_sg", "d dir=TO_DEVICE dma_addrs={0x1,0x2} sizes={0x1000,0x1000} phys_addrs={0xa000,0xc000} attrs=") +
                 trace_line("dma_map_sg", "d dir=TO_DEVICE dma_addrs={0x3} sizes={0x1000} phys_addrs={0xa000} attrs=") +
                 trace_line("dma_unmap_sg", "d dir=TO_DEVICE phys_addrs={0xa000,0xc000} attrs=") +
                 trace_line("dma_unmap_sg", "d dir=TO_DEVICE phys_addrs={0xa000} attrs=") +
                 trace_line("dma_unmap_sg", "d dir=TO_DEVICE phys_addrs={0xc000,0xa000} attrs="));
    REQUIRE(r.events.size() == 4);
    CHECK(r.events[2].kind == EventKind::UnmapSg);
    CHECK(r.events[2].id == 1);
    CHECK(r.events[3].id == 2);
    CHECK(r.count("dma_unmap_sg of a scatterlist never mapped") == 1);
  }
  SECTION("a [TRUNCATED] map_sg of 130 entries ties to the unmap that prints all 130") {
    std::string printed = "{";
    std::string all = "{";
    for (int i = 0; i < 130; ++i) {
      const std::string a = "0x" + std::to_string(i + 1) + "000";
      if (i < 128) printed += (i ? "," : "") + a;
      all += (i ? "," : "") + a;
    }
    printed += "}";
    all += "}";
    const FtraceRead r = read_ftrace_text(
        dir, trace_line("dma_map_sg", "d dir=TO_DEVICE nents=128/130 ents=128/130 [TRUNCATED] dma_addrs=" + printed + " sizes=" + printed +
                                          " phys_addrs=" + printed + " attrs=") +
                 trace_line("dma_unmap_sg", "d dir=TO_DEVICE phys_addrs=" + all + " attrs="));
    REQUIRE(r.events.size() == 2);
    CHECK(r.segments[0].size() == 128);
    CHECK(r.events[1].id == 1);
    CHECK(r.count("[TRUNCATED]") == 1);
  }
  SECTION("merged DMA segments spread the mapped bytes over the entries, and say so") {
    const FtraceRead r = read_ftrace_text(
        dir, trace_line("dma_map_sg", "d dir=FROM_DEVICE nents=2/2 ents=1/1 dma_addrs={0xfff00000} sizes={0x2000} phys_addrs={0xa000,0x5000} attrs="));
    REQUIRE(r.events.size() == 1);
    CHECK(r.segments[0] == Segs{{0xa000, 0x1000}, {0x5000, 0x1000}});
    CHECK(r.count("merged DMA segments") == 1);
  }
}

TEST_CASE("dma_alloc_sgt and dma_alloc_pages import as a map_sg and an alloc, ended by their frees", "[traces][ftrace]") {
  TempDir dir;
  const FtraceRead r = read_ftrace_text(
      dir, trace_line("dma_alloc_sgt", "d dir=TO_DEVICE dma_addr=a0000000 size=16384 phys_addrs={0x300000000,0x300008000} flags=GFP_KERNEL attrs=") +
               trace_line("dma_alloc_pages", "d dir=FROM_DEVICE dma_addr=90000000 size=8192 virt_addr=00000000deadbeef flags=GFP_KERNEL attrs=") +
               trace_line("dma_free_pages", "d dir=FROM_DEVICE dma_addr=90000000 size=8192 virt_addr=00000000deadbeef attrs=") +
               trace_line("dma_free_sgt", "d dir=TO_DEVICE dma_addr=a0000000 size=16384 phys_addrs={0x300000000,0x300008000}"));
  REQUIRE(r.events.size() == 4);
  CHECK(r.events[0].kind == EventKind::MapSg);
  CHECK(r.segments[0] == Segs{{0x300000000, 8192}, {0x300008000, 8192}});
  CHECK(r.events[1].kind == EventKind::Alloc);
  CHECK(r.events[1].gpa == 0x90000000);
  CHECK(r.events[2].kind == EventKind::Free);
  CHECK(r.events[2].id == 2);
  CHECK(r.events[3].kind == EventKind::UnmapSg);
  CHECK(r.events[3].id == 1);
  CHECK(r.count("dma_alloc_pages without a physical address") == 1);
  CHECK(r.count("dma_alloc_sgt with several entries") == 1);
}

TEST_CASE("The oldest dma_alloc prints a physical address, which becomes the GPA", "[traces][ftrace]") {
  TempDir dir;
  const FtraceRead r = read_ftrace_text(dir, trace_line("dma_alloc", "d dma_addr=80000000 size=8192 phys_addr=12345000 flags=GFP_KERNEL attrs=") +
                                                 trace_line("dma_free", "d dma_addr=80000000 size=8192 phys_addr=12345000 attrs="));
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].gpa == 0x12345000);
  CHECK(r.events[1].id == 1);
  CHECK(r.note("without a physical address") == nullptr);
}

TEST_CASE("An iommu unmap ends every map that tiles its range", "[traces][ftrace]") {
  TempDir dir;
  SECTION("a scatterlist mapped chunk by chunk and unmapped at once") {
    const FtraceRead r = read_ftrace_text(dir, iommu_map("0x0000000000010000", "0x0000000000a00000", "4096") +
                                                   iommu_map("0x0000000000011000", "0x0000000000b00000", "8192") +
                                                   iommu_map("0x0000000000020000", "0x0000000000c00000", "4096") +
                                                   iommu_unmap("0x0000000000010000", "12288", "12288"));
    REQUIRE(r.events.size() == 5);
    CHECK(r.events[3].kind == EventKind::Unmap);
    CHECK(r.events[3].id == 1);
    CHECK(r.events[4].id == 2);
    CHECK(r.lines[3] == 4);
    CHECK(r.lines[4] == 4);
    CHECK(r.live == 1);
    // Only the note that the iommu events name no device (it skips nothing).
    REQUIRE(r.notes.size() == 1);
    CHECK_FALSE(r.notes[0].skips);
    CHECK(r.notes[0].count == 4);
  }
  SECTION("an unmap that ends inside a mapping, one of nothing, one never mapped") {
    const FtraceRead r = read_ftrace_text(dir, iommu_map("0x10000", "0xa00000", "8192") + iommu_unmap("0x10000", "4096", "4096") +
                                                   iommu_unmap("0x50000", "4096", "0") + iommu_unmap("0x60000", "4096", "4096"));
    REQUIRE(r.events.size() == 2);
    CHECK(r.count("do not tile exactly") == 1);
    CHECK(r.count("unmapped nothing") == 1);
    CHECK(r.count("iommu unmap of an IOVA never mapped") == 1);
  }
  SECTION("a map of a live IOVA is a second live mapping (another device's domain); unmaps end the latest first") {
    const FtraceRead r = read_ftrace_text(dir, iommu_map("0x10000", "0xa00000", "4096") + iommu_map("0x10000", "0xb00000", "8192") +
                                                   iommu_unmap("0x10000", "8192", "8192") + iommu_unmap("0x10000", "4096", "4096"));
    REQUIRE(r.events.size() == 4);
    CHECK(r.events[0].kind == EventKind::Map);
    CHECK(r.events[1].kind == EventKind::Map);  // not an unmap of the first
    CHECK(r.events[2].kind == EventKind::Unmap);
    CHECK(r.events[2].id == 2);
    CHECK(r.events[3].id == 1);
    CHECK(r.count("iommu map of a live IOVA: a second live mapping") == 1);
    CHECK(r.note("do not tile exactly") == nullptr);
    CHECK(r.live == 0);
  }
}

TEST_CASE("Filtering by device keeps one device's events; the others are skipped and counted", "[traces][ftrace]") {
  TempDir dir;
  const std::string text = map_page("0000:01:00.0", "1000", "a000") + map_page("0000:02:00.0", "1000", "b000") +
                           iommu_map("0x1000", "0xa000", "4096") + unmap_page("0000:02:00.0", "1000") +
                           unmap_page("0000:01:00.0", "1000");
  ReaderOptions options;
  SECTION("a PCI device") {
    options.device = "0000:02:00.0";
    const FtraceRead r = read_ftrace_text(dir, text, options);
    REQUIRE(r.events.size() == 2);
    CHECK(r.devices == std::vector<std::string>{"0000:02:00.0"});
    CHECK(r.events[0].id == 1);
    CHECK(r.events[1].id == 1);
    const ReaderNote* n = r.note("event of another device than 0000:02:00.0");
    REQUIRE(n != nullptr);
    CHECK(n->count == 2);
    CHECK(n->first_lines == std::vector<std::uint64_t>{1, 5});
    // The iommu events name no device: --device cannot tell whose they are, and says so.
    const ReaderNote* iommu = r.note("iommu event skipped: iommu events name no device, so --device 0000:02:00.0 cannot tell");
    REQUIRE(iommu != nullptr);
    CHECK(iommu->first_lines == std::vector<std::uint64_t>{3});
    CHECK(r.live == 0);
  }
  SECTION("the iommu:* events") {
    options.device = "iommu";
    const FtraceRead r = read_ftrace_text(dir, text, options);
    REQUIRE(r.events.size() == 1);
    CHECK(r.devices == std::vector<std::string>{"iommu"});
    CHECK(r.count("event of another device than iommu") == 4);
  }
  SECTION("a device with no event says so at the end") {
    options.device = "0000:09:00.0";
    const FtraceRead r = read_ftrace_text(dir, text, options);
    CHECK(r.events.empty());
    CHECK(r.note("no event of device 0000:09:00.0 (the trace has: 0000:01:00.0, 0000:02:00.0, iommu)") != nullptr);
  }
}

TEST_CASE("Garbage, unknown and ignored events are skipped and counted by kind with their first lines", "[traces][ftrace]") {
  TempDir dir;
  std::string text = "garbage\n" + trace_line("sched_switch", "prev_comm=a prev_pid=1") + map_page("d", "1000", "a000") +
                     trace_line("dma_sync_single_for_cpu", "d dir=TO_DEVICE dma_addr=1000 size=4096") +
                     "            bash-1234    [000] .....  1500.000000: do_sys_open <-__x64_sys_openat\n" + "CPU:1 [LOST 17 EVENTS]\n" +
                     trace_line("map", "vma=0x1000") + "more garbage\n" + "[LINE TOO BIG]\n";
  for (int i = 0; i < 7; ++i) text += trace_line("sched_wakeup", "comm=a");
  const FtraceRead r = read_ftrace_text(dir, text);
  REQUIRE(r.status == TraceReader::Status::End);
  CHECK(r.events.size() == 1);
  CHECK(r.warnings == 0);
  const ReaderNote* garbage = r.note("line is not an ftrace event line");
  REQUIRE(garbage != nullptr);
  CHECK(garbage->count == 2);
  CHECK(garbage->first_lines == std::vector<std::uint64_t>{1, 8});
  CHECK(r.count("unknown event 'sched_switch'") == 1);
  CHECK(r.count("unknown event 'map'") == 1);
  const ReaderNote* wakeup = r.note("unknown event 'sched_wakeup'");
  REQUIRE(wakeup != nullptr);
  CHECK(wakeup->count == 7);
  CHECK(wakeup->first_lines.size() == ReaderNote::kSampleLines);
  CHECK(r.count("ignored event (it changes no mapping) 'dma_sync_single_for_cpu'") == 1);
  CHECK(r.count("without an event name") == 1);
  CHECK(r.count("lost events") == 1);
  CHECK(r.count("[LINE TOO BIG]") == 1);
}

TEST_CASE("Unknown event names past 64 share one note", "[traces][ftrace]") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 70; ++i) text += trace_line("event_" + std::to_string(i), "x=1");
  const FtraceRead r = read_ftrace_text(dir, text);
  CHECK(r.count("unknown event (more than 64 different names)") == 6);
  CHECK(r.notes.size() == 65);
}

TEST_CASE("A malformed known event stops the reader with FILE:LINE:COL", "[traces][ftrace]") {
  TempDir dir;
  const std::string bad = trace_line("dma_map_page", "0000:01:00.0 dir=TO_DEVICE dma_addr=xyz size=4096 phys_addr=1000 attrs=");
  const std::string path = dir.write("rec.txt", map_page("d", "1000", "a000") + bad + map_page("d", "2000", "b000"));
  const FtraceRead r = read_ftrace(path);
  REQUIRE(r.status == TraceReader::Status::Error);
  CHECK(r.events.size() == 1);
  CHECK(r.error.line == 2);
  const auto column = bad.find("xyz") + 1;
  CHECK(r.error.column == column);
  CHECK(r.error.to_string() == path + ":2:" + std::to_string(column) + ": error: dma_map_page: dma_addr must be a hex number, got 'xyz'");
}

TEST_CASE("In lenient mode malformed known events are warnings: counted, the first five kept, the line skipped", "[traces][ftrace]") {
  TempDir dir;
  std::string text = map_page("d", "1000", "a000");
  for (int i = 0; i < 7; ++i) text += trace_line("dma_unmap_page", "d dir=TO_DEVICE dma_addr=1000 size=4096");  // no attrs=
  text += unmap_page("d", "1000");
  ReaderOptions options;
  options.lenient = true;
  const std::string path = dir.write("rec.txt", text);
  const FtraceRead r = read_ftrace(path, options);
  REQUIRE(r.status == TraceReader::Status::End);
  CHECK(r.events.size() == 2);
  CHECK(r.warnings == 7);
  REQUIRE(r.warning_samples.size() == 5);
  CHECK_THAT(r.warning_samples[0], Contains(path + ":2:"));
  CHECK_THAT(r.warning_samples[0], Contains(": warning: dma_unmap_page: attrs= is missing (the line may be cut short) (line skipped)"));
}

TEST_CASE("CRLF line ends and a last line without its end read like LF lines", "[traces][ftrace]") {
  TempDir dir;
  std::string lf = map_page("d", "1000", "a000") + unmap_page("d", "1000");
  std::string crlf;
  for (char c : lf) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  const std::string unterminated = lf.substr(0, lf.size() - 1);
  const std::string unterminated_cr = crlf.substr(0, crlf.size() - 1);
  for (const std::string& text : {crlf, unterminated, unterminated_cr}) {
    const FtraceRead r = read_ftrace_text(dir, text);
    REQUIRE(r.status == TraceReader::Status::End);
    REQUIRE(r.events.size() == 2);
    CHECK(r.events[1].id == 1);
    CHECK(r.notes.empty());
  }
}

TEST_CASE("A line cut short at any byte is counted or reported, never a crash", "[traces][ftrace]") {
  TempDir dir;
  const std::string line = GENERATE(
      std::string("  Web Content-4821    (   4801) [003] d..1.    87.005290: dma_map_phys: 0000:65:00.0 dir=FROM_DEVICE dma_addr=fff00040 "
                  "size=1500 phys_addr=127710040 attrs=WEAK_ORDERING\n"),
      std::string("   kworker/u16:2-56    [001] ...1.  5012.771493: dma_map_sg:           0000:01:00.0 dir=FROM_DEVICE nents=2/2 ents=2/2 "
                  "dma_addrs={0xfff01000,0xfff02000} sizes={0x1000,0x1000} phys_addrs={0x11dfe8000,0x1188b1000} attrs=\n"),
      std::string("            bash-100     [000] .....   640.000001: map: IOMMU: iova=0x00000000fff00000 - 0x00000000fff02000 "
                  "paddr=0x0000000012345000 size=8192\n"),
      std::string("            bash-100     [000] .....   640.000001: dma_alloc: 0000:02:00.0 dir=BIDIRECTIONAL dma_addr=80000000 "
                  "size=8192 virt_addr=000000003b3c6c5e flags=GFP_KERNEL attrs=\n"));
  const FtraceRead whole = read_ftrace_text(dir, line);
  REQUIRE(whole.events.size() == 1);
  for (std::size_t cut = 0; cut < line.size(); ++cut) {
    const std::string text = line.substr(0, cut) + "\n" + unmap_page("d", "1");
    INFO("cut at " << cut << ": " << line.substr(0, cut));
    const FtraceRead strict = read_ftrace_text(dir, text);
    if (strict.status == TraceReader::Status::Error && strict.error.line == 0) {
      // Nothing came out at all (the line skipped, the unmap of nothing skipped): an error that
      // names what was skipped.
      CHECK(strict.events.empty());
      CHECK_THAT(strict.error.message, Contains("no events: the ftrace reader skipped all of the input"));
    } else if (strict.status == TraceReader::Status::Error) {
      CHECK(strict.error.line == 1);
      CHECK(strict.error.column >= 1);
      CHECK(strict.error.column <= cut + 1);
      CHECK_FALSE(strict.error.message.empty());
    } else {
      REQUIRE(strict.status == TraceReader::Status::End);
      // Counted as skipped, or the same event: a cut inside the trailing attrs= loses nothing, and
      // one inside a last number (iommu's size=) leaves a shorter but well-formed one.
      const bool same_event = strict.events.size() == 1 && strict.events[0].kind == whole.events[0].kind &&
                              strict.events[0].gpa == whole.events[0].gpa;
      bool line_counted = line.find_first_not_of(' ') >= cut;  // a blank line is skipped silently
      for (const ReaderNote& n : strict.notes) line_counted |= !n.first_lines.empty() && n.first_lines[0] == 1;
      const bool counted = strict.events.empty() && line_counted;
      CHECK((same_event || counted));
    }
    ReaderOptions lenient;
    lenient.lenient = true;
    const FtraceRead soft = read_ftrace_text(dir, text, lenient);
    CHECK((soft.status == TraceReader::Status::End || (soft.events.empty() && soft.error.message.starts_with("no events"))));
  }
}

TEST_CASE("Block seams anywhere inside lines do not change what is read", "[traces][ftrace]") {
  const auto path = (samples_dir() / "ftrace-dma-new.txt").string();
  const FtraceRead whole = read_ftrace(path);
  REQUIRE(whole.status == TraceReader::Status::End);
  ReaderOptions options;
  options.block_bytes = GENERATE(1, 2, 7, 64, 4093);
  const FtraceRead r = read_ftrace(path, options);
  REQUIRE(r.status == TraceReader::Status::End);
  REQUIRE(r.events.size() == whole.events.size());
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    CHECK(r.events[i].id == whole.events[i].id);
    CHECK(r.events[i].gpa == whole.events[i].gpa);
    CHECK(r.lines[i] == whole.lines[i]);
  }
  CHECK(r.segments == whole.segments);
  CHECK(r.notes.size() == whole.notes.size());
}

TEST_CASE("A line longer than 1 MiB is skipped and counted", "[traces][ftrace]") {
  TempDir dir;
  const std::string text = map_page("d", "1000", "a000") + std::string((std::size_t{1} << 20) + 10, 'x') + "\n" + unmap_page("d", "1000");
  ReaderOptions options;
  options.block_bytes = GENERATE(std::size_t{0}, std::size_t{100000});
  const FtraceRead r = read_ftrace_text(dir, text, options);
  REQUIRE(r.status == TraceReader::Status::End);
  CHECK(r.events.size() == 2);
  const ReaderNote* n = r.note("line longer than 1048576 bytes");
  REQUIRE(n != nullptr);
  CHECK(n->first_lines == std::vector<std::uint64_t>{2});
}

TEST_CASE("A line the kernel cut short with [LINE TOO BIG] is counted, not an error", "[traces][ftrace]") {
  TempDir dir;
  const FtraceRead r =
      read_ftrace_text(dir, trace_line("dma_map_sg", "d dir=TO_DEVICE dma_addrs={0x1,0x2,[LINE TOO BIG]") + map_page("d", "1000", "a000"));
  CHECK(r.status == TraceReader::Status::End);
  CHECK(r.events.size() == 1);
  CHECK(r.count("[LINE TOO BIG]") == 1);
}

TEST_CASE("Events printed with their system are read, and a wrong system is an unknown event", "[traces][ftrace]") {
  TempDir dir;
  const FtraceRead r = read_ftrace_text(dir, "            bash-100     [000]     5.000000: dma:dma_map_page: d dir=TO_DEVICE dma_addr=1 size=1 "
                                             "phys_addr=1 attrs=\n"
                                             "            bash-100     [000]     5.000000: xen:map: d\n");
  CHECK(r.events.size() == 1);
  CHECK(r.count("unknown event 'map'") == 1);
}

TEST_CASE("The reader says where an event came from as FILE:LINE, and names itself ftrace", "[traces][ftrace]") {
  TempDir dir;
  const std::string path = dir.write("rec.txt", "# tracer: nop\n" + map_page("d", "1000", "a000"));
  FtraceReader reader(path);
  Event ev;
  REQUIRE(reader.next(ev) == TraceReader::Status::Event);
  CHECK(reader.position() == 2);
  CHECK(reader.locate(reader.position()) == path + ":2");
  CHECK(reader.format_name() == "ftrace");
  CHECK(reader.next(ev) == TraceReader::Status::End);
  CHECK(reader.next(ev) == TraceReader::Status::End);
  CHECK(reader.bytes_consumed() == reader.file_bytes());
}

TEST_CASE("A file that cannot be opened is reported by the first next()", "[traces][ftrace]") {
  FtraceReader reader("/nonexistent/rec.txt");
  Event ev;
  CHECK(reader.next(ev) == TraceReader::Status::Error);
  CHECK_THAT(reader.error().to_string(), Contains("/nonexistent/rec.txt: error: cannot open"));
}

TEST_CASE("Sniffing tells ftrace output from dartlab traces and other text", "[traces][ftrace]") {
  CHECK(sniff_format("# tracer: nop\n#\n") == TraceFormat::Ftrace);
  CHECK(sniff_format("\n\n   kworker/u16:2-56      [001] d..1.  1234.567890: dma_map_page: d") == TraceFormat::Ftrace);
  CHECK(sniff_format("          <idle>-0       [000]    87.005136: map: IOMMU: iova=0x1") == TraceFormat::Ftrace);  // trace_pipe, cut mid-line
  CHECK(sniff_format("version = 6\ncpus=2\n") == TraceFormat::Ftrace);
  CHECK(sniff_format("cpus=2\n   kworker/u16:2-56    [001] ...1.  5012.771164: dma_map_page:") == TraceFormat::Ftrace);
  CHECK(sniff_format("# a comment\r\n            bash-1234    [000] .....  1500.000000: do_sys_open <-__x64_sys_openat\r\n") == TraceFormat::Ftrace);
  CHECK(sniff_format("dartlab-trace v1\nmap 1 d 0x1000 4K to_dev\n") != TraceFormat::Ftrace);
  CHECK(sniff_format("# comment\ndartlab-trace v1\n") != TraceFormat::Ftrace);
  CHECK(sniff_format(std::string_view("DLTRACE\0\x01", 9)) != TraceFormat::Ftrace);
  CHECK(sniff_format("") != TraceFormat::Ftrace);
  CHECK(sniff_format("# only comments\n") != TraceFormat::Ftrace);
}

TEST_CASE("Each ftrace sample imports whole", "[traces][ftrace]") {
  struct Sample {
    const char* file;
    std::size_t events;
    std::vector<std::string> devices;
  };
  const auto s = GENERATE(Sample{"ftrace-trace-flags.txt", 142, {"0000:01:00.0", "0000:03:00.0"}},
                          Sample{"ftrace-trace-pipe.txt", 138, {"0000:65:00.0"}},
                          Sample{"ftrace-trace-cmd.txt", 113, {"0000:01:00.0"}},
                          Sample{"ftrace-dma-old.txt", 97, {"0000:02:00.0"}},
                          Sample{"ftrace-dma-new.txt", 81, {"0000:c1:00.0"}},
                          Sample{"ftrace-iommu-old.txt", 118, {"iommu"}},
                          Sample{"ftrace-iommu-new.txt", 114, {"iommu"}});
  INFO(s.file);
  const FtraceRead r = read_ftrace((samples_dir() / s.file).string());
  REQUIRE(r.status == TraceReader::Status::End);
  CHECK(r.events.size() == s.events);
  CHECK(r.devices == s.devices);
  CHECK(r.warnings == 0);
  CHECK(r.note("line is not an ftrace event line") == nullptr);
  CHECK(r.note("without an event name") == nullptr);
  // Ids run from 1 without gaps; every unmap ends a live request.
  std::uint64_t next_id = 1;
  std::size_t ends = 0;
  for (const Event& e : r.events) {
    if (is_map_kind(e.kind)) {
      CHECK(e.id == next_id++);
    } else {
      CHECK(e.id < next_id);
      ++ends;
    }
  }
  CHECK(r.live == (next_id - 1) - ends);
}
