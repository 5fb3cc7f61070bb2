// SPDX-License-Identifier: MIT
// Writers, readers and damage for the binary trace tests (and the binary reader's fuzz target).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "traces/binary_format.hpp"
#include "traces/binary_reader.hpp"
#include "traces/binary_writer.hpp"
#include "traces/event.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::trace::testing {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void spit(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file in memory (memfd) that readers open by path: many small files without a disk's cost.
class MemoryFile {
 public:
  MemoryFile() : fd_(::memfd_create("dartlab-binary-test", MFD_CLOEXEC)), path_("/proc/self/fd/" + std::to_string(fd_)) {}
  ~MemoryFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  // Replaces the contents with `bytes` and returns the path to open.
  const std::string& hold(std::string_view bytes) {
    if (::ftruncate(fd_, 0) != 0 ||
        ::pwrite(fd_, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
      path_ = "/memfd-write-failed";  // the reader's open then fails, loudly
    }
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

// Writes a binary trace into `path` with a BinaryTraceWriter handed to `body`, finishes it, and
// returns whether every write succeeded.
template <typename Body>
bool write_binary(const std::string& path, BinaryWriterOptions options, Body body) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  bool ok = false;
  {
    BinaryTraceWriter w(f, options);
    body(w);
    ok = w.finish();
  }
  return std::fclose(f) == 0 && ok;
}

// Everything any reader produced, with segments copied out of the reader's buffer.
struct Everything {
  std::vector<Event> events;
  std::vector<std::vector<Segment>> segments;  // per event; empty unless map_sg
  std::vector<std::uint64_t> positions;        // reader.position() after each event
  std::vector<std::string> devices;
  TraceReader::Status status = TraceReader::Status::End;
  ParseError error;
  std::uint64_t warnings = 0;
  std::vector<std::string> warning_samples;
  std::optional<std::uint64_t> declared;
};

inline Everything read_everything(TraceReader& reader) {
  Everything r;
  r.declared = reader.declared_events();
  Event ev;
  while ((r.status = reader.next(ev)) == TraceReader::Status::Event) {
    r.segments.emplace_back(ev.segments.begin(), ev.segments.end());
    ev.segments = {};
    r.events.push_back(ev);
    r.positions.push_back(reader.position());
  }
  r.error = reader.error();
  r.devices = reader.devices();
  r.warnings = reader.warnings();
  r.warning_samples = reader.warning_samples();
  return r;
}

inline Everything read_binary(const std::string& path, ReaderOptions options = {}) {
  BinaryTraceReader reader(path, std::move(options));
  return read_everything(reader);
}

// Field by field, segments by value (Event's own span compares nothing).
inline bool same_event(const Event& a, std::span<const Segment> a_segs, const Event& b, std::span<const Segment> b_segs) {
  if (a.kind != b.kind || a.dir != b.dir || a.device != b.device || a.has_time != b.has_time ||
      a.time_ns != b.time_ns || a.id != b.id || a.gpa != b.gpa || a.len_bytes != b.len_bytes ||
      a.align_bytes != b.align_bytes || a_segs.size() != b_segs.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a_segs.size(); ++i) {
    if (a_segs[i].gpa != b_segs[i].gpa || a_segs[i].len_bytes != b_segs[i].len_bytes) return false;
  }
  return true;
}

// Recomputes every checksum of a (damaged) uncompressed binary trace, as far as its structure
// holds together, so that damage reaches the record decoder instead of stopping at a checksum.
// Compressed chunks are left alone (zstd meets their damage first).
inline std::string reseal(std::string_view damaged) {
  using namespace binary;
  std::string bytes(damaged);
  auto* b = reinterpret_cast<std::uint8_t*>(bytes.data());
  const std::size_t size = bytes.size();
  if (size < kHeaderBytes) return bytes;
  const std::size_t table_bytes = load_le<std::uint32_t>(b + kTableBytesAt);
  if (table_bytes > size - kHeaderBytes) return bytes;
  store_le<std::uint32_t>(b + kHeaderChecksumAt,
                          checksum(b + kHeaderBytes, table_bytes, load_le<std::uint64_t>(b + kVersionAt)));
  std::size_t at = kHeaderBytes + table_bytes;
  while (size - at >= kChunkHeaderBytes) {
    const std::uint32_t raw = load_le<std::uint32_t>(b + at);
    const std::uint32_t stored = load_le<std::uint32_t>(b + at + 4);
    if (stored > size - at - kChunkHeaderBytes) break;
    if (raw == stored || raw == 0) {
      store_le<std::uint32_t>(b + at + 8, checksum(b + at + kChunkHeaderBytes, stored, load_le<std::uint64_t>(b + at)));
    }
    if (raw == 0) break;
    at += kChunkHeaderBytes + stored;
  }
  return bytes;
}

// A device table that names one device, "d".
inline constexpr std::string_view kOneDevice{"\x03" "d", 2};

// A whole binary trace around hand-made record bytes: header (with `table`, the device table's
// bytes), one chunk of `records`, and an end chunk counting `events`. Checksums are right.
inline std::string craft(std::string_view records, std::uint64_t events, std::string_view table = kOneDevice,
                         std::uint64_t declared = binary::kUnknownEvents) {
  using namespace binary;
  std::string out(kHeaderBytes, '\0');
  auto* h = reinterpret_cast<std::uint8_t*>(out.data());
  std::memcpy(h, kBinaryMagic.data(), kBinaryMagic.size());
  store_le<std::uint16_t>(h + kVersionAt, kVersion);
  store_le<std::uint32_t>(h + kTableBytesAt, static_cast<std::uint32_t>(table.size()));
  store_le<std::uint64_t>(h + kEventCountAt, declared);
  out += table;
  auto chunk = [&](std::uint32_t raw, std::string_view payload) {
    std::string c(kChunkHeaderBytes, '\0');
    auto* ch = reinterpret_cast<std::uint8_t*>(c.data());
    store_le<std::uint32_t>(ch, raw);
    store_le<std::uint32_t>(ch + 4, static_cast<std::uint32_t>(payload.size()));
    out += c;
    out += payload;
  };
  if (!records.empty()) chunk(static_cast<std::uint32_t>(records.size()), records);
  std::string count(8, '\0');
  store_le<std::uint64_t>(reinterpret_cast<std::uint8_t*>(count.data()), events);
  chunk(0, count);
  return reseal(out);
}

// Varints and raw bytes for craft().
inline std::string varint(std::uint64_t v) {
  std::uint8_t buf[binary::kMaxVarintBytes];
  const std::uint8_t* end = binary::put_varint(buf, v);
  return {reinterpret_cast<const char*>(buf), static_cast<std::size_t>(end - buf)};
}
inline std::string byte(std::uint8_t b) { return std::string(1, static_cast<char>(b)); }

}  // namespace dartlab::trace::testing
