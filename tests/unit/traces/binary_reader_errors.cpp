// SPDX-License-Identifier: MIT
// Bad binary traces stop the reader with a message that says what is wrong and at which byte;
// truncated, damaged and hostile files never crash it nor make it read out of bounds.
#include <catch2/catch.hpp>

#include <random>

#include "binary_test_files.hpp"
#include "text_test_files.hpp"
#include "traces/binary_format.hpp"
#include "traces/binary_reader.hpp"
#include "traces/binary_writer.hpp"

using namespace dartlab::trace;
using namespace dartlab::trace::binary;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using dartlab::trace::testing::byte;
using dartlab::trace::testing::craft;
using dartlab::trace::testing::Everything;
using dartlab::trace::testing::MemoryFile;
using dartlab::trace::testing::read_binary;
using dartlab::trace::testing::reseal;
using dartlab::trace::testing::same_event;
using dartlab::trace::testing::slurp;
using dartlab::trace::testing::TempDir;
using dartlab::trace::testing::varint;
using dartlab::trace::testing::write_binary;

namespace {

// Where the first chunk and its first record start in a crafted file (its table names "d").
constexpr std::uint64_t kFirstChunk = kHeaderBytes + dartlab::trace::testing::kOneDevice.size();
constexpr std::uint64_t kFirstRecord = kFirstChunk + kChunkHeaderBytes;

// Record bytes: a map of [gpa, gpa + len) in bytes with id delta 1, and its like.
std::string map_record(std::uint64_t gpa_delta = 0x1000, std::uint64_t len = 4096) {
  return byte(static_cast<std::uint8_t>(EventKind::Map)) + varint(zigzag(1)) + varint(zigzag(gpa_delta)) + varint(len);
}

void patch32(std::string& bytes, std::size_t at, std::uint32_t v) { store_le<std::uint32_t>(bytes.data() + at, v); }
void patch16(std::string& bytes, std::size_t at, std::uint16_t v) { store_le<std::uint16_t>(bytes.data() + at, v); }

Everything read_bytes(const TempDir& dir, std::string_view bytes, ReaderOptions options = {}) {
  return read_binary(dir.write("t.dlt", bytes), std::move(options));
}

// A small trace of every kind of record across three chunks, and what it holds.
struct Small {
  std::string bytes;
  Everything all;
};
Small small_trace(const TempDir& dir, bool zstd) {
  const std::string path = dir.file("small.dlt");
  std::vector<Segment> segs = {{0x10000, 4096}, {0x30000, 16}, {0x50000, 8192}};
  REQUIRE(write_binary(path, {.zstd = zstd}, [&](BinaryTraceWriter& w) {
    w.set_devices(std::vector<std::string>{"0000:01:00.0"});
    w.comment("made by: small_trace");
    for (std::uint64_t id = 1; id <= 36; ++id) {
      Event ev;
      ev.kind = static_cast<EventKind>(id % kEventKindCount);
      ev.id = id;
      ev.has_time = id % 3 == 0;
      ev.time_ns = id * 1000;
      ev.device = static_cast<std::uint16_t>(id % 2);
      if (has_range(ev.kind)) {
        ev.gpa = 0x8000'0000 + id * 0x3000;
        ev.len_bytes = id % 4 == 0 ? 100 : 8192;
      }
      if (has_dir(ev.kind)) ev.dir = Direction::ToDevice;
      if (ev.kind == EventKind::MapSg) ev.segments = segs;
      if (ev.kind == EventKind::Map && id % 5 == 0) ev.align_bytes = 1 << 21;
      w.write(ev);
      if (id % 12 == 0) w.flush();
    }
  }));
  Small s{slurp(path), read_binary(path)};
  REQUIRE(s.all.status == TraceReader::Status::End);
  REQUIRE(s.all.events.size() == 36);
  return s;
}

// The events read are the first ones of `all`, unchanged.
void require_prefix(const Everything& got, const Everything& all) {
  REQUIRE(got.events.size() <= all.events.size());
  for (std::size_t i = 0; i < got.events.size(); ++i) {
    REQUIRE(same_event(got.events[i], got.segments[i], all.events[i], all.segments[i]));
  }
}

}  // namespace

