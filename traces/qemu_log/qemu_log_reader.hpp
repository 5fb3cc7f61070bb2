// SPDX-License-Identifier: MIT
// Imports the apple-dma-pci device's trace events from a QEMU log (the `log` trace backend:
// `-trace apple_dma_*`, to stderr or `-D FILE`) as dartlab trace events, streaming. dartlab's own
// device: each successful apple_dma_map becomes a Map with a fresh id, its apple_dma_unmap (same
// device, same handle) the Unmap of that id, and an apple_dma_reset the Unmaps of every mapping its
// device still had. The real device (the seed system's QEMU): at ReaderOptions::level Guest its map
// and unmap entries, at Host the host mappings QEMU registered (apple_dext_*). Other lines are
// counted, not fatal. What is accepted and counted: traces/qemu_log/IMPORT.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "traces/byte_source.hpp"
#include "traces/event.hpp"
#include "traces/line_import/device_table.hpp"
#include "traces/line_import/import_notes.hpp"
#include "traces/line_import/line_importer.hpp"
#include "traces/line_import/live_requests.hpp"
#include "traces/qemu_log/log_line.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::trace {

class QemuLogReader final : public LineImporter {
 public:
  // "-" reads stdin. An open failure is reported by the first next(). ReaderOptions::device is
  // not applied here: open_trace wraps this reader in a DeviceFilterReader, as for text traces.
  explicit QemuLogReader(const std::string& path, ReaderOptions options = {});
  QemuLogReader(ByteSource source, ReaderOptions options);
  ~QemuLogReader() override;
  QemuLogReader(const QemuLogReader&) = delete;
  QemuLogReader& operator=(const QemuLogReader&) = delete;


  // Device names (the events' bdf=), in order of first appearance.
  const std::vector<std::string>& devices() const override { return devices_.names(); }
  std::string_view format_name() const override { return "qemu-log"; }
  // Mappings made and not yet unmapped so far, over every device.
  std::size_t live_mappings() const { return live_.size(); }

 private:
  enum class Note : std::uint8_t {
    Other, TooLong, FailedMap, FailedUnmap, UnmapNeverMapped, LiveHandleMapped, UnmapLenDiffers,
    ResetEnded, ResetLiveDiffers, OtherEventsBeyond,
    // The real device's events.
    Level, Doorbell, OtherLevel, FailedEntry, ShortEntry, EntryLive, EntryNeverMapped, FailedUnmapEntry,
    RegisterFailed, IovaLive, UnregisterFailed, UnregisterNeverRegistered, BackendFailBeyond,
    Count,
  };

  void handle_line(std::string_view line) override;
  void line_too_long() override { note(Note::TooLong); }
  void handle_event(qemu_log::EventType type, const qemu_log::AppleDmaRecord& r);
  void handle_real(qemu_log::EventType type, const qemu_log::RealDeviceRecord& r);
  // A map of [gpa, +len) under `key`, with a fresh id; false (and the line reported) when the
  // range is empty or passes 2^64.
  bool map_range(const line_import::LiveKey& key, std::uint64_t gpa, std::uint64_t len_bytes, Note stacked);
  void unmap_key(const line_import::LiveKey& key, Note never);
  // The device's index; a new one is added only when `add` (a map), else false for a new name.
  bool device(std::string_view bdf, std::uint16_t& index, bool add);
  // The Unmap of mapping `id`, at the line's time.
  void queue_unmap(std::uint16_t device, std::uint64_t id) {
    queue_end(EventKind::Unmap, device, id, log_line_.has_time, log_line_.time_ns);
  }
  void note(Note n);
  void other_event(std::string_view name);
  std::string note_text(Note n) const;
  static bool skips(Note n);

  qemu_log::LogLine log_line_;  // the line being handled, split
  line_import::DeviceTable devices_;

  line_import::LiveRequests live_;  // by (device, handle)
  std::vector<line_import::LiveRequest> ended_;  // a reset's mappings, reused
  std::uint64_t next_id_ = 1;

  ImportNotes::Group other_events_;
  ImportNotes::Group backend_failures_;  // apple_dma_backend_map_fail, by reason
  std::string real_device_;  // the device the real device's events are given (they name none)
};

// True when `line` is an apple-dma-pci event (dartlab's or the real device's, apple_dext_*
// included) of QEMU's log backend, with or without its PID@SEC.USEC: stamp. A dartlab text
// header, an apple_dma CSV row or an ftrace line never looks like one.
bool looks_like_qemu_log_line(std::string_view line);

}  // namespace dartlab::trace
