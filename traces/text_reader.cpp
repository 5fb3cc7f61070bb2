// SPDX-License-Identifier: MIT
#include "traces/text_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <system_error>
#include <utility>

#include "traces/printable.hpp"

namespace dartlab::trace {
namespace {

using text::kMaxDevices;
using text::kMaxLineBytes;
using text::kMaxSegments;

constexpr std::size_t kWarningSamples = 5;

// Lines are scanned in place. Every complete line in the buffer ends in '\n', which stops every
// scan, so the scans need no bounds checks.
enum CharClass : std::uint8_t { kTokenChar, kBlankChar, kEndChar };
constexpr auto kCharClass = [] {
  std::array<std::uint8_t, 256> t{};
  t[' '] = t['\t'] = kBlankChar;
  t['\n'] = t['\r'] = kEndChar;
  return t;
}();
inline std::uint8_t char_class(char c) { return kCharClass[static_cast<unsigned char>(c)]; }

// Bytes field scans (field_end, parse_digits8) may read past the last valid byte of the buffer.
constexpr std::size_t kScanPadding = 8;

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

  // Once next() found nothing more: the start of the following line.
  const char* skip_line() const {
    return (*p == '\n' ? p : static_cast<const char*>(::rawmemchr(p, '\n'))) + 1;
  }
};

enum class Num { Ok, Bad, Overflow };

constexpr std::uint8_t kNotDigit = 0xff;
constexpr auto kHexValue = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(kNotDigit);
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - 'A' + 10);
  return t;
}();

// The general case: empty input, and numbers long enough to overflow (or with leading zeros).
Num parse_slow(std::string_view s, int base, std::uint64_t& v) {
  if (s.empty()) return Num::Bad;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v, base);
  if (p != end) return Num::Bad;
  if (ec == std::errc::result_out_of_range) return Num::Overflow;
  return ec == std::errc{} ? Num::Ok : Num::Bad;
}

// 1 to 8 decimal digits at s, eight bytes at a time: s[0..8) must be readable, which the
// buffer's padding guarantees for every field. Returns false if one is not a digit.
inline bool parse_digits8(const char* s, std::size_t n, std::uint64_t& v) {
  constexpr std::uint64_t kBytes = 0x0101010101010101;
  std::uint64_t x;
  std::memcpy(&x, s, sizeof x);
  const unsigned pad_bits = static_cast<unsigned>(8 - n) * 8;
  x <<= pad_bits;                                  // drop what follows the field (little-endian)...
  x |= (kBytes * '0') & ~(~std::uint64_t{0} << pad_bits);  // ...and pad the front with '0's
  // All bytes in '0'..'9': high nibble 3, and adding 6 does not carry out of the low nibble.
  const std::uint64_t high = kBytes * 0xF0;
  if ((x & high) != kBytes * '0' || ((x + kBytes * 6) & high) != kBytes * '0') return false;
  x -= kBytes * '0';
  // Digits pairwise into ever wider lanes: 8 x 1 digit -> 4 x 2 -> 2 x 4 -> 1 x 8.
  x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FF;
  x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFF;
  x = (x * 10000 + (x >> 32)) & 0xFFFFFFFF;
  v = x;
  return true;
}

// Decimal. Up to 16 digits take the eight-at-a-time path; longer ones may overflow.
inline Num parse_dec(std::string_view s, std::uint64_t& v) {
  if constexpr (std::endian::native == std::endian::little) {
    const std::size_t n = s.size();
    if (n - 1 < 8) return parse_digits8(s.data(), n, v) ? Num::Ok : Num::Bad;
    if (n - 1 < 16) {
      std::uint64_t high, low;
      if (!parse_digits8(s.data(), n - 8, high) || !parse_digits8(s.data() + n - 8, 8, low)) return Num::Bad;
      v = high * 100000000 + low;
      return Num::Ok;
    }
  }
  return parse_slow(s, 10, v);
}

inline Num parse_hex(std::string_view s, std::uint64_t& v) {
  if (s.size() - 1 >= 16) return parse_slow(s, 16, v);
  std::uint64_t x = 0;
  for (char c : s) {
    std::uint8_t d = kHexValue[static_cast<unsigned char>(c)];
    if (d == kNotDigit) return Num::Bad;
    x = x << 4 | d;
  }
  v = x;
  return Num::Ok;
}

// Decimal or 0x-hex.
inline Num parse_addr(std::string_view s, std::uint64_t& v) {
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) return parse_hex(s.substr(2), v);
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

