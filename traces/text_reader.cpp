// SPDX-License-Identifier: MIT
#include "traces/text_reader.hpp"

#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <utility>

#include "base/bits.hpp"
#include "traces/line_import/numbers.hpp"
#include "traces/printable.hpp"
#include "traces/text_format.hpp"

namespace dartlab::trace {
namespace {

using line_import::Num;
using text::kMaxDevices;
using text::kMaxLineBytes;
using text::kMaxSegments;

// Lines are scanned in place. Every line the LineBuffer hands out is followed by its '\n', which
// stops every scan, and by line_import::LineBuffer::kScanPadding readable bytes: the scans need no
// bounds checks.
enum CharClass : std::uint8_t { kTokenChar, kBlankChar, kEndChar };
constexpr auto kCharClass = [] {
  std::array<std::uint8_t, 256> t{};
  t[' '] = t['\t'] = kBlankChar;
  t['\n'] = t['\r'] = kEndChar;
  return t;
}();
inline std::uint8_t char_class(char c) { return kCharClass[static_cast<unsigned char>(c)]; }

// Past the end of the field starting at p, which is not blank and not a line end. Fields end at
// ' ', '\t', '\n', or a "\r\n"; everything else, a lone '\r' included, belongs to the field.
inline const char* field_end(const char* p) {
  if constexpr (std::endian::native == std::endian::little) {
    // Eight bytes at a time: all field ends are below '!', and the first byte the "has a byte
    // less than" bit trick flags is exact (later flags may be borrow artefacts).
    constexpr std::uint64_t kOnes = 0x0101010101010101;
    constexpr std::uint64_t kHighs = 0x8080808080808080;
    for (;;) {
      std::uint64_t x;
      std::memcpy(&x, p, sizeof x);
      std::uint64_t below = (x - kOnes * '!') & ~x & kHighs;
      if (below == 0) {
        p += sizeof x;
        continue;
      }
      p += std::countr_zero(below) / 8;
      if (char_class(*p) != kTokenChar && (*p != '\r' || p[1] == '\n')) return p;
      ++p;  // a control character inside the field
    }
  } else {
    for (;;) {
      while (char_class(*p) == kTokenChar) ++p;
      if (*p != '\r' || p[1] == '\n') return p;
      ++p;
    }
  }
}

// Splits one line into fields; a '#' that starts a field starts a comment. A '\r' ends the line
// only right before its '\n' (CRLF files); elsewhere it is part of a field, and so an error.
struct Fields {
  const char* p;
  const char* last_end;  // just past the last field returned, where a missing one would go

  bool at_line_end() const { return *p == '\n' || (*p == '\r' && p[1] == '\n'); }

  std::string_view next() {
    while (*p == ' ' || *p == '\t') ++p;
    // '\n', '\r' and '#' sort below the characters fields are made of: one compare, mostly.
    if (static_cast<unsigned char>(*p) <= '#' && (*p == '#' || at_line_end())) return {};
    const char* b = p;
    p = last_end = field_end(p);
    return {b, static_cast<std::size_t>(p - b)};
  }
};

// Decimal, the field's padding read eight bytes at a time.
inline Num parse_dec(std::string_view s, std::uint64_t& v) { return line_import::parse_dec_padded(s, v); }

// Decimal or 0x-hex.
inline Num parse_addr(std::string_view s, std::uint64_t& v) {
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) return line_import::parse_hex(s.substr(2), v);
  return parse_dec(s, v);
}

// Decimal or 0x-hex, times 2^10, 2^20 or 2^30 for a K, M or G suffix.
inline Num parse_len(std::string_view s, std::uint64_t& v) {
  unsigned shift = 0;
  if (!s.empty()) {
    switch (s.back()) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      default: break;
    }
  }
  if (shift != 0) s.remove_suffix(1);
  Num r = parse_addr(s, v);
  if (r != Num::Ok) return r;
  if (v > (std::numeric_limits<std::uint64_t>::max() >> shift)) return Num::Overflow;
  v <<= shift;
  return Num::Ok;
}

template <auto Word>
bool is(std::string_view s) {
  constexpr std::string_view w = text::keyword(Word);  // constant size: memcmp becomes a compare
  return s.size() == w.size() && std::memcmp(s.data(), w.data(), w.size()) == 0;
}

