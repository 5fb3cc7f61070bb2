// SPDX-License-Identifier: MIT
#include "traces/ftrace/ftrace_line.hpp"

#include <array>

#include "traces/line_import/numbers.hpp"
#include "traces/line_import/scan.hpp"

namespace dartlab::trace::ftrace {
namespace {

namespace scan = line_import::scan;

// The kernel prints "%16s-%-7d " (older kernels and trace-cmd "%16s-%-5d "), then "(%7d) " or
// "(-------) " when the record-tgid option is on, "[%03d] ", the latency flags when the
// irq-info option is on (five characters such as "d..1." now, four in older kernels), then
// " %5lu.%06lu: " in seconds
// (" %12llu: " for clocks not in nanoseconds), then "name: " and the event's TP_printk text
// (kernel/trace/trace_output.c, trace_print_context and trace_raw_output_prep). trace-cmd
// report prints the same context, pads "name:" to 20 columns and may print nine decimals
// (tracecmd/trace-read.c).

// Numbers the context prints are far below these; longer runs of digits mean garbage.
constexpr std::size_t kMaxIdDigits = 10;
constexpr std::size_t kMaxFlagsChars = 8;
constexpr std::size_t kMaxSecondsDigits = 10;  // 10^10 s: ~317 years of uptime, and * 10^9 fits
constexpr std::size_t kNanosDigits = 9;
constexpr std::size_t kMaxCountDigits = 19;  // below 2^64
constexpr std::array<std::uint64_t, kNanosDigits + 1> kPow10 = {
    1, 10, 100, 1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000, 1'000'000'000};

enum CharClass : std::uint8_t { kDigit = 1, kBlank = 2 };
constexpr auto kClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = kDigit;
  t[' '] = t['\t'] = kBlank;
  return t;
}();
bool has(char c, CharClass k) { return (kClass[static_cast<unsigned char>(c)] & k) != 0; }
bool is_digit(char c) { return has(c, kDigit); }
bool is_blank(char c) { return has(c, kBlank); }

const char* skip_blanks(const char* p, const char* e) {
  for (;;) {
    p = scan::skip(p, e, ' ');  // the context is padded with runs of spaces
    if (p == e || *p != '\t') return p;
    ++p;
  }
}

// Digits at [p, e) up to the first non-digit; false unless 1 to max_digits of them.
bool digits(const char*& p, const char* e, std::size_t max_digits, std::uint64_t& v) {
  const char* b = p;
  std::uint64_t x = 0;
  if (const std::size_t n = line_import::digits8(p, e, x); n < 8) {  // the usual: a short run, read at once
    v = x;
    return n >= 1 && n <= max_digits;
  }
  for (; p != e; ++p) {
    const unsigned d = static_cast<unsigned char>(*p) - unsigned{'0'};
    if (d > 9) break;
    x = x * 10 + d;
  }
  const auto n = static_cast<std::size_t>(p - b);
  v = x;
  return n >= 1 && n <= max_digits;
}

// The context left of a '[' that may open the CPU field: "comm-PID " or "comm-PID (TGID) ".
// `open` points at the '['; `begin` is the first character of the line that is not blank.
bool split_task(const char* begin, const char* open, FtraceLine& out) {
  const char* p = open;  // scanning leftwards; *p is the character right of the scan
  if (p == begin || !is_blank(p[-1])) return false;
  while (p != begin && is_blank(p[-1])) --p;
  out.tgid = 0;
  if (p != begin && p[-1] == ')') {
    const char* close = p - 1;
    const char* q = close;
    while (q != begin && q[-1] != '(' && close - q < static_cast<long>(kMaxIdDigits)) --q;
    if (q == begin || q[-1] != '(') return false;
    const char* t = skip_blanks(q, close);  // "(%7d)" pads inside the parentheses
    std::uint64_t tgid = 0;
    if (*t == '-') {
      while (t != close && *t == '-') ++t;  // "(-------)": tgid unknown
    } else if (!digits(t, close, kMaxIdDigits, tgid)) {
      return false;
    }
    if (t != close) return false;
    out.tgid = static_cast<std::uint32_t>(tgid);
    p = q - 1;  // the '('
    if (p == begin || !is_blank(p[-1])) return false;
    while (p != begin && is_blank(p[-1])) --p;
  }
  // The pid runs left from p to the nearest '-'; the comm is everything before that '-', dashes
  // and blanks included ("Web Content-1234", "kworker/u16:2-56").
  const char* pid_end = p;
  while (p != begin && is_digit(p[-1])) --p;
  if (p == pid_end || p == begin || p[-1] != '-') return false;
  const char* q = p;
  std::uint64_t pid = 0;
  if (!digits(q, pid_end, kMaxIdDigits, pid)) return false;
  out.pid = static_cast<std::uint32_t>(pid);
  out.comm = {begin, static_cast<std::size_t>(p - 1 - begin)};
  return true;
}

// "SECONDS.FRACTION:" or "COUNT:" at p.
bool split_time(const char*& p, const char* e, FtraceLine& out) {
  const char* b = p;
  std::uint64_t secs = 0;
  if (!digits(p, e, kMaxCountDigits, secs)) return false;
  out.time_is_count = true;
  out.time_ns = secs;
  if (p != e && *p == '.') {
    if (static_cast<std::size_t>(p - b) > kMaxSecondsDigits) return false;
    ++p;
    // Six decimals (microseconds) from the kernel, nine from trace-cmd --ts-ns; more are cut.
    const char* f = p;
    std::uint64_t frac = 0;
    if (!digits(p, e, ~std::size_t{0}, frac)) return false;
    auto n = static_cast<std::size_t>(p - f);
    if (n > kNanosDigits) {
      frac = 0;
      for (const char* c = f; c != f + kNanosDigits; ++c) frac = frac * 10 + static_cast<std::uint64_t>(*c - '0');
      n = kNanosDigits;
    }
    frac *= kPow10[kNanosDigits - n];
    out.time_is_count = false;
    out.time_ns = secs * 1'000'000'000ULL + frac;
  }
  if (p == e || *p != ':') return false;
  ++p;
  return true;
}

// Everything right of "[CPU]": flags, time, name, payload.
LineKind split_event(const char* p, const char* e, FtraceLine& out) {
  p = skip_blanks(p, e);
  out.flags = {};
  if (p != e && !is_digit(*p)) {  // the flags never start with a digit: irqs-off is one of "dDbX."
    const char* b = p;
    p = scan::find_either(p, e, ' ', '\t');
    const auto n = static_cast<std::size_t>(p - b);
    if (n > kMaxFlagsChars) return LineKind::Garbage;
    out.flags = {b, n};
    p = skip_blanks(p, e);
  }
  if (!split_time(p, e, out)) return LineKind::Garbage;
  if (p != e && !is_blank(*p)) return LineKind::Garbage;
  p = skip_blanks(p, e);
  if (p != e && *p == '(') {  // trace-cmd report --ts-diff: "(+123)"
    p = scan::find_either(p, e, ' ', '\t');
    p = skip_blanks(p, e);
  }
  // "name:" or "system:name:", then a blank or the end of the line. The name is whatever runs up
  // to the ':'; the reader knows the names that matter and only counts the others.
  const char* name = p;
  p = scan::find_either(p, e, ':', ' ');
  if (p == name || p == e || *p != ':') return LineKind::NoEventName;
  out.system = {};
  if (p + 1 != e && !is_blank(p[1])) {
    out.system = {name, static_cast<std::size_t>(p - name)};
    name = ++p;
    p = scan::find_either(p, e, ':', ' ');
    if (p == name || p == e || *p != ':') return LineKind::NoEventName;
  }
  out.event = {name, static_cast<std::size_t>(p - name)};
  ++p;
  if (p != e && !is_blank(*p)) return LineKind::NoEventName;
  p = skip_blanks(p, e);
  out.payload = {p, static_cast<std::size_t>(e - p)};
  return LineKind::Event;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "N" then the rest of s must be all digits; true if s starts with at least one digit.
bool skip_number(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  s.remove_prefix(n);
  return n > 0;
}

// Lines that are not events: headers of the trace file and of trace-cmd report, notes on lost
// events, or garbage.
[[gnu::cold]] LineKind classify_other(std::string_view s) {
  if (ends_with(s, "[LINE TOO BIG]")) return LineKind::LineTooBig;
  if (starts_with(s, "cpus=") || starts_with(s, "version = ")) return LineKind::Header;
  if (starts_with(s, "CPU ")) {  // trace-cmd: "CPU 0 is empty"
    std::string_view rest = s.substr(4);
    if (skip_number(rest) && (rest == " is empty")) return LineKind::Header;
    return LineKind::Garbage;
  }
  if (starts_with(s, "CPU:")) {  // "CPU:1 [LOST 12 EVENTS]", "CPU:1 [12 EVENTS DROPPED]", "CPU:1 [SUBBUFFER START]"
    std::string_view rest = s.substr(4);
    if (!skip_number(rest) || !starts_with(rest, " [") || !ends_with(rest, "]")) return LineKind::Garbage;
    if (rest.find("LOST") != std::string_view::npos || rest.find("DROPPED") != std::string_view::npos) {
      return LineKind::LostEvents;
    }
    return LineKind::Header;
  }
  return LineKind::Garbage;
}

}  // namespace

// flatten: the helpers above inlined into one body, a tenth fewer instructions a line (callgrind).
[[gnu::flatten]] LineKind split_line(std::string_view line, FtraceLine& out) {
  const char* e = line.data() + line.size();
  const char* begin = skip_blanks(line.data(), e);
  if (begin == e || *begin == '#') return LineKind::Header;
  // The CPU field is the first "[digits]" that follows "-PID" or "-PID (TGID)"; a comm (at most
  // 15 characters) may itself hold '[', so a failed candidate is not the end.
  LineKind fallback = LineKind::Garbage;
  for (const char* open = begin; (open = scan::find_either(open, e, '[', '[')) != e; ++open) {
    const char* p = open + 1;
    std::uint64_t cpu = 0;
    if (!digits(p, e, kMaxIdDigits, cpu) || p == e || *p != ']') continue;
    ++p;
    if (p != e && !is_blank(*p)) continue;
    if (!split_task(begin, open, out)) continue;
    out.cpu = static_cast<std::uint32_t>(cpu);
    const LineKind kind = split_event(p, e, out);
    if (kind == LineKind::Event) return kind;
    if (kind == LineKind::NoEventName) fallback = kind;
  }
  if (fallback == LineKind::NoEventName) return fallback;
  return classify_other({begin, static_cast<std::size_t>(e - begin)});
}

}  // namespace dartlab::trace::ftrace
