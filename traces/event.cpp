// SPDX-License-Identifier: MIT
#include "traces/event.hpp"

#include "traces/text_format.hpp"

namespace dartlab::trace {

// An event's name is its keyword in the text format: one spelling across logs, reports and traces.
std::string_view to_string(EventKind k) {
  auto i = static_cast<std::size_t>(k);
  return i < text::kKindKeywords.size() ? text::kKindKeywords[i] : std::string_view("invalid");
}

std::string_view to_string(Direction d) {
  auto i = static_cast<std::size_t>(d);
  return i < text::kDirKeywords.size() ? text::kDirKeywords[i] : std::string_view("invalid");
}

}  // namespace dartlab::trace
