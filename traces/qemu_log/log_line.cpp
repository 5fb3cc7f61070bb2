// SPDX-License-Identifier: MIT
#include "traces/qemu_log/log_line.hpp"

#include <iterator>
#include <span>
#include <string>

#include "traces/text_format.hpp"

namespace dartlab::trace::qemu_log {
namespace {

using line_import::Cursor;
using line_import::Num;

using line_import::is_digit;
bool is_ident(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

// Digits at p, moved past; their value in v unless there are too many for it (then v is max).
const char* read_digits(const char* p, const char* e, std::uint64_t& v) {
  v = 0;
  if (line_import::dec_run(p, e, v) == Num::Overflow) v = UINT64_MAX;
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

// The error of a format's parser: what and where; false, for the parser to return.
bool fail(PayloadError& error, const char* at, std::string message) {
  error.at = at;
  error.message = std::move(message);
  return false;
}

// A field the format prints is not in the line: the first one of `lacking` (bits by `names`).
bool missing(PayloadError& error, std::string_view event, unsigned lacking, std::span<const std::string_view> names,
             const char* end) {
  unsigned bit = 0;
  while ((lacking & (1u << bit)) == 0) ++bit;
  return fail(error, end, std::string(event) + ": " + std::string(names[bit]) + "= is missing (the line may be cut short)");
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

namespace {

// Names by EventType, in the enum's order.
constexpr std::string_view kEventNames[] = {
    "apple_dma_map", "apple_dma_unmap", "apple_dma_reset",
    "apple_dma_doorbell", "apple_dma_handle_map_entry", "apple_dma_handle_unmap_entry",
    "apple_dma_backend_map_fail", "apple_dext_register_dma", "apple_dext_unregister_dma",
};
static_assert(std::size(kEventNames) == static_cast<std::size_t>(EventType::Other));

}  // namespace

EventType find_event(std::string_view name) {
  // Every name starts "apple_d": one compare turns away the other events of a busy log.
  if (name.size() < 13 || name.substr(0, 7) != "apple_d") return EventType::Other;
  for (std::size_t i = 0; i < std::size(kEventNames); ++i)
    if (name == kEventNames[i]) return static_cast<EventType>(i);
  return EventType::Other;
}

std::string_view event_name(EventType type) {
  return type == EventType::Other ? "other" : kEventNames[static_cast<std::size_t>(type)];
}

bool parse_real_device(EventType type, std::string_view args, RealDeviceRecord& r, PayloadError& error) {
  const std::string event(event_name(type));
  // The fields each format prints (REAL-SYSTEM facts, traces/qemu_log/IMPORT.md), by bit.
  enum : unsigned {
    kIdx = 1, kGpa = 2, kReqLen = 4, kBus = 8, kLen = 16, kOk = 32, kId = 64, kStatus = 128, kSize = 256,
    kReason = 512, kIova = 1024, kClientVa = 2048, kKr = 4096, kCmdGpa = 8192, kType = 16384, kCount = 32768,
    kReq = 65536, kResp = 131072,
  };
  static constexpr std::string_view kNames[] = {"idx", "gpa", "req_len", "bus", "len", "ok", "id", "status", "size",
                                                "reason", "iova", "client_va", "kr", "cmd_gpa", "type", "count",
                                                "req", "resp"};
  unsigned wanted = 0;
  switch (type) {
    case EventType::Doorbell: wanted = kCmdGpa | kType | kCount | kReq | kResp; break;
    case EventType::MapEntry: wanted = kIdx | kGpa | kReqLen | kBus | kLen | kOk; break;
    case EventType::UnmapEntry: wanted = kIdx | kId | kStatus; break;
    case EventType::BackendMapFail: wanted = kGpa | kSize | kReason; break;
    case EventType::RegisterDma: wanted = kIova | kClientVa | kSize | kBus | kLen | kKr; break;
    case EventType::UnregisterDma: wanted = kIova | kKr; break;
    default: break;
  }
  auto fail = [&error](const char* at, std::string message) { return qemu_log::fail(error, at, std::move(message)); };
  r = {};
  unsigned seen = 0;
  Cursor c(args);
  while (c.more()) {
    const char* at = c.pos();
    if (c.literal("->")) continue;  // between a call's arguments and what it returned
    std::string_view key;
    if (!c.key(key)) return fail(at, event + ": expected KEY=VALUE, got " + quoted(c.token()));
    const char* value = c.pos();
    std::uint64_t scratch = 0;
    auto number = [&](std::uint64_t& v, unsigned bit, bool is_hex, std::uint64_t max) {
      const Num n = is_hex ? c.hex(v) : c.dec(v);
      if (n == Num::Bad)
        return fail(value, event + ": " + std::string(key) + " must be a " + (is_hex ? "hex" : "decimal") + " number, got " +
                               quoted(c.token()));
      if (n == Num::Overflow || v > max)
        return fail(value, event + ": " + std::string(key) + " does not fit in " + (max == UINT32_MAX ? "32" : "64") +
                               " bits: " + quoted(c.token()));
      seen |= bit;
      return true;
    };
    constexpr std::uint64_t k32 = UINT32_MAX, k64 = UINT64_MAX;
    bool ok = true;
    if (key == "idx") ok = number(scratch, kIdx, false, k32);
    else if (key == "gpa") ok = number(r.gpa, kGpa, true, k64);
    else if (key == "req_len") ok = number(r.len_bytes, kReqLen, false, k64);
    else if (key == "bus") ok = number(scratch, kBus, true, k64);
    else if (key == "len") ok = number(r.bus_len_bytes, kLen, false, k64);
    else if (key == "id") ok = number(r.id, kId, true, k64);
    else if (key == "status") ok = number(r.status, kStatus, false, k32);
    else if (key == "size") ok = number(r.len_bytes, kSize, false, k64);
    else if (key == "iova") ok = number(r.iova, kIova, true, k64);
    else if (key == "client_va") ok = number(scratch, kClientVa, true, k64);
    else if (key == "kr") ok = number(r.kr, kKr, true, k32);
    else if (key == "cmd_gpa") ok = number(scratch, kCmdGpa, true, k64);
    else if (key == "type") ok = number(scratch, kType, false, k32);
    else if (key == "count") ok = number(scratch, kCount, false, k32);
    else if (key == "req") ok = number(scratch, kReq, true, k64);
    else if (key == "resp") ok = number(scratch, kResp, true, k64);
    else if (key == "ok") {
      // "%d" of a bool: 0 or 1; any other int is taken as true, as C would.
      const bool negative = c.expect("-");
      ok = number(scratch, kOk, false, negative ? std::uint64_t{1} << 31 : (std::uint64_t{1} << 31) - 1);
      r.ok = scratch != 0;
    } else if (key == "reason" && type == EventType::BackendMapFail) {
      r.reason = {value, static_cast<std::size_t>(c.end() - value)};  // "%s", the last field: may hold spaces
      seen |= kReason;
      break;
    } else {
      c.word();  // a field this importer does not know: skipped
    }
    if (!ok) return false;
  }
  if (const unsigned lacking = wanted & ~seen; lacking != 0) return missing(error, event, lacking, kNames, c.end());
  return true;
}

bool parse_apple_dma(EventType type, std::string_view args, AppleDmaRecord& r, PayloadError& error) {
  std::string_view event = type == EventType::Map ? "apple_dma_map" : type == EventType::Unmap ? "apple_dma_unmap" : "apple_dma_reset";
  // Which fields each format prints (trace-events of passthrough/qemu), by bit.
  enum : unsigned { kBdf = 1, kGpa = 2, kLen = 4, kDir = 8, kDma = 16, kHandle = 32, kStatus = 64, kLive = 128 };
  const unsigned wanted = type == EventType::Map     ? kBdf | kGpa | kLen | kDir | kDma | kHandle | kStatus
                          : type == EventType::Unmap ? kBdf | kHandle | kLen | kStatus
                                                     : kBdf | kLive;
  auto fail = [&error](const char* at, std::string message) { return qemu_log::fail(error, at, std::move(message)); };
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
  static constexpr std::string_view kNames[] = {"bdf", "gpa", "len", "dir", "dma", "handle", "status", "live"};
  if (const unsigned lacking = wanted & ~seen; lacking != 0) return missing(error, event, lacking, kNames, c.end());
  return true;
}

}  // namespace dartlab::trace::qemu_log
