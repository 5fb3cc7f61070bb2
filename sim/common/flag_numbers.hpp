// SPDX-License-Identifier: MIT
// Numbers as command-line flags take them, checked: every count, size, seed and duration goes
// through here, so that "-1" is refused instead of read as 2^64 - 1, and a value past what the
// flag's variable holds is refused instead of wrapped. Messages name the flag and the value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dartlab::sim {

enum class FlagNumber : std::uint8_t {
  Count,  // decimal or 0x hex: "4096", "0x1000"
  Size,   // a count with an optional binary suffix K, M, G or T: "64K"
};

// `text` as a whole number within [min, max]. Empty on success (value set), else the message:
// "--events: '-1': a count takes no sign".
std::string parse_flag_number(std::string_view flag, std::string_view text, FlagNumber kind, std::uint64_t min,
                              std::uint64_t max, std::uint64_t& value);

// `text` as a finite decimal >= 0 ("2.5", "10"), for durations and fractions. Empty on
// success, else the message.
std::string parse_flag_decimal(std::string_view flag, std::string_view text, double& value);

}  // namespace dartlab::sim
