// SPDX-License-Identifier: MIT
// The apple_dma guest module's debugfs trace CSV imports as dartlab trace events: rows verbatim
// as the module prints them, unmaps matched by (gpa, size) with several live requests per key, a
// ring that has wrapped, a rolled-back map_sg found from the active counts, lost rows noted, and on
// every row of the samples the import's live requests and bytes equal the recording's own counts.
// Rows are written by hand from the module's format: "%llu,%c,0x%llx,%u,%u,%llu".
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "open_trace_read.hpp"
#include "text_test_files.hpp"
#include "traces/apple_dma_csv/apple_dma_csv_reader.hpp"
#include "traces/apple_dma_csv/csv_row.hpp"

using namespace dartlab::trace;
using Catch::Matchers::Contains;
using dartlab::trace::testing::OpenRead;
using dartlab::trace::testing::read_open;
using dartlab::trace::testing::samples_path;
using dartlab::trace::testing::TempDir;

namespace {

constexpr const char* kHeader = "timestamp_ns,op,gpa_hex,size,active_maps,active_bytes\n";

OpenRead read_csv(const TempDir& dir, const std::string& body, ReaderOptions options = {}) {
  return read_open(dir.write("trace.csv", kHeader + body), options, TraceFormat::AppleDmaCsv);
}

// One row, parsed here with sscanf, not with the importer's parser.
struct Row {
  std::uint64_t line = 0;
  char op = 0;
  std::uint64_t gpa = 0, size = 0, active_maps = 0, active_bytes = 0;
};

std::vector<Row> rows_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<Row> rows;
  std::string text;
  for (std::uint64_t line = 1; std::getline(in, text); ++line) {
    Row r;
    unsigned long long ts = 0, gpa = 0, ab = 0;
    unsigned size = 0, am = 0;
    if (std::sscanf(text.c_str(), "%llu,%c,0x%llx,%u,%u,%llu", &ts, &r.op, &gpa, &size, &am, &ab) != 6) continue;
    r.line = line;
    r.gpa = gpa;
    r.size = size;
    r.active_maps = am;
    r.active_bytes = ab;
    rows.push_back(r);
  }
  return rows;
}

}  // namespace