// a == b for a field against a device name; names are short, so no call to memcmp.
inline bool same_name(std::string_view field, const std::string& name) {
  const std::size_t n = name.size();
  if (field.size() != n) return false;
  if (n >= 8 && n <= 16) {  // two overlapping eight-byte compares
    std::uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, field.data(), 8);
    std::memcpy(&b0, name.data(), 8);
    std::memcpy(&a1, field.data() + n - 8, 8);
    std::memcpy(&b1, name.data() + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  return std::memcmp(field.data(), name.data(), n) == 0;
}

// The n-th word of a field list such as "ID DEVICE GPA LEN DIR".
std::string_view nth_field(std::string_view fields, std::size_t n) {
  std::size_t b = 0;
  for (; n > 0; --n) b = fields.find(' ', b) + 1;
  return fields.substr(b, fields.find(' ', b) - b);
}

std::string hex(std::uint64_t v) {
  char buf[2 + 16];
  buf[0] = '0';
  buf[1] = 'x';
  auto r = std::to_chars(buf + 2, buf + sizeof buf, v, 16);
  return {buf, r.ptr};
}

}  // namespace

TextTraceReader::TextTraceReader(const std::string& path, ReaderOptions options)
    : TextTraceReader(ByteSource(path), std::move(options)) {}

TextTraceReader::TextTraceReader(ByteSource source, ReaderOptions options)
    : source_(std::move(source)), options_(std::move(options)) {
  error_.file = source_.name();
  if (options_.block_bytes == 0) options_.block_bytes = text::kBlockBytes;
  // A line of up to kMaxLineBytes and its '\r' may be carried over, one block read behind it,
  // and a final newline appended to an unterminated last line.
  buf_capacity_ = kMaxLineBytes + 1 + options_.block_bytes + 1 + kScanPadding;
  buf_ = std::make_unique<char[]>(buf_capacity_);  // zeroed: scans may read the padding
  cur_ = complete_end_ = end_ = buf_.get();
  if (!source_.open_error().empty()) stop(source_.open_error());
}

std::string TextTraceReader::locate(std::uint64_t line) const { return source_.name() + ':' + std::to_string(line); }

TextTraceReader::~TextTraceReader() = default;

std::uint64_t TextTraceReader::bytes_consumed() const {
  std::uint64_t consumed = buf_file_offset_ + static_cast<std::uint64_t>(cur_ - buf_.get());
  return source_.consumed(consumed);  // not the appended final newline
}

TextTraceReader::Status TextTraceReader::stop(std::string message) {
  state_ = State::Error;
  error_.line = 0;
  error_.column = 0;
  error_.message = std::move(message);
  return Status::Error;
}

bool TextTraceReader::fill() {
  std::size_t rest = static_cast<std::size_t>(end_ - cur_);  // a partial line, or nothing
  if (eof_) {
    if (rest == 0 || synthetic_newline_) return false;
    if (rest - (end_[-1] == '\r') > kMaxLineBytes) {
      line_too_long(line_no_ + 1);
      return false;
    }
    *end_++ = '\n';  // the last line lacks one; buf_capacity_ leaves room for it
    synthetic_newline_ = true;
    complete_end_ = end_;
    return true;
  }
  if (rest > kMaxLineBytes + 1) {  // + 1: its '\r' may be all that is missing but the '\n'
    line_too_long(line_no_ + 1);
    return false;
  }
  // Carry the partial line to the front; it is shorter than a line, so this is cheap.
  char* base = buf_.get();
  buf_file_offset_ += static_cast<std::uint64_t>(cur_ - base);
  std::memmove(base, cur_, rest);
  cur_ = complete_end_ = base;
  end_ = base + rest;
  const long n = source_.read(end_, options_.block_bytes);
  if (n < 0) {
    stop(source_.read_error());
    return false;
  }
  if (n == 0) {
    eof_ = true;
    return true;
  }
  // Only the new bytes can hold a newline: the carried part had none.
  if (auto* nl = static_cast<char*>(::memrchr(end_, '\n', static_cast<std::size_t>(n)))) complete_end_ = nl + 1;
  end_ += n;
  return true;
}

void TextTraceReader::line_too_long(std::uint64_t line) {
  stop("line is longer than " + std::to_string(kMaxLineBytes) + " bytes");
  error_.line = line;
  error_.column = 1;
}

TextTraceReader::Status TextTraceReader::read_event(Event& ev) {
  for (;;) {
    if (state_ == State::Error) return Status::Error;
    if (state_ == State::End) return Status::End;

    if (cur_ == complete_end_) {
      if (fill()) continue;
      if (state_ == State::Error) return Status::Error;
      if (state_ == State::Header) {
        return stop("missing header '" + std::string(text::kHeader) +
                    "': the input has no line that is not blank or a comment");
      }
      state_ = State::End;
      return Status::End;
    }
    ++line_no_;
    line_begin_ = cur_;
    // Both parsers move cur_ to the next line unless they fail.
    LineResult r = state_ == State::Header ? parse_header() : parse_line(ev);
    if (r == LineResult::Error) return Status::Error;
    std::size_t line_bytes = static_cast<std::size_t>(cur_ - line_begin_) - 1;  // without '\n'
    if (line_bytes > kMaxLineBytes && line_bytes - (cur_[-2] == '\r') > kMaxLineBytes) {
      line_too_long(line_no_);
      return Status::Error;
    }
    if (r == LineResult::Event) {
      event_line_ = line_no_;
      return Status::Event;
    }
  }
}

