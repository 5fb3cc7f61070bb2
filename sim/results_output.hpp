// Replay results for people (a table) and for programs (JSON, CSV).
#pragma once

#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sim/replay_file.hpp"

namespace dartlab::sim {

// {"results":[{"trace","policy","dart","events","requests","peak_mappings",...}]}
nlohmann::ordered_json results_json(std::span<const TraceOutcome> outcomes);

// A run's time series, columnar: {"event":[..],"live_mappings":[..],"mapped_bytes":[..],
// "requested_bytes":[..],"frag_index":[..]}.
nlohmann::ordered_json series_json(std::span<const SeriesPoint> points);

// One header line and a row per (trace, configuration).
std::string results_csv(std::span<const TraceOutcome> outcomes);

// An aligned table with sizes in human units, limits marked.
void print_results_table(std::FILE* out, std::span<const TraceOutcome> outcomes);

// Reader notes (input skipped or read specially, e.g. by the ftrace importer): as JSON
// [{"what","count","first_lines"}], and as indented lines for people.
nlohmann::ordered_json notes_json(std::span<const trace::ReaderNote> notes);
void print_notes(std::FILE* out, std::span<const trace::ReaderNote> notes, std::string_view indent);

// "1.50 GiB", "256.0 KiB", "812 B".
std::string human_bytes(std::uint64_t bytes);

// Writes text to path ("-" = stdout) and checks every byte reached the file. Returns an error
// message, or empty on success.
std::string write_output(const std::string& path, const std::string& text);

}  // namespace dartlab::sim
