// SPDX-License-Identifier: MIT
#include "base/size_text.hpp"

#include <charconv>

namespace dartlab {

namespace {

struct Suffix {
  char upper, lower;
  unsigned shift;
};
constexpr Suffix kSuffixes[] = {{'T', 't', 40}, {'G', 'g', 30}, {'M', 'm', 20}, {'K', 'k', 10}};

}  // namespace

bool parse_count(std::string_view text, std::uint64_t& value) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty()) return false;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (ec != std::errc{} || end != text.data() + text.size()) return false;
  value = v;
  return true;
}

bool parse_size(std::string_view text, std::uint64_t& bytes) {
  unsigned shift = 0;
  if (!text.empty()) {
    for (const Suffix& s : kSuffixes) {
      if (text.back() == s.upper || text.back() == s.lower) {
        shift = s.shift;
        text.remove_suffix(1);
        break;
      }
    }
  }
  std::uint64_t count = 0;
  if (!parse_count(text, count)) return false;
  if (shift != 0 && count > (~std::uint64_t{0} >> shift)) return false;
  bytes = count << shift;
  return true;
}

std::string format_size(std::uint64_t bytes) {
  if (bytes != 0)
    for (const Suffix& s : kSuffixes)
      if (bytes % (std::uint64_t{1} << s.shift) == 0) return std::to_string(bytes >> s.shift) + s.upper;
  return std::to_string(bytes);
}

}  // namespace dartlab
