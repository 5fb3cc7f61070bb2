// SPDX-License-Identifier: MIT
// What every reader's fuzz target checks of a reader over a hostile input: it reaches the end or
// stops with a message, every event it hands out is well formed, and the end or the error sticks.
// A broken promise aborts, which libFuzzer reports as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "traces/trace_reader.hpp"
#include "unit/traces/binary_test_files.hpp"

namespace dartlab::trace::fuzz {

// Where the events' fields go, so that reading them is not optimised away.
inline volatile std::uint64_t sink = 0;

// The most a byte offset in an error may say for this input: its size, unless the whole input is
// gzip or zstd, which readers see decompressed (open_trace and the binary reader both read such
// files as what they hold), so that offsets count decompressed bytes and have no bound here.
inline std::size_t offset_bound(std::string_view input) {
  const auto byte = [&input](std::size_t i) { return static_cast<unsigned char>(input[i]); };
  const bool gzip = input.size() >= 2 && byte(0) == 0x1f && byte(1) == 0x8b;
  const bool zstd = input.size() >= 4 && byte(0) == 0x28 && byte(1) == 0xb5 && byte(2) == 0x2f && byte(3) == 0xfd;
  return gzip || zstd ? SIZE_MAX : input.size();
}

// Reads `reader` to its end. `input_bytes`: the most any error's byte offset may say (offset_bound).
inline void drain(TraceReader& reader, std::size_t input_bytes) {
  Event ev;
  std::uint64_t sum = 0;
  TraceReader::Status status;
  while ((status = reader.next(ev)) == TraceReader::Status::Event) {
    sum += ev.id ^ ev.gpa ^ ev.len_bytes;
    for (const auto& s : ev.segments) sum += s.gpa ^ s.len_bytes;  // touch every segment
    // A map's device index always has a name; other events say 0 or a named device.
    if ((is_map_kind(ev.kind) || ev.device != 0) && ev.device >= reader.devices().size()) std::abort();
    if (reader.locate(reader.position()).empty()) std::abort();
  }
  if (status == TraceReader::Status::Error) {
    const auto& error = reader.error();
    if (error.message.empty() || (error.byte_offset && *error.byte_offset > input_bytes)) std::abort();
    if (error.to_string().empty()) std::abort();
  }
  for (const auto& note : reader.notes()) {
    if (note.what.empty() || note.count == 0 || note.first_lines.size() > ReaderNote::kSampleLines) std::abort();
  }
  if (reader.next(ev) != status) std::abort();  // the end, or the error, sticks
  sink = sum;
}

// One input read as a file of `format` through open_trace, so that the device filter is fuzzed
// too. The input's length picks the options, so that an input is read the same way every time:
// lenient or strict, 7-byte blocks (seams inside every line) or the default, one device or all,
// and (a QEMU log of the real device) the guest or the host level.
inline void read_as(TraceFormat format, const std::uint8_t* data, std::size_t size) {
  static testing::MemoryFile file;
  ReaderOptions options;
  options.lenient = (size & 1) != 0;
  options.block_bytes = (size & 2) != 0 ? 7 : 0;
  if ((size & 4) != 0) options.device = "0000:01:00.0";
  options.level = (size & 8) != 0 ? LogLevel::Host : LogLevel::Guest;
  const auto reader = open_trace(file.hold(std::string_view(reinterpret_cast<const char*>(data), size)), options, format);
  drain(*reader, offset_bound(std::string_view(reinterpret_cast<const char*>(data), size)));
}

}  // namespace dartlab::trace::fuzz
