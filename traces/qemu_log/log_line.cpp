#include "traces/qemu_log/log_line.hpp"

#include <string>

#include "traces/text_format.hpp"

namespace dartlab::trace::qemu_log {
namespace {

using ftrace::fields::Cursor;
using ftrace::fields::Num;
using ftrace::fields::quoted;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

// Digits at p, moved past; their value in v unless there are too many for it (then v is max).
const char* read_digits(const char* p, const char* e, std::uint64_t& v) {
  v = 0;
  for (; p != e && is_digit(*p); ++p) {
    const auto d = static_cast<std::uint64_t>(*p - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  return p;
}

// "PID@SEC.USEC:" (the log backend's "%d@%zu.%06zu:" when QEMU runs with -msg timestamp=on):
// the position after it, or null when the line does not start with one.
const char* read_stamp(const char* p, const char* e, LogLine& out) {
  std::uint64_t pid = 0, sec = 0, usec = 0;
  const char* q = read_digits(p, e, pid);
  if (q == p || q == e || *q != '@') return nullptr;
  const char* sec_at = ++q;
  q = read_digits(q, e, sec);
  if (q == sec_at || q == e || *q != '.') return nullptr;
  const char* usec_at = ++q;
  q = read_digits(q, e, usec);
  if (q == usec_at || q == e || *q != ':') return nullptr;
  constexpr std::uint64_t kNsPerSec = 1'000'000'000;
  // gettimeofday's microseconds, printed with %06zu: always six digits.
  if (q - usec_at != 6 || sec > (UINT64_MAX - kNsPerSec) / kNsPerSec) {
    out.bad_time = sec_at;
  } else {
    out.has_time = true;
    out.time_ns = sec * kNsPerSec + usec * 1000;
  }
  return q + 1;
}

std::string missing(std::string_view event, std::string_view key) {
  return std::string(event) + ": " + std::string(key) + "= is missing (the line may be cut short)";
}

}  // namespace

LineKind split_line(std::string_view line, LogLine& out) {
  out = {};
  const char* p = line.data();
  const char* const e = p + line.size();
  while (p != e && (*p == ' ' || *p == '\t')) ++p;
  if (p == e) return LineKind::Blank;
  if (is_digit(*p)) {
    p = read_stamp(p, e, out);
    if (p == nullptr) return LineKind::Other;
  }
  const char* name = p;
  bool underscore = false;
  for (; p != e && is_ident(*p); ++p) underscore |= *p == '_';
  if (p == name || is_digit(*name) || !underscore || (p != e && *p != ' ')) return LineKind::Other;
  out.name = {name, static_cast<std::size_t>(p - name)};
  if (p != e) ++p;
  out.args = {p, static_cast<std::size_t>(e - p)};
  return LineKind::Event;
}

EventType find_event(std::string_view name) {
  if (name == "apple_dma_map") return EventType::Map;
  if (name == "apple_dma_unmap") return EventType::Unmap;
  if (name == "apple_dma_reset") return EventType::Reset;
  return EventType::Other;
}

bool parse_apple_dma(EventType type, std::string_view args, AppleDmaRecord& r, PayloadError& error) {
  std::string_view event = type == EventType::Map ? "apple_dma_map" : type == EventType::Unmap ? "apple_dma_unmap" : "apple_dma_reset";
  // Which fields each format prints (trace-events of passthrough/qemu), by bit.
  enum : unsigned { kBdf = 1, kGpa = 2, kLen = 4, kDir = 8, kDma = 16, kHandle = 32, kStatus = 64, kLive = 128 };
  const unsigned wanted = type == EventType::Map     ? kBdf | kGpa | kLen | kDir | kDma | kHandle | kStatus
                          : type == EventType::Unmap ? kBdf | kHandle | kLen | kStatus
                                                     : kBdf | kLive;
  auto fail = [&error](const char* at, std::string message) {
    error.at = at;
    error.message = std::move(message);
    return false;
  };
  r = {};
  unsigned seen = 0;
  Cursor c(args);
  while (c.more()) {
    const char* at = c.pos();
    std::string_view key;
    if (!c.key(key)) return fail(at, std::string(event) + ": expected KEY=VALUE, got " + quoted(c.token()));
    const char* value = c.pos();
    auto hex = [&](std::uint64_t& v, unsigned bit) {
      const Num n = c.hex(v);
      if (n == Num::Bad) return fail(value, std::string(event) + ": " + std::string(key) + " must be a hex number, got " + quoted(c.token()));
      if (n == Num::Overflow) return fail(value, std::string(event) + ": " + std::string(key) + " does not fit in 64 bits: " + quoted(c.token()));
      seen |= bit;
      return true;
    };
    if (key == "bdf") {
      r.bdf = c.word();
      bool ok = !r.bdf.empty() && r.bdf.size() <= 64;
      for (char ch : r.bdf) ok = ok && text::is_device_char(ch);
      if (!ok) return fail(value, std::string(event) + ": bdf must be a PCI address such as 0000:01:00.0, got " + quoted(r.bdf));
      seen |= kBdf;
    } else if (key == "gpa") {
      if (!hex(r.gpa, kGpa)) return false;
    } else if (key == "len") {
      if (!hex(r.len_bytes, kLen)) return false;
    } else if (key == "dma") {
      if (!hex(r.dma_addr, kDma)) return false;
    } else if (key == "handle") {
      if (!hex(r.handle, kHandle)) return false;
    } else if (key == "dir") {
      const std::string_view d = c.word();
      if (d == "bidirectional") r.dir = Direction::Bidirectional;
      else if (d == "to_device") r.dir = Direction::ToDevice;
      else if (d == "from_device") r.dir = Direction::FromDevice;
      else return fail(value, std::string(event) + ": dir must be bidirectional, to_device or from_device, got " + quoted(d));
      seen |= kDir;
    } else if (key == "status") {
      // "%d": an int, negative for an errno.
      const bool negative = c.expect("-");
      std::uint64_t v = 0;
      const Num n = c.dec(v);
      if (n != Num::Ok || v > (negative ? std::uint64_t{1} << 31 : (std::uint64_t{1} << 31) - 1)) {
        return fail(value, std::string(event) + ": status must be a decimal int, got " + quoted(Cursor({value, static_cast<std::size_t>(c.end() - value)}).token()));
      }
      r.status = static_cast<std::int32_t>(negative ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v));
      seen |= kStatus;
    } else if (key == "live") {
      if (c.dec(r.live) != Num::Ok) return fail(value, std::string(event) + ": live must be a decimal number, got " + quoted(c.token()));
      seen |= kLive;
    } else {
      c.word();  // a field this importer does not know: skipped
    }
  }
  if (const unsigned lacking = wanted & ~seen; lacking != 0) {
    static constexpr std::string_view kNames[] = {"bdf", "gpa", "len", "dir", "dma", "handle", "status", "live"};
    unsigned bit = 0;
    while ((lacking & (1u << bit)) == 0) ++bit;
    return fail(c.end(), missing(event, kNames[bit]));
  }
  return true;
}

}  // namespace dartlab::trace::qemu_log