TEST_CASE("Rows of each op, as the module prints them, become maps, sg maps and their ends", "[traces][apple-dma-csv]") {
  TempDir dir;
  const OpenRead r = read_csv(dir,
                              "4203132206,M,0x8b000000,65536,1,65536\n"     // 2: dma_alloc
                              "4203150306,M,0x8a2c7000,4096,2,69632\n"      // 3: dma_map_page
                              "4203161137,S,0x8a201000,8192,3,77824\n"      // 4: map_sg, segment 0
                              "4203161500,S,0x8a2f0000,4096,4,81920\n"      // 5: segment 1
                              "4203170001,U,0x8a2c7000,4096,3,77824\n"      // 6: dma_unmap_page
                              "4203180000,T,0x8a201000,8192,2,69632\n"      // 7: unmap_sg, segment 0
                              "4203180100,T,0x8a2f0000,4096,1,65536\n"      // 8: segment 1
                              "4203190000,F,0x8b000000,65536,0,0\n");       // 9: dma_free
  REQUIRE(r.status == TraceReader::Status::End);
  CHECK(r.format == "apple-dma-csv");
  REQUIRE(r.events.size() == 8);
  CHECK(r.devices == std::vector<std::string>{"0000:01:00.0"});  // the default: the file names none
  CHECK(r.events[0].kind == EventKind::Map);
  CHECK(r.events[0].gpa == 0x8b000000);
  CHECK(r.events[0].len_bytes == 65536);
  CHECK(r.events[0].has_time);
  CHECK(r.events[0].time_ns == 4203132206);
  CHECK(r.events[0].dir == Direction::Bidirectional);
  CHECK(r.events[2].kind == EventKind::MapSg);
  CHECK(r.segments[2] == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0x8a201000, 8192}});
  CHECK(r.events[3].kind == EventKind::MapSg);
  CHECK(r.events[4].kind == EventKind::Unmap);
  CHECK(r.events[4].id == r.events[1].id);
  CHECK(r.events[5].kind == EventKind::UnmapSg);
  CHECK(r.events[5].id == r.events[2].id);
  CHECK(r.events[6].id == r.events[3].id);
  CHECK(r.events[7].kind == EventKind::Unmap);  // F ends an M row's map: the CSV cannot tell alloc from map_page
  CHECK(r.events[7].id == r.events[0].id);
  CHECK(r.positions == std::vector<std::uint64_t>{2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(r.notes.empty());
  REQUIRE(r.peaks.has_value());
  CHECK(r.peaks->live_requests == 4);
  CHECK(r.peaks->live_bytes == 81920);
}

TEST_CASE("A CSV recording's one device is the one --device names", "[traces][apple-dma-csv]") {
  TempDir dir;
  const OpenRead r = read_csv(dir, "1,M,0x1000,4096,1,4096\n", ReaderOptions{.device = "0000:65:00.0"});
  REQUIRE(r.events.size() == 1);
  CHECK(r.devices == std::vector<std::string>{"0000:65:00.0"});
  const OpenRead bad = read_csv(dir, "1,M,0x1000,4096,1,4096\n", ReaderOptions{.device = "gpu 0"});
  CHECK(bad.status == TraceReader::Status::Error);
  CHECK_THAT(bad.error.message, Contains("cannot name the recording's device"));
}

TEST_CASE("Several live requests of one (gpa, size) are ended one by one, the latest first", "[traces][apple-dma-csv]") {
  TempDir dir;
  const OpenRead r = read_csv(dir,
                              "1,M,0x1000,4096,1,4096\n"
                              "2,M,0x1000,4096,2,8192\n"   // the same page mapped again: both live
                              "3,M,0x1000,8192,3,16384\n"  // same gpa, another size: another key
                              "4,U,0x1000,4096,2,12288\n"
                              "5,U,0x1000,8192,1,4096\n"
                              "6,U,0x1000,4096,0,0\n");
  REQUIRE(r.status == TraceReader::Status::End);
  REQUIRE(r.events.size() == 6);
  CHECK(r.events[3].id == r.events[1].id);
  CHECK(r.events[4].id == r.events[2].id);
  CHECK(r.events[5].id == r.events[0].id);
  CHECK(r.count("map of a (gpa, size) already live") == 1);
  CHECK(r.note("differs from what the rows explain") == nullptr);
}

TEST_CASE("A recording that begins mid-run reports what was live before it and drops their unmaps", "[traces][apple-dma-csv]") {
  TempDir dir;
  // The ring wrapped: 5 requests (20480 bytes) were live before the first row, which unmaps one.
  const OpenRead r = read_csv(dir,
                              "100,U,0x5000,4096,4,16384\n"   // 2: dropped (its map is gone from the ring)
                              "101,M,0x9000,4096,5,20480\n"   // 3
                              "102,T,0x6000,8192,4,12288\n"   // 4: an sg segment mapped before: dropped
                              "103,U,0x9000,4096,3,8192\n");  // 5
  REQUIRE(r.status == TraceReader::Status::End);
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[1].id == r.events[0].id);
  const ReaderNote* before = r.note("5 requests live before the first row, 20480 bytes in all");
  REQUIRE(before != nullptr);
  CHECK(before->count == 1);
  CHECK(before->first_lines == std::vector<std::uint64_t>{2});
  CHECK_FALSE(before->skips);
  const ReaderNote* dropped = r.note("U or F row of a request not seen in this recording");
  REQUIRE(dropped != nullptr);
  CHECK(dropped->first_lines == std::vector<std::uint64_t>{2});
  CHECK(r.count("T row of an sg segment not seen") == 1);
  CHECK(r.note("differs from what the rows explain") == nullptr);
  // The recording's own peak counts what the events cannot: the requests live before it.
  CHECK(r.peaks->live_requests == 5);
}

