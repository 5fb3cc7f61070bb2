// SPDX-License-Identifier: MIT
// One line of ftrace text output splits into its context and its event, whichever tool printed
// it. Lines are written by hand from kernel/trace/trace_output.c (trace_print_context) and
// tracecmd/trace-read.c.
#include <catch2/catch.hpp>

#include <string>

#include "traces/ftrace/ftrace_line.hpp"

using namespace dartlab::trace::ftrace;

namespace {

struct Split {
  LineKind kind;
  FtraceLine line;
};

Split split(std::string_view text) {
  Split s{};
  s.kind = split_line(text, s.line);
  return s;
}

}  // namespace

TEST_CASE("A trace file line with the flags column splits into comm, pid, cpu, flags, time, event and text", "[traces][ftrace]") {
  const auto s = split("   kworker/u16:2-56      [001] d..1.  1234.567890: dma_map_page: 0000:01:00.0 dir=TO_DEVICE attrs=");
  REQUIRE(s.kind == LineKind::Event);
  CHECK(s.line.comm == "kworker/u16:2");
  CHECK(s.line.pid == 56);
  CHECK(s.line.tgid == 0);
  CHECK(s.line.cpu == 1);
  CHECK(s.line.flags == "d..1.");
  CHECK(s.line.time_ns == 1234567890000ULL);
  CHECK_FALSE(s.line.time_is_count);
  CHECK(s.line.system.empty());
  CHECK(s.line.event == "dma_map_page");
  CHECK(s.line.payload == "0000:01:00.0 dir=TO_DEVICE attrs=");
}

TEST_CASE("Every context the kernel and trace-cmd print splits the same way", "[traces][ftrace]") {
  struct Case {
    const char* what;
    const char* line;
    const char* comm;
    std::uint32_t pid;
    std::uint32_t tgid;
    std::uint32_t cpu;
    const char* flags;
    std::uint64_t time_ns;
  };
  const auto c = GENERATE(
      Case{"trace_pipe without the flags column (irq-info off)",
           "          <idle>-0       [000]    87.005136: map: IOMMU: iova=0x0000000000001000 paddr=0x0000000000002000 size=4096",
           "<idle>", 0, 0, 0, "", 87005136000ULL},
      Case{"record-tgid on: (%7d)", "     Web Content-4821    (   4801) [003] ...1.    87.005290: map: IOMMU: x", "Web Content", 4821, 4801, 3,
           "...1.", 87005290000ULL},
      Case{"record-tgid on, tgid unknown", "   kworker/u16:2-56      (-------) [003]    87.005936: map: IOMMU: x", "kworker/u16:2", 56, 0, 3, "",
           87005936000ULL},
      Case{"comm with a dash, cut to 15 characters", " kworker/1:1H-kb-143     [001] d..2.  5012.771518: map: IOMMU: x", "kworker/1:1H-kb", 143, 0, 1,
           "d..2.", 5012771518000ULL},
      Case{"comm with a dash and digits before the pid", "  irq/45-nvme0q1-311     [000] .....  1432.118105: map: IOMMU: x", "irq/45-nvme0q1", 311, 0, 0,
           ".....", 1432118105000ULL},
      Case{"comm with brackets that look like a cpu", "    a-1 [2] b-99      [002] .....     1.000001: map: IOMMU: x", "a-1 [2] b", 99, 0, 2, ".....",
           1000001000ULL},
      Case{"older kernels: 4 flag characters, pid in 5 columns", "           <...>-1234  [002] d.h1   212.000412: map: IOMMU: x", "<...>", 1234, 0, 2,
           "d.h1", 212000412000ULL},
      Case{"trace-cmd report: pid in 5 columns, name padded to 20", "   kworker/u16:2-56    [001] ...1.  5012.771164: map:                  IOMMU: x",
           "kworker/u16:2", 56, 0, 1, "...1.", 5012771164000ULL},
      Case{"trace-cmd report --ts-ns: nine decimals", "            Xorg-1402  [000]  5012.771164123: map: IOMMU: x", "Xorg", 1402, 0, 0, "",
           5012771164123ULL},
      Case{"a line without its left padding", "bash-7 [000] 1.5: map: IOMMU: x", "bash", 7, 0, 0, "", 1500000000ULL},
      Case{"tabs as blanks", "bash-7\t[000]\t1.000002:\tmap:\tIOMMU: x", "bash", 7, 0, 0, "", 1000002000ULL});
  INFO(c.what);
  const auto s = split(c.line);
  REQUIRE(s.kind == LineKind::Event);
  CHECK(s.line.comm == c.comm);
  CHECK(s.line.pid == c.pid);
  CHECK(s.line.tgid == c.tgid);
  CHECK(s.line.cpu == c.cpu);
  CHECK(s.line.flags == c.flags);
  CHECK(s.line.time_ns == c.time_ns);
  CHECK(s.line.event == "map");
  CHECK(s.line.payload.substr(0, 6) == "IOMMU:");
}

