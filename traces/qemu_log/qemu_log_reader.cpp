// SPDX-License-Identifier: MIT
#include "traces/qemu_log/qemu_log_reader.hpp"

#include <algorithm>
#include <utility>

#include "traces/text_format.hpp"

namespace dartlab::trace {
namespace {

using line_import::Family;
using qemu_log::EventType;

}  // namespace

QemuLogReader::QemuLogReader(const std::string& path, ReaderOptions options)
    : QemuLogReader(ByteSource(path), std::move(options)) {}

QemuLogReader::QemuLogReader(ByteSource source, ReaderOptions options)
    : LineImporter(std::move(source), std::move(options), static_cast<std::size_t>(Note::Count)) {
  real_device_ = options_.device.empty() ? std::string(ReaderOptions::kDefaultDevice) : options_.device;
}

QemuLogReader::~QemuLogReader() = default;

void QemuLogReader::handle_line(std::string_view line) {
  switch (qemu_log::split_line(line, log_line_)) {
    case qemu_log::LineKind::Event: break;
    case qemu_log::LineKind::Blank: return;
    case qemu_log::LineKind::Other: return note(Note::Other);
  }
  const EventType type = qemu_log::find_event(log_line_.name);
  if (type == EventType::Other) return other_event(log_line_.name);
  if (log_line_.bad_time != nullptr) {
    return malformed(log_line_.bad_time, "the PID@SEC.USEC: stamp must have six digits of microseconds and fit in 64 bits of nanoseconds");
  }
  // apple_dma_doorbell: both devices trace one per command, each in its own form; the entries
  // follow on lines of their own. dartlab's device's (`bdf= type= count= status=`) carries
  // nothing to check; the real one's is read as its format says.
  if (type == EventType::Doorbell && log_line_.args.substr(0, 4) == "bdf=") return note(Note::Doorbell);
  qemu_log::PayloadError error;
  if (qemu_log::is_real_device_event(type)) {
    qemu_log::RealDeviceRecord r;
    if (!qemu_log::parse_real_device(type, log_line_.args, r, error)) return malformed(error.at, std::move(error.message));
    return handle_real(type, r);
  }
  qemu_log::AppleDmaRecord r;
  if (!qemu_log::parse_apple_dma(type, log_line_.args, r, error)) return malformed(error.at, std::move(error.message));
  handle_event(type, r);
}

void QemuLogReader::handle_real(EventType type, const qemu_log::RealDeviceRecord& r) {
  if (type == EventType::Doorbell) return note(Note::Doorbell);
  if (type == EventType::BackendMapFail) {
    if (!notes_.count_named(backend_failures_, "apple_dma_backend_map_fail, reason", r.reason, line_number()))
      note(Note::BackendFailBeyond);
    return;
  }
  const bool host_event = type == EventType::RegisterDma || type == EventType::UnregisterDma;
  if (host_event != (options_.level == LogLevel::Host)) return note(Note::OtherLevel);
  note(Note::Level);
  std::uint16_t dev = 0;
  if (!device(real_device_, dev, true)) return;
  switch (type) {
    case EventType::MapEntry:
      if (!r.ok) return note(Note::FailedEntry);
      // The guest module undoes a map the host made shorter than asked; it unmaps it later.
      if (r.bus_len_bytes < r.len_bytes) note(Note::ShortEntry);
      map_range({r.gpa, dev, Family::EntryId}, r.gpa, r.len_bytes, Note::EntryLive);
      return;
    case EventType::UnmapEntry:
      if (r.status != 0) return note(Note::FailedUnmapEntry);
      return unmap_key({r.id, dev, Family::EntryId}, Note::EntryNeverMapped);
    case EventType::RegisterDma:
      if (r.kr != 0) return note(Note::RegisterFailed);
      map_range({r.iova, dev, Family::HostIova}, r.iova, r.len_bytes, Note::IovaLive);  // iova is the gpa
      return;
    case EventType::UnregisterDma:
      if (r.kr != 0) return note(Note::UnregisterFailed);
      return unmap_key({r.iova, dev, Family::HostIova}, Note::UnregisterNeverRegistered);
    default: return;
  }
}

bool QemuLogReader::map_range(const line_import::LiveKey& key, std::uint64_t gpa, std::uint64_t len_bytes, Note stacked) {
  const char* args_end = log_line_.args.data() + log_line_.args.size();
  const std::string name(log_line_.name);
  if (len_bytes == 0) {
    malformed(args_end, name + ": a successful map of 0 bytes");
    return false;
  }
  if (len_bytes - 1 > ~gpa) {
    malformed(args_end, name + ": gpa + size passes 2^64");
    return false;
  }
  Event ev;
  ev.kind = EventKind::Map;
  ev.dir = Direction::Bidirectional;  // the real device's requests carry no direction
  ev.gpa = gpa;
  ev.len_bytes = len_bytes;
  ev.device = key.device;
  ev.has_time = log_line_.has_time;
  ev.time_ns = log_line_.time_ns;
  ev.id = next_id_++;
  if (live_.add(key, {ev.id, len_bytes})) note(stacked);
  queue(ev);
  return true;
}

void QemuLogReader::unmap_key(const line_import::LiveKey& key, Note never) {
  const auto m = live_.take(key);
  if (!m) return note(never);
  queue_unmap(key.device, m->id);
}

void QemuLogReader::handle_event(EventType type, const qemu_log::AppleDmaRecord& r) {
  std::uint16_t dev = 0;
  switch (type) {
    case EventType::Map: {
      if (r.status != 0) return note(Note::FailedMap);
      const char* args_end = log_line_.args.data() + log_line_.args.size();
      if (r.len_bytes == 0) return malformed(args_end, "apple_dma_map: len=0 with status=0 (a mapping of nothing)");
      if (r.len_bytes - 1 > ~r.gpa) return malformed(args_end, "apple_dma_map: gpa + len passes 2^64");
      if (!device(r.bdf, dev, true)) return;
      // The device hands out a handle once until its unmap: a second map means the unmap is missing.
      if (const auto old = live_.take({r.handle, dev, Family::Handle})) {
        queue_unmap(dev, old->id);
        note(Note::LiveHandleMapped);
      }
      Event ev;
      ev.kind = EventKind::Map;
      ev.dir = r.dir;
      ev.gpa = r.gpa;
      ev.len_bytes = r.len_bytes;
      ev.device = dev;
      ev.has_time = log_line_.has_time;
      ev.time_ns = log_line_.time_ns;
      ev.id = next_id_++;
      live_.add({r.handle, dev, Family::Handle}, {ev.id, ev.len_bytes});
      queue(ev);
      return;
    }
    case EventType::Unmap: {
      if (r.status != 0) return note(Note::FailedUnmap);
      const auto m = device(r.bdf, dev, false) ? live_.take({r.handle, dev, Family::Handle}) : std::nullopt;
      if (!m) return note(Note::UnmapNeverMapped);
      if (m->len_bytes != r.len_bytes) note(Note::UnmapLenDiffers);
      return queue_unmap(dev, m->id);
    }
    case EventType::Reset: {
      ended_.clear();
      if (device(r.bdf, dev, false)) live_.take_device(dev, Family::Handle, ended_);
      if (r.live != ended_.size()) note(Note::ResetLiveDiffers);
      if (ended_.empty()) return;
      note(Note::ResetEnded);
      std::sort(ended_.begin(), ended_.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
      for (const auto& m : ended_) queue_unmap(dev, m.id);
      return;
    }
    default: return;  // the real device's events: handle_real
  }
}

bool QemuLogReader::device(std::string_view bdf, std::uint16_t& index, bool add) {
  if (devices_.find(bdf, index)) return true;
  if (!add) return false;
  if (devices_.add(bdf, std::string(bdf), index)) return true;
  stop("more than " + std::to_string(text::kMaxDevices) + " distinct devices", line_number());
  return false;
}

std::string QemuLogReader::note_text(Note n) const {
  const bool host = options_.level == LogLevel::Host;
  switch (n) {
    case Note::Other: return "line is not a trace event (other QEMU or console output)";
    case Note::TooLong: return "line longer than 1048576 bytes";
    case Note::FailedMap: return "failed apple_dma_map (status != 0): nothing mapped";
    case Note::FailedUnmap: return "failed apple_dma_unmap (status != 0): nothing released";
    case Note::UnmapNeverMapped: return "apple_dma_unmap of a handle not mapped in this log (mapped before it began?)";
    case Note::LiveHandleMapped: return "apple_dma_map of a handle still live: the earlier mapping is ended first (its unmap is missing)";
    case Note::UnmapLenDiffers: return "apple_dma_unmap whose len differs from its map's (the mapping is ended all the same)";
    case Note::ResetEnded: return "apple_dma_reset with mappings live: each is unmapped";
    case Note::ResetLiveDiffers: return "apple_dma_reset whose live= differs from the mappings live in this log";
    case Note::OtherEventsBeyond: return "other trace event (more than 64 different names)";
    case Note::Level:
      return std::string(host ? "read at --level host: the host mappings QEMU registered (apple_dext_register_dma / "
                                "unregister_dma) are replayed"
                              : "read at --level guest: the guest's map and unmap entries (apple_dma_handle_map_entry / "
                                "unmap_entry) are replayed") +
             ", as device " + real_device_ + " (the real device's events name none; --device names it)";
    case Note::Doorbell: return "apple_dma_doorbell: a command; its entries are the lines that follow";
    case Note::OtherLevel:
      return host ? "map or unmap entry of the guest level, not replayed at --level host (--level guest replays them)"
                  : "apple_dext_* line of the host level, not replayed at --level guest (--level host replays them)";
    case Note::FailedEntry: return "failed map entry (ok=0): nothing mapped";
    case Note::ShortEntry: return "map entry with a bus len shorter than req_len (the guest module undoes such a map)";
    case Note::EntryLive: return "map entry of an id (gpa) still live: a second live mapping; an unmap ends the latest first";
    case Note::EntryNeverMapped: return "unmap entry of an id not mapped in this log (mapped before it began?)";
    case Note::FailedUnmapEntry: return "failed unmap entry (status != 0): the mapping stays live";
    case Note::RegisterFailed: return "apple_dext_register_dma refused by the host (kr != 0): nothing mapped";
    case Note::IovaLive: return "apple_dext_register_dma of an iova still live: a second live mapping";
    case Note::UnregisterFailed: return "apple_dext_unregister_dma refused by the host (kr != 0): the mapping stays live";
    case Note::UnregisterNeverRegistered: return "apple_dext_unregister_dma of an iova not registered in this log";
    case Note::BackendFailBeyond: return "apple_dma_backend_map_fail (more than 64 different reasons)";
    case Note::Count: break;
  }
  return {};
}

// Notes that say how lines were read, not what was left out of the replay.
bool QemuLogReader::skips(Note n) {
  return n != Note::Level && n != Note::Doorbell && n != Note::ShortEntry && n != Note::EntryLive && n != Note::IovaLive &&
         n != Note::LiveHandleMapped && n != Note::UnmapLenDiffers && n != Note::ResetEnded;
}

void QemuLogReader::note(Note n) {
  notes_.count(static_cast<std::size_t>(n), line_number(), [&] { return note_text(n); }, skips(n));
}

// A log of `-trace '*'` has a few thousand event names: the first 64 are counted by name.
void QemuLogReader::other_event(std::string_view name) {
  if (!notes_.count_named(other_events_, "other trace event", name, line_number())) note(Note::OtherEventsBeyond);
}

bool looks_like_qemu_log_line(std::string_view line) {
  qemu_log::LogLine ll;
  return qemu_log::split_line(line, ll) == qemu_log::LineKind::Event && qemu_log::find_event(ll.name) != EventType::Other;
}

}  // namespace dartlab::trace
