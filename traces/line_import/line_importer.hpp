// SPDX-License-Identifier: MIT
// The skeleton of every line reader (the dartlab text trace, and the ftrace, QEMU log and
// apple_dma CSV importers): the input read line by line in place, the events a line makes queued
// and handed out one by one, line numbers and locate(), notes of what was skipped, lenient
// warnings, and the error that stops the reader. A reader says what one line means
// (handle_line); everything else is here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "traces/byte_source.hpp"
#include "traces/event.hpp"
#include "traces/line_import/line_buffer.hpp"
#include "traces/line_import/import_notes.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::trace {

class LineImporter : public TraceReader {
 public:
  ~LineImporter() override;
  LineImporter(const LineImporter&) = delete;
  LineImporter& operator=(const LineImporter&) = delete;

  std::uint64_t position() const override { return event_line_; }  // line of the last event
  std::string locate(std::uint64_t line) const override;             // "FILE:LINE"
  std::uint64_t bytes_consumed() const override { return lines_.bytes_consumed(); }
  std::uint64_t file_bytes() const override { return source_.file_bytes(); }
  std::uint64_t warnings() const override { return warnings_.count(); }
  const std::vector<std::string>& warning_samples() const override { return warnings_.samples(); }
  std::span<const ReaderNote> notes() const override { return notes_.all(); }

 protected:
  // `note_kinds`: how many fixed kinds of note the importer counts. An open failure stops the
  // reader at its first next().
  LineImporter(ByteSource source, ReaderOptions options, std::size_t note_kinds);

  // One line (without its '\n'; current_line() is the same): queue its events, or count it.
  virtual void handle_line(std::string_view line) = 0;
  // A line longer than text::kMaxLineBytes was skipped whole: count it (or stop()).
  virtual void line_too_long() = 0;
  // The input has ended (notes said of the whole input go here).
  virtual void at_end() {}

  // An event of the current line, handed out after those queued before it.
  void queue(const Event& ev) { pending_.push_back(ev); }
  // The same, built in place (no copy): a fresh Event queued, to fill in or to unqueue_last().
  // An error (malformed() that stops, stop()) unqueues everything itself.
  Event& queue_new() { return pending_.emplace_back(); }
  void unqueue_last() {
    if (!pending_.empty()) pending_.pop_back();
  }
  // The Unmap, UnmapSg or Free of request `id` of `device`, queued with the line's time, if any.
  void queue_end(EventKind kind, std::uint16_t device, std::uint64_t id, bool has_time, std::uint64_t time_ns) {
    Event ev;
    ev.kind = kind;
    ev.device = device;
    ev.has_time = has_time;
    ev.time_ns = time_ns;
    ev.id = id;
    queue(ev);
  }
  // A known line that is none of its formats (`at`: where, in current_line() or at its end; null:
  // the whole line): an error, or in lenient mode a warning and the line skipped. `skippable`
  // false: an error even in lenient mode (the text trace's syntax errors).
  [[gnu::cold]] void malformed(const char* at, std::string message, bool skippable = true);
  // An error not about one line's text (`line`: the line to name, or 0; `column`: 1-based, or 0).
  [[gnu::cold]] void stop(std::string message, std::uint64_t line = 0, std::uint32_t column = 0);

  std::string_view current_line() const { return line_; }
  std::uint64_t line_number() const { return lines_.line_number(); }

  ByteSource source_;
  ReaderOptions options_;
  ImportWarnings warnings_;
  ImportNotes notes_;

 private:
  Status read_event(Event& ev) final;
  const ParseError& reader_error() const final { return error_; }

  line_import::LineBuffer lines_;
  enum class State { Reading, End, Error } state_ = State::Reading;
  ParseError error_;
  std::string_view line_;  // the line being handled
  std::uint64_t event_line_ = 0;
  std::vector<Event> pending_;  // events of the current line not yet returned
  std::size_t pending_at_ = 0;
  std::uint64_t pending_line_ = 0;
};

}  // namespace dartlab::trace