TEST_CASE("A fall in active_maps the rows do not explain rolls back the latest S rows", "[traces][apple-dma-csv]") {
  TempDir dir;
  AppleDmaCsvReader reader(dir.write("trace.csv", std::string(kHeader) +
                                                      "1,M,0x1000,4096,1,4096\n"     // 2
                                                      "2,S,0x20000,4096,2,8192\n"    // 3: map_sg A, segment 0
                                                      "3,S,0x30000,8192,3,16384\n"   // 4: map_sg B, segment 0
                                                      "4,S,0x40000,4096,4,20480\n"   // 5: B, segment 1; segment 2 fails:
                                                      "5,M,0x2000,4096,3,12288\n"    // 6: B's 2 released, then this map
                                                      "6,T,0x20000,4096,2,8192\n"));  // 7: A unmapped
  std::vector<Event> events;
  std::vector<std::uint64_t> lines;
  Event ev;
  TraceReader::Status status;
  while ((status = reader.next(ev)) == TraceReader::Status::Event) {
    ev.segments = {};
    events.push_back(ev);
    lines.push_back(reader.position());
  }
  REQUIRE(status == TraceReader::Status::End);
  REQUIRE(events.size() == 8);
  // At line 6: B's two segments end, latest first, then the M row's own map.
  CHECK(lines == std::vector<std::uint64_t>{2, 3, 4, 5, 6, 6, 6, 7});
  CHECK(events[4].kind == EventKind::UnmapSg);
  CHECK(events[4].id == events[3].id);
  CHECK(events[5].kind == EventKind::UnmapSg);
  CHECK(events[5].id == events[2].id);
  CHECK(events[6].kind == EventKind::Map);
  CHECK(events[7].kind == EventKind::UnmapSg);
  CHECK(events[7].id == events[1].id);
  CHECK(reader.live_requests() == 2);
  CHECK(reader.live_bytes() == 8192);
  CHECK(reader.earlier_live_requests() == 0);
  const auto notes = reader.notes();
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0].what, Contains("map_sg rolled back"));
  CHECK(notes[0].first_lines == std::vector<std::uint64_t>{6});
}

TEST_CASE("A fall larger than the S rows before it, or a rise, is a note at its line, never a crash", "[traces][apple-dma-csv]") {
  TempDir dir;
  const OpenRead r = read_csv(dir,
                              "1,M,0x1000,4096,1,4096\n"
                              "2,M,0x2000,4096,4,12288\n"   // 3: two rows lost before this one
                              "3,S,0x3000,4096,5,16384\n"
                              "4,U,0x1000,4096,1,8192\n"    // 5: a fall of 3 after one S row: lost rows
                              "5,U,0x2000,4096,0,0\n"       // 6: bytes disagree
                              "6,U,0x7000,4096,0,0\n");     // 7: count says nothing was left
  REQUIRE(r.status == TraceReader::Status::End);
  const ReaderNote* maps = r.note("active_maps differs from what the rows explain");
  REQUIRE(maps != nullptr);
  CHECK(maps->first_lines == std::vector<std::uint64_t>{3, 5, 7});
  const ReaderNote* bytes = r.note("active_bytes differs from what the rows explain");
  REQUIRE(bytes != nullptr);
  CHECK(bytes->first_lines == std::vector<std::uint64_t>{6});
  CHECK(r.count("map_sg rolled back") == 0);
}

