// Imports a Linux ftrace text recording (/sys/kernel/tracing/trace, trace_pipe, trace-cmd report)
// as dartlab trace events, streaming: dma:* and iommu:* maps become Map, MapSg and Alloc events
// with fresh ids, and their unmaps are tied back to them. What is accepted, how unmaps are
// matched and what is counted: traces/ftrace/IMPORT.md.
#pragma once

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
#include "traces/ftrace/dma_events.hpp"
#include "traces/ftrace/ftrace_events.hpp"
#include "traces/ftrace/ftrace_line.hpp"
#include "traces/ftrace/line_buffer.hpp"
#include "traces/ftrace/live_requests.hpp"
#include "traces/import_notes.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::trace {

class FtraceReader final : public TraceReader {
 public:
  // "-" reads stdin. An open failure is reported by the first next().
  explicit FtraceReader(const std::string& path, ReaderOptions options = {});
  FtraceReader(ByteSource source, ReaderOptions options);
  ~FtraceReader() override;
  FtraceReader(const FtraceReader&) = delete;
  FtraceReader& operator=(const FtraceReader&) = delete;

  Status next(Event& ev) override;

  const ParseError& error() const override { return error_; }
  // Device names as the events print them (PCI BDFs, platform device names, "iommu" for the
  // iommu:* events, which name none), in order of first appearance.
  const std::vector<std::string>& devices() const override { return devices_; }
  // Line number of the last event returned.
  std::uint64_t line() const { return event_line_; }
  std::uint64_t position() const override { return event_line_; }
  std::string locate(std::uint64_t line) const override;
  std::uint64_t bytes_consumed() const override { return lines_.bytes_consumed(); }
  std::uint64_t file_bytes() const override { return source_.file_bytes(); }
  // Malformed known events skipped in lenient mode, and the first few of their messages.
  std::uint64_t warnings() const override { return warnings_.count(); }
  const std::vector<std::string>& warning_samples() const override { return warnings_.samples(); }
  // Lines skipped or treated specially, by kind, in order of first appearance.
  std::span<const ReaderNote> notes() const override { return notes_.all(); }
  std::string_view format_name() const override { return "ftrace"; }
  // Requests mapped and not yet unmapped so far.
  std::size_t live_requests() const { return live_.size(); }

  // The name iommu:* events get in devices(): they print no device.
  static constexpr std::string_view kIommuDevice = "iommu";

 private:
  enum class Note : std::uint8_t {
    Garbage, NoEventName, TooLong, LostEvents, LineTooBig, RawClock, OtherDevice, UnknownOther,
    FailedMap, FailedAlloc, AllocNoPhys, AllocPagesNoPhys, DuplicateMap,
    SgTruncated, SgShares, SgtShares, SgTooMany,
    UnmapNeverMapped, FreeNeverMade, UnmapSgNeverMapped, FreeSgtNeverMade,
    IommuRemap, IommuUnmapNothing, IommuNeverMapped, IommuUnmapPartial,
    Count,
  };
  using NameHash = ImportNotes::NameHash;

  void handle_line(std::string_view line);
  void handle_dma(ftrace::EventType type, const ftrace::FtraceLine& fl);
  void handle_iommu(ftrace::EventType type, const ftrace::FtraceLine& fl);
  // The device's index, or false when --device skips it (or on too many devices).
  bool device(std::string_view name, std::uint16_t& index);
  [[gnu::noinline]] bool new_device(std::string_view name, std::uint16_t& index);
  // A new request: a fresh id, remembered under its key, and its event queued.
  void open(ftrace::Family family, std::uint16_t device, std::uint64_t key, Event ev);
  // Ends the request under this key: its unmap event queued, or counted under `never`.
  void close(ftrace::Family family, std::uint16_t device, std::uint64_t key, EventKind kind, Note never);
  // The unmap, unmap_sg or free of request `id`, queued.
  void queue_end(EventKind kind, std::uint16_t device, std::uint64_t id);
  void note(Note n);
  // Counts `name` under "WHAT 'NAME'", one note per name.
  void named_note(ImportNotes::Group& group, std::string_view what, std::string_view name);
  void no_device_note();
  std::string note_text(Note n) const;
  [[gnu::cold]] void malformed(const ftrace::PayloadError& error);
  [[gnu::cold]] void stop(std::string message);

  ByteSource source_;
  ReaderOptions options_;
  ftrace::LineBuffer lines_;

  enum class State { Reading, End, Error } state_ = State::Reading;
  ParseError error_;
  std::string_view line_;  // the line being handled
  std::uint64_t time_ns_ = 0;  // its timestamp
  std::uint64_t event_line_ = 0;

  std::vector<Event> pending_;  // events of the current line not yet returned
  std::size_t pending_at_ = 0;
  std::uint64_t pending_line_ = 0;

  std::vector<std::string> devices_;
  std::unordered_map<std::string, std::uint16_t, NameHash, std::equal_to<>> device_index_;
  std::uint16_t last_device_ = 0;
  std::vector<std::string> other_devices_;  // --device skipped these (the first few)

  ftrace::LiveRequests live_;
  std::uint64_t next_id_ = 1;
  ftrace::ArrayScratch scratch_;
  std::vector<Segment> segments_;

  ImportWarnings warnings_;
  ImportNotes notes_{static_cast<std::size_t>(Note::Count)};
  ImportNotes::Group unknown_events_;
  ImportNotes::Group ignored_events_;
};

// True when the first line of `first_bytes` that is neither blank nor a '#' comment looks like
// ftrace output: an event line, or a header of trace-cmd report ("version = 6", "cpus=2"); or
// when a "# tracer: NAME" line (the trace file's first) comes first. `first_bytes` may end inside
// a line; that line is judged on what it has.
bool looks_like_ftrace(std::string_view first_bytes);

}  // namespace dartlab::trace
