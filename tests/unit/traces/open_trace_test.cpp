// SPDX-License-Identifier: MIT
// open_trace as a newcomer meets it: the format told past a few junk lines, a clear message
// naming the formats tried when none fits, gzip and zstd files read as what they hold, an empty
// result from input that was all skipped reported as an error, and bytes of a hostile trace
// escaped wherever a message or a note repeats them.
#include <catch2/catch.hpp>

#include <zlib.h>
#include <zstd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "open_trace_read.hpp"
#include "text_test_files.hpp"
#include "traces/printable.hpp"

using namespace dartlab::trace;
using Catch::Matchers::Contains;
using dartlab::trace::testing::OpenRead;
using dartlab::trace::testing::read_open;
using dartlab::trace::testing::samples_path;
using dartlab::trace::testing::TempDir;

namespace {

const std::string kFtraceLine =
    "   kworker/u16:2-56      [001] d..1.  1234.567890: dma_map_page: 0000:01:00.0 dir=TO_DEVICE dma_addr=fff00040 "
    "size=1500 phys_addr=12345040 attrs=\n";
const std::string kQemuLine =
    "apple_dma_map bdf=0000:01:00.0 gpa=0x1000 len=0x1000 dir=to_device dma=0x100004000 handle=0x1 status=0\n";
const std::string kTextTrace = "dartlab-trace v1\nmap 1 gpu 0x4000 4096 to_dev\nunmap 1\n";

std::string gzip(const std::string& plain) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(plain.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// With a content checksum, as the zstd command writes by default.
std::string zstd(const std::string& plain) {
  std::string out(ZSTD_compressBound(plain.size()), '\0');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  const std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), plain.data(), plain.size());
  ZSTD_freeCCtx(cctx);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

}  // namespace

TEST_CASE("Junk lines before ftrace, QEMU log or CSV content do not hide the format", "[traces][sniff]") {
  TempDir dir;
  SECTION("ftrace") {
    const OpenRead r = read_open(dir.write("rec.txt", "$ cat /sys/kernel/tracing/trace\n" + kFtraceLine));
    CHECK(r.format == "ftrace");
    CHECK(r.status == TraceReader::Status::End);
    CHECK(r.events.size() == 1);
    CHECK(r.note("line is not an ftrace event line")->first_lines == std::vector<std::uint64_t>{1});
  }
  SECTION("a QEMU log") {
    const OpenRead r = read_open(dir.write("q.log", "some output\nmore output\n" + kQemuLine));
    CHECK(r.format == "qemu-log");
    CHECK(r.events.size() == 1);
  }
  SECTION("an apple_dma CSV") {
    const OpenRead r =
        read_open(dir.write("t.csv", "root@guest:~# cat /sys/kernel/debug/apple_dma/trace\n"
                                     "timestamp_ns,op,gpa_hex,size,active_maps,active_bytes\n1,M,0x1000,4096,1,4096\n"));
    CHECK(r.format == "apple-dma-csv");
    CHECK(r.events.size() == 1);
  }
  SECTION("a text trace after junk is still a text trace, whose reader says what is wrong") {
    const OpenRead r = read_open(dir.write("t.trace", "junk\n" + kTextTrace));
    CHECK(r.format == "text");
    CHECK(r.status == TraceReader::Status::Error);
    CHECK(r.error.line == 1);
    CHECK_THAT(r.error.message, Contains("missing header"));
  }
}

TEST_CASE("When no format fits, the error names the formats tried and --format", "[traces][sniff]") {
  TempDir dir;
  const OpenRead r = read_open(dir.write("mystery.txt", "hello\nworld\n"));
  REQUIRE(r.status == TraceReader::Status::Error);
  CHECK(r.error.to_string().starts_with(dir.file("mystery.txt") + ": error: cannot tell the trace's format"));
  CHECK_THAT(r.error.message, Contains("Tried: text, binary, ftrace, qemu-log, apple-dma-csv"));
  CHECK_THAT(r.error.message, Contains("--format"));
  // A file of nothing but comments is an empty text trace: its reader says what it lacks.
  const OpenRead comments = read_open(dir.write("c.trace", "# nothing yet\n"));
  CHECK(comments.format == "text");
  CHECK_THAT(comments.error.message, Contains("missing header"));
}

