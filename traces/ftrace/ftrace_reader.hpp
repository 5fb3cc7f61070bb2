// SPDX-License-Identifier: MIT
// Imports a Linux ftrace text recording (/sys/kernel/tracing/trace, trace_pipe, trace-cmd report)
// as dartlab trace events, streaming: dma:* and iommu:* maps become Map, MapSg and Alloc events
// with fresh ids, and their unmaps are tied back to them. What is accepted, how unmaps are
// matched and what is counted: traces/ftrace/IMPORT.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "traces/byte_source.hpp"
#include "traces/event.hpp"
#include "traces/ftrace/dma_events.hpp"
#include "traces/ftrace/ftrace_events.hpp"
#include "traces/ftrace/ftrace_line.hpp"
#include "traces/line_import/device_table.hpp"
#include "traces/line_import/import_notes.hpp"
#include "traces/line_import/line_importer.hpp"
#include "traces/line_import/live_requests.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::trace {

class FtraceReader final : public LineImporter {
 public:
  // "-" reads stdin. An open failure is reported by the first next().
  explicit FtraceReader(const std::string& path, ReaderOptions options = {});
  FtraceReader(ByteSource source, ReaderOptions options);
  ~FtraceReader() override;
  FtraceReader(const FtraceReader&) = delete;
  FtraceReader& operator=(const FtraceReader&) = delete;


  // Device names as the events print them (PCI BDFs, platform device names, "iommu" for the
  // iommu:* events, which name none), in order of first appearance.
  const std::vector<std::string>& devices() const override { return devices_.names(); }
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
    IommuRemap, IommuUnmapNothing, IommuNeverMapped, IommuUnmapPartial, IommuNoDevice, IommuNotFiltered,
    Count,
  };

  void handle_line(std::string_view line) override;
  void line_too_long() override { note(Note::TooLong); }
  void at_end() override;
  void handle_dma(ftrace::EventType type, const ftrace::FtraceLine& fl);
  void handle_iommu(ftrace::EventType type, const ftrace::FtraceLine& fl);
  // The device's index, or false when --device skips it (or on too many devices).
  bool device(std::string_view name, std::uint16_t& index);
  [[gnu::noinline]] bool new_device(std::string_view name, std::uint16_t& index);
  void remember_other_device(std::string_view name);  // for the note when --device's has no event
  // A new request: a fresh id, remembered under its key, and its event queued.
  void open(line_import::Family family, std::uint16_t device, std::uint64_t key, Event ev);
  // Ends the request under this key: its unmap event queued, or counted under `never`.
  void close(line_import::Family family, std::uint16_t device, std::uint64_t key, EventKind kind, Note never);
  void note(Note n);
  static bool skips(Note n);
  // Counts `name` under "WHAT 'NAME'", one note per name.
  void named_note(ImportNotes::Group& group, std::string_view what, std::string_view name);
  void no_device_note();
  std::string note_text(Note n) const;
  [[gnu::cold]] void malformed(const ftrace::PayloadError& error);

  std::uint64_t time_ns_ = 0;  // the timestamp of the line being handled

  line_import::DeviceTable devices_;
  std::vector<std::string> other_devices_;  // --device skipped these (the first few)

  line_import::LiveRequests live_;
  std::uint64_t next_id_ = 1;
  ftrace::ArrayScratch scratch_;
  std::vector<Segment> segments_;

  ImportNotes::Group unknown_events_;
  ImportNotes::Group ignored_events_;
};

// True when `line` (not blank, not a '#' comment) looks like ftrace output: an event line, a
// line of the trace file's context without an event name, a lost-events line, or a header of
// trace-cmd report ("version = 6", "cpus=2"). A line cut short is judged on what it has.
bool looks_like_ftrace_line(std::string_view line);

}  // namespace dartlab::trace