TextTraceReader::LineResult TextTraceReader::fail(const char* at, std::string message, bool semantic) {
  ParseError e;
  e.file = source_.name();
  e.line = line_no_;
  e.column = static_cast<std::uint32_t>(at - line_begin_ + 1);
  e.message = std::move(message);
  if (semantic && options_.lenient) {
    ++warnings_;
    if (warning_samples_.size() < kWarningSamples) {
      warning_samples_.push_back(printable(e.file + ':' + std::to_string(e.line) + ':' + std::to_string(e.column) +
                                 ": warning: " + e.message + " (line skipped)"));
    }
    return LineResult::Skip;
  }
  state_ = State::Error;
  error_ = std::move(e);
  return LineResult::Error;
}

TextTraceReader::LineResult TextTraceReader::parse_header() {
  Fields f{line_begin_, line_begin_};
  std::string_view magic = f.next();
  const std::string header(text::kHeader);
  if (!magic.empty()) {
    if (magic != text::kMagic) {
      return fail(magic.data(), "missing header: the first line that is not blank or a comment must be '" + header + "'");
    }
    std::string_view version = f.next();
    if (version.empty()) return fail(f.last_end, "the header needs a version: '" + header + "'");
    if (version != text::kVersion) {
      std::uint64_t n = 0;
      if (version.size() >= 2 && version[0] == 'v' && parse_dec(version.substr(1), n) != Num::Bad) {
        return fail(version.data(), "unsupported trace version " + std::string(version) + " (this dartlab reads " +
                                        std::string(text::kVersion) + ")");
      }
      return fail(version.data(), "bad trace version " + quoted(version) + " (expected '" + header + "')");
    }
    std::string_view extra = f.next();
    if (!extra.empty()) return fail(extra.data(), "unexpected " + quoted(extra) + " after the header '" + header + "'");
    state_ = State::Events;
  }
  cur_ = f.skip_line();
  return LineResult::Skip;
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
  LineParser(TextTraceReader& r, Event& e) : reader(r), ev(e), f{r.line_begin_, r.line_begin_} {}

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
    // Traces come in runs of one device, and most have a handful: no hashing for those.
    auto& names = reader.devices_;
    if (!names.empty() && same_name(s, names[reader.last_device_])) {
      ev.device = reader.last_device_;
      return true;
    }
    constexpr std::size_t kScanned = 8;
    if (names.size() <= kScanned) {
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (same_name(s, names[i])) return found_device(static_cast<std::uint16_t>(i));
      }
    } else if (auto it = reader.device_index_.find(s); it != reader.device_index_.end()) {
      return found_device(it->second);
    }
    return new_device(s);
  }
  bool found_device(std::uint16_t index) {
    ev.device = reader.last_device_ = index;
    return true;
  }
  [[gnu::noinline]] bool new_device(std::string_view s) {
    for (char c : s) {
      if (!text::is_device_char(c)) return set(Problem::BadDevice, s);
    }
    auto& names = reader.devices_;
    if (names.size() >= kMaxDevices) return set(Problem::TooManyDevices, s);
    auto index = static_cast<std::uint16_t>(names.size());
    names.emplace_back(s);
    reader.device_index_.emplace(names.back(), index);
    return found_device(index);
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
    if (r != Num::Ok || !std::has_single_bit(bytes)) return set(Problem::BadAlign, s);
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

  [[gnu::flatten]] LineResult parse() {
    std::string_view tok = f.next();
    if (tok.empty()) return LineResult::Skip;  // blank or comment
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
    return LineResult::Event;
  }

  [[gnu::cold, gnu::noinline]] LineResult report() {
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
        m = "range " + hex(range_gpa) + " + " + std::to_string(range_len) + " bytes ends past 2^64";
        semantic = true;
        break;
    }
    return reader.fail(at.data(), std::move(m), semantic);
  }
};

TextTraceReader::LineResult TextTraceReader::parse_line(Event& ev) {
  LineParser parser(*this, ev);
  LineResult r = parser.parse();
  if (r != LineResult::Error) cur_ = parser.f.skip_line();
  return r;
}

}  // namespace dartlab::trace
