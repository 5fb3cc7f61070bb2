// SPDX-License-Identifier: MIT
// The pieces of the `dartlab` command: one function per subcommand that adds it to the CLI11
// app and returns what runs it, plus what the subcommands share.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "sim/replay/replay_file.hpp"
#include "traces/gen/generator.hpp"
#include "traces/trace_writer.hpp"

namespace dartlab::cli {

// Exit codes: 0 ok, 1 bad usage or I/O, 2 a trace is malformed or inconsistent, 3 internal error,
// 4 a stress soak found a failure.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitTrace = 2;
inline constexpr int kExitInternal = 3;
// `dartlab stress` found what it was looking for: a map refused within the bound.
inline constexpr int kExitStressFailure = 4;

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;  // called once the command line has parsed, if this command was given
};

Command add_replay_command(CLI::App& app);
// command_line: the whole command as typed, recorded in the trace so it can be made again.
Command add_gen_command(CLI::App& app, std::string command_line);
Command add_stats_command(CLI::App& app);
Command add_convert_command(CLI::App& app, std::string command_line);
Command add_bandwidth_command(CLI::App& app);
Command add_report_command(CLI::App& app);
Command add_stress_command(CLI::App& app, std::string command_line);
Command add_sweep_command(CLI::App& app);
Command add_merge_command(CLI::App& app);

// Every workload generator parameter as --FLAG (trace::gen::gen_knobs), bound to its field in
// `params`; sizes take K/M/G/T suffixes. For gen and stress.
void add_gen_knobs(CLI::App& app, trace::gen::GenParams& params);

// Numeric flags, checked (sim/common/flag_numbers.hpp): a sign, a fraction, or a value past the range (or
// past what `target` holds) is a usage error naming the flag and the value. `names` as CLI11
// takes them ("-n,--events").
// SIZE: decimal or 0x-hex with an optional K/M/G/T suffix.
CLI::Option* add_size_option(CLI::App& app, const std::string& names, std::uint64_t& target, const std::string& help,
                             std::uint64_t min = 0);
// N: decimal or 0x-hex; T is std::uint64_t or std::uint32_t.
template <class T>
CLI::Option* add_count_option(CLI::App& app, const std::string& names, T& target, const std::string& help,
                              std::uint64_t min = 0, std::uint64_t max = ~std::uint64_t{0});
// X: a finite decimal >= 0, for durations in seconds and fractions.
CLI::Option* add_decimal_option(CLI::App& app, const std::string& names, double& target, const std::string& help);

// A sweep's document as sweep and merge write it: a table on stdout unless quiet or an output
// goes there, --json and --csv files written atomically. Returns the exit code, having printed
// any error as "PREFIX: --json: MESSAGE".
int write_sweep_outputs(const nlohmann::ordered_json& doc, const std::string& json_path, const std::string& csv_path,
                        bool quiet, const std::string& prefix);

// A command's output files, checked before it starts any work (a long replay, sweep or soak must
// not end in "cannot open"): each path writable, no two naming the same file, at most one on
// standard output. Empty paths (not asked for) are skipped. Returns kExitOk, or kExitUsage
// having printed "PREFIX: --json: cannot write ..." or "PREFIX: --json and --csv both ...".
struct OutputPath {
  std::string flag;  // "--json"
  std::string path;
};
int check_outputs(const std::string& prefix, std::initializer_list<OutputPath> outputs);

// --format, --device and --level, for every command that reads traces.
struct InputFlags {
  std::string format = "auto";
  std::string device;
  std::string level = "guest";
  void add_to(CLI::App& app);
  sim::InputOptions options() const;  // after parsing, which has checked the words
};

// Before a long run: every input path opens for reading, and standard input ('-') is named at
// most once. Otherwise prints "PREFIX: PATH: WHY" and returns kExitUsage; else kExitOk.
int check_inputs(const std::vector<std::string>& paths, const std::string& prefix);

// --to and --zstd, for every command that writes traces.
struct OutputFlags {
  std::string to = "auto";
  bool zstd = false;
  void add_to(CLI::App& app);
  // Text or Binary: --to, else binary for a path ending in ".dlt" or with --zstd, else text.
  trace::TraceFormat format_for(const std::string& path) const;
  trace::WriterOptions options() const { return {.zstd = zstd}; }
};

// Writes a whole trace to `path` ("-": stdout) atomically: `produce` gets the writer and
// returns an exit code; nothing is committed unless it returns kExitOk and every write
// succeeded. Returns the exit code, having printed any error as "PREFIX: MESSAGE".
int write_trace(const std::string& path, const OutputFlags& flags, const std::string& prefix,
                const std::function<int(trace::TraceWriter&)>& produce);

// A progress line on stderr, only when stderr is a terminal, at most a few times a second.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled);
  void update(const std::string& what, std::uint64_t bytes, std::uint64_t total, std::uint64_t events);
  // Any one-line text, e.g. a bar with an ETA.
  void show(const std::string& line);
  void update(const std::string& text);  // any other progress, said in a few words
  void done();

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace dartlab::cli
