// SPDX-License-Identifier: MIT
#include "traces/apple_dma_csv/csv_row.hpp"

#include <string>

namespace dartlab::trace::apple_dma_csv {
namespace {

using line_import::is_digit;
using line_import::Num;
bool is_op(char c) { return c == 'M' || c == 'S' || c == 'U' || c == 'T' || c == 'F'; }

constexpr std::string_view kColumns[] = {"timestamp_ns", "op", "gpa_hex", "size", "active_maps", "active_bytes"};

}  // namespace

LineKind split_line(std::string_view line, Row& row, PayloadError& error) {
  const char* p = line.data();
  const char* const e = p + line.size();
  while (p != e && (*p == ' ' || *p == '\t')) ++p;
  if (p == e) return LineKind::Blank;
  auto bad = [&](const char* at, std::string message) {
    error.at = at;
    error.message = std::move(message);
    return LineKind::Bad;
  };
  if (!is_digit(*p)) {
    const std::string_view rest(p, static_cast<std::size_t>(e - p));
    if (rest == kHeader) return LineKind::Header;
    if (rest.starts_with("timestamp_ns,"))
      return bad(p, "the header " + quoted(rest) + " is not '" + std::string(kHeader) + "' (another version of the module?)");
    return LineKind::Other;
  }
  // Column by column; `at` is where the column starts, for messages.
  std::size_t column = 0;
  auto end_of_field = [&](const char* q) {
    if (column + 1 < std::size(kColumns)) return q != e && *q == ',';
    return q == e;
  };
  auto field_error = [&](const char* at, std::string_view expected) {
    const char* stop = at;
    while (stop != e && *stop != ',') ++stop;
    return bad(at, std::string(kColumns[column]) + " must be " + std::string(expected) + ", got " +
                       quoted({at, static_cast<std::size_t>(stop - at)}));
  };
  // Decimal digits that fit in `max`; past the field and its comma.
  auto decimal = [&](std::uint64_t& v, std::uint64_t max, std::string_view expected) {
    const char* at = p;
    std::uint64_t x = 0;
    if (line_import::dec_run(p, e, x) != Num::Ok || x > max || !end_of_field(p)) {
      field_error(at, expected);
      return false;
    }
    v = x;
    if (p != e) ++p;
    ++column;
    return true;
  };
  row = {};
  if (!decimal(row.time_ns, UINT64_MAX, "a decimal count of nanoseconds (%llu)")) return LineKind::Bad;
  if (p == e || !is_op(*p) || !end_of_field(p + 1)) return field_error(p, "M, S, U, T or F");
  row.op = static_cast<Op>(*p);
  p += 2;
  ++column;
  {
    const char* at = p;
    if (e - p < 2 || p[0] != '0' || p[1] != 'x') return field_error(at, "0x and hex digits (0x%llx)");
    p += 2;
    std::uint64_t x = 0;  // zero-padded beyond 16 digits still fits
    if (line_import::hex_run(p, e, x) != Num::Ok || !end_of_field(p)) return field_error(at, "0x and at most 16 hex digits (0x%llx)");
    row.gpa = x;
    ++p;
    ++column;
  }
  // %u in the seed module, %llu in dartlab's (passthrough/guest): any 64-bit count is read.
  if (!decimal(row.size_bytes, UINT64_MAX, "a decimal number of bytes")) return LineKind::Bad;
  if (!decimal(row.active_maps, UINT32_MAX, "a decimal count below 2^32 (%u)")) return LineKind::Bad;
  if (!decimal(row.active_bytes, UINT64_MAX, "a decimal number of bytes (%llu)")) return LineKind::Bad;
  return LineKind::Row;
}

bool looks_like_row_or_header(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos) return false;
  line.remove_prefix(first);
  if (line.starts_with("timestamp_ns,op,")) return true;
  std::size_t i = 0;
  while (i < line.size() && is_digit(line[i])) ++i;
  return i != 0 && line.substr(i).size() >= 5 && line[i] == ',' && is_op(line[i + 1]) && line.substr(i + 2, 3) == ",0x";
}

}  // namespace dartlab::trace::apple_dma_csv