TEST_CASE("Malformed rows are reported at their column; --lenient skips them", "[traces][apple-dma-csv]") {
  struct Case {
    std::string row;
    std::uint32_t column;
    std::string message;
  };
  const Case c = GENERATE(Case{"12x,M,0x1000,4096,1,4096", 1, "timestamp_ns must be a decimal count"},
                          Case{"12,X,0x1000,4096,1,4096", 4, "op must be M, S, U, T or F, got 'X'"},
                          Case{"12,MM,0x1000,4096,1,4096", 4, "op must be M, S, U, T or F"},
                          Case{"12,M,1000,4096,1,4096", 6, "gpa_hex must be 0x and hex digits"},
                          Case{"12,M,0x,4096,1,4096", 6, "gpa_hex must be 0x"},
                          Case{"12,M,0x11112222333344445,4096,1,4096", 6, "at most 16 hex digits"},
                          Case{"12,M,0x1000,18446744073709551616,1,4096", 13, "size must be a decimal number of bytes"},
                          Case{"12,M,0x1000,4096,4294967296,4096", 18, "active_maps must be a decimal count below 2^32"},
                          Case{"12,M,0x1000,4096,1", 18, "active_maps must be a decimal count"},
                          Case{"12,M,0x1000,4096,1,4096,7", 20, "active_bytes must be a decimal number"},
                          Case{"12,M,0x1000,0,1,0", 18, "M row of 0 bytes"},
                          Case{"12,S,0xfffffffffffff000,8192,1,8192", 36, "gpa + size passes 2^64"},
                          Case{"timestamp_ns,op,gpa,size,active_maps,active_bytes", 1, "is not 'timestamp_ns,op,gpa_hex"});
  TempDir dir;
  INFO(c.row);
  const OpenRead strict = read_csv(dir, "1,M,0x9000,4096,1,4096\n" + c.row + "\n");
  REQUIRE(strict.status == TraceReader::Status::Error);
  CHECK(strict.error.line == 3);
  CHECK(strict.error.column == c.column);
  CHECK_THAT(strict.error.message, Contains(c.message));
  const OpenRead soft = read_csv(dir, "1,M,0x9000,4096,1,4096\n" + c.row + "\n", ReaderOptions{.lenient = true});
  CHECK(soft.status == TraceReader::Status::End);
  CHECK(soft.warnings == 1);
  CHECK(soft.events.size() == 1);
}

TEST_CASE("Other lines are counted; a file of nothing but them is an error naming them", "[traces][apple-dma-csv]") {
  TempDir dir;
  const OpenRead r = read_csv(dir, "$ cat /sys/kernel/debug/apple_dma/trace\n1,M,0x1000,4096,1,4096\n\n");
  REQUIRE(r.status == TraceReader::Status::End);
  CHECK(r.note("line is not an apple_dma trace row")->first_lines == std::vector<std::uint64_t>{2});
  const OpenRead none = read_csv(dir, "current_maps 0\npeak_maps 12\n");
  CHECK(none.status == TraceReader::Status::Error);
  CHECK_THAT(none.error.message, Contains("no events: the apple-dma-csv reader skipped all of the input: 2 x line is not an "
                                          "apple_dma trace row (other text in the file) (lines 2, 3)"));
  // A header alone (a ring just reset) holds nothing and skips nothing: an empty trace.
  const OpenRead empty = read_csv(dir, "");
  CHECK(empty.status == TraceReader::Status::End);
  CHECK(empty.events.empty());
}

TEST_CASE("A row cut short at any byte is reported or read, never a crash", "[traces][apple-dma-csv]") {
  TempDir dir;
  const std::string row = "4203161137,S,0x8a201000,8192,3,77824";
  for (std::size_t cut = 0; cut <= row.size(); ++cut) {
    INFO("cut at " << cut);
    const std::string text = "4203150000,M,0x8a2c7000,4096,2,69632\n" + row.substr(0, cut) + "\n";
    for (const bool lenient : {false, true}) {
      const OpenRead r = read_csv(dir, text, ReaderOptions{.lenient = lenient});
      if (r.status == TraceReader::Status::Error) {
        CHECK(r.error.line == 3);
        CHECK(r.error.column >= 1);
        CHECK_FALSE(lenient);
      } else {
        CHECK(r.events.size() >= 1);
      }
    }
  }
}

