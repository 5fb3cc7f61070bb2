// SPDX-License-Identifier: MIT
// Sizes and counts as people write them in spec strings: "1536M", "0x4000", "256K".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dartlab {

// Decimal or 0x-hex, no sign, no suffix. False on anything else, including overflow.
bool parse_count(std::string_view text, std::uint64_t& value);

// A count with an optional binary suffix K, M, G or T (either case): "256K" = 262144.
// False on anything else, including overflow.
bool parse_size(std::string_view text, std::uint64_t& bytes);

// The shortest exact form: "16K", "1536M", "4T", or plain decimal when no suffix divides.
std::string format_size(std::uint64_t bytes);

}  // namespace dartlab
