// SPDX-License-Identifier: MIT
// The words and limits of the dartlab text trace, v1 (see traces/FORMAT.md).
// Reader and writer both spell the format from here, so they cannot drift apart.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "traces/event.hpp"

namespace dartlab::trace::text {

inline constexpr std::string_view kMagic = "dartlab-trace";
inline constexpr std::string_view kVersion = "v1";
inline constexpr std::string_view kHeader = "dartlab-trace v1";

// Linux caps a scatterlist far lower in practice; 4096 keeps one line well under kMaxLineBytes.
inline constexpr std::size_t kMaxSegments = 4096;
// Event::device is 16 bits wide.
inline constexpr std::size_t kMaxDevices = 65535;
// A longer line is treated as corrupt input, not buffered without bound.
inline constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;
// read(2) size: large enough that syscalls vanish from the profile, small enough for L2/L3.
inline constexpr std::size_t kBlockBytes = std::size_t{64} << 10;

// The optional last field of map, map_sg and alloc: the bus-address alignment the driver wanted.
inline constexpr std::string_view kAlignKey = "align=";

// What a DEVICE name is made of.
constexpr bool is_device_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '.' ||
         c == '_' || c == '-';
}

// Keywords, indexed by the enum's value.
inline constexpr std::array<std::string_view, kEventKindCount> kKindKeywords = {
    "map", "unmap", "map_sg", "unmap_sg", "alloc", "free", "access"};
inline constexpr std::array<std::string_view, 3> kDirKeywords = {"bidi", "to_dev", "from_dev"};

// The fields after each keyword, as error messages and FORMAT.md name them.
inline constexpr std::array<std::string_view, kEventKindCount> kKindFields = {
    "ID DEVICE GPA LEN DIR [align=SIZE]",                // map
    "ID",                                                // unmap
    "ID DEVICE DIR GPA:LEN [GPA:LEN ...] [align=SIZE]",  // map_sg
    "ID",                                                // unmap_sg
    "ID DEVICE GPA LEN [align=SIZE]",                    // alloc
    "ID",                              // free
    "ID GPA LEN DIR",                  // access
};

constexpr std::string_view keyword(EventKind k) { return kKindKeywords[static_cast<std::size_t>(k)]; }
constexpr std::string_view keyword(Direction d) { return kDirKeywords[static_cast<std::size_t>(d)]; }
constexpr std::string_view fields(EventKind k) { return kKindFields[static_cast<std::size_t>(k)]; }

}  // namespace dartlab::trace::text
