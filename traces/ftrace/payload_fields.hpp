// The pieces TP_printk texts are made of: blank-separated "key=value" fields, numbers printed by
// %llx, %zu and 0x%016llx, and __print_array lists "{0x1000,0x2000}". Shared by the dma:* and
// iommu:* payload parsers; not part of the importer's interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dartlab::trace::ftrace {

// What is wrong with a known event's payload, and where (a pointer into the line).
struct PayloadError {
  const char* at = nullptr;
  std::string message;
};

namespace fields {

enum class Num : std::uint8_t { Ok, Bad, Overflow };

// One blank-separated field; `key` is empty and `value` the whole text when it has no '='.
struct Field {
  std::string_view text;
  std::string_view key;
  std::string_view value;
  bool has_key = false;
};

// Walks the fields of a payload, left to right.
class Fields {
 public:
  explicit Fields(std::string_view payload) : p_(payload.data()), e_(payload.data() + payload.size()) {}

  bool next(Field& f) {
    while (p_ != e_ && (*p_ == ' ' || *p_ == '\t')) ++p_;
    if (p_ == e_) return false;
    const char* b = p_;
    const char* eq = nullptr;
    while (p_ != e_ && *p_ != ' ' && *p_ != '\t') {
      if (*p_ == '=' && eq == nullptr) eq = p_;
      ++p_;
    }
    f.text = {b, static_cast<std::size_t>(p_ - b)};
    f.has_key = eq != nullptr;
    if (f.has_key) {
      f.key = {b, static_cast<std::size_t>(eq - b)};
      f.value = {eq + 1, static_cast<std::size_t>(p_ - eq - 1)};
    } else {
      f.key = {};
      f.value = f.text;
    }
    return true;
  }
  // Just past the last field: where a missing one would go.
  const char* end() const { return e_; }

 private:
  const char* p_;
  const char* e_;
};

inline std::uint8_t hex_digit(char c) {
  if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
  return 0xff;
}

// Hex digits, with or without a leading "0x" (%llx prints none, __print_array and 0x%016llx do).
inline Num parse_hex(std::string_view s, std::uint64_t& v) {
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty()) return Num::Bad;
  while (s.size() > 1 && s[0] == '0') s.remove_prefix(1);  // 0x%016llx pads with zeros
  std::uint64_t x = 0;
  for (char c : s) {
    const std::uint8_t d = hex_digit(c);
    if (d == 0xff) return Num::Bad;
    x = x << 4 | d;
  }
  if (s.size() > 16) return Num::Overflow;
  v = x;
  return Num::Ok;
}

inline Num parse_dec(std::string_view s, std::uint64_t& v) {
  if (s.empty()) return Num::Bad;
  std::uint64_t x = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Num::Bad;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (x > (UINT64_MAX - d) / 10) return Num::Overflow;
    x = x * 10 + d;
  }
  v = x;
  return Num::Ok;
}

// "{0x1000,0x2000}" (or "{}") into `out`, which is cleared first. On failure `bad` is the
// offending element (or the whole text when the braces are wrong).
inline Num parse_hex_list(std::string_view s, std::vector<std::uint64_t>& out, std::string_view& bad) {
  out.clear();
  bad = s;
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return Num::Bad;
  s = s.substr(1, s.size() - 2);
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    std::uint64_t v = 0;
    const Num r = parse_hex(item, v);
    if (r != Num::Ok) {
      bad = item;
      return r;
    }
    out.push_back(v);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
    if (s.empty()) {  // "{0x1,}"
      bad = s;
      return Num::Bad;
    }
  }
  return Num::Ok;
}

// For messages: the text in quotes, cut if long (a garbage field can be a megabyte).
inline std::string quoted(std::string_view s) {
  constexpr std::size_t kShown = 60;
  std::string q = "'";
  q += s.substr(0, kShown);
  if (s.size() > kShown) q += "...";
  q += '\'';
  return q;
}

inline std::string hex(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), kDigits[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  return "0x" + s;
}

}  // namespace fields
}  // namespace dartlab::trace::ftrace
