// SPDX-License-Identifier: MIT
#include "traces/ftrace/ftrace_reader.hpp"

#include <algorithm>
#include <utility>

#include "traces/device_filter.hpp"
#include "traces/ftrace/iommu_events.hpp"
#include "traces/printable.hpp"
#include "traces/text_format.hpp"

namespace dartlab::trace {
namespace {

using ftrace::EventType;
using line_import::Family;

// Other devices named when --device's has no event (as traces/device_filter.cpp says it).
constexpr std::size_t kOtherDevicesNamed = 16;
// What dma_map_phys and dma_map_page return (and trace) when the mapping failed.
constexpr std::uint64_t kDmaMappingError = ~std::uint64_t{0};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The system an event type belongs to, for lines printed as "system:name:".
std::string_view system_of(EventType type) {
  return type == EventType::IommuMap || type == EventType::IommuUnmap ? "iommu" : "dma";
}

}  // namespace

FtraceReader::FtraceReader(const std::string& path, ReaderOptions options)
    : FtraceReader(ByteSource(path), std::move(options)) {}

FtraceReader::FtraceReader(ByteSource source, ReaderOptions options)
    : LineImporter(std::move(source), std::move(options), static_cast<std::size_t>(Note::Count)) {}

FtraceReader::~FtraceReader() = default;

void FtraceReader::at_end() {
  if (!options_.device.empty() && devices_.names().empty()) no_device_note();
}

void FtraceReader::handle_line(std::string_view line) {
  ftrace::FtraceLine fl;
  switch (ftrace::split_line(line, fl)) {
    case ftrace::LineKind::Event: break;
    case ftrace::LineKind::Header: return;
    case ftrace::LineKind::LostEvents: note(Note::LostEvents); return;
    case ftrace::LineKind::LineTooBig: note(Note::LineTooBig); return;
    case ftrace::LineKind::NoEventName: note(Note::NoEventName); return;
    case ftrace::LineKind::Garbage: note(Note::Garbage); return;
  }
  const EventType type = ftrace::find_event(fl.event);
  if (type == EventType::Unknown || (!fl.system.empty() && type != EventType::Ignored && fl.system != system_of(type))) {
    named_note(unknown_events_, "unknown event", fl.event);
    return;
  }
  if (type == EventType::Ignored) {
    named_note(ignored_events_, "ignored event (it changes no mapping)", fl.event);
    return;
  }
  time_ns_ = fl.time_ns;
  if (fl.time_is_count) [[unlikely]] note(Note::RawClock);
  if (type == EventType::IommuMap || type == EventType::IommuUnmap) {
    handle_iommu(type, fl);
  } else {
    handle_dma(type, fl);
  }
}

void FtraceReader::handle_dma(EventType type, const ftrace::FtraceLine& fl) {
  ftrace::DmaRecord r;
  ftrace::PayloadError error;
  if (!ftrace::parse_dma_payload(type, fl.event, fl.payload, scratch_, r, error)) return malformed(error);
  std::uint16_t dev = 0;
  if (!device(r.device, dev)) return;
  Event ev;
  ev.dir = r.dir;
  switch (type) {
    case EventType::DmaMap:
      if (r.dma_addr == kDmaMappingError) return note(Note::FailedMap);
      ev.kind = EventKind::Map;
      ev.gpa = r.phys_addr;
      ev.len_bytes = r.size_bytes;
      return open(Family::Single, dev, r.dma_addr, ev);
    case EventType::DmaUnmap: return close(Family::Single, dev, r.dma_addr, EventKind::Unmap, Note::UnmapNeverMapped);
    case EventType::DmaAlloc:
    case EventType::DmaAllocPages:
      if (r.virt_is_null) return note(Note::FailedAlloc);
      ev.kind = EventKind::Alloc;
      ev.dir = Direction::Bidirectional;  // what an alloc is to dartlab (traces/FORMAT.md)
      ev.gpa = r.has_phys ? r.phys_addr : r.dma_addr;
      if (!r.has_phys) note(type == EventType::DmaAlloc ? Note::AllocNoPhys : Note::AllocPagesNoPhys);
      ev.len_bytes = r.size_bytes;
      return open(Family::Alloc, dev, r.dma_addr, ev);
    case EventType::DmaFree: return close(Family::Alloc, dev, r.dma_addr, EventKind::Free, Note::FreeNeverMade);
    case EventType::DmaMapSg:
    case EventType::DmaAllocSgt: {
      ftrace::SegmentGuess guess = ftrace::SegmentGuess::Exact;
      if (!ftrace::sg_segments(type, fl.event, r, text::kMaxSegments, segments_, guess, error)) return malformed(error);
      if (r.truncated) note(Note::SgTruncated);
      if (r.phys_addrs.size() > text::kMaxSegments) note(Note::SgTooMany);
      if (guess == ftrace::SegmentGuess::EqualShares) note(type == EventType::DmaMapSg ? Note::SgShares : Note::SgtShares);
      ev.kind = EventKind::MapSg;
      ev.segments = segments_;
      if (type == EventType::DmaMapSg) return open(Family::Sg, dev, ftrace::sg_key(r.phys_addrs, r.nents), ev);
      return open(Family::Sgt, dev, r.dma_addr, ev);
    }
    case EventType::DmaUnmapSg:
      return close(Family::Sg, dev, ftrace::sg_key(r.phys_addrs, r.phys_addrs.size()), EventKind::UnmapSg,
                   Note::UnmapSgNeverMapped);
    case EventType::DmaFreeSgt: return close(Family::Sgt, dev, r.dma_addr, EventKind::UnmapSg, Note::FreeSgtNeverMade);
    default: return;
  }
}

void FtraceReader::handle_iommu(EventType type, const ftrace::FtraceLine& fl) {
  ftrace::IommuRecord r;
  ftrace::PayloadError error;
  switch (ftrace::parse_iommu_payload(type, fl.payload, r, error)) {
    case ftrace::IommuParse::Ok: break;
    case ftrace::IommuParse::NotIommu: return named_note(unknown_events_, "unknown event", fl.event);
    case ftrace::IommuParse::Error: return malformed(error);
  }
  // The events name no device, and every device has an IOMMU domain of its own: --device cannot
  // pick one device's mappings out of them.
  if (!options_.device.empty() && options_.device != kIommuDevice) {
    remember_other_device(kIommuDevice);
    return note(Note::IommuNotFiltered);
  }
  note(Note::IommuNoDevice);
  std::uint16_t dev = 0;
  if (!device(kIommuDevice, dev)) return;
  if (type == EventType::IommuMap) {
    // A map of a live IOVA is another domain's (two devices' first allocations sit at the same
    // IOVA): a second live mapping, stacked on the first (open() counts it).
    Event ev;
    ev.kind = EventKind::Map;
    ev.gpa = r.paddr;
    ev.len_bytes = r.size_bytes;
    return open(Family::Iommu, dev, r.iova, ev);
  }
  if (r.unmapped_bytes == 0) return note(Note::IommuUnmapNothing);
  // One unmap may end several maps that tile its range (iommu_map_sg maps chunk by chunk, and
  // dma-iommu unmaps the whole IOVA range at once): walk them from its start.
  const std::uint64_t end = r.unmapped_bytes > ~r.iova ? ~std::uint64_t{0} : r.iova + r.unmapped_bytes;
  std::uint64_t at = r.iova;
  bool ended = false;
  while (at < end) {
    const auto m = live_.take({at, dev, Family::Iommu});
    if (!m) break;
    queue_end(EventKind::Unmap, dev, m->id, true, time_ns_);
    ended = true;
    if (m->len_bytes > ~at) break;
    at += m->len_bytes;
  }
  if (!ended) return note(Note::IommuNeverMapped);
  if (at != end) note(Note::IommuUnmapPartial);
}

bool FtraceReader::device(std::string_view name, std::uint16_t& index) {
  if (!options_.device.empty() && name != options_.device) {
    remember_other_device(name);
    note(Note::OtherDevice);
    return false;
  }
  return devices_.find(name, index) || new_device(name, index);
}

void FtraceReader::remember_other_device(std::string_view name) {
  if (other_devices_.size() < kOtherDevicesNamed && std::find(other_devices_.begin(), other_devices_.end(), name) == other_devices_.end())
    other_devices_.emplace_back(name);
}

bool FtraceReader::new_device(std::string_view name, std::uint16_t& index) {
  // printable: a hostile name never reaches a terminal or JSON raw.
  if (devices_.add(name, printable(name), index)) return true;
  stop("more than " + std::to_string(text::kMaxDevices) + " distinct devices", line_number());
  return false;
}

void FtraceReader::open(Family family, std::uint16_t device, std::uint64_t key, Event ev) {
  ev.device = device;
  ev.has_time = true;
  ev.time_ns = time_ns_;
  ev.id = next_id_++;
  if (live_.add({key, device, family}, {ev.id, ev.len_bytes})) note(family == Family::Iommu ? Note::IommuRemap : Note::DuplicateMap);
  queue(ev);
}

void FtraceReader::close(Family family, std::uint16_t device, std::uint64_t key, EventKind kind, Note never) {
  const auto request = live_.take({key, device, family});
  if (!request) return note(never);
  queue_end(kind, device, request->id, true, time_ns_);
}

std::string FtraceReader::note_text(Note n) const {
  switch (n) {
    case Note::Garbage: return "line is not an ftrace event line";
    case Note::NoEventName: return "ftrace line without an event name (function tracer or trace_printk output)";
    case Note::TooLong: return "line longer than " + std::to_string(text::kMaxLineBytes) + " bytes";
    case Note::LostEvents: return "the recording lost events here (CPU:N [LOST ...]): some maps or unmaps are missing";
    case Note::LineTooBig: return "event the kernel could not print ([LINE TOO BIG])";
    case Note::RawClock: return "timestamp is a raw clock count (no '.'), kept as nanoseconds";
    case Note::OtherDevice: return "event of another device than " + options_.device;
    case Note::UnknownOther: return "unknown event (more than " + std::to_string(ImportNotes::kNamedNotes) + " different names)";
    case Note::FailedMap: return "failed map (dma_addr=ffffffffffffffff, DMA_MAPPING_ERROR) skipped";
    case Note::FailedAlloc: return "failed allocation (virt_addr is 0) skipped";
    case Note::AllocNoPhys: return "dma_alloc without a physical address: DMA address used as GPA";
    case Note::AllocPagesNoPhys: return "dma_alloc_pages without a physical address: DMA address used as GPA";
    case Note::DuplicateMap: return "map of a (device, address) already live: its unmaps end the latest map first";
    case Note::SgTruncated: return "dma_map_sg [TRUNCATED] by the kernel: only the entries printed are mapped";
    case Note::SgShares: return "dma_map_sg with merged DMA segments (ents < nents): entry lengths are equal shares of the mapped bytes";
    case Note::SgtShares: return "dma_alloc_sgt with several entries: entry lengths are equal shares of size";
    case Note::SgTooMany:
      return "scatterlist of more than " + std::to_string(text::kMaxSegments) + " entries: only the first " +
             std::to_string(text::kMaxSegments) + " are mapped";
    case Note::UnmapNeverMapped: return "unmap of an address never mapped in this recording";
    case Note::FreeNeverMade: return "free of an allocation never made in this recording";
    case Note::UnmapSgNeverMapped: return "dma_unmap_sg of a scatterlist never mapped in this recording";
    case Note::FreeSgtNeverMade: return "dma_free_sgt of an allocation never made in this recording";
    case Note::IommuRemap:
      return "iommu map of a live IOVA: a second live mapping (another device's IOMMU domain); an unmap ends the latest first";
    case Note::IommuNoDevice:
      return "iommu map and unmap events name no device: all are given to the device 'iommu' (each device has its own "
             "IOMMU domain, so one IOVA may be live in several)";
    case Note::IommuNotFiltered:
      return "iommu event skipped: iommu events name no device, so --device " + options_.device +
             " cannot tell this device's from others' (--device iommu keeps them all)";
    case Note::IommuUnmapNothing: return "iommu unmap that unmapped nothing (unmapped_size=0)";
    case Note::IommuNeverMapped: return "iommu unmap of an IOVA never mapped in this recording";
    case Note::IommuUnmapPartial:
      return "iommu unmap whose range the mappings found from its start do not tile exactly (partial unmap, or a gap)";
    case Note::Count: break;
  }
  return {};
}

void FtraceReader::no_device_note() {
  notes_.add({no_event_of_device(options_.device, other_devices_, other_devices_.size() == kOtherDevicesNamed), 1, {}});
}

void FtraceReader::note(Note n) {
  notes_.count(static_cast<std::size_t>(n), line_number(), [&] { return note_text(n); }, skips(n));
}

// Notes that come with the line's events, saying how they were read: nothing was left out.
bool FtraceReader::skips(Note n) {
  switch (n) {
    case Note::RawClock:
    case Note::AllocNoPhys:
    case Note::AllocPagesNoPhys:
    case Note::DuplicateMap:
    case Note::SgTruncated:
    case Note::SgShares:
    case Note::SgtShares:
    case Note::SgTooMany:
    case Note::IommuRemap:
    case Note::IommuUnmapPartial:
    case Note::IommuNoDevice: return false;
    default: return true;
  }
}

void FtraceReader::named_note(ImportNotes::Group& group, std::string_view what, std::string_view name) {
  if (!notes_.count_named(group, what, name, line_number())) note(Note::UnknownOther);
}

void FtraceReader::malformed(const ftrace::PayloadError& error) {
  // The kernel cut this event short; it said so at the end of the line.
  if (ends_with(current_line(), "[LINE TOO BIG]")) return note(Note::LineTooBig);
  LineImporter::malformed(error.at, error.message);
}

bool looks_like_ftrace_line(std::string_view line) {
  ftrace::FtraceLine fl;
  const ftrace::LineKind kind = ftrace::split_line(line, fl);
  return kind == ftrace::LineKind::Event || kind == ftrace::LineKind::NoEventName || kind == ftrace::LineKind::Header ||
         kind == ftrace::LineKind::LostEvents;
}

}  // namespace dartlab::trace
