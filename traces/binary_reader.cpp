// SPDX-License-Identifier: MIT
#include "traces/binary_reader.hpp"

#include <zstd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "traces/binary_format.hpp"

namespace dartlab::trace {
namespace {

using namespace binary;

// Zero bytes after the records. A record that starts before their end reads less than this far
// past it: its tag, extras and at most five varints of at most nine bytes each (and a map_sg
// segment is read only if it starts before the end). So no bounds check is needed inside a
// record, only after it and after each segment.
constexpr std::size_t kPadding = 64;
static_assert(kPadding >= 2 + 5 * kMaxVarintBytes, "a record's fixed part");
constexpr std::size_t kWarningSamples = 5;  // as the text reader

// The low n bytes, for n = 1..8.
constexpr auto kVarintBytesMask = [] {
  std::array<std::uint64_t, 8> m{};
  for (unsigned t = 0; t < m.size(); ++t) m[t] = ~std::uint64_t{0} >> (56 - 8 * t);
  return m;
}();

// A varint at p (binary_format.hpp). Reads p[0, 9) whatever its length: the caller pads.
[[gnu::always_inline]] inline const std::uint8_t* get_varint(const std::uint8_t* p, std::uint64_t& v) {
  const auto x = load_le<std::uint64_t>(p);
  if ((x & 1) != 0) {  // one byte: ids counting up, lengths of a page
    v = (x & 0xff) >> 1;
    return p + 1;
  }
  const auto t = static_cast<unsigned>(std::countr_zero(static_cast<std::uint32_t>(x) | 0x100));  // n - 1
  if (t == 8) [[unlikely]] {
    v = load_le<std::uint64_t>(p + 1);
    return p + 9;
  }
  v = (x & kVarintBytesMask[t]) >> (t + 1);  // the n bytes, less the n length bits
  return p + t + 1;
}

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

std::string hex(std::uint64_t v) {
  char buf[2 + 16 + 1];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// [gpa, gpa + len) makes sense: not empty, not past 2^64 (it may end exactly there).
inline bool sane_range(std::uint64_t gpa, std::uint64_t len) { return len != 0 && (gpa == 0 || len <= 0 - gpa); }
std::string range_problem(std::uint64_t gpa, std::uint64_t len) {
  if (len == 0) return "length must be > 0";
  return "range " + hex(gpa) + " + " + std::to_string(len) + " bytes ends past 2^64";
}

}  // namespace

struct BinaryTraceReader::ZstdContext {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ~ZstdContext() { ZSTD_freeDCtx(dctx); }
};

BinaryTraceReader::BinaryTraceReader(const std::string& path, ReaderOptions options)
    : BinaryTraceReader(ByteSource(path), std::move(options)) {}

BinaryTraceReader::BinaryTraceReader(ByteSource source, ReaderOptions options)
    : source_(std::move(source)), options_(std::move(options)), segments_(kMaxSegments) {
  error_.file = source_.name();
  if (options_.block_bytes == 0) options_.block_bytes = kReadBlockBytes;
  if (!source_.open_error().empty()) {
    state_ = State::Error;
    error_.message = source_.open_error();
    return;
  }
  read_header();
}

BinaryTraceReader::~BinaryTraceReader() = default;

std::string BinaryTraceReader::locate(std::uint64_t event) const {
  return source_.name() + ": event " + std::to_string(event);
}

std::optional<std::uint64_t> BinaryTraceReader::declared_events() const {
  if (!declared_known_) return std::nullopt;
  return declared_;
}

bool BinaryTraceReader::fail_at(std::uint64_t byte_offset, std::string message) {
  state_ = State::Error;
  cur_ = end_ = nullptr;
  error_.byte_offset = byte_offset;
  error_.message = std::move(message);
  return false;
}

std::uint64_t BinaryTraceReader::offset_of(const std::uint8_t* at) const {
  return region_compressed_ ? chunk_at_ : region_at_ + static_cast<std::uint64_t>(at - raw_.data());
}

BinaryTraceReader::Record BinaryTraceReader::bad_record(const std::uint8_t* at, const std::string& message) {
  std::string m = message;
  if (region_compressed_) {
    m += " (byte " + std::to_string(at - raw_.data()) + " of the decompressed chunk)";
  }
  fail_at(offset_of(at), std::move(m));
  return Record::Error;
}

BinaryTraceReader::Record BinaryTraceReader::senseless(const std::uint8_t* at, std::string message) {
  if (!options_.lenient) {
    return bad_record(at, "event " + std::to_string(events_seen_) + " (" +
                              std::string(to_string(static_cast<EventKind>(*at & kKindMask))) + "): " + message);
  }
  ++warnings_;
  if (warning_samples_.size() < kWarningSamples) {
    warning_samples_.push_back(locate(events_seen_) + ": warning: " + message + " (event skipped)");
  }
  return Record::Skip;
}

long BinaryTraceReader::read_fully(std::uint8_t* dst, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const long r = source_.read(dst + got, std::min(options_.block_bytes, n - got));
    if (r < 0) {
      fail_at(offset_, source_.read_error());
      return -1;
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
    offset_ += static_cast<std::uint64_t>(r);
  }
  return static_cast<long>(got);
}

std::uint8_t* BinaryTraceReader::raw_buffer(std::size_t bytes) {
  // Grows to the largest chunk seen (at most kMaxChunkRawBytes, checked by the callers), never
  // with the trace's length.
  if (raw_.size() < bytes + kPadding) raw_.resize(bytes + kPadding);
  std::memset(raw_.data() + bytes, 0, kPadding);
  return raw_.data();
}

void BinaryTraceReader::read_header() {
  std::uint8_t h[kHeaderBytes];
  const long got = read_fully(h, sizeof h);
  if (got < 0) return;
  const auto n = static_cast<std::size_t>(got);
  if (n == 0) {
    fail_at(0, "truncated: the file is empty (a binary trace starts with a " + std::to_string(kHeaderBytes) +
                   "-byte header)");
    return;
  }
  if (std::memcmp(h, kBinaryMagic.data(), std::min(n, kBinaryMagic.size())) != 0) {
    fail_at(0, "not a dartlab binary trace: the file does not start with the binary magic");
    return;
  }
  if (n >= kVersionAt + 2) {
    if (const auto version = load_le<std::uint16_t>(h + kVersionAt); version != kVersion) {
      fail_at(kVersionAt, "unsupported binary trace version " + std::to_string(version) + " (this dartlab reads " +
                              std::to_string(kVersion) + ")");
      return;
    }
  }
  if (n < kHeaderBytes) {
    fail_at(n, "truncated: the file ends inside the " + std::to_string(kHeaderBytes) + "-byte header");
    return;
  }
  const auto flags = load_le<std::uint16_t>(h + kFlagsAt);
  if ((flags & ~kKnownFlags) != 0) {
    fail_at(kFlagsAt, "unknown header flags " + hex(flags & ~kKnownFlags) + " (this dartlab knows " + hex(kKnownFlags) +
                          ": zstd)");
    return;
  }
  zstd_flag_ = (flags & kFlagZstd) != 0;
  const auto table_bytes = load_le<std::uint32_t>(h + kTableBytesAt);
  if (table_bytes > kMaxTableBytes) {
    fail_at(kTableBytesAt, "device table of " + std::to_string(table_bytes) + " bytes exceeds the limit of " +
                               std::to_string(kMaxTableBytes));
    return;
  }
  std::uint8_t* table = raw_buffer(table_bytes);
  const long table_got = read_fully(table, table_bytes);
  if (table_got < 0) return;
  if (static_cast<std::size_t>(table_got) < table_bytes) {
    fail_at(offset_, "truncated: the file ends inside the device table (" + std::to_string(table_got) + " of " +
                         std::to_string(table_bytes) + " bytes)");
    return;
  }
  if (checksum(table, table_bytes, load_le<std::uint64_t>(h + kVersionAt)) != load_le<std::uint32_t>(h + kHeaderChecksumAt)) {
    fail_at(kHeaderChecksumAt, "header checksum mismatch (the version, flags or device table are damaged)");
    return;
  }
  declared_ = load_le<std::uint64_t>(h + kEventCountAt);
  declared_known_ = declared_ != kUnknownEvents;

  region_at_ = kHeaderBytes;
  region_compressed_ = false;
  end_ = table + table_bytes;  // define_device checks names against it
  for (const std::uint8_t* p = table; p < end_;) {
    if (!define_device(p, p)) return;
  }
  cur_ = end_ = nullptr;  // no records yet: next() loads the first chunk
}

bool BinaryTraceReader::define_device(const std::uint8_t* at, const std::uint8_t*& p) {
  std::uint64_t n = 0;
  p = get_varint(p, n);
  if (p > end_) {
    bad_record(at, "truncated device name record");
    return false;
  }
  if (n == 0 || n > kMaxDeviceNameBytes || n > static_cast<std::uint64_t>(end_ - p)) {
    bad_record(at, "device name of " + std::to_string(n) + " bytes " +
                       (n == 0 ? std::string("is empty")
                               : n > kMaxDeviceNameBytes ? "exceeds " + std::to_string(kMaxDeviceNameBytes)
                                                         : "runs past the end of its chunk"));
    return false;
  }
  const std::string_view name(reinterpret_cast<const char*>(p), n);
  if (!valid_device_name(name)) {
    constexpr std::size_t kShown = 60;
    bad_record(at, "device name must be letters, digits and ':._-', got '" + std::string(name.substr(0, kShown)) +
                       (name.size() > kShown ? "...'" : "'"));
    return false;
  }
  if (devices_.size() == kMaxDevices) {
    bad_record(at, "more than " + std::to_string(kMaxDevices) + " devices");
    return false;
  }
  if (!device_names_.emplace(name).second) {
    bad_record(at, "device '" + std::string(name) + "' is defined twice");
    return false;
  }
  devices_.emplace_back(name);
  device_defined_ = prev_device_ < devices_.size();
  p += n;
  return true;
}

bool BinaryTraceReader::load_chunk() {
  chunk_at_ = offset_;
  std::uint8_t h[kChunkHeaderBytes];
  const long got = read_fully(h, sizeof h);
  if (got < 0) return false;
  if (got == 0) {
    return fail_at(chunk_at_, "truncated: the file ends after " + std::to_string(events_seen_) +
                                  " events without the end chunk (the writer did not finish)");
  }
  if (static_cast<std::size_t>(got) < sizeof h) return fail_at(chunk_at_, "truncated: the file ends inside a chunk header");
  const auto raw_bytes = load_le<std::uint32_t>(h);
  const auto stored_bytes = load_le<std::uint32_t>(h + 4);
  const auto sum = load_le<std::uint32_t>(h + 8);
  if (raw_bytes == 0) {
    read_end_chunk(stored_bytes, sum, load_le<std::uint64_t>(h));
    return false;
  }
  if (raw_bytes > kMaxChunkRawBytes) {
    return fail_at(chunk_at_, "chunk of " + std::to_string(raw_bytes) + " raw bytes exceeds the limit of " +
                                  std::to_string(kMaxChunkRawBytes));
  }
  // stored == raw: stored as it is; stored < raw: a zstd frame (zstd traces only).
  const bool compressed = stored_bytes != raw_bytes;
  if (compressed && !zstd_flag_) {
    return fail_at(chunk_at_, "chunk stores " + std::to_string(stored_bytes) + " bytes for " +
                                  std::to_string(raw_bytes) + " raw bytes in an uncompressed trace");
  }
  if (compressed && (stored_bytes > raw_bytes || stored_bytes == 0)) {
    return fail_at(chunk_at_, "chunk stores " + std::to_string(stored_bytes) + " bytes for " +
                                  std::to_string(raw_bytes) + " raw bytes (a zstd chunk must be smaller, and not empty)");
  }
  std::uint8_t* raw = raw_buffer(raw_bytes);
  std::uint8_t* dst = raw;
  if (compressed) {
    if (stored_.size() < stored_bytes) stored_.resize(stored_bytes);
    dst = stored_.data();
  }
  const long payload = read_fully(dst, stored_bytes);
  if (payload < 0) return false;
  if (static_cast<std::size_t>(payload) < stored_bytes) {
    return fail_at(chunk_at_, "truncated: the file ends inside a chunk (" + std::to_string(payload) + " of " +
                                  std::to_string(stored_bytes) + " payload bytes)");
  }
  if (compressed) {
    const unsigned long long frame = ZSTD_getFrameContentSize(dst, stored_bytes);
    if (frame == ZSTD_CONTENTSIZE_ERROR) return fail_at(chunk_at_, "chunk payload is not a zstd frame");
    if (frame != raw_bytes) {
      return fail_at(chunk_at_, "zstd frame holds " + (frame == ZSTD_CONTENTSIZE_UNKNOWN ? "an unknown number of" : std::to_string(frame)) +
                                    " bytes, the chunk header says " + std::to_string(raw_bytes));
    }
    if (!zstd_) zstd_ = std::make_unique<ZstdContext>();
    if (zstd_->dctx == nullptr) return fail_at(chunk_at_, "zstd: cannot create a decompression context");
    const std::size_t out = ZSTD_decompressDCtx(zstd_->dctx, raw, raw_bytes, dst, stored_bytes);
    if (ZSTD_isError(out)) return fail_at(chunk_at_, std::string("zstd: ") + ZSTD_getErrorName(out));
    if (out != raw_bytes) {
      return fail_at(chunk_at_, "zstd frame holds " + std::to_string(out) + " bytes, the chunk header says " +
                                    std::to_string(raw_bytes));
    }
  }
  if (checksum(raw, raw_bytes, load_le<std::uint64_t>(h)) != sum) return fail_at(chunk_at_, "chunk checksum mismatch");

  cur_ = raw;
  end_ = raw + raw_bytes;
  region_at_ = chunk_at_ + kChunkHeaderBytes;
  region_compressed_ = compressed;
  prev_time_ = prev_id_ = prev_gpa_ = 0;
  prev_device_ = 0;
  device_defined_ = !devices_.empty();
  return true;
}

void BinaryTraceReader::read_end_chunk(std::uint32_t stored_bytes, std::uint32_t sum, std::uint64_t seed) {
  if (stored_bytes != kEndPayloadBytes) {
    fail_at(chunk_at_, "end chunk stores " + std::to_string(stored_bytes) + " bytes (it holds the " +
                           std::to_string(kEndPayloadBytes) + "-byte event count)");
    return;
  }
  std::uint8_t count_bytes[kEndPayloadBytes];
  const long got = read_fully(count_bytes, sizeof count_bytes);
  if (got < 0) return;
  if (static_cast<std::size_t>(got) < sizeof count_bytes) {
    fail_at(chunk_at_, "truncated: the file ends inside the end chunk");
    return;
  }
  if (checksum(count_bytes, sizeof count_bytes, seed) != sum) {
    fail_at(chunk_at_, "end chunk checksum mismatch");
    return;
  }
  const auto count = load_le<std::uint64_t>(count_bytes);
  if (count != events_seen_) {
    fail_at(chunk_at_, "the end chunk counts " + std::to_string(count) + " events, the file holds " +
                           std::to_string(events_seen_));
    return;
  }
  if (declared_known_ && declared_ != count) {
    fail_at(kEventCountAt, "the header declares " + std::to_string(declared_) + " events, the file holds " +
                               std::to_string(count));
    return;
  }
  std::uint8_t extra;
  const long more = read_fully(&extra, 1);
  if (more < 0) return;
  if (more > 0) {
    fail_at(offset_ - 1, "unexpected data after the end chunk");
    return;
  }
  state_ = State::End;
}

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
