// SPDX-License-Identifier: MIT
#include "sim/timed/params.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "base/size_text.hpp"
#include "base/join.hpp"

namespace dartlab::sim::timed {

namespace {

// Splits a number from its unit suffix: "20us" -> 20, "us".
bool number_and_suffix(std::string_view text, std::uint64_t& value, std::string_view& suffix) {
  std::size_t digits = 0;
  if (text.starts_with("0x") || text.starts_with("0X")) {
    digits = text.size();  // hex takes no suffix
  } else {
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  }
  suffix = text.substr(digits);
  return digits > 0 && dartlab::parse_count(text.substr(0, digits), value);
}

bool scale(std::uint64_t value, std::uint64_t factor, std::uint64_t& out) {
  if (value > std::numeric_limits<std::uint64_t>::max() / factor) return false;
  out = value * factor;
  return true;
}

}  // namespace

std::string time_text(std::uint64_t ps) {
  if (ps != 0 && ps % 1'000'000'000 == 0) return std::to_string(ps / 1'000'000'000) + "ms";
  if (ps != 0 && ps % 1'000'000 == 0) return std::to_string(ps / 1'000'000) + "us";
  if (ps % 1000 == 0) return std::to_string(ps / 1000) + "ns";
  return std::to_string(ps) + "ps";
}

const Param* find_param(std::span<const Param> table, std::string_view key) {
  for (const Param& p : table)
    if (p.key == key) return &p;
  return nullptr;
}

bool parse_param_value(const Param& p, std::string_view text, std::uint64_t& value, std::string& error) {
  bool ok = false;
  switch (p.unit) {
    case ParamUnit::Count:
    case ParamUnit::Mbps:
    case ParamUnit::GBps:
    case ParamUnit::Percent:
      ok = dartlab::parse_count(text, value);
      if (!ok) error = "not a count (decimal or 0x hex)";
      break;
    case ParamUnit::Bytes:
      ok = dartlab::parse_size(text, value);
      if (!ok) error = "not a size (decimal or 0x hex, optional suffix K, M or G)";
      break;
    case ParamUnit::Nanos:
    case ParamUnit::Picos: {
      std::uint64_t n = 0;
      std::string_view suffix;
      ok = number_and_suffix(text, n, suffix);
      std::uint64_t ps = 0;
      if (ok) {
        if (suffix.empty()) suffix = p.unit == ParamUnit::Nanos ? "ns" : "ps";
        if (suffix == "ps") ok = scale(n, 1, ps);
        else if (suffix == "ns") ok = scale(n, 1000, ps);
        else if (suffix == "us") ok = scale(n, 1'000'000, ps);
        else if (suffix == "ms") ok = scale(n, 1'000'000'000, ps);
        else if (suffix == "s") ok = scale(n, 1'000'000'000'000, ps);
        else ok = false;
      }
      if (ok && p.unit == ParamUnit::Nanos) {
        ok = ps % 1000 == 0;
        value = ps / 1000;
      } else {
        value = ps;
      }
      if (!ok) error = p.unit == ParamUnit::Nanos ? "not a time in whole ns (a number, optional suffix ns, us, ms or s)"
                                                  : "not a time (a number, optional suffix ps, ns, us, ms or s)";
      break;
    }
    case ParamUnit::Choice: {
      const auto it = std::find(p.choices.begin(), p.choices.end(), text);
      ok = it != p.choices.end();
      value = static_cast<std::uint64_t>(it - p.choices.begin());
      if (!ok) {
        error = "one of";
        for (const std::string_view c : p.choices) error += fmt::format(" {}", c);
      }
      break;
    }
  }
  if (ok && (value < p.min || value > p.max)) {
    error = "out of range (" + format_param_value(p, p.min) + " to " +
            (p.max == std::numeric_limits<std::uint64_t>::max() ? std::string("any") : format_param_value(p, p.max)) + ")";
    ok = false;
  }
  return ok;
}

std::string format_param_value(const Param& p, std::uint64_t value) {
  switch (p.unit) {
    case ParamUnit::Bytes: return dartlab::format_size(value);
    case ParamUnit::Nanos: return time_text(value * 1000);
    case ParamUnit::Picos: return time_text(value);
    case ParamUnit::Choice: return value < p.choices.size() ? std::string(p.choices[value]) : "?";
    default: return std::to_string(value);
  }
}

std::string apply_param(std::span<const Param> table, std::string_view item, void* config) {
  const std::size_t eq = item.find('=');
  if (eq == std::string_view::npos) return fmt::format("'{}' is not key=value", item);
  const std::string_view key = item.substr(0, eq);
  const Param* p = find_param(table, key);
  if (p == nullptr) {
    return "unknown key '" + std::string(key) + "' (known: " + join(table, ", ", &Param::key) + ")";
  }
  std::uint64_t value = 0;
  std::string error;
  if (!parse_param_value(*p, item.substr(eq + 1), value, error)) return std::string(item) + ": " + error;
  p->set(config, value);
  return {};
}

std::string param_differences(std::span<const Param> table, const void* config, const void* base) {
  std::string out;
  for (const Param& p : table) {
    const std::uint64_t v = p.get(config);
    if (v != p.get(base)) out += fmt::format(",{}={}", p.key, format_param_value(p, v));
  }
  return out;
}

std::string params_help(std::span<const Param> table, const void* defaults) {
  std::size_t width = 0;
  for (const Param& p : table) width = std::max(width, p.key.size());
  std::string out;
  for (const Param& p : table) {
    out += "  " + std::string(p.key) + std::string(width - p.key.size() + 2, ' ') + std::string(p.help);
    if (defaults != nullptr) out += " [" + format_param_value(p, p.get(defaults)) + "]";
    out += "\n";
  }
  return out;
}

bool split_items(std::string_view spec, std::string_view& first, std::string_view& rest) {
  const std::size_t comma = spec.find(',');
  first = spec.substr(0, comma);
  rest = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
  return !first.empty() && !(comma != std::string_view::npos && rest.empty());
}

}  // namespace dartlab::sim::timed
