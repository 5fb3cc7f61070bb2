// SPDX-License-Identifier: MIT
// Replay results for people (a table) and for programs (JSON, CSV).
#pragma once

#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/replay/replay_file.hpp"

namespace dartlab::sim {

// {"results":[{"trace","policy","dart","events","requests","peak_mappings",...}]}
nlohmann::ordered_json results_json(std::span<const TraceOutcome> outcomes);

// A run's time series, columnar: {"event":[..],"live_mappings":[..],"mapped_bytes":[..],
// "requested_bytes":[..],"frag_index":[..]}.
nlohmann::ordered_json series_json(std::span<const SeriesPoint> points);

// Results as CSV, one schema for `replay --csv`, `sweep --csv` and `merge --csv`: a header, then
// a row per result of results_json's form. Columns: `lead` (the sweep's "point", "pareto"), then
// every scalar field of a result in results_json's order, objects flattened to NAME_KEY
// (failures_by_reason_slots, first_failure_event, limits_slots), with a params_NAME column per
// name in `params` after "dart"; series and wall_seconds left out. Absent or null cells are empty.
std::string results_csv(const nlohmann::ordered_json& results, std::span<const std::string> lead,
                        std::span<const std::string> params);
// What replay writes: results_csv of results_json(outcomes), no lead, no params.
std::string results_csv(std::span<const TraceOutcome> outcomes);
// The result columns of that schema, in order (lead and params aside).
std::vector<std::string> result_csv_columns();

// An aligned table with sizes in human units, limits marked.
void print_results_table(std::FILE* out, std::span<const TraceOutcome> outcomes);

// Reader notes (input skipped or read specially, e.g. by the ftrace importer): as JSON
// [{"what","count","first_lines"}], and as indented lines for people.
nlohmann::ordered_json notes_json(std::span<const trace::ReaderNote> notes);
void print_notes(std::FILE* out, std::span<const trace::ReaderNote> notes, std::string_view indent);

// The process's peak resident set so far.
std::uint64_t peak_rss_bytes();

// A first refusal for people: "slots at event 2839 (kIOReturnNoSpace)", the host's name last
// when it has one (dartlab::host_return_code).
std::string failure_text(std::string_view reason, std::uint64_t event, std::string_view host_code);

}  // namespace dartlab::sim
