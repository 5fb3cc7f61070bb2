// SPDX-License-Identifier: MIT
// The pieces TP_printk-style payloads are made of, for the ftrace and QEMU log importers:
// space-separated "key=value" fields, numbers printed by %llx, %zu and 0x%016llx, and
// __print_array lists "{0x1000,0x2000}"; and PayloadError, what every line format's parser
// (the apple_dma CSV's too) says is wrong and where.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "traces/line_import/numbers.hpp"
#include "traces/line_import/scan.hpp"
#include "traces/printable.hpp"

namespace dartlab::trace::line_import {

// What is wrong with a known event's payload, and where (a pointer into the line).
struct PayloadError {
  const char* at = nullptr;
  std::string message;
};

// Reads a payload left to right in one pass: "key=" then the value, each value parsed where it
// stands (TP_printk formats separate fields by one space). Values end at the next space.
class Cursor {
 public:
  explicit Cursor(std::string_view payload) : p_(payload.data()), e_(payload.data() + payload.size()) {}

  // Skips spaces; false at the end of the payload.
  bool more() {
    if (p_ != e_ && *p_ == ' ') ++p_;  // mostly exactly one
    if (p_ != e_ && *p_ == ' ') p_ = scan::skip(p_, e_, ' ');
    return p_ != e_;
  }
  // True, and moves past it, when the text at pos() starts with `text`.
  template <std::size_t N>
  bool expect(const char (&text)[N]) {
    constexpr std::size_t n = N - 1;
    if (static_cast<std::size_t>(e_ - p_) < n || std::memcmp(p_, text, n) != 0) return false;
    p_ += n;
    return true;
  }
  // True, and moves past it, when the text at pos() is `word` followed by a space or the end.
  template <std::size_t N>
  bool literal(const char (&word)[N]) {
    constexpr std::size_t n = N - 1;
    if (static_cast<std::size_t>(e_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    if (p_ + n != e_ && p_[n] != ' ') return false;
    p_ += n;
    return true;
  }
  const char* pos() const { return p_; }
  const char* end() const { return e_; }
  // The text from pos() to the next space, without moving.
  std::string_view token() const { return {p_, static_cast<std::size_t>(scan::find_either(p_, e_, ' ', ' ') - p_)}; }
  // The text from pos() to the next space; moves past it.
  std::string_view word() {
    const std::string_view w = token();
    p_ += w.size();
    return w;
  }
  // When the text at pos() is "KEY=...": the key, and pos() moves to the value. Else false.
  bool key(std::string_view& k) {
    const char* q = scan::find_either(p_, e_, '=', ' ');
    if (q == e_ || *q != '=') return false;
    k = {p_, static_cast<std::size_t>(q - p_)};
    p_ = q + 1;
    return true;
  }
  // A number up to the next space; on failure pos() stays at the value.
  Num hex(std::uint64_t& v) {
    const char* q = p_;
    if (e_ - q >= 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) q += 2;
    std::uint64_t x = 0;
    const Num r = hex_run(q, e_, x);  // before number() takes q and x
    return number(r, q, x, v);
  }
  Num dec(std::uint64_t& v) {
    const char* q = p_;
    std::uint64_t x = 0;
    const Num r = dec_run(q, e_, x);
    return number(r, q, x, v);
  }
  // "{0x1000,0x2000}" (or "{}") into `out`, which is cleared first; on failure `bad` is the
  // offending element, or the whole value when the braces are wrong.
  Num hex_list(std::vector<std::uint64_t>& out, std::string_view& bad) {
    out.clear();
    auto fail = [&bad](std::string_view what, Num r) {
      bad = what;
      return r;
    };
    const char* q = p_;
    if (q == e_ || *q != '{') return fail(token(), Num::Bad);
    ++q;
    if (q != e_ && *q == '}') {
      ++q;
    } else {
      for (;;) {
        const char* item = q;
        if (e_ - q >= 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) q += 2;
        std::uint64_t x = 0;
        const Num r = hex_run(q, e_, x);
        const bool ends = q != e_ && (*q == ',' || *q == '}');
        if (r == Num::Bad || !ends) return fail({item, static_cast<std::size_t>(scan::find_either(item, e_, ',', '}') - item)}, Num::Bad);
        if (r == Num::Overflow) return fail({item, static_cast<std::size_t>(q - item)}, Num::Overflow);
        out.push_back(x);
        if (*q++ == '}') break;
      }
    }
    if (q != e_ && *q != ' ') return fail(token(), Num::Bad);
    p_ = q;
    return Num::Ok;
  }

 private:
  // A value's run of digits ended at q: it must end the value too (at a space or the payload's
  // end). Then x goes to v and pos() to q.
  Num number(Num r, const char* q, std::uint64_t x, std::uint64_t& v) {
    if (r == Num::Bad || (q != e_ && *q != ' ')) return Num::Bad;
    if (r == Num::Ok) {
      v = x;
      p_ = q;
    }
    return r;
  }

  const char* p_;
  const char* e_;
};

}  // namespace dartlab::trace::line_import