TEST_CASE("A file that is not a binary trace is refused at byte 0", "[traces][binary]") {
  TempDir dir;
  const std::string path = dir.write("text.trace", "dartlab-trace v1\nunmap 1\n");
  const Everything r = read_binary(path);
  REQUIRE(r.status == TraceReader::Status::Error);
  CHECK(r.error.byte_offset == 0u);
  CHECK(r.error.to_string() ==
        path + ": byte 0: error: not a dartlab binary trace: the file does not start with the binary magic");
}

TEST_CASE("Files too short for a header are truncated, empty ones said to be", "[traces][binary]") {
  TempDir dir;
  Everything r = read_bytes(dir, "");
  REQUIRE(r.status == TraceReader::Status::Error);
  CHECK_THAT(r.error.message, StartsWith("truncated: the file is empty"));
  r = read_bytes(dir, kBinaryMagic);
  REQUIRE(r.status == TraceReader::Status::Error);
  CHECK(r.error.byte_offset == 8u);
  CHECK(r.error.message == "truncated: the file ends inside the 28-byte header");
}

TEST_CASE("A file that cannot be opened says so without a byte offset", "[traces][binary]") {
  const Everything r = read_binary("/nonexistent/x.dlt");
  REQUIRE(r.status == TraceReader::Status::Error);
  CHECK_FALSE(r.error.byte_offset.has_value());
  CHECK(r.error.to_string() == "/nonexistent/x.dlt: error: cannot open: No such file or directory");
}

TEST_CASE("An unknown version or flag is refused, naming what this dartlab reads", "[traces][binary]") {
  TempDir dir;
  std::string bytes = craft(map_record(), 1);
  SECTION("version") {
    patch16(bytes, kVersionAt, 7);
    const Everything r = read_bytes(dir, bytes);
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK(r.error.byte_offset == kVersionAt);
    CHECK(r.error.message == "unsupported binary trace version 7 (this dartlab reads 1)");
  }
  SECTION("flags") {
    patch16(bytes, kFlagsAt, 6);
    const Everything r = read_bytes(dir, reseal(bytes));
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK(r.error.byte_offset == kFlagsAt);
    CHECK(r.error.message == "unknown header flags 0x6 (this dartlab knows 0x1: zstd)");
  }
}

TEST_CASE("Hostile lengths and counts are refused by their limit", "[traces][binary]") {
  TempDir dir;
  struct Case {
    std::string name;
    std::string bytes;
    std::uint64_t offset;
    std::string message;
  };
  const std::uint64_t chunk = kFirstChunk;
  std::vector<Case> cases;
  {
    std::string b = craft(map_record(), 1);
    patch32(b, kTableBytesAt, 0xffffffff);
    cases.push_back({"device table", b, kTableBytesAt, "device table of 4294967295 bytes exceeds the limit of 1048576"});
  }
  {
    std::string b = craft(map_record(), 1);
    patch32(b, chunk, 0xffffffff);
    cases.push_back({"chunk raw size", b, chunk, "chunk of 4294967295 raw bytes exceeds the limit of 1048576"});
  }
  {
    std::string b = craft(map_record(), 1);
    patch32(b, chunk + 4, 0xfffffff0);
    cases.push_back({"stored size, uncompressed", b, chunk,
                     "chunk stores 4294967280 bytes for " + std::to_string(map_record().size()) + " raw bytes in an uncompressed trace"});
  }
  {
    std::string b = craft(map_record(), 1);
    patch16(b, kFlagsAt, kFlagZstd);
    patch32(b, chunk + 4, 0xfffffff0);
    cases.push_back({"stored size, zstd", reseal(b), chunk,
                     "chunk stores 4294967280 bytes for " + std::to_string(map_record().size()) +
                         " raw bytes (a zstd chunk must be smaller, and not empty)"});
  }
  cases.push_back({"segment count",
                   craft(byte(static_cast<std::uint8_t>(EventKind::MapSg)) + varint(zigzag(1)) + varint(5000), 1),
                   kFirstRecord, "event 1 (map_sg): segment count 5000 exceeds 4096"});
  cases.push_back({"no segments", craft(byte(static_cast<std::uint8_t>(EventKind::MapSg)) + varint(zigzag(1)) + varint(0), 1),
                   kFirstRecord, "event 1 (map_sg): segment count 0 (at least 1)"});
  cases.push_back({"device name in the table", craft(map_record(), 1, varint(5000) + std::string(5000, 'a')), kHeaderBytes,
                   "device name of 5000 bytes exceeds 4096"});
  cases.push_back({"device name inline", craft(byte(kTagDevice) + varint(std::uint64_t{1} << 40) + "abc", 0), kFirstRecord,
                   "device name of 1099511627776 bytes exceeds 4096"});
  cases.push_back({"device name past its chunk", craft(byte(kTagDevice) + varint(10) + "abc", 0), kFirstRecord,
                   "device name of 10 bytes runs past the end of its chunk"});
  cases.push_back({"comment", craft(byte(kTagComment) + varint(70000) + "abc", 0), kFirstRecord,
                   "comment of 70000 bytes exceeds 65536"});
  cases.push_back({"comment past its chunk", craft(byte(kTagComment) + varint(100) + "abc", 0), kFirstRecord,
                   "comment of 100 bytes runs past the end of its chunk"});
  {
    std::string b = craft(map_record(), 1);
    const std::size_t end_chunk = b.size() - kChunkHeaderBytes - kEndPayloadBytes;
    patch32(b, end_chunk + 4, 9);
    cases.push_back({"end chunk size", b, end_chunk, "end chunk stores 9 bytes (it holds the 8-byte event count)"});
  }
  for (const Case& c : cases) {
    SECTION(c.name) {
      const Everything r = read_bytes(dir, c.bytes);
      REQUIRE(r.status == TraceReader::Status::Error);
      CHECK(r.error.byte_offset == c.offset);
      CHECK(r.error.message == c.message);
    }
  }
}