TEST_CASE("A comm with spaces and dashes ends at the dash before the pid, found from the right", "[traces][ftrace]") {
  const auto s = split("  Web Content-x-7-31337 [000] .....   1.000000: dma_unmap_sg: d dir=NONE phys_addrs={} attrs=");
  REQUIRE(s.kind == LineKind::Event);
  CHECK(s.line.comm == "Web Content-x-7");
  CHECK(s.line.pid == 31337);
}

TEST_CASE("A timestamp without a decimal point is a raw clock count, kept as it is", "[traces][ftrace]") {
  const auto s = split("            bash-100     [000] .....  123456789012: dma_free: d");
  REQUIRE(s.kind == LineKind::Event);
  CHECK(s.line.time_is_count);
  CHECK(s.line.time_ns == 123456789012ULL);
}

TEST_CASE("An event printed with its system, as 'dma:dma_map_page:', splits into both", "[traces][ftrace]") {
  const auto s = split("            bash-100     [000]     5.000000: dma:dma_map_page: 0000:01:00.0 dir=TO_DEVICE");
  REQUIRE(s.kind == LineKind::Event);
  CHECK(s.line.system == "dma");
  CHECK(s.line.event == "dma_map_page");
  CHECK(s.line.payload == "0000:01:00.0 dir=TO_DEVICE");
}

TEST_CASE("An event with an empty text ends at its colon", "[traces][ftrace]") {
  const auto s = split("            bash-100     [000]     5.000000: dma_free:");
  REQUIRE(s.kind == LineKind::Event);
  CHECK(s.line.event == "dma_free");
  CHECK(s.line.payload.empty());
}

TEST_CASE("Header lines of the trace file and of trace-cmd report are headers", "[traces][ftrace]") {
  const auto line = GENERATE(as<std::string>{}, "# tracer: nop", "#", "# entries-in-buffer/entries-written: 19/19   #P:2",
                             "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION", "#              | |         |   |||||     |         |",
                             "##### CPU 1 buffer started ####", "cpus=2", "version = 6", "CPU 0 is empty", "CPU:1 [SUBBUFFER START]", "",
                             "   ", "\t");
  INFO('\'' << line << '\'');
  CHECK(split(line).kind == LineKind::Header);
}

TEST_CASE("Lost-event notices of the kernel and of trace-cmd are recognised", "[traces][ftrace]") {
  const auto line = GENERATE(as<std::string>{}, "CPU:1 [LOST 1234 EVENTS]", "CPU:0 [12 EVENTS DROPPED]", "CPU:3 [EVENTS DROPPED]");
  INFO(line);
  CHECK(split(line).kind == LineKind::LostEvents);
}

TEST_CASE("An event the kernel could not print is recognised by its [LINE TOO BIG]", "[traces][ftrace]") {
  CHECK(split("[LINE TOO BIG]").kind == LineKind::LineTooBig);
}

TEST_CASE("Function tracer output has an ftrace context but no event name", "[traces][ftrace]") {
  CHECK(split("            bash-1234    [000] .....  1500.000000: do_sys_open <-__x64_sys_openat").kind == LineKind::NoEventName);
  CHECK(split("            bash-1234    [000] .....  1500.000000:").kind == LineKind::NoEventName);
}

TEST_CASE("Lines that are not ftrace output are garbage", "[traces][ftrace]") {
  const auto line = GENERATE(as<std::string>{},
                             "dartlab-trace v1",
                             "map 1 0000:01:00.0 0x1000 4K to_dev",
                             "hello world",
                             "bash-12 [000 1.0: map: x",                         // no ']'
                             "bash-12 [x] 1.0: map: x",                          // cpu not a number
                             "bash-12 [0]1.0: map: x",                           // no blank after ']'
                             "bash [000] 1.0: map: x",                           // no -PID
                             "bash-12x [000] 1.0: map: x",                       // pid not a number
                             "bash-12 [000] d..1. : map: x",                     // no time
                             "bash-12 [000] 1.: map: x",                         // no decimals
                             "bash-12 [000] 1.5 map: x",                         // no ':' after the time
                             "bash-12 [000] d..1.d..1. 1.5: map: x",             // flags too long
                             "bash-12 [000] 12345678901.000000: map: x",         // seconds too many
                             "CPU:x [LOST 3 EVENTS]", "CPU 1 is not empty", "\x01\x02\x03 [0] \xff");
  INFO(line);
  CHECK(split(line).kind == LineKind::Garbage);
}