inline bool parse_dir(std::string_view s, Direction& d) {
  using enum Direction;
  if (is<ToDevice>(s)) d = ToDevice;
  else if (is<FromDevice>(s)) d = FromDevice;
  else if (is<Bidirectional>(s)) d = Bidirectional;
  else return false;
  return true;
}

inline bool parse_kind(std::string_view s, EventKind& k) {
  using enum EventKind;  // most frequent first
  if (is<Map>(s)) k = Map;
  else if (is<Unmap>(s)) k = Unmap;
  else if (is<Access>(s)) k = Access;
  else if (is<MapSg>(s)) k = MapSg;
  else if (is<UnmapSg>(s)) k = UnmapSg;
  else if (is<Alloc>(s)) k = Alloc;
  else if (is<Free>(s)) k = Free;
  else return false;
  return true;
}

// The n-th word of a field list such as "ID DEVICE GPA LEN DIR".
std::string_view nth_field(std::string_view fields, std::size_t n) {
  std::size_t b = 0;
  for (; n > 0; --n) b = fields.find(' ', b) + 1;
  return fields.substr(b, fields.find(' ', b) - b);
}

}  // namespace

TextTraceReader::TextTraceReader(const std::string& path, ReaderOptions options)
    : TextTraceReader(ByteSource(path), std::move(options)) {}

TextTraceReader::TextTraceReader(ByteSource source, ReaderOptions options)
    : LineImporter(std::move(source), std::move(options), 0) {}

TextTraceReader::~TextTraceReader() = default;

void TextTraceReader::line_too_long() {
  stop("line is longer than " + std::to_string(kMaxLineBytes) + " bytes", line_number(), 1);
}

void TextTraceReader::at_end() {
  if (!header_seen_) stop("missing header '" + std::string(text::kHeader) + "': the input has no line that is not blank or a comment");
}

void TextTraceReader::parse_header(std::string_view line) {
  Fields f{line.data(), line.data()};
  std::string_view magic = f.next();
  if (magic.empty()) return;  // blank or comment
  const std::string header(text::kHeader);
  if (magic != text::kMagic) {
    return malformed(magic.data(), "missing header: the first line that is not blank or a comment must be '" + header + "'", false);
  }
  std::string_view version = f.next();
  if (version.empty()) return malformed(f.last_end, "the header needs a version: '" + header + "'", false);
  if (version != text::kVersion) {
    std::uint64_t n = 0;
    if (version.size() >= 2 && version[0] == 'v' && parse_dec(version.substr(1), n) != Num::Bad) {
      return malformed(version.data(), "unsupported trace version " + std::string(version) + " (this dartlab reads " +
                                           std::string(text::kVersion) + ")", false);
    }
    return malformed(version.data(), "bad trace version " + quoted(version) + " (expected '" + header + "')", false);
  }
  std::string_view extra = f.next();
  if (!extra.empty()) return malformed(extra.data(), "unexpected " + quoted(extra) + " after the header '" + header + "'", false);
  header_seen_ = true;
}

// What went wrong on a line, found on the hot path; the message is written on the cold one.
enum class Problem : std::uint8_t {
  None, NoEvent, BadTime, TimeOverflow, UnknownEvent, Missing, ExtraField, BadId, IdOverflow,
  BadDevice, TooManyDevices, BadGpa, GpaOverflow, BadLen, LenOverflow, BadDir, BadSegment,
  TooManySegments, BadAlign,
  // Semantic: lenient mode skips these.
  ZeroLen, RangeOverflow,
};

struct TextTraceReader::LineParser {
  LineParser(TextTraceReader& r, std::string_view line, Event& e) : reader(r), ev(e), f{line.data(), line.data()} {}

  TextTraceReader& reader;
  Event& ev;
  Fields f;
  Problem problem = Problem::None;
  std::string_view at;    // the offending token; empty at the place a missing field belongs
  std::size_t taken = 0;  // fields after the keyword read so far
  // The first range that makes no sense. Reported only once the whole line's syntax checked
  // out, so that lenient mode never skips a line with a syntax error.
  Problem range_problem = Problem::None;
  std::string_view range_at;
  std::uint64_t range_gpa = 0;
  std::uint64_t range_len = 0;

