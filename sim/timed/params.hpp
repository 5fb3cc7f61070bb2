// SPDX-License-Identifier: MIT
// Parameters as data: one table row per parameter (its key in a spec string, unit, meaning,
// accessor), so that a spec like "tb3,mps=256,dp=17280" is parsed, printed back and listed in
// --help from the same rows. Every numeric parameter of the timed models is reachable this way.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace dartlab::sim::timed {

enum class ParamUnit : std::uint8_t {
  Count,    // decimal or 0x hex
  Bytes,    // a size with optional K, M, G suffix
  Nanos,    // a time, ns unless suffixed ps, ns, us, ms or s
  Picos,    // a time, ps unless suffixed
  Mbps,     // megabits a second
  GBps,     // gigabytes a second
  Percent,  // 0 to 100
  Choice,   // one of `choices`, stored as its index
};

struct Param {
  std::string_view key;
  ParamUnit unit;
  std::uint64_t (*get)(const void* config);
  void (*set)(void* config, std::uint64_t value);
  std::string_view help;  // what it is, and where its default comes from
  std::span<const std::string_view> choices = {};
  std::uint64_t min = 0;
  std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
};

namespace detail {
template <class M>
struct MemberOf;
template <class C, class T>
struct MemberOf<T C::*> {
  using Owner = C;
  using Type = T;
};
template <auto M>
struct Field {
  using Owner = typename MemberOf<decltype(M)>::Owner;
  using Type = typename MemberOf<decltype(M)>::Type;
  static std::uint64_t get(const void* c) { return static_cast<std::uint64_t>(static_cast<const Owner*>(c)->*M); }
  static void set(void* c, std::uint64_t v) { static_cast<Owner*>(c)->*M = static_cast<Type>(v); }
};
template <auto Outer, auto Inner>
struct NestedField {
  using Owner = typename MemberOf<decltype(Outer)>::Owner;
  using Type = typename MemberOf<decltype(Inner)>::Type;
  static std::uint64_t get(const void* c) {
    return static_cast<std::uint64_t>((static_cast<const Owner*>(c)->*Outer).*Inner);
  }
  static void set(void* c, std::uint64_t v) { (static_cast<Owner*>(c)->*Outer).*Inner = static_cast<Type>(v); }
};
// The smaller of max and the largest value a field of type T holds (enums: their choices bound them).
template <class T>
constexpr std::uint64_t held_max(std::uint64_t max) {
  if constexpr (std::is_integral_v<T>) return std::min<std::uint64_t>(max, std::numeric_limits<T>::max());
  return max;
}
}  // namespace detail

// A row for config.*M, or for config.*Outer.*Inner. The largest value is at most what the field
// holds: a spec value past it is refused, never wrapped into a narrower field.
template <auto M>
constexpr Param param(std::string_view key, ParamUnit unit, std::string_view help, std::uint64_t min = 0,
                      std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  return Param{key, unit, &detail::Field<M>::get, &detail::Field<M>::set, help, {}, min,
               detail::held_max<typename detail::Field<M>::Type>(max)};
}
template <auto Outer, auto Inner>
constexpr Param nested_param(std::string_view key, ParamUnit unit, std::string_view help, std::uint64_t min = 0,
                             std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  return Param{key, unit, &detail::NestedField<Outer, Inner>::get, &detail::NestedField<Outer, Inner>::set, help,
               {}, min, detail::held_max<typename detail::NestedField<Outer, Inner>::Type>(max)};
}
constexpr Param with_choices(Param p, std::span<const std::string_view> choices) {
  p.unit = ParamUnit::Choice;
  p.choices = choices;
  p.max = choices.size() - 1;
  return p;
}

const Param* find_param(std::span<const Param> table, std::string_view key);
// Parses `text` in p's unit; false with `error` set ("not a size ...") when it does not.
bool parse_param_value(const Param& p, std::string_view text, std::uint64_t& value, std::string& error);
std::string format_param_value(const Param& p, std::uint64_t value);
// A time as spec strings write it, in the largest unit that divides it: "100us", "1000ms", "250ps".
std::string time_text(std::uint64_t ps);

// Applies one "key=value" onto config; returns the error ("" if none).
std::string apply_param(std::span<const Param> table, std::string_view item, void* config);
// Items that differ between two configs, as ",key=value..." (for canonical specs).
std::string param_differences(std::span<const Param> table, const void* config, const void* base);
// Help lines: "  key=VALUE  meaning (default D)", one per row.
std::string params_help(std::span<const Param> table, const void* defaults);
// Splits "a,b,c" into items; false on an empty item.
bool split_items(std::string_view spec, std::string_view& first, std::string_view& rest);

}  // namespace dartlab::sim::timed
