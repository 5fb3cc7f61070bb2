// SPDX-License-Identifier: MIT
// The binary writer and reader: lossless round trips, devices, comments, counts, odd outputs.
#include <catch2/catch.hpp>

#include <cstdio>
#include <random>

#include "binary_test_files.hpp"
#include "support/random_events.hpp"
#include "text_test_files.hpp"
#include "traces/binary_reader.hpp"
#include "traces/binary_writer.hpp"
#include "traces/text_reader.hpp"
#include "traces/text_writer.hpp"

using namespace dartlab::trace;
using Catch::Matchers::Contains;
using dartlab::test::random_event;
using dartlab::trace::testing::Everything;
using dartlab::trace::testing::read_binary;
using dartlab::trace::testing::read_everything;
using dartlab::trace::testing::same_event;
using dartlab::trace::testing::slurp;
using dartlab::trace::testing::TempDir;
using dartlab::trace::testing::write_binary;

namespace {

std::vector<std::string> device_names(std::mt19937_64& rng, std::size_t n) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%04zx:%02x:%02zx.%zu", i, static_cast<unsigned>(rng() % 256), i % 32, i % 8);
    names.push_back(name);
  }
  return names;
}

// Random events and their segments, owned.
struct Written {
  std::vector<Event> events;
  std::vector<std::vector<Segment>> segments;
};

Written random_events(std::mt19937_64& rng, std::size_t n, std::uint16_t device_count) {
  Written w;
  std::vector<Segment> segs;
  for (std::size_t i = 0; i < n; ++i) {
    Event ev = random_event(rng, device_count, segs);
    w.segments.emplace_back(ev.segments.begin(), ev.segments.end());
    ev.segments = {};
    w.events.push_back(ev);
  }
  return w;
}

void write_all(BinaryTraceWriter& w, const Written& in) {
  for (std::size_t i = 0; i < in.events.size(); ++i) {
    Event ev = in.events[i];
    ev.segments = in.segments[i];
    w.write(ev);
  }
}

void require_same(const Everything& got, const Written& want) {
  REQUIRE(got.events.size() == want.events.size());
  for (std::size_t i = 0; i < want.events.size(); ++i) {
    INFO("event " << i + 1 << ": " << to_string(want.events[i].kind));
    REQUIRE(same_event(got.events[i], got.segments[i], want.events[i], want.segments[i]));
  }
}

Event event(EventKind kind, std::uint64_t id, std::uint16_t device = 0, std::uint64_t gpa = 0x1000,
            std::uint64_t len_bytes = 4096) {
  Event ev;
  ev.kind = kind;
  ev.id = id;
  ev.device = device;
  ev.gpa = gpa;
  ev.len_bytes = len_bytes;
  return ev;
}

}  // namespace

TEST_CASE("Binary round trips of random events are lossless, with and without zstd", "[traces][binary]") {
  TempDir dir;
  const auto seed = GENERATE(1u, 2u, 3u, 4u, 5u);
  const bool zstd = GENERATE(false, true);
  std::mt19937_64 rng(seed);
  const auto devices = device_names(rng, 1 + rng() % 300);
  const Written in = random_events(rng, 3000, static_cast<std::uint16_t>(devices.size()));

  const std::string path = dir.file("rt.dlt");
  REQUIRE(write_binary(path, {.zstd = zstd}, [&](BinaryTraceWriter& w) {
    w.set_devices(devices);
    w.comment("made by: the round-trip test, seed " + std::to_string(seed));
    write_all(w, in);
  }));
  BinaryTraceReader reader(path);
  CHECK(reader.zstd() == zstd);
  CHECK(reader.declared_events() == in.events.size());
  CHECK(reader.devices() == devices);  // the header's table, before the first event
  const Everything got = read_everything(reader);
  INFO(got.error.to_string());
  REQUIRE(got.status == TraceReader::Status::End);
  require_same(got, in);
  CHECK(got.devices == devices);
  CHECK(got.positions.back() == in.events.size());
  CHECK(reader.comments() == std::vector<std::string>{"made by: the round-trip test, seed " + std::to_string(seed)});
  CHECK(reader.bytes_consumed() == reader.file_bytes());
}