TEST_CASE("gzip and zstd files are read as what they hold", "[traces][compressed]") {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"text", kTextTrace},
      {"ftrace", "# tracer: nop\n" + kFtraceLine},
      {"qemu-log", kQemuLine},
      {"binary", [] {
         std::ifstream in((samples_path() / ".." / ".." / "tests" / "fuzz" / "corpus" / "binary_reader_fuzz" / "mixed.dlt").string(),
                          std::ios::binary);
         return std::string(std::istreambuf_iterator<char>(in), {});
       }()},
  };
  for (const auto& [format, plain] : inputs) {
    INFO(format);
    REQUIRE_FALSE(plain.empty());
    const OpenRead want = read_open(dir.write("plain", plain));
    REQUIRE(want.status == TraceReader::Status::End);
    REQUIRE(want.format == format);
    // gzip, zstd, and two gzip members one after the other (what `cat a.gz b.gz` makes).
    for (const auto& packed : {gzip(plain), zstd(plain), gzip(plain.substr(0, plain.size() / 2)) + gzip(plain.substr(plain.size() / 2))})
    for (const std::size_t block_bytes : {std::size_t{0}, std::size_t{7}}) {
      ReaderOptions options;
      options.block_bytes = block_bytes;
      const OpenRead got = read_open(dir.write("packed", packed), options);
      REQUIRE(got.status == TraceReader::Status::End);
      CHECK(got.format == format);
      REQUIRE(got.events.size() == want.events.size());
      for (std::size_t i = 0; i < got.events.size(); ++i) {
        CHECK(got.events[i].id == want.events[i].id);
        CHECK(got.events[i].gpa == want.events[i].gpa);
        CHECK(got.segments[i] == want.segments[i]);
        CHECK(got.positions[i] == want.positions[i]);
      }
    }
  }
}

TEST_CASE("A damaged or truncated compressed file is an error that says so", "[traces][compressed]") {
  TempDir dir;
  std::string plain;
  for (int i = 0; i < 2000; ++i) plain += "map " + std::to_string(i + 1) + " gpu 0x" + std::to_string(4096 * (i + 1)) + " 4096 to_dev\n";
  plain = "dartlab-trace v1\n" + plain;
  SECTION("gzip cut short") {
    const std::string gz = gzip(plain);
    const OpenRead r = read_open(dir.write("cut.gz", gz.substr(0, gz.size() - 20)));
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK_THAT(r.error.message, Contains("gzip: the file ends inside the compressed stream (truncated)"));
  }
  SECTION("zstd with a damaged byte") {
    std::string z = zstd(plain);
    z[z.size() / 2] = static_cast<char>(z[z.size() / 2] ^ 0x5a);
    const OpenRead r = read_open(dir.write("bad.zst", z));
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK_THAT(r.error.message, Contains("zstd: damaged stream"));
  }
  SECTION("gzip with trailing garbage") {
    const OpenRead r = read_open(dir.write("tail.gz", gzip(plain) + "garbage"));
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK_THAT(r.error.message, Contains("gzip: damaged stream"));
  }
}

