// SPDX-License-Identifier: MIT
// Joins a range's items into one string with a separator: the "known: a, b, c" lists of error
// messages. Appended piece by piece: the idiom it replaces, s += (s.empty() ? "" : ", ") + x,
// built a temporary string per item, and at -O3 GCC 12 flags "x" + std::string with a false
// -Wrestrict (GCC bug 105329).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace dartlab {

// Each item is projected (by default: itself) to something a std::string can append.
template <class Range, class Proj = std::identity>
std::string join(const Range& items, std::string_view separator, Proj proj = {}) {
  std::string out;
  bool first = true;
  for (const auto& item : items) {
    if (!first) out.append(separator);
    first = false;
    out.append(std::string_view(std::invoke(proj, item)));
  }
  return out;
}

}  // namespace dartlab
