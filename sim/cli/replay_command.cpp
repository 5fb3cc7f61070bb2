// SPDX-License-Identifier: MIT
// `dartlab replay`: every policy x DART configuration over each trace, in one streamed pass.
#include <memory>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "models/dart/dart_config.hpp"
#include "passthrough/mapper/policy.hpp"
#include "sim/cli/cli.hpp"
#include "sim/cli/timed_flags.hpp"
#include "sim/common/atomic_file.hpp"
#include "sim/replay/results_output.hpp"

namespace dartlab::cli {
namespace {

struct ReplayArgs {
  std::vector<std::string> traces;
  std::vector<std::string> policies;
  std::vector<std::string> darts;
  InputFlags input;
  TimedFlags timed;
  std::string json_path;
  std::string csv_path;
  bool lenient = false;
  bool quiet = false;
};

int run_replay(const ReplayArgs& args) {
  if (const int rc = check_outputs("dartlab replay", {{"--json", args.json_path}, {"--csv", args.csv_path}}); rc != kExitOk)
    return rc;
  if (const int rc = check_inputs(args.traces, "dartlab replay"); rc != kExitOk) return rc;
  if (args.timed.timed) {
    if (!args.csv_path.empty()) {
      fmt::print(stderr, "dartlab replay: --csv is not available with --timed (use --json)\n");
      return kExitUsage;
    }
    return run_timed_replay(args.traces, args.policies, args.darts, args.timed, args.input.options(), args.lenient,
                            args.json_path, args.quiet);
  }
  std::vector<sim::RunConfig> runs;
  std::vector<std::string> darts = args.darts.empty() ? std::vector<std::string>{""} : args.darts;
  for (const std::string& dart_spec : darts) {
    auto dart = dart::parse_dart_spec(dart_spec);
    if (const auto* err = std::get_if<std::string>(&dart)) {
      fmt::print(stderr, "dartlab replay: --dart '{}': {}\n", dart_spec, *err);
      return kExitUsage;
    }
    for (const std::string& policy_spec : args.policies) {
      auto policy = mapper::parse_policy(policy_spec);
      if (const auto* err = std::get_if<std::string>(&policy)) {
        fmt::print(stderr, "dartlab replay: --policy: {}\n", *err);
        return kExitUsage;
      }
      runs.push_back({std::get<mapper::Policy>(policy), std::get<dart::DartConfig>(dart)});
    }
  }
  if (runs.size() > sim::Replay::kMaxRuns) {
    fmt::print(stderr, "dartlab replay: {} policy x dart combinations; at most {} at once\n", runs.size(),
               sim::Replay::kMaxRuns);
    return kExitUsage;
  }

  std::vector<sim::TraceOutcome> outcomes;
  ProgressLine progress(!args.quiet);
  for (const std::string& path : args.traces) {
    auto outcome = sim::replay_file(
        path, runs, sim::ReplayOptions{.lenient = args.lenient, .series_points = sim::Series::kDefaultPoints},
        [&](std::uint64_t bytes, std::uint64_t total, std::uint64_t events) { progress.update(path, bytes, total, events); },
        args.input.options());
    progress.done();
    if (const auto* err = std::get_if<std::string>(&outcome)) {
      fmt::print(stderr, "{}\n", *err);
      return kExitTrace;
    }
    outcomes.push_back(std::move(std::get<sim::TraceOutcome>(outcome)));
  }

  const bool json_to_stdout = args.json_path == "-";
  const bool csv_to_stdout = args.csv_path == "-";
  if (!args.quiet && !json_to_stdout && !csv_to_stdout) sim::print_results_table(stdout, outcomes);
  if (!args.json_path.empty()) {
    const std::string err = sim::write_output(args.json_path, sim::results_json(outcomes).dump(2) + "\n");
    if (!err.empty()) {
      fmt::print(stderr, "dartlab replay: --json: {}\n", err);
      return kExitUsage;
    }
  }
  if (!args.csv_path.empty()) {
    const std::string err = sim::write_output(args.csv_path, sim::results_csv(outcomes));
    if (!err.empty()) {
      fmt::print(stderr, "dartlab replay: --csv: {}\n", err);
      return kExitUsage;
    }
  }
  return kExitOk;
}

}  // namespace

Command add_replay_command(CLI::App& app) {
  auto args = std::make_shared<ReplayArgs>();
  CLI::App* cmd = app.add_subcommand(
      "replay", "Replay traces under every policy (and DART config) and report mappings, bytes and failures");
  cmd->add_option("traces", args->traces,
                  "traces: dartlab text (v1) or binary, or imported on the fly: Linux ftrace text, a QEMU log of "
                  "apple-dma-pci trace events, the apple_dma module's debugfs CSV (gzip or zstd files too); '-' "
                  "reads standard input")
      ->required();
  cmd->add_option("-p,--policy", args->policies, "clustering policy, repeatable (see below)")
      ->default_val(std::vector<std::string>{"window:256K"});
  cmd->add_option("-d,--dart", args->darts,
                  "DART / host service config, repeatable, e.g. aperture=1536M,slots=65536,page=16K,"
                  "alloc=first-fit (default: those); with --timed also a bare t8020 / t8110 and the timed keys");
  args->input.add_to(*cmd);
  args->timed.add_to(*cmd, true);
  cmd->add_option("--json", args->json_path, "write results as JSON to FILE ('-' for stdout)");
  cmd->add_option("--csv", args->csv_path, "write results as CSV to FILE ('-' for stdout)");
  cmd->add_flag("--lenient", args->lenient,
                "count trace inconsistencies (unknown or double unmap, zero length, overflow) as "
                "warnings and skip them, instead of stopping with exit code 2");
  cmd->add_flag("-q,--quiet", args->quiet, "no table, no progress line");
  cmd->footer(std::string(mapper::policy_help()) +
              "\n" + std::string(dart::dart_spec_help()) +
              "\nExit codes: 0 ok; 1 bad usage, a missing input, or an output error; 2 a malformed or inconsistent\n"
              "trace, or one that yields no event because everything in it was skipped (the message says what).\n"
              "A map the DART refuses is a result, not an error: it is counted by reason.\n" +
              sim::timed::timed_help());
  return {cmd, [args] { return run_replay(*args); }};
}

}  // namespace dartlab::cli
