// Imports the apple-dma-pci device's trace events from a QEMU log (the `log` trace backend:
// `-trace apple_dma_*`, to stderr or `-D FILE`) as dartlab trace events, streaming: each
// successful apple_dma_map becomes a Map with a fresh id, its apple_dma_unmap (same device, same
// handle) the Unmap of that id, and an apple_dma_reset the Unmaps of every mapping its device still
// had. Other lines are counted, not fatal. What is accepted and counted: traces/qemu_log/IMPORT.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "traces/byte_source.hpp"
#include "traces/event.hpp"
#include "traces/ftrace/line_buffer.hpp"
#include "traces/ftrace/live_requests.hpp"
#include "traces/qemu_log/log_line.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::trace {

class QemuLogReader final : public TraceReader {
 public:
  // "-" reads stdin. An open failure is reported by the first next(). ReaderOptions::device is
  // not applied here: open_trace wraps this reader in a DeviceFilterReader, as for text traces.
  explicit QemuLogReader(const std::string& path, ReaderOptions options = {});
  QemuLogReader(ByteSource source, ReaderOptions options);
  ~QemuLogReader() override;
  QemuLogReader(const QemuLogReader&) = delete;
  QemuLogReader& operator=(const QemuLogReader&) = delete;

  Status next(Event& ev) override;

  const ParseError& error() const override { return error_; }
  // Device names (the events' bdf=), in order of first appearance.
  const std::vector<std::string>& devices() const override { return devices_; }
  std::uint64_t position() const override { return event_line_; }  // line of the last event
  std::string locate(std::uint64_t line) const override;
  std::uint64_t bytes_consumed() const override { return lines_.bytes_consumed(); }
  std::uint64_t file_bytes() const override { return source_.file_bytes(); }
  std::uint64_t warnings() const override { return warnings_; }
  const std::vector<std::string>& warning_samples() const override { return warning_samples_; }
  std::span<const ReaderNote> notes() const override { return notes_; }
  std::string_view format_name() const override { return "qemu-log"; }
  // Mappings made and not yet unmapped so far, over every device.
  std::size_t live_mappings() const { return live_.size(); }

 private:
  enum class Note : std::uint8_t {
    Other, TooLong, FailedMap, FailedUnmap, UnmapNeverMapped, LiveHandleMapped, UnmapLenDiffers,
    ResetEnded, ResetLiveDiffers, OtherEventsBeyond, Count,
  };
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  void handle_line(std::string_view line);
  void handle_event(qemu_log::EventType type, const qemu_log::AppleDmaRecord& r);
  // The device's index; a new one is added only when `add` (a map), else false for a new name.
  bool device(std::string_view bdf, std::uint16_t& index, bool add);
  void queue(EventKind kind, std::uint16_t device, std::uint64_t id);
  void note(Note n);
  void other_event(std::string_view name);
  void add_note_line(std::size_t index);
  static std::string_view note_text(Note n);
  // A known event that is none of its formats (`at`: where, in the line): an error, or in lenient
  // mode a warning and the line skipped.
  [[gnu::cold]] void malformed(const char* at, std::string message);
  [[gnu::cold]] void stop(std::string message);

  ByteSource source_;
  ReaderOptions options_;
  ftrace::LineBuffer lines_;

  enum class State { Reading, End, Error } state_ = State::Reading;
  ParseError error_;
  std::string_view line_;  // the line being handled
  qemu_log::LogLine log_line_;
  std::uint64_t event_line_ = 0;

  std::vector<Event> pending_;  // events of the current line not yet returned (a reset: many)
  std::size_t pending_at_ = 0;
  std::uint64_t pending_line_ = 0;

  std::vector<std::string> devices_;
  std::unordered_map<std::string, std::uint16_t, NameHash, std::equal_to<>> device_index_;

  ftrace::LiveRequests live_;  // by (device, handle)
  std::vector<ftrace::LiveRequest> ended_;  // a reset's mappings, reused
  std::uint64_t next_id_ = 1;

  std::uint64_t warnings_ = 0;
  std::vector<std::string> warning_samples_;
  std::vector<ReaderNote> notes_;
  std::array<std::size_t, static_cast<std::size_t>(Note::Count)> note_index_;
  std::unordered_map<std::string, std::size_t, NameHash, std::equal_to<>> other_events_;  // name -> notes_ index
};

// True when a line among `first_bytes` (the first few KiB of a file) is an apple_dma_* event of
// QEMU's log backend, with or without its PID@SEC.USEC: stamp. Lines before it may be anything
// QEMU logs; a dartlab text header or an ftrace line never looks like one.
bool looks_like_qemu_log(std::string_view first_bytes);

}  // namespace dartlab::trace