TEST_CASE("On every row of the samples, the import's live requests and bytes are the recording's own counts",
          "[traces][apple-dma-csv]") {
  const std::string name = GENERATE("apple-dma-debugfs.csv", "apple-dma-debugfs-wrapped.csv");
  const std::string path = (samples_path() / name).string();
  INFO(name);
  const OpenRead r = read_open(path);
  REQUIRE(r.status == TraceReader::Status::End);
  REQUIRE(r.format == "apple-dma-csv");
  CHECK(r.note("differs from what the rows explain") == nullptr);
  const std::vector<Row> rows = rows_of(path);
  REQUIRE(rows.size() > 100);

  // Live requests as the events say, and what the first row says was live before it, less the
  // unmaps of those seen since (rows whose own end produced no event).
  std::map<std::uint64_t, std::uint64_t> live;  // id -> bytes
  std::uint64_t live_bytes = 0;
  const bool first_maps = rows[0].op == 'M' || rows[0].op == 'S';
  std::uint64_t earlier = first_maps ? rows[0].active_maps - 1 : rows[0].active_maps + 1;
  std::uint64_t earlier_bytes = first_maps ? rows[0].active_bytes - rows[0].size : rows[0].active_bytes + rows[0].size;
  std::uint64_t prev_maps = 0;
  std::size_t e = 0;
  std::size_t rollbacks = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    INFO("line " << row.line << ": " << row.op << " 0x" << std::hex << row.gpa << std::dec << " " << row.size);
    const bool map = row.op == 'M' || row.op == 'S';
    // The module's own fall beyond the row: S rows released without rows (a failed map_sg).
    const std::int64_t fall = i == 0 ? 0 : static_cast<std::int64_t>(prev_maps) + (map ? 1 : -1) - static_cast<std::int64_t>(row.active_maps);
    REQUIRE(fall >= 0);
    rollbacks += fall > 0;
    std::size_t ends = 0;
    for (; e < r.events.size() && r.positions[e] == row.line; ++e) {
      const Event& ev = r.events[e];
      if (is_map_kind(ev.kind)) {
        const std::uint64_t bytes = ev.kind == EventKind::MapSg ? r.segments[e].at(0).second : ev.len_bytes;
        live[ev.id] = bytes;
        live_bytes += bytes;
      } else {
        REQUIRE(live.count(ev.id) == 1);
        live_bytes -= live[ev.id];
        live.erase(ev.id);
        ++ends;
      }
    }
    if (!map && ends == static_cast<std::size_t>(fall)) {  // the row's own unmap made no event
      --earlier;
      earlier_bytes -= row.size;
    }
    CHECK(live.size() + earlier == row.active_maps);
    CHECK(live_bytes + earlier_bytes == row.active_bytes);
    prev_maps = row.active_maps;
  }
  CHECK(e == r.events.size());
  CHECK(r.count("map_sg rolled back") == rollbacks);
  CHECK(rollbacks >= 1);  // each sample holds a rollback
  if (name == "apple-dma-debugfs-wrapped.csv") {
    CHECK(r.count("requests live before the first row") == 1);
    CHECK(r.count("U or F row of a request not seen") > 0);
  }
  REQUIRE(r.peaks.has_value());
  std::uint64_t peak = 0;
  for (const Row& row : rows) peak = std::max(peak, row.active_maps);
  CHECK(r.peaks->live_requests == peak);
}

TEST_CASE("open_trace tells the apple_dma CSV by its header or its rows", "[traces][apple-dma-csv]") {
  CHECK(sniff_format("timestamp_ns,op,gpa_hex,size,active_maps,active_bytes\n1,M,0x1000,4096,1,4096\n") == TraceFormat::AppleDmaCsv);
  CHECK(sniff_format("4203132206,U,0x8b000000,65536,1,65536\n") == TraceFormat::AppleDmaCsv);  // a header cut off
  CHECK(sniff_format("$ sudo cat trace\n4203132206,T,0x8b0") == TraceFormat::AppleDmaCsv);      // past a junk line, cut short
  CHECK(sniff_format("12,3,4\n") == TraceFormat::Auto);
  CHECK(parse_trace_format("apple-dma-csv") == TraceFormat::AppleDmaCsv);
}
