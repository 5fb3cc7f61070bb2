// SPDX-License-Identifier: MIT
#include "sim/report/cells.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "base/types.hpp"

namespace dartlab::sim::report {

using svg::escape;

namespace {

// " (kIOReturnNoSpace)": the host's name of a reason dartlab names, when it has one.
std::string host_code_suffix(std::string_view reason) {
  for (int i = 0; i < dartlab::kMapErrorCount; ++i) {
    const auto e = static_cast<dartlab::MapError>(i);
    if (dartlab::to_string(e) == reason && !dartlab::host_return_code(e).empty())
      return fmt::format(" ({})", dartlab::host_return_code(e));
  }
  return {};
}

}  // namespace

std::string commas(std::uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string swatch(const svg::Style& s) {
  return fmt::format("<svg class=\"sw\" width=\"26\" height=\"10\"><line x1=\"1\" x2=\"25\" y1=\"5\" y2=\"5\" stroke=\"{}\" "
                     "stroke-width=\"2.6\"{}/></svg>",
                     escape(s.color), s.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", escape(s.dash)));
}

std::string basename(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::vector<std::string> split_items(const std::string& spec) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', start), spec.size());
    items.push_back(spec.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

// A DART spec that may break after its commas in a narrow cell.
std::string breakable_spec(const std::string& spec) {
  std::string out;
  for (const std::string& item : split_items(spec)) out += (out.empty() ? "" : ",<wbr>") + escape(item);
  return out;
}

// DARTs of one trace are told apart by letter in labels (A..Z, then numbers), by dash in lines.
std::string dart_letter(std::size_t index) {
  return index < 26 ? std::string(1, static_cast<char>('A' + index)) : std::to_string(index + 1);
}

// A number and a bar of its share of a limit, red when at or past it.
std::string gauge(const std::string& text, double value, double limit, const std::string& limit_text) {
  if (!(limit > 0)) return fmt::format("<td class=\"n\">{}</td>", text);
  const double pct = value / limit * 100;
  return fmt::format(
      "<td class=\"n\" title=\"{:.1f}% of {}\">{}<span class=\"bar{}\"><i style=\"width:{:.1f}%\"></i></span></td>", pct,
      escape(limit_text), text, pct >= 100 ? " over" : "", std::min(pct, 100.0));
}

std::string optional_count_cell(const std::optional<std::uint64_t>& v) {
  if (!v) return "<td class=\"n na\" title=\"not in this input\">&ndash;</td>";
  return fmt::format("<td class=\"n\">{}</td>", commas(*v));
}

std::string reasons_text(const Result& r) {
  std::string out;
  for (const auto& [reason, count] : r.failures_by_reason)
    if (count != 0)
      out += fmt::format("{}<span class=\"reason\">{} {}{}</span>", out.empty() ? "" : " ", escape(reason), commas(count),
                         host_code_suffix(reason));
  return out;
}

std::string first_failure_text(const Result& r) {
  if (!r.first_failure) return "&ndash;";
  const FirstFailure& f = *r.first_failure;
  return fmt::format("<span{}>{} at event {}{}</span>", f.line ? fmt::format(" title=\"trace line {}\"", commas(*f.line)) : "",
                     escape(f.reason), commas(f.event), host_code_suffix(f.reason));
}

}  // namespace dartlab::sim::report
