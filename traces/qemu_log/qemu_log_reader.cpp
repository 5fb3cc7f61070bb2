#include "traces/qemu_log/qemu_log_reader.hpp"

#include <algorithm>
#include <utility>

#include "traces/text_format.hpp"

namespace dartlab::trace {
namespace {

using ftrace::Family;
using qemu_log::EventType;

constexpr std::size_t kNoNote = ~std::size_t{0};
constexpr std::size_t kWarningSamples = 5;
// Distinct other events counted one by one; the rest share one note. A log of `-trace '*'` has a
// few thousand names; garbage could make up any number.
constexpr std::size_t kNamedNotes = 64;

}  // namespace

QemuLogReader::QemuLogReader(const std::string& path, ReaderOptions options)
    : QemuLogReader(ByteSource(path), std::move(options)) {}

QemuLogReader::QemuLogReader(ByteSource source, ReaderOptions options)
    : source_(std::move(source)),
      options_(std::move(options)),
      lines_(source_, options_.block_bytes != 0 ? options_.block_bytes : text::kBlockBytes, text::kMaxLineBytes) {
  error_.file = source_.name();
  note_index_.fill(kNoNote);
  if (!source_.open_error().empty()) stop(source_.open_error());
}

QemuLogReader::~QemuLogReader() = default;

std::string QemuLogReader::locate(std::uint64_t line) const { return source_.name() + ':' + std::to_string(line); }

TraceReader::Status QemuLogReader::next(Event& ev) {
  for (;;) {
    if (pending_at_ < pending_.size()) {
      ev = pending_[pending_at_++];
      event_line_ = pending_line_;
      return Status::Event;
    }
    if (state_ == State::Error) return Status::Error;
    if (state_ == State::End) return Status::End;
    pending_.clear();
    pending_at_ = 0;
    std::string_view line;
    switch (lines_.next(line)) {
      case ftrace::LineBuffer::Status::Line:
        pending_line_ = lines_.line_number();
        handle_line(line);
        break;
      case ftrace::LineBuffer::Status::TooLong: note(Note::TooLong); break;
      case ftrace::LineBuffer::Status::End: state_ = State::End; break;
      case ftrace::LineBuffer::Status::Error: stop(lines_.error()); break;
    }
  }
}

void QemuLogReader::handle_line(std::string_view line) {
  line_ = line;
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
  qemu_log::AppleDmaRecord r;
  qemu_log::PayloadError error;
  if (!qemu_log::parse_apple_dma(type, log_line_.args, r, error)) return malformed(error.at, std::move(error.message));
  handle_event(type, r);
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
        queue(EventKind::Unmap, dev, old->id);
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
      pending_.push_back(ev);
      return;
    }
    case EventType::Unmap: {
      if (r.status != 0) return note(Note::FailedUnmap);
      const auto m = device(r.bdf, dev, false) ? live_.take({r.handle, dev, Family::Handle}) : std::nullopt;
      if (!m) return note(Note::UnmapNeverMapped);
      if (m->len_bytes != r.len_bytes) note(Note::UnmapLenDiffers);
      return queue(EventKind::Unmap, dev, m->id);
    }
    case EventType::Reset: {
      ended_.clear();
      if (device(r.bdf, dev, false)) live_.take_device(dev, Family::Handle, ended_);
      if (r.live != ended_.size()) note(Note::ResetLiveDiffers);
      if (ended_.empty()) return;
      note(Note::ResetEnded);
      std::sort(ended_.begin(), ended_.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
      for (const auto& m : ended_) queue(EventKind::Unmap, dev, m.id);
      return;
    }
    case EventType::Other: return;
  }
}

bool QemuLogReader::device(std::string_view bdf, std::uint16_t& index, bool add) {
  if (auto it = device_index_.find(bdf); it != device_index_.end()) {
    index = it->second;
    return true;
  }
  if (!add) return false;
  if (devices_.size() >= text::kMaxDevices) {
    stop("more than " + std::to_string(text::kMaxDevices) + " distinct devices");
    error_.line = lines_.line_number();
    return false;
  }
  index = static_cast<std::uint16_t>(devices_.size());
  devices_.emplace_back(bdf);
  device_index_.emplace(devices_.back(), index);
  return true;
}

void QemuLogReader::queue(EventKind kind, std::uint16_t device, std::uint64_t id) {
  Event ev;
  ev.kind = kind;
  ev.device = device;
  ev.has_time = log_line_.has_time;
  ev.time_ns = log_line_.time_ns;
  ev.id = id;
  pending_.push_back(ev);
}

std::string_view QemuLogReader::note_text(Note n) {
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
    case Note::Count: break;
  }
  return {};
}

void QemuLogReader::add_note_line(std::size_t index) {
  ReaderNote& n = notes_[index];
  ++n.count;
  if (n.first_lines.size() < ReaderNote::kSampleLines) n.first_lines.push_back(lines_.line_number());
}

void QemuLogReader::note(Note n) {
  std::size_t& index = note_index_[static_cast<std::size_t>(n)];
  if (index == kNoNote) {
    index = notes_.size();
    notes_.push_back({std::string(note_text(n)), 0, {}});
  }
  add_note_line(index);
}

void QemuLogReader::other_event(std::string_view name) {
  auto it = other_events_.find(name);
  if (it == other_events_.end()) {
    if (other_events_.size() >= kNamedNotes) return note(Note::OtherEventsBeyond);
    it = other_events_.emplace(name, notes_.size()).first;
    notes_.push_back({"other trace event '" + std::string(name) + "'", 0, {}});
  }
  add_note_line(it->second);
}

void QemuLogReader::malformed(const char* at, std::string message) {
  ParseError e;
  e.file = source_.name();
  e.line = lines_.line_number();
  e.column = static_cast<std::uint32_t>(at - line_.data() + 1);
  e.message = std::move(message);
  if (options_.lenient) {
    ++warnings_;
    if (warning_samples_.size() < kWarningSamples) {
      warning_samples_.push_back(e.file + ':' + std::to_string(e.line) + ':' + std::to_string(e.column) +
                                 ": warning: " + e.message + " (line skipped)");
    }
    return;
  }
  pending_.clear();
  state_ = State::Error;
  error_ = std::move(e);
}

void QemuLogReader::stop(std::string message) {
  pending_.clear();
  state_ = State::Error;
  error_.line = 0;
  error_.column = 0;
  error_.message = std::move(message);
}

bool looks_like_qemu_log(std::string_view first_bytes) {
  std::string_view s = first_bytes;
  while (!s.empty()) {
    const std::size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    s.remove_prefix(nl == std::string_view::npos ? s.size() : nl + 1);
    qemu_log::LogLine ll;
    if (qemu_log::split_line(line, ll) == qemu_log::LineKind::Event && qemu_log::find_event(ll.name) != EventType::Other) return true;
  }
  return false;
}

}  // namespace dartlab::trace