TEST_CASE("Input whose every line was skipped is an error naming what was skipped, not an empty success", "[traces][empty]") {
  TempDir dir;
  SECTION("a QEMU log read with --format ftrace") {
    const OpenRead r = read_open(dir.write("q.log", kQemuLine + kQemuLine), {}, TraceFormat::Ftrace);
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK(r.events.empty());
    CHECK_THAT(r.error.to_string(), Contains("q.log: error: no events: the ftrace reader skipped all of the input: 2 x line is "
                                             "not an ftrace event line (lines 1, 2). If this is not ftrace, say its format "
                                             "with --format"));
  }
  SECTION("an ftrace recording read with --format qemu-log") {
    const OpenRead r = read_open(dir.write("rec.txt", kFtraceLine), {}, TraceFormat::QemuLog);
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK_THAT(r.error.message, Contains("the qemu-log reader skipped all of the input"));
  }
  SECTION("every event of another device") {
    const OpenRead r = read_open(dir.write("rec.txt", kFtraceLine), ReaderOptions{.device = "0000:02:00.0"});
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK_THAT(r.error.message, Contains("event of another device than 0000:02:00.0"));
    CHECK_THAT(r.error.message, Contains("no event of device 0000:02:00.0 (the trace has: 0000:01:00.0)"));
  }
  SECTION("every line malformed, skipped by --lenient") {
    const OpenRead r = read_open(dir.write("t.trace", "dartlab-trace v1\nmap 1 d 0x1000 0 to_dev\n"), ReaderOptions{.lenient = true});
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK_THAT(r.error.message, Contains("1 malformed, skipped by --lenient"));
  }
  SECTION("the error sticks") {
    const auto reader = open_trace(dir.write("q.log", kQemuLine), {}, TraceFormat::Ftrace);
    Event ev;
    CHECK(reader->next(ev) == TraceReader::Status::Error);
    CHECK(reader->next(ev) == TraceReader::Status::Error);
  }
  SECTION("a trace that holds nothing and skips nothing is empty, not an error") {
    CHECK(read_open(dir.write("e.trace", "dartlab-trace v1\n# nothing\n")).status == TraceReader::Status::End);
    CHECK(read_open(dir.write("e.txt", "# tracer: nop\n#\n")).status == TraceReader::Status::End);
  }
}

TEST_CASE("Bytes of a hostile trace are escaped in errors, warnings, notes and device names", "[traces][escape]") {
  TempDir dir;
  CHECK(printable(std::string_view("a\x1b[2J\0\xff\\z", 9)) == "a\\x1b[2J\\x00\\xff\\z");
  CHECK(printable(printable("\x07")) == printable("\x07"));
  SECTION("an error") {
    const OpenRead r = read_open(dir.write("t.trace", std::string("dartlab-trace v1\nmap 1 gpu 0x1000 4\x1b[2J to_dev\n")));
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK(is_printable(r.error.to_string()));
    CHECK_THAT(r.error.to_string(), Contains("'4\\x1b[2J'"));
  }
  SECTION("a lenient warning") {
    const std::string bad = "   kworker/u16:2-56      [001] d..1.  1234.567890: dma_map_page: 0000:01:00.0 dir=TO_DEVICE "
                            "dma_addr=\xff\xfe size=1500 phys_addr=12345040 attrs=\n";
    const OpenRead r = read_open(dir.write("rec.txt", "# tracer: nop\n" + bad + kFtraceLine), ReaderOptions{.lenient = true});
    REQUIRE(r.warning_samples.size() == 1);
    CHECK(is_printable(r.warning_samples[0]));
    CHECK_THAT(r.warning_samples[0], Contains("'\\xff\\xfe'"));
  }
  SECTION("notes and device names") {
    const std::string odd = "   kworker/u16:2-56      [001] d..1.  1234.567890: dma_\x1b]0;owned\x07: x\n"
                            "   kworker/u16:2-56      [001] d..1.  1234.567891: dma_map_page: dev\xff\x1b dir=TO_DEVICE "
                            "dma_addr=fff00040 size=1500 phys_addr=12345040 attrs=\n";
    const OpenRead r = read_open(dir.write("rec.txt", "# tracer: nop\n" + odd));
    REQUIRE(r.status == TraceReader::Status::End);
    for (const ReaderNote& n : r.notes) CHECK(is_printable(n.what));
    REQUIRE(r.devices.size() == 1);
    CHECK(r.devices[0] == "dev\\xff\\x1b");
  }
}

TEST_CASE("A binary trace counts positions in events, the line formats in lines", "[traces][position]") {
  TempDir dir;
  const auto binary = open_trace((samples_path() / ".." / ".." / "tests" / "fuzz" / "corpus" / "binary_reader_fuzz" / "mixed.dlt").string());
  CHECK(binary->position_unit() == "event");
  CHECK(open_trace(dir.write("t.trace", kTextTrace))->position_unit() == "line");
  CHECK(open_trace(dir.write("t.trace", kTextTrace), ReaderOptions{.device = "gpu"})->position_unit() == "line");
}
