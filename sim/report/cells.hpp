// SPDX-License-Identifier: MIT
// The small pieces of HTML and text every section of the report builds from: numbers with
// thousands separators, colour swatches, DART letters and specs, gauges against a limit, and
// the refusals of a result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "sim/report/input.hpp"
#include "sim/report/svg.hpp"

namespace dartlab::sim::report {

// Tableau 10: distinct hues that stay apart for the common colour-vision deficiencies.
inline constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
inline constexpr std::size_t kPaletteSize = std::size(kPalette);

// "1,234,567".
std::string commas(std::uint64_t v);
// A short line in the style's colour and dash, for legends and table rows.
std::string swatch(const svg::Style& s);
// The file name of a path.
std::string basename(const std::string& path);
// A spec's comma-separated items ("" gives one empty item).
std::vector<std::string> split_items(const std::string& spec);
// A DART spec that may break after its commas in a narrow cell.
std::string breakable_spec(const std::string& spec);
// DARTs of one trace are told apart by letter in labels (A..Z, then numbers), by dash in lines.
std::string dart_letter(std::size_t index);
// A number and a bar of its share of a limit, red when at or past it.
std::string gauge(const std::string& text, double value, double limit, const std::string& limit_text);
// A count's cell, or a dash when the input did not carry it.
std::string optional_count_cell(const std::optional<std::uint64_t>& v);
// Every reason a result's maps were refused for, with counts and the host's names.
std::string reasons_text(const Result& r);
// The first refusal: reason, event and the host's name; the trace line on hover.
std::string first_failure_text(const Result& r);

}  // namespace dartlab::sim::report