TEST_CASE("Records split across any read size are read whole", "[traces][binary]") {
  TempDir dir;
  std::mt19937_64 rng(11);
  const Written in = random_events(rng, 150, 3);
  const bool zstd = GENERATE(false, true);
  const std::string path = dir.file("small.dlt");
  REQUIRE(write_binary(path, {.zstd = zstd}, [&](BinaryTraceWriter& w) {
    w.set_devices(std::vector<std::string>{"a", "b", "c"});
    for (std::size_t i = 0; i < in.events.size(); ++i) {
      Event ev = in.events[i];
      ev.segments = in.segments[i];
      w.write(ev);
      if (i % 40 == 0) w.flush();  // several chunks
    }
  }));
  const std::size_t block = GENERATE(1u, 2u, 3u, 7u, 13u, 100u, 4096u);
  INFO("block_bytes " << block);
  const Everything got = read_binary(path, {.block_bytes = block});
  INFO(got.error.to_string());
  REQUIRE(got.status == TraceReader::Status::End);
  require_same(got, in);
}

TEST_CASE("Text to binary to text gives back the canonical text", "[traces][binary]") {
  TempDir dir;
  const auto seed = GENERATE(21u, 22u, 23u);
  const bool zstd = GENERATE(false, true);
  std::mt19937_64 rng(seed);
  const auto names = device_names(rng, 1 + rng() % 20);
  const Written in = random_events(rng, 2000, static_cast<std::uint16_t>(names.size()));

  // A text trace, then its canonical form (what the text reader and writer make of it).
  auto write_text = [&](const std::string& path, auto body) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    {
      TextTraceWriter w(f);
      body(w);
      REQUIRE(w.flush());
    }
    REQUIRE(std::fclose(f) == 0);
  };
  // Copies every event of `reader` into `write`, handing on device names as they appear.
  auto copy = [](TraceReader& reader, auto& writer) {
    Event ev;
    std::size_t known = 0;
    TraceReader::Status s;
    while ((s = reader.next(ev)) == TraceReader::Status::Event) {
      if (reader.devices().size() != known) {
        known = reader.devices().size();
        writer.set_devices(reader.devices());
      }
      writer.write(ev);
    }
    INFO(reader.error().to_string());
    REQUIRE(s == TraceReader::Status::End);
  };
  const std::string text = dir.file("in.trace");
  write_text(text, [&](TextTraceWriter& w) {
    w.set_devices(names);
    w.comment("comments do not survive either way");
    for (std::size_t i = 0; i < in.events.size(); ++i) {
      Event ev = in.events[i];
      ev.segments = in.segments[i];
      w.write(ev);
    }
  });
  const std::string canonical = dir.file("canonical.trace");
  write_text(canonical, [&](TextTraceWriter& w) {
    TextTraceReader reader(text);
    copy(reader, w);
  });

  const std::string binary = dir.file("mid.dlt");
  REQUIRE(write_binary(binary, {.zstd = zstd}, [&](BinaryTraceWriter& w) {
    TextTraceReader reader(text);
    copy(reader, w);  // devices arrive one by one: defined inline
  }));
  const std::string back = dir.file("back.trace");
  write_text(back, [&](TextTraceWriter& w) {
    BinaryTraceReader reader(binary);
    copy(reader, w);
  });
  CHECK(slurp(back) == slurp(canonical));
  CHECK(slurp(binary).size() < slurp(canonical).size());
}

TEST_CASE("Devices named late are defined inline before their first use", "[traces][binary]") {
  TempDir dir;
  const std::string path = dir.file("late.dlt");
  REQUIRE(write_binary(path, {}, [&](BinaryTraceWriter& w) {
    w.set_devices(std::vector<std::string>{"a"});
    w.write(event(EventKind::Map, 1, 0));
    w.set_devices(std::vector<std::string>{"a", "b", "c"});
    w.write(event(EventKind::Map, 2, 2));
    w.write(event(EventKind::Alloc, 3, 1));
    w.write(event(EventKind::Map, 4, 7));  // no name: "dev7"
    w.set_devices(std::vector<std::string>{"a", "b", "c", "", "", "", "", "late"});
    w.write(event(EventKind::Map, 5, 7));
    w.write(event(EventKind::Unmap, 5, 7));  // unmaps carry no device
  }));
  const Everything got = read_binary(path);
  INFO(got.error.to_string());
  REQUIRE(got.status == TraceReader::Status::End);
  CHECK(got.devices == std::vector<std::string>{"a", "c", "b", "dev7", "late"});
  REQUIRE(got.events.size() == 6);
  std::vector<std::string> named;
  for (const Event& ev : got.events) named.push_back(got.devices[ev.device]);
  CHECK(named == std::vector<std::string>{"a", "c", "b", "dev7", "late", "a"});
  CHECK(got.events[5].device == 0);
}

