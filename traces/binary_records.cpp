// SPDX-License-Identifier: MIT
// The binary trace's records (BINARY.md): events, decoded by a fast path for the common ones and
// by decode() for every rule and message, and the meta records (devices, comments) between them.
// binary_reader.cpp frames them: header, chunks, end chunk.
#include <array>
#include <string>

#include "traces/binary_format.hpp"
#include "traces/binary_reader.hpp"
#include "traces/line_import/numbers.hpp"

namespace dartlab::trace {
namespace {

using namespace binary;
using line_import::hex;

// A record that starts before the end of raw_'s records reads less than kPadding bytes past it:
// its tag, extras and at most five varints of at most nine bytes each (and a map_sg segment is
// read only if it starts before the end). So no bounds check is needed inside a record, only
// after it and after each segment.
static_assert(BinaryTraceReader::kPadding >= 2 + 5 * kMaxVarintBytes, "a record's fixed part");

// What an event record's tag byte says, looked up rather than taken apart on the hot path.
struct TagInfo {
  bool valid = false;  // an event kind, a direction, and no bit the kind never sets
  bool plain = false;  // valid, no extras byte, one range or none: next()'s fast path takes it
  bool names_device = false;  // map, map_sg, alloc
  bool has_range = false;
  bool has_time = false;
  bool has_extras = false;
  EventKind kind = EventKind::Map;
  Direction dir = Direction::Bidirectional;
  std::uint8_t shift = 0;  // ranges in bytes (0) or pages (kPageShift)
};
constexpr auto kTags = [] {
  std::array<TagInfo, 256> t{};
  for (unsigned tag = 0; tag < t.size(); ++tag) {
    const unsigned kind = tag & kKindMask;
    const unsigned dir = (tag & kDirMask) >> kDirShift;
    if (kind == kMetaKind || (tag & ~kAllowedTagBits[kind]) != 0 || dir > 2) continue;
    const auto k = static_cast<EventKind>(kind);
    const bool extras = (tag & kExtrasBit) != 0;
    t[tag] = {true, !extras && k != EventKind::MapSg, is_map_kind(k), has_range(k), (tag & kTimeBit) != 0, extras, k,
              static_cast<Direction>(dir), static_cast<std::uint8_t>((tag & kPagesBit) != 0 ? kPageShift : 0)};
  }
  return t;
}();

// [gpa, gpa + len) makes sense: not empty, not past 2^64 (it may end exactly there).
inline bool sane_range(std::uint64_t gpa, std::uint64_t len) { return len != 0 && (gpa == 0 || len <= 0 - gpa); }
std::string range_problem(std::uint64_t gpa, std::uint64_t len) {
  if (len == 0) return "length must be > 0";
  return "range " + hex(gpa) + " + " + std::to_string(len) + " bytes ends past 2^64";
}

}  // namespace

BinaryTraceReader::Record BinaryTraceReader::meta_record(const std::uint8_t* at) {
  const std::uint8_t tag = *at;
  const std::uint8_t* p = at + 1;
  if (tag == kTagDevice) {
    if (!define_device(at, p)) return Record::Error;
    cur_ = p;
    return Record::Skip;
  }
  if (tag == kTagComment) {
    std::uint64_t n = 0;
    p = get_varint(p, n);
    if (p > end_ || n > kMaxCommentBytes || n > static_cast<std::uint64_t>(end_ - p)) {
      return bad_record(at, "comment of " + std::to_string(n) + " bytes " +
                                (n > kMaxCommentBytes ? "exceeds " + std::to_string(kMaxCommentBytes)
                                                      : std::string("runs past the end of its chunk")));
    }
    if (comments_.size() < kKeptComments) comments_.emplace_back(reinterpret_cast<const char*>(p), n);
    cur_ = p + n;
    return Record::Skip;
  }
  return bad_record(at, "unknown record tag " + hex(tag));
}

// What is wrong with an event record, found on the hot path; report() writes the message.
enum class BinaryTraceReader::Problem : std::uint8_t {
  BadTag, Truncated, UndefinedDevice, BadAlign, SegmentCount, PagesPast64Bits,
};

[[gnu::cold, gnu::noinline]] BinaryTraceReader::Record BinaryTraceReader::report(Problem problem, const std::uint8_t* at,
                                                                                std::uint64_t value) {
  const std::uint8_t tag = *at;
  const std::string kind(to_string(static_cast<EventKind>(tag & kKindMask)));
  const std::string event = "event " + std::to_string(events_seen_) + " (" + kind + "): ";
  switch (problem) {
    case Problem::BadTag: {
      const bool dir3 = (tag & kDirMask) == kDirMask && (kAllowedTagBits[tag & kKindMask] & kDirMask) != 0;
      return bad_record(at, "bad record tag " + hex(tag) + " for " + kind +
                                (dir3 ? " (direction 3)" : " (a bit this kind never sets)"));
    }
    case Problem::Truncated:
      return bad_record(at, event + "truncated record: it runs past the end of its chunk");
    case Problem::UndefinedDevice:
      return bad_record(at, event + "device " + std::to_string(value) + " is not defined (" +
                                std::to_string(devices_.size()) + " are)");
    case Problem::BadAlign:
      return bad_record(at, event + "alignment code " + std::to_string(value) + " (at most " +
                                std::to_string(kMaxAlignCode) + ")");
    case Problem::SegmentCount:
      return bad_record(at, event + "segment count " + std::to_string(value) +
                                (value == 0 ? " (at least 1)" : " exceeds " + std::to_string(kMaxSegments)));
    case Problem::PagesPast64Bits:
      return bad_record(at, event + "a length in pages does not fit in 64 bits");
  }
  return Record::Error;
}

// Any record, by every rule of BINARY.md: meta records, extras, map_sg, every error and its
// message, lenient skips. Every field is read before the first check; the padding makes that safe.
BinaryTraceReader::Record BinaryTraceReader::decode(Event& ev) {
  const std::uint8_t* const at = cur_;
  const TagInfo t = kTags[*at];
  if (!t.valid) [[unlikely]] return (*at & kKindMask) == kMetaKind ? meta_record(at) : report(Problem::BadTag, at, 0);
  ++events_seen_;

  const std::uint8_t* p = at + 1;
  std::uint64_t v = 0;
  const std::uint8_t extras = t.has_extras ? *p++ : 0;
  std::uint64_t time = prev_time_;
  if (t.has_time) {
    p = get_varint(p, v);
    time += unzigzag(v);
  }
  p = get_varint(p, v);
  const std::uint64_t id = prev_id_ + unzigzag(v);

  std::uint64_t device = prev_device_;
  bool bad_device = false;
  std::uint64_t gpa = prev_gpa_;
  std::uint64_t len = 0;
  std::uint64_t past_64_bits = 0;  // a length in pages with bits past 2^64 bytes
  std::size_t count = 0;
  const unsigned shift = t.shift;
  auto range = [&] {
    p = get_varint(p, v);
    gpa += unzigzag(v) << shift;
    p = get_varint(p, len);
    past_64_bits = len >> (63 - shift) >> 1;  // len >> 52 in pages; 0 in bytes
    len <<= shift;
  };
  switch (t.kind) {
    case EventKind::Map:
    case EventKind::Alloc:
    case EventKind::MapSg:
      if ((extras & kExtrasDeviceBit) != 0) p = get_varint(p, device);
      bad_device = device >= devices_.size();  // named here, or carried over from before
      if (t.kind != EventKind::MapSg) {
        range();
        break;
      }
      p = get_varint(p, v);
      if ((v == 0 || v > kMaxSegments) && p <= end_) [[unlikely]] return report(Problem::SegmentCount, at, v);
      count = static_cast<std::size_t>(std::min<std::uint64_t>(v, kMaxSegments));
      for (std::size_t i = 0; i < count && p <= end_; ++i) {
        p = get_varint(p, v);
        gpa += unzigzag(v) << shift;
        segments_[i].gpa = gpa;
        p = get_varint(p, v);
        past_64_bits |= v >> (63 - shift) >> 1;
        segments_[i].len_bytes = v << shift;
      }
      break;
    case EventKind::Access:
      range();
      break;
    case EventKind::Unmap:
    case EventKind::UnmapSg:
    case EventKind::Free:
      break;
  }
  const unsigned align_code = extras & kExtrasAlignMask;
  if (p > end_ || bad_device || align_code > kMaxAlignCode || past_64_bits != 0) [[unlikely]] {
    if (p > end_) return report(Problem::Truncated, at, 0);
    if (align_code > kMaxAlignCode) return report(Problem::BadAlign, at, align_code);
    if (past_64_bits != 0) return report(Problem::PagesPast64Bits, at, 0);
    return report(Problem::UndefinedDevice, at, device);
  }
  cur_ = p;
  prev_time_ = time;
  prev_id_ = id;
  prev_gpa_ = gpa;
  prev_device_ = static_cast<std::uint16_t>(device);
  device_defined_ = device < devices_.size();

  ev.kind = t.kind;
  ev.dir = t.dir;
  ev.device = t.names_device ? static_cast<std::uint16_t>(device) : 0;
  ev.has_time = t.has_time;
  ev.time_ns = t.has_time ? time : 0;
  ev.id = id;
  ev.gpa = has_range(t.kind) ? gpa : 0;
  ev.len_bytes = len;
  ev.align_bytes = align_code == 0 ? 0 : std::uint64_t{1} << (align_code - 1);
  ev.segments = {segments_.data(), count};

  // Well-formed; now whether it makes sense (lenient mode skips what does not).
  if (has_range(t.kind)) {
    if (!sane_range(gpa, len)) [[unlikely]] return senseless(at, range_problem(gpa, len));
  } else if (count != 0) {
    for (const Segment& s : ev.segments) {
      if (!sane_range(s.gpa, s.len_bytes)) [[unlikely]] return senseless(at, range_problem(s.gpa, s.len_bytes));
    }
  }
  return Record::Event;
}

// The common records, with nothing to report: an event without an extras byte, not a map_sg,
// well-formed and making sense. Anything else is left to decode(), which knows every rule and
// every message; returns false, having changed nothing, to send a record there.
[[gnu::always_inline]] inline bool BinaryTraceReader::decode_plain(Event& ev) {
  const std::uint8_t* p = cur_;
  const TagInfo t = kTags[*p++];
  // An event that names a device names a defined one: the current device starts at 0 in a chunk,
  // which a hostile file need not define.
  if (!t.plain || (t.names_device && !device_defined_)) return false;
  std::uint64_t v = 0;
  std::uint64_t time = 0;
  if (t.has_time) {
    p = get_varint(p, v);
    time = prev_time_ + unzigzag(v);
  }
  p = get_varint(p, v);
  const std::uint64_t id = prev_id_ + unzigzag(v);
  std::uint64_t gpa = 0;
  std::uint64_t len = 0;
  if (t.has_range) {
    p = get_varint(p, v);
    gpa = prev_gpa_ + (unzigzag(v) << t.shift);
    p = get_varint(p, len);
    if ((len >> (63 - t.shift) >> 1) != 0) return false;
    len <<= t.shift;
    if (!sane_range(gpa, len)) return false;
  }
  if (p > end_) return false;
  cur_ = p;
  prev_id_ = id;
  if (t.has_range) prev_gpa_ = gpa;
  if (t.has_time) prev_time_ = time;
  event_no_ = ++events_seen_;
  ev.kind = t.kind;
  ev.dir = t.dir;
  ev.device = t.names_device ? prev_device_ : 0;
  ev.has_time = t.has_time;
  ev.time_ns = time;
  ev.id = id;
  ev.gpa = gpa;
  ev.len_bytes = len;
  ev.align_bytes = 0;
  ev.segments = {};
  return true;
}

TraceReader::Status BinaryTraceReader::read_event(Event& ev) {
  if (cur_ < end_ && decode_plain(ev)) [[likely]] return Status::Event;
  return next_record(ev);
}

TraceReader::Status BinaryTraceReader::next_record(Event& ev) {
  for (;;) {
    if (cur_ < end_) [[likely]] {
      const Record r = decode(ev);
      if (r == Record::Event) [[likely]] {
        event_no_ = events_seen_;
        return Status::Event;
      }
      if (r == Record::Error) return Status::Error;
      continue;  // a meta record, or an event lenient mode skips
    }
    if (state_ != State::Events || !load_chunk()) return state_ == State::End ? Status::End : Status::Error;
  }
}

}  // namespace dartlab::trace
