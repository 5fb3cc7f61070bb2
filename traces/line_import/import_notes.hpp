// SPDX-License-Identifier: MIT
// What the line readers keep besides events: notes of what the importers (ftrace, QEMU log,
// apple_dma CSV) skipped or read specially, counted by kind or by name with their first lines
// (TraceReader::notes()), and the warnings of lenient mode (the text trace's too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "traces/printable.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::trace {

class ImportNotes {
 public:
  // Distinct names counted one by one per group; the rest go to the group's overflow kind. A
  // recording of every event in the system has a few hundred names; garbage could make up any number.
  static constexpr std::size_t kNamedNotes = 64;

  // Notes by name ("unknown event 'NAME'"): one group per WHAT.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Group = std::unordered_map<std::string, std::size_t, NameHash, std::equal_to<>>;  // name -> note

  // `kinds`: how many fixed kinds count() takes, 0 .. kinds-1.
  explicit ImportNotes(std::size_t kinds) : index_(kinds, kNone) {}

  // Counts `line` under fixed kind `kind`; `text()` makes the note's text the first time.
  // `skips`: false for a note that says how input was read rather than what was left out.
  template <typename Text>
  void count(std::size_t kind, std::uint64_t line, Text&& text, bool skips = true) {
    std::size_t& index = index_[kind];
    if (index == kNone) {
      index = notes_.size();
      notes_.push_back({printable(text()), 0, {}, skips});
    }
    add_line(index, line);
  }
  // Counts `line` under "WHAT 'NAME'" in `group`; false (nothing counted) when the group already
  // has kNamedNotes names and this is another: the caller counts it under an overflow kind.
  bool count_named(Group& group, std::string_view what, std::string_view name, std::uint64_t line) {
    auto it = group.find(name);
    if (it == group.end()) {
      if (group.size() >= kNamedNotes) return false;
      it = group.emplace(name, notes_.size()).first;
      notes_.push_back({std::string(what) + ' ' + quoted(name), 0, {}});
    }
    add_line(it->second, line);
    return true;
  }
  // A note made whole, e.g. at the end of the input.
  void add(ReaderNote note) {
    note.what = printable(note.what);
    notes_.push_back(std::move(note));
  }

  std::span<const ReaderNote> all() const { return notes_; }

 private:
  static constexpr std::size_t kNone = ~std::size_t{0};
  void add_line(std::size_t index, std::uint64_t line) {
    ReaderNote& n = notes_[index];
    ++n.count;
    if (n.first_lines.size() < ReaderNote::kSampleLines) n.first_lines.push_back(line);
  }

  std::vector<std::size_t> index_;  // by kind: index into notes_, or kNone
  std::vector<ReaderNote> notes_;
};

// Lenient-mode warnings of an importer, and the first few of their messages.
class ImportWarnings {
 public:
  static constexpr std::size_t kSamples = 5;

  // A malformed line, `e` saying where and what. Lenient: counted as a warning
  // ("FILE:LINE:COL: warning: MESSAGE (line skipped)"), and false. Else true: `e` is the error
  // that stops the reader.
  bool stops(const ParseError& e, bool lenient) {
    if (!lenient) return true;
    ++count_;
    if (samples_.size() < kSamples) {
      samples_.push_back(printable(e.file + ':' + std::to_string(e.line) + ':' + std::to_string(e.column) + ": warning: " +
                                   e.message + " (line skipped)"));
    }
    return false;
  }
  std::uint64_t count() const { return count_; }
  const std::vector<std::string>& samples() const { return samples_; }

 private:
  std::uint64_t count_ = 0;
  std::vector<std::string> samples_;
};

}  // namespace dartlab::trace