TEST_CASE("A device name given twice is one device, as in the text trace", "[traces][binary]") {
  TempDir dir;
  const std::string path = dir.file("dup.dlt");
  REQUIRE(write_binary(path, {}, [&](BinaryTraceWriter& w) {
    w.set_devices(std::vector<std::string>{"a", "a", "b"});
    w.write(event(EventKind::Map, 1, 1));
    w.write(event(EventKind::Map, 2, 2));
    w.write(event(EventKind::Map, 3, 3));  // "dev3"
  }));
  const Everything got = read_binary(path);
  REQUIRE(got.status == TraceReader::Status::End);
  CHECK(got.devices == std::vector<std::string>{"a", "b", "dev3"});
  REQUIRE(got.events.size() == 3);
  CHECK(got.events[0].device == 0);
  CHECK(got.events[1].device == 1);
  CHECK(got.events[2].device == 2);
}

TEST_CASE("An empty trace reads as no events, its count declared as 0", "[traces][binary]") {
  TempDir dir;
  const bool zstd = GENERATE(false, true);
  const std::string path = dir.file("empty.dlt");
  REQUIRE(write_binary(path, {.zstd = zstd}, [](BinaryTraceWriter&) {}));
  const Everything got = read_binary(path);
  INFO(got.error.to_string());
  CHECK(got.status == TraceReader::Status::End);
  CHECK(got.events.empty());
  CHECK(got.declared == 0u);
  CHECK(slurp(path).size() == binary::kHeaderBytes + binary::kChunkHeaderBytes + binary::kEndPayloadBytes);
}

TEST_CASE("Written to a pipe, the count is in the end chunk only and the file reads the same", "[traces][binary]") {
  TempDir dir;
  const std::string path = dir.file("piped.dlt");
  std::FILE* pipe = ::popen(("cat > '" + path + "'").c_str(), "w");
  REQUIRE(pipe != nullptr);
  {
    BinaryTraceWriter w(pipe);
    for (std::uint64_t id = 1; id <= 100; ++id) w.write(event(EventKind::Map, id));
    CHECK(w.finish());
  }
  REQUIRE(::pclose(pipe) == 0);
  const Everything got = read_binary(path);
  INFO(got.error.to_string());
  CHECK(got.status == TraceReader::Status::End);
  CHECK(got.events.size() == 100);
  CHECK_FALSE(got.declared.has_value());
}

TEST_CASE("The header's count is patched where the writer started, not at the file's start", "[traces][binary]") {
  TempDir dir;
  const std::string path = dir.file("offset.dlt");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  std::fputs("prefix", f);
  {
    BinaryTraceWriter w(f);
    w.write(event(EventKind::Map, 1));
    CHECK(w.finish());
  }
  REQUIRE(std::fclose(f) == 0);
  const std::string bytes = slurp(path);
  REQUIRE(bytes.substr(0, 6) == "prefix");
  TempDir out;
  const Everything got = read_binary(out.write("rest.dlt", bytes.substr(6)));
  CHECK(got.status == TraceReader::Status::End);
  CHECK(got.declared == 1u);
}

TEST_CASE("A writer that cannot write says so from flush and finish", "[traces][binary]") {
  std::FILE* full = std::fopen("/dev/full", "wb");
  if (full == nullptr) return;  // not Linux
  {
    BinaryTraceWriter w(full);
    for (std::uint64_t id = 1; id <= 100000; ++id) w.write(event(EventKind::Map, id, 0, id << 12));
    CHECK_FALSE(w.flush());
    CHECK_FALSE(w.finish());
    CHECK_FALSE(w.finish());
  }
  std::fclose(full);
}

