// SPDX-License-Identifier: MIT
// Bytes from a trace, made safe to print in a message, a note or JSON: a hostile file may hold
// terminal escapes (ESC), NULs or bytes that are not UTF-8 (which nlohmann::json refuses to dump).
#pragma once

#include <string>
#include <string_view>

namespace dartlab::trace {

// `bytes` with every byte outside printable ASCII (0x20..0x7e) written as \xNN. A backslash stays
// as it is, so that escaping twice changes nothing: an escaped text is all printable already.
std::string printable(std::string_view bytes);

// True when every byte of `bytes` is printable ASCII (printable() would change nothing).
bool is_printable(std::string_view bytes);

// For messages: `s` escaped and in quotes, cut after 60 bytes ("...": a garbage field can be a
// megabyte long).
std::string quoted(std::string_view s);

}  // namespace dartlab::trace