  bool set(Problem p, std::string_view token) {
    problem = p;
    at = token;
    return false;
  }
  bool number(Num r, std::string_view token, Problem bad, Problem overflow) {
    return r == Num::Ok || set(r == Num::Bad ? bad : overflow, token);
  }
  bool take(std::string_view& token) {
    token = f.next();
    if (token.empty()) return set(Problem::Missing, {f.last_end, 0});
    ++taken;
    return true;
  }
  bool id() {
    std::string_view s;
    return take(s) && number(parse_dec(s, ev.id), s, Problem::BadId, Problem::IdOverflow);
  }
  bool direction() {
    std::string_view s;
    return take(s) && (parse_dir(s, ev.dir) || set(Problem::BadDir, s));
  }
  bool device() {
    std::string_view s;
    if (!take(s)) return false;
    return reader.devices_.find(s, ev.device) || new_device(s);
  }
  [[gnu::noinline]] bool new_device(std::string_view s) {
    for (char c : s) {
      if (!text::is_device_char(c)) return set(Problem::BadDevice, s);
    }
    return reader.devices_.add(s, std::string(s), ev.device) || set(Problem::TooManyDevices, s);
  }
  bool range(std::string_view gpa_s, std::string_view len_s, std::uint64_t& gpa, std::uint64_t& len) {
    if (!number(parse_addr(gpa_s, gpa), gpa_s, Problem::BadGpa, Problem::GpaOverflow)) return false;
    if (!number(parse_len(len_s, len), len_s, Problem::BadLen, Problem::LenOverflow)) return false;
    if (range_problem == Problem::None && (len == 0 || (gpa != 0 && len > 0 - gpa))) [[unlikely]] {
      range_problem = len == 0 ? Problem::ZeroLen : Problem::RangeOverflow;
      range_at = len == 0 ? len_s : gpa_s;
      range_gpa = gpa;
      range_len = len;
    }
    return true;
  }
  bool gpa_len() {
    std::string_view gpa_s, len_s;
    return take(gpa_s) && take(len_s) && range(gpa_s, len_s, ev.gpa, ev.len_bytes);
  }
  // "align=SIZE", a power of two, into ev.align_bytes.
  bool align(std::string_view s) {
    std::uint64_t bytes = 0;
    const Num r = parse_len(s.substr(text::kAlignKey.size()), bytes);
    if (r != Num::Ok || !is_power_of_two(bytes)) return set(Problem::BadAlign, s);
    ev.align_bytes = bytes;
    return true;
  }
  // An optional "align=SIZE", then the end of the line.
  bool align_then_end() {
    std::string_view s = f.next();
    if (s.empty()) return true;
    if (!s.starts_with(text::kAlignKey)) return set(Problem::ExtraField, s);
    return align(s) && end_of_line();
  }
  bool segments() {
    auto& segs = reader.segments_;
    segs.clear();
    for (std::string_view seg = f.next(); !seg.empty(); seg = f.next()) {
      if (seg.starts_with(text::kAlignKey)) [[unlikely]] {
        if (segs.empty()) return set(Problem::Missing, {seg.data(), 0});
        if (!align(seg) || !end_of_line()) return false;
        break;
      }
      if (segs.size() == kMaxSegments) return set(Problem::TooManySegments, seg);
      std::size_t colon = seg.find(':');
      if (colon == std::string_view::npos || colon == 0 || colon + 1 == seg.size()) {
        return set(Problem::BadSegment, seg);
      }
      Segment& s = segs.emplace_back();
      if (!range(seg.substr(0, colon), seg.substr(colon + 1), s.gpa, s.len_bytes)) return false;
    }
    if (segs.empty()) return set(Problem::Missing, {f.last_end, 0});
    ev.segments = segs;
    return true;
  }
  bool end_of_line() {
    std::string_view extra = f.next();
    return extra.empty() || set(Problem::ExtraField, extra);
  }

  // The event's fields after its keyword; false with `problem` set on a syntax error.
  bool fields() {
    switch (ev.kind) {
      case EventKind::Map: return id() && device() && gpa_len() && direction() && align_then_end();
      case EventKind::Alloc: return id() && device() && gpa_len() && align_then_end();
      case EventKind::Access: return id() && gpa_len() && direction() && end_of_line();
      case EventKind::MapSg: return id() && device() && direction() && segments();
      case EventKind::Unmap:
      case EventKind::UnmapSg:
      case EventKind::Free: return id() && end_of_line();
    }
    return false;
  }

