// SPDX-License-Identifier: MIT
// A stress soak's report, for people (the verdict, the DART's state, the fragmentation curve, the
// shrink's narrative) and for programs (JSON). The command decides where it goes and when; what
// it says is written here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/stress/shrink.hpp"
#include "sim/stress/stress.hpp"

namespace dartlab::sim {

// What the report says of the soak beside its result.
struct StressRun {
  std::string policy;  // canonical specs
  std::string dart;
  std::string source_name;        // for people: the profile, or "PATH looped (jitter J, leftovers L)"
  nlohmann::ordered_json source;  // for programs: {"profile"}, or {"trace","jitter_bytes","leftovers"}
  std::uint64_t seed = 0;
  StressLimits limits;
  std::string reproduce;  // the command that runs the same soak again to the same end
};

// A shrunk failure, written to `output` and replayed from there.
struct ShrinkReport {
  ShrinkResult result;
  std::string output;
  std::uint64_t replay_fail_event = 0;  // where `dartlab replay` of the written file fails
  std::uint64_t history_bytes = 0;      // what the history held to shrink from
};

// Single-quoted for a POSIX shell when it holds anything but plain path characters.
std::string shell_word(const std::string& s);

// The source line (unless quiet), the verdict, the DART's state and the curve (unless quiet),
// and the reproduce line, always.
void print_stress_verdict(std::FILE* out, const StressRun& run, const StressResult& r, bool quiet);

// Before shrinking: how much history there is to shrink, and the time cap.
void print_shrink_start(std::FILE* out, std::size_t history_events, std::uint64_t history_bytes, double max_seconds);
// After: from how much to how little, how, and whether it is 1-minimal (always said when not).
void print_shrink_result(std::FILE* out, const ShrinkResult& s, bool quiet, double max_seconds);
// The comments the shrunk trace opens with: what fails, how, and the soak it came from.
std::vector<std::string> shrunk_trace_comments(const StressRun& run, const StressResult& r, const ShrinkResult& s);
// After writing and replaying the shrunk trace: where it is, where it fails, its lines (unless
// quiet) and the replay command that shows it failing.
void print_shrink_written(std::FILE* out, const StressRun& run, const StressResult& r, const ShrinkReport& shrunk,
                          bool quiet);

// {"policy","dart","source","seed","limits","events",...,"failure","final_dart","fragmentation",
// "reproduce","shrink"}; shrink null when `shrunk` is.
nlohmann::ordered_json stress_json(const StressRun& run, const StressResult& r, const ShrinkReport* shrunk);

}  // namespace dartlab::sim
