// SPDX-License-Identifier: MIT
// One line of the apple_dma guest module's debugfs `trace` file: the CSV header
// "timestamp_ns,op,gpa_hex,size,active_maps,active_bytes" or a row "%llu,%c,0x%llx,%u,%u,%llu".
// Format and sources: traces/apple_dma_csv/IMPORT.md.
#pragma once

#include <cstdint>
#include <string_view>

#include "traces/line_import/fields.hpp"

namespace dartlab::trace::apple_dma_csv {

using line_import::PayloadError;

inline constexpr std::string_view kHeader = "timestamp_ns,op,gpa_hex,size,active_maps,active_bytes";

// The module's ops: M map_page / map_phys / alloc / alloc_pages, S one mapped sg segment,
// U unmap_page, T one unmapped sg segment, F free / free_pages.
enum class Op : char { Map = 'M', SgSegment = 'S', Unmap = 'U', SgUnmap = 'T', Free = 'F' };

constexpr bool is_map_op(Op op) { return op == Op::Map || op == Op::SgSegment; }

struct Row {
  std::uint64_t time_ns = 0;
  Op op = Op::Map;
  std::uint64_t gpa = 0;
  std::uint64_t size_bytes = 0;    // %u in the seed module, %llu in dartlab's
  std::uint64_t active_maps = 0;   // %u: the module's live requests after the op
  std::uint64_t active_bytes = 0;  // %llu: their bytes
};

enum class LineKind : std::uint8_t {
  Row,     // `row` is filled in
  Header,  // the header line
  Blank,
  Bad,     // a row (it starts with a digit) or a header that is not one: `error` says what and where
  Other,   // anything else (a shell prompt, the snapshot file, ...)
};

LineKind split_line(std::string_view line, Row& row, PayloadError& error);

// True when `line` is the header or starts like a row ("DIGITS,OP,0x"), for sniffing: a line cut
// at the end of the sniffed bytes still counts.
bool looks_like_row_or_header(std::string_view line);

}  // namespace dartlab::trace::apple_dma_csv