  // True when the line holds an event; false for a blank or comment line, or (reported) a bad one.
  [[gnu::flatten]] bool parse() {
    std::string_view tok = f.next();
    if (tok.empty()) return false;  // blank or comment
    ev = Event{};
    if (tok[0] == '@') {
      if (!number(parse_dec(tok.substr(1), ev.time_ns), tok, Problem::BadTime, Problem::TimeOverflow)) {
        return report();
      }
      ev.has_time = true;
      tok = f.next();
      if (tok.empty()) {
        set(Problem::NoEvent, {f.last_end, 0});
        return report();
      }
    }
    if (!parse_kind(tok, ev.kind)) {
      set(Problem::UnknownEvent, tok);
      return report();
    }
    if (!fields()) return report();
    if (range_problem != Problem::None) [[unlikely]] {
      problem = range_problem;
      at = range_at;
      return report();
    }
    return true;
  }

  [[gnu::cold, gnu::noinline]] bool report() {
    const std::string kind(text::keyword(ev.kind));
    const std::string fields(text::fields(ev.kind));
    const std::string number = "a decimal or 0x-hex number";
    const std::string len_syntax = number + " with optional K/M/G suffix";
    auto bad = [&](std::string_view what, const std::string& syntax) {
      return std::string(what) + " must be " + syntax + ", got " + quoted(at);
    };
    auto too_big = [&](std::string_view what) { return std::string(what) + ' ' + quoted(at) + " does not fit in 64 bits"; };
    std::string m;
    bool semantic = false;
    switch (problem) {
      case Problem::None: break;
      case Problem::NoEvent: m = "expected an event after the timestamp"; break;
      case Problem::BadTime: m = bad("timestamp", "'@' followed by decimal nanoseconds"); break;
      case Problem::TimeOverflow: m = too_big("timestamp"); break;
      case Problem::UnknownEvent:
        m = "unknown event " + quoted(at) + " (expected map, map_sg, unmap, unmap_sg, alloc, free, access)";
        break;
      case Problem::Missing:
        m = kind + " needs " + fields + " (" + std::string(nth_field(fields, taken)) + " is missing)";
        break;
      case Problem::ExtraField:
        m = "unexpected extra field " + quoted(at) + " (" + kind + " takes " + fields + "; comments start with '#')";
        break;
      case Problem::BadId: m = bad("ID", "a decimal number"); break;
      case Problem::IdOverflow: m = too_big("ID"); break;
      case Problem::BadDevice: m = bad("device", "letters, digits and ':._-' (e.g. 0000:01:00.0)"); break;
      case Problem::TooManyDevices: m = "more than " + std::to_string(kMaxDevices) + " distinct devices"; break;
      case Problem::BadGpa: m = bad("GPA", number); break;
      case Problem::GpaOverflow: m = too_big("GPA"); break;
      case Problem::BadLen: m = bad("length", len_syntax); break;
      case Problem::LenOverflow: m = too_big("length"); break;
      case Problem::BadDir: m = bad("direction", "to_dev, from_dev or bidi"); break;
      case Problem::BadSegment: m = bad("segment", "GPA:LEN"); break;
      case Problem::BadAlign: m = bad("alignment", "'align=' and a power of two (e.g. align=2M)"); break;
      case Problem::TooManySegments: m = "map_sg has more than " + std::to_string(kMaxSegments) + " segments"; break;
      case Problem::ZeroLen:
        m = "length must be > 0";
        semantic = true;
        break;
      case Problem::RangeOverflow:
        m = "range " + line_import::hex(range_gpa) + " + " + std::to_string(range_len) + " bytes ends past 2^64";
        semantic = true;
        break;
    }
    reader.malformed(at.data(), std::move(m), semantic);
    return false;
  }
};

void TextTraceReader::handle_line(std::string_view line) {
  if (!header_seen_) [[unlikely]] return parse_header(line);
  Event& ev = queue_new();  // parsed in place: the hot path copies no event
  if (!LineParser(*this, line, ev).parse()) unqueue_last();
}

}  // namespace dartlab::trace