TEST_CASE("Broken records name their event and the byte where the record starts", "[traces][binary]") {
  TempDir dir;
  const std::string good = map_record();
  const std::uint64_t second = kFirstRecord + good.size();
  struct Case {
    std::string name;
    std::string record;
    std::string message;
  };
  const auto map = static_cast<std::uint8_t>(EventKind::Map);
  const auto unmap = static_cast<std::uint8_t>(EventKind::Unmap);
  auto c = GENERATE_COPY(
      Case{"unknown meta tag", byte(0x17), "unknown record tag 0x17"},
      Case{"a bit the kind never sets", byte(unmap | 0x10) + varint(2), "bad record tag 0x11 for unmap (a bit this kind never sets)"},
      Case{"direction 3", byte(map | 0x30) + varint(2) + varint(0) + varint(1), "bad record tag 0x30 for map (direction 3)"},
      Case{"truncated", byte(map) + varint(2), "event 2 (map): truncated record: it runs past the end of its chunk"},
      Case{"truncated segments", byte(static_cast<std::uint8_t>(EventKind::MapSg)) + varint(2) + varint(3) + varint(0) + varint(1),
           "event 2 (map_sg): truncated record"},
      Case{"undefined device", byte(map | kExtrasBit) + byte(kExtrasDeviceBit) + varint(2) + varint(3) + varint(0) + varint(1),
           "event 2 (map): device 3 is not defined (1 are)"},
      Case{"no device yet", byte(kTagDevice) + varint(1) + "e" + byte(map | kExtrasBit) + byte(kExtrasDeviceBit) + varint(2) +
                                varint(1) + varint(0) + varint(1) + map_record(),
           "ok"},
      Case{"alignment code", byte(map | kExtrasBit) + byte(65) + varint(2) + varint(0) + varint(1),
           "event 2 (map): alignment code 65 (at most 64)"},
      Case{"length in pages", byte(map | kPagesBit) + varint(2) + varint(0) + varint(std::uint64_t{1} << 52),
           "event 2 (map): a length in pages does not fit in 64 bits"},
      Case{"bad device name", byte(kTagDevice) + varint(3) + "a b", "device name must be letters, digits and ':._-', got 'a b'"},
      Case{"empty device name", byte(kTagDevice) + varint(0), "device name of 0 bytes is empty"},
      Case{"device named twice", byte(kTagDevice) + varint(1) + "a" + byte(kTagDevice) + varint(1) + "a",
           "device 'a' is defined twice"});
  INFO(c.name);
  if (c.message == "ok") {  // a well-formed pair, to show that the records around are fine
    const Everything r = read_bytes(dir, craft(good + c.record, 3));
    INFO(r.error.to_string());
    CHECK(r.status == TraceReader::Status::End);
    REQUIRE(r.events.size() == 3);
    CHECK(r.events[1].device == 1);
    CHECK(r.events[2].device == 1);  // carried over
    return;
  }
  const Everything r = read_bytes(dir, craft(good + c.record, 2));
  REQUIRE(r.status == TraceReader::Status::Error);
  CHECK(r.events.size() == 1);
  CHECK_THAT(r.error.message, StartsWith(c.message));
  if (c.name != "device named twice") CHECK(r.error.byte_offset == second);
}

