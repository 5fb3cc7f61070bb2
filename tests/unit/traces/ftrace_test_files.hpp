// SPDX-License-Identifier: MIT
// Read-everything helpers for the ftrace importer tests (temp files: text_test_files.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "open_trace_read.hpp"
#include "text_test_files.hpp"
#include "traces/event.hpp"
#include "traces/ftrace/ftrace_reader.hpp"

namespace dartlab::trace::testing {

// Segments as (gpa, len_bytes) pairs, which compare.
using Segs = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

// Everything an FtraceReader produced, with segments copied out of the reader's buffer.
struct FtraceRead {
  std::vector<Event> events;
  std::vector<Segs> segments;  // per event; empty unless map_sg
  std::vector<std::uint64_t> lines;            // reader.position() after each event
  std::vector<std::string> devices;
  TraceReader::Status status = TraceReader::Status::End;
  ParseError error;
  std::uint64_t warnings = 0;
  std::vector<std::string> warning_samples;
  std::vector<ReaderNote> notes;
  std::size_t live = 0;

  const ReaderNote* note(std::string_view what) const { return find_note(notes, what); }
  std::uint64_t count(std::string_view what) const { return note_count(notes, what); }
  std::size_t kinds(EventKind kind) const {
    std::size_t n = 0;
    for (const Event& e : events) n += e.kind == kind;
    return n;
  }
};

inline FtraceRead read_ftrace(const std::string& path, ReaderOptions options = {}) {
  FtraceRead r;
  FtraceReader reader(path, options);
  Event ev;
  while ((r.status = reader.next(ev)) == TraceReader::Status::Event) {
    Segs& segs = r.segments.emplace_back();
    for (const Segment& s : ev.segments) segs.emplace_back(s.gpa, s.len_bytes);
    ev.segments = {};
    r.events.push_back(ev);
    r.lines.push_back(reader.position());
  }
  r.error = reader.error();
  r.devices = reader.devices();
  r.warnings = reader.warnings();
  r.warning_samples = reader.warning_samples();
  r.notes.assign(reader.notes().begin(), reader.notes().end());
  r.live = reader.live_requests();
  return r;
}

// Writes `text` to a file in `dir` and reads it.
inline FtraceRead read_ftrace_text(const TempDir& dir, std::string_view text, ReaderOptions options = {}) {
  return read_ftrace(dir.write("rec.txt", text), options);
}

// A line of /sys/kernel/tracing/trace with the flags column, as trace_print_context prints it:
// "%16s-%-7d [%03d] FLAGS %5lu.%06lu: NAME: TEXT".
inline std::string trace_line(std::string_view name, std::string_view text, std::string_view time = "1234.567890") {
  return "   kworker/u16:2-56      [001] d..1.  " + std::string(time) + ": " + std::string(name) + ": " + std::string(text) + "\n";
}

}  // namespace dartlab::trace::testing
