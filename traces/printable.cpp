// SPDX-License-Identifier: MIT
#include "traces/printable.hpp"

#include <algorithm>

namespace dartlab::trace {
namespace {

bool printable_byte(char c) { return c >= 0x20 && c <= 0x7e; }

}  // namespace

bool is_printable(std::string_view bytes) { return std::all_of(bytes.begin(), bytes.end(), printable_byte); }

std::string printable(std::string_view bytes) {
  if (is_printable(bytes)) return std::string(bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() + 16);
  for (const char c : bytes) {
    if (printable_byte(c)) {
      out += c;
      continue;
    }
    const auto b = static_cast<unsigned char>(c);
    out += "\\x";
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string quoted(std::string_view s) {
  constexpr std::size_t kShown = 60;
  std::string q = "'";
  q += printable(s.substr(0, kShown));
  if (s.size() > kShown) q += "...";
  q += '\'';
  return q;
}

}  // namespace dartlab::trace