TEST_CASE("A map in a trace that defines no device is an error, not an index past the names", "[traces][binary]") {
  TempDir dir;
  const Everything r = read_bytes(dir, craft(map_record(), 1, {}));
  REQUIRE(r.status == TraceReader::Status::Error);
  CHECK(r.error.byte_offset == kHeaderBytes + kChunkHeaderBytes);
  CHECK(r.error.message == "event 1 (map): device 0 is not defined (0 are)");
}

TEST_CASE("Inside a zstd chunk, errors name the chunk and the byte inside it", "[traces][binary]") {
  TempDir dir;
  const std::string path = dir.file("z.dlt");
  REQUIRE(write_binary(path, {.zstd = true}, [](BinaryTraceWriter& w) {
    Event ev;
    for (std::uint64_t id = 1; id <= 200; ++id) {
      ev.id = id;
      ev.gpa = id << 12;
      ev.len_bytes = 4096;
      w.write(ev);
    }
    ev.kind = EventKind::MapSg;  // without segments: the writer's precondition broken on purpose
    w.write(ev);
  }));
  const Everything r = read_binary(path);
  REQUIRE(r.status == TraceReader::Status::Error);
  CHECK(r.events.size() == 200);
  CHECK(r.error.byte_offset == kHeaderBytes);
  CHECK_THAT(r.error.message, StartsWith("event 201 (map_sg): segment count 0 (at least 1) (byte "));
  CHECK_THAT(r.error.message, Contains(" of the decompressed chunk)"));
}

TEST_CASE("The event counts of the end chunk and the header must match the events", "[traces][binary]") {
  TempDir dir;
  SECTION("end chunk") {
    const std::string bytes = craft(map_record(), 2);
    const Everything r = read_bytes(dir, bytes);
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK(r.events.size() == 1);
    CHECK(r.error.byte_offset == bytes.size() - kChunkHeaderBytes - kEndPayloadBytes);
    CHECK(r.error.message == "the end chunk counts 2 events, the file holds 1");
  }
  SECTION("header") {
    const Everything r = read_bytes(dir, craft(map_record(), 1, dartlab::trace::testing::kOneDevice, 5));
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK(r.declared == 5u);
    CHECK(r.error.byte_offset == kEventCountAt);
    CHECK(r.error.message == "the header declares 5 events, the file holds 1");
  }
  SECTION("data after the end") {
    const std::string bytes = craft(map_record(), 1) + "x";
    const Everything r = read_bytes(dir, bytes);
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK(r.error.byte_offset == bytes.size() - 1);
    CHECK(r.error.message == "unexpected data after the end chunk");
  }
}

TEST_CASE("Lenient reading skips zero lengths and ranges past 2^64 as warnings", "[traces][binary]") {
  TempDir dir;
  const std::string path = dir.file("l.dlt");
  REQUIRE(write_binary(path, {}, [](BinaryTraceWriter& w) {
    auto write = [&](EventKind kind, std::uint64_t id, std::uint64_t gpa, std::uint64_t len) {
      Event ev;
      ev.kind = kind;
      ev.id = id;
      ev.gpa = gpa;
      ev.len_bytes = len;
      std::vector<Segment> segs = {{0x1000, 4096}, {gpa, len}};
      if (kind == EventKind::MapSg) ev.segments = segs;
      w.write(ev);
    };
    write(EventKind::Map, 1, 0x1000, 0);
    write(EventKind::Map, 2, 0xfffffffffffff001, 4096);
    write(EventKind::Map, 3, 0xfffffffffffff000, 4096);  // ends exactly at 2^64: fine
    write(EventKind::Access, 4, 0xffffffffffffffff, 2);
    write(EventKind::MapSg, 5, 0x2000, 0);
    write(EventKind::Alloc, 6, 0x3000, 0);
    write(EventKind::Unmap, 7, 0, 0);
  }));
  SECTION("strict") {
    const Everything r = read_binary(path);
    REQUIRE(r.status == TraceReader::Status::Error);
    CHECK(r.events.empty());
    CHECK(r.error.byte_offset == kHeaderBytes + kChunkHeaderBytes + 6);  // after the record naming "dev0"
    CHECK(r.error.message == "event 1 (map): length must be > 0");
  }
  SECTION("lenient") {
    const Everything r = read_binary(path, {.lenient = true});
    INFO(r.error.to_string());
    REQUIRE(r.status == TraceReader::Status::End);
    REQUIRE(r.events.size() == 2);
    CHECK(r.events[0].id == 3);
    CHECK(r.events[1].id == 7);
    CHECK(r.positions == std::vector<std::uint64_t>{3, 7});
    CHECK(r.warnings == 5);
    REQUIRE(r.warning_samples.size() == 5);
    CHECK(r.warning_samples[0] == path + ": event 1: warning: length must be > 0 (event skipped)");
    CHECK(r.warning_samples[1] == path + ": event 2: warning: range 0xfffffffffffff001 + 4096 bytes ends past 2^64 (event skipped)");
    CHECK_THAT(r.warning_samples[2], Contains("event 4: warning: range 0xffffffffffffffff + 2 bytes"));
    CHECK_THAT(r.warning_samples[3], Contains("event 5: warning: length must be > 0"));
  }
}

