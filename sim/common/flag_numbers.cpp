// SPDX-License-Identifier: MIT
#include "sim/common/flag_numbers.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "base/size_text.hpp"

namespace dartlab::sim {

namespace {

bool is_digit(char c, bool hex) {
  return (c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
}

// Digits only (after an optional 0x, before an optional size suffix): a number that did not
// parse is then too large, not malformed.
bool only_digits(std::string_view text, FlagNumber kind) {
  if (kind == FlagNumber::Size && !text.empty() && std::string_view("KMGTkmgt").find(text.back()) != std::string_view::npos)
    text.remove_suffix(1);
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  if (hex) text.remove_prefix(2);
  if (text.empty()) return false;
  for (const char c : text)
    if (!is_digit(c, hex)) return false;
  return true;
}

std::string bound_text(std::uint64_t v, FlagNumber kind) {
  return kind == FlagNumber::Size ? format_size(v) : fmt::format("{}", v);
}

}  // namespace

std::string parse_flag_number(std::string_view flag, std::string_view text, FlagNumber kind, std::uint64_t min,
                              std::uint64_t max, std::uint64_t& value) {
  const char* what = kind == FlagNumber::Size ? "a size" : "a count";
  if (!text.empty() && (text[0] == '-' || text[0] == '+'))
    return fmt::format("{}: '{}': {} takes no sign", flag, text, what);
  std::uint64_t v = 0;
  const bool ok = kind == FlagNumber::Size ? parse_size(text, v) : parse_count(text, v);
  if (!ok) {
    if (only_digits(text, kind))
      return fmt::format("{}: '{}' is too large (at most {})", flag, text, bound_text(max, kind));
    return kind == FlagNumber::Size
               ? fmt::format("{}: '{}' is not a size (decimal or 0x hex, optional suffix K, M, G or T: 4096, 64K, 1G)",
                             flag, text)
               : fmt::format("{}: '{}' is not a count (decimal or 0x hex)", flag, text);
  }
  if (v > max) return fmt::format("{}: '{}' is too large (at most {})", flag, text, bound_text(max, kind));
  if (v < min) return fmt::format("{}: '{}' is too small (at least {})", flag, text, bound_text(min, kind));
  value = v;
  return {};
}

std::string parse_flag_decimal(std::string_view flag, std::string_view text, double& value) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+'))
    return fmt::format("{}: '{}': the value takes no sign", flag, text);
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v))
    return fmt::format("{}: '{}' is not a decimal number (as in 10 or 2.5)", flag, text);
  value = v;
  return {};
}

}  // namespace dartlab::sim
