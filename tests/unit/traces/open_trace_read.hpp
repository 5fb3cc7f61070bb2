// SPDX-License-Identifier: MIT
// Reads a whole input through open_trace, as the command line does, and keeps everything the
// reader said: events (segments copied out), positions, devices, notes, warnings, the error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "traces/trace_reader.hpp"

namespace dartlab::trace::testing {

// The note whose text contains `what`, or nullptr.
inline const ReaderNote* find_note(const std::vector<ReaderNote>& notes, std::string_view what) {
  for (const ReaderNote& n : notes)
    if (n.what.find(what) != std::string::npos) return &n;
  return nullptr;
}
// Its count, or 0 when there is none.
inline std::uint64_t note_count(const std::vector<ReaderNote>& notes, std::string_view what) {
  const ReaderNote* n = find_note(notes, what);
  return n != nullptr ? n->count : 0;
}

struct OpenRead {
  std::vector<Event> events;
  std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>> segments;  // per event, (gpa, len)
  std::vector<std::uint64_t> positions;  // reader.position() after each event
  std::vector<std::string> devices;
  TraceReader::Status status = TraceReader::Status::End;
  ParseError error;
  std::uint64_t warnings = 0;
  std::vector<std::string> warning_samples;
  std::vector<ReaderNote> notes;
  std::string format;
  std::optional<RecordedPeaks> peaks;

  const ReaderNote* note(std::string_view what) const { return find_note(notes, what); }
  std::uint64_t count(std::string_view what) const { return note_count(notes, what); }
  std::vector<std::uint64_t> first_lines(std::string_view what) const {
    const ReaderNote* n = note(what);
    return n != nullptr ? n->first_lines : std::vector<std::uint64_t>{};
  }
  std::size_t kinds(EventKind kind) const {
    std::size_t n = 0;
    for (const Event& e : events) n += e.kind == kind;
    return n;
  }
};

inline OpenRead read_open(const std::string& path, const ReaderOptions& options = {}, TraceFormat format = TraceFormat::Auto) {
  OpenRead r;
  const auto reader = open_trace(path, options, format);
  Event ev;
  while ((r.status = reader->next(ev)) == TraceReader::Status::Event) {
    auto& segs = r.segments.emplace_back();
    for (const Segment& s : ev.segments) segs.emplace_back(s.gpa, s.len_bytes);
    ev.segments = {};
    r.events.push_back(ev);
    r.positions.push_back(reader->position());
  }
  r.error = reader->error();
  r.devices = reader->devices();
  r.warnings = reader->warnings();
  r.warning_samples = reader->warning_samples();
  r.notes.assign(reader->notes().begin(), reader->notes().end());
  r.format = std::string(reader->format_name());
  r.peaks = reader->recorded_peaks();
  return r;
}

// traces/samples/, from this file's place in the source tree.
inline std::filesystem::path samples_path() {
  return std::filesystem::path(__FILE__).parent_path() / ".." / ".." / ".." / "traces" / "samples";
}

}  // namespace dartlab::trace::testing