TEST_CASE("A trace the writer did not finish reads as truncated after its written events", "[traces][binary]") {
  TempDir dir;
  const std::string path = dir.file("unfinished.dlt");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  {
    BinaryTraceWriter w(f);
    for (std::uint64_t id = 1; id <= 10; ++id) w.write(event(EventKind::Map, id));
    REQUIRE(w.flush());
    w.write(event(EventKind::Unmap, 1));
  }  // the destructor writes the pending chunk, no end chunk
  REQUIRE(std::fclose(f) == 0);
  const Everything got = read_binary(path);
  REQUIRE(got.status == TraceReader::Status::Error);
  CHECK(got.events.size() == 11);
  CHECK(got.error.byte_offset == slurp(path).size());
  CHECK_THAT(got.error.message, Contains("truncated: the file ends after 11 events without the end chunk"));
}

TEST_CASE("Comments are stored as records, the first few kept by the reader", "[traces][binary]") {
  TempDir dir;
  const std::string path = dir.file("comments.dlt");
  const std::string huge(binary::kMaxCommentBytes + 10, 'x');
  REQUIRE(write_binary(path, {}, [&](BinaryTraceWriter& w) {
    w.comment("made by: a test\nwith two lines");
    w.write(event(EventKind::Map, 1));
    w.comment("");
    w.comment(huge);
    for (int i = 0; i < 10; ++i) w.comment("note " + std::to_string(i));
  }));
  BinaryTraceReader reader(path);
  const Everything got = read_everything(reader);
  REQUIRE(got.status == TraceReader::Status::End);
  CHECK(got.events.size() == 1);
  REQUIRE(reader.comments().size() == BinaryTraceReader::kKeptComments);
  CHECK(reader.comments()[0] == "made by: a test\nwith two lines");
  CHECK(reader.comments()[1].empty());
  CHECK(reader.comments()[2] == huge.substr(0, binary::kMaxCommentBytes));
  CHECK(reader.comments()[3] == "note 0");
}

TEST_CASE("Fields an event kind does not carry read back as zero", "[traces][binary]") {
  TempDir dir;
  const std::string path = dir.file("kinds.dlt");
  REQUIRE(write_binary(path, {}, [&](BinaryTraceWriter& w) {
    w.set_devices(std::vector<std::string>{"a", "b"});
    Event unmap = event(EventKind::Unmap, 1, 1, 0x5000, 77);
    unmap.dir = Direction::ToDevice;
    unmap.align_bytes = 4096;
    w.write(unmap);
    Event alloc = event(EventKind::Alloc, 2, 1);
    alloc.dir = Direction::FromDevice;
    w.write(alloc);
    Event access = event(EventKind::Access, 2, 1);
    access.align_bytes = 8192;
    w.write(access);
  }));
  const Everything got = read_binary(path);
  REQUIRE(got.status == TraceReader::Status::End);
  REQUIRE(got.events.size() == 3);
  CHECK(same_event(got.events[0], {}, event(EventKind::Unmap, 1, 0, 0, 0), {}));
  CHECK(same_event(got.events[1], {}, event(EventKind::Alloc, 2, 1), {}));
  CHECK(same_event(got.events[2], {}, event(EventKind::Access, 2, 0), {}));
}

TEST_CASE("Page-sized ranges cost a few bytes an event, and zstd makes them fewer", "[traces][binary]") {
  TempDir dir;
  auto write = [&](const std::string& path, bool zstd) {
    std::mt19937_64 same(5);
    REQUIRE(write_binary(path, {.zstd = zstd}, [&](BinaryTraceWriter& w) {
      w.set_devices(std::vector<std::string>{"0000:01:00.0"});
      for (std::uint64_t id = 1; id <= 20000; ++id) {
        const std::uint64_t gpa = 0x4000'0000 + (same() % (1 << 20)) * 4096;
        w.write(event(EventKind::Map, id, 0, gpa, 4096));
        w.write(event(EventKind::Unmap, id - same() % std::min<std::uint64_t>(id, 1000)));
      }
    }));
    return static_cast<double>(slurp(path).size()) / 40000;
  };
  const double plain = write(dir.file("p.dlt"), false);
  const double packed = write(dir.file("z.dlt"), true);
  CHECK(plain < 5);
  CHECK(packed < plain);
}