TEST_CASE("A trace cut at any byte is an error at an offset within what is left", "[traces][binary]") {
  TempDir dir;
  const bool zstd = GENERATE(false, true);
  const Small s = small_trace(dir, zstd);
  MemoryFile file;
  for (std::size_t size = 0; size < s.bytes.size(); ++size) {
    const Everything r = read_binary(file.hold(std::string_view(s.bytes).substr(0, size)));
    INFO("cut at " << size << " of " << s.bytes.size() << ": " << r.error.to_string());
    REQUIRE(r.status == TraceReader::Status::Error);
    REQUIRE(r.error.byte_offset.has_value());
    REQUIRE(*r.error.byte_offset <= size);
    REQUIRE_THAT(r.error.message, StartsWith("truncated: "));
    require_prefix(r, s.all);
  }
}

TEST_CASE("Every single-byte change to an uncompressed trace is detected", "[traces][binary]") {
  TempDir dir;
  const Small s = small_trace(dir, false);
  MemoryFile file;
  for (std::size_t at = 0; at < s.bytes.size(); ++at) {
    for (const std::uint8_t flip : {0x01, 0x80, 0xff}) {
      std::string bytes = s.bytes;
      bytes[at] = static_cast<char>(bytes[at] ^ flip);
      const Everything r = read_binary(file.hold(bytes));
      INFO("byte " << at << " ^ " << int{flip});
      REQUIRE(r.status == TraceReader::Status::Error);
      REQUIRE(*r.error.byte_offset <= bytes.size());
      require_prefix(r, s.all);
    }
  }
}

TEST_CASE("Random damage never crashes the reader, even past resealed checksums", "[traces][binary]") {
  TempDir dir;
  const bool zstd = GENERATE(false, true);
  const Small s = small_trace(dir, zstd);
  MemoryFile file;
  std::mt19937_64 rng(zstd ? 77 : 78);
  std::size_t errors = 0, ends = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = s.bytes;
    const int changes = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < changes; ++i) {
      // Mostly in the records; sometimes in the header and the chunk headers.
      const std::size_t at = rng() % 4 == 0 ? rng() % 48 : rng() % bytes.size();
      bytes[at] = static_cast<char>(rng() % 3 == 0 ? bytes[at] ^ (1 << rng() % 8) : static_cast<int>(rng() % 256));
    }
    if (rng() % 8 == 0) bytes.resize(rng() % bytes.size());
    if (rng() % 2 == 0) bytes = reseal(bytes);
    const Everything r = read_binary(file.hold(bytes), {.lenient = rng() % 2 == 0, .block_bytes = rng() % 2 == 0 ? 0 : 1 + rng() % 64});
    if (r.status == TraceReader::Status::Error) {
      ++errors;
      REQUIRE((!r.error.byte_offset || *r.error.byte_offset <= bytes.size()));
      REQUIRE_FALSE(r.error.message.empty());
    } else {
      REQUIRE(r.status == TraceReader::Status::End);
      ++ends;
    }
  }
  CHECK(errors > ends);  // most damage is caught
}
