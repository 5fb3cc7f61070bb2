// SPDX-License-Identifier: MIT
// `dartlab merge`: joins the --json outputs of a sweep's shards into the whole sweep's results.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "sim/cli/cli.hpp"
#include "sim/sweep/merge.hpp"

namespace dartlab::cli {
namespace {

struct MergeArgs {
  std::vector<std::string> inputs;
  std::string json_path;
  std::string csv_path;
  bool quiet = false;
};

int run_merge(const MergeArgs& args) {
  if (const int rc = check_outputs("dartlab merge", {{"--json", args.json_path}, {"--csv", args.csv_path}}); rc != kExitOk)
    return rc;
  std::vector<sim::SweepShardFile> shards;
  for (const std::string& path : args.inputs) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      fmt::print(stderr, "dartlab merge: {}: cannot open: {}\n", path, std::strerror(errno));
      return kExitUsage;
    }
    std::ostringstream text;
    text << in.rdbuf();
    try {
      shards.push_back({path, nlohmann::ordered_json::parse(text.str())});
    } catch (const nlohmann::ordered_json::exception& e) {
      fmt::print(stderr, "dartlab merge: {}: not JSON: {}\n", path, e.what());
      return kExitUsage;
    }
  }
  auto merged = sim::merge_sweep_shards(shards);
  if (const auto* err = std::get_if<std::string>(&merged)) {
    fmt::print(stderr, "dartlab merge: {}\n", *err);
    return kExitUsage;
  }
  return write_sweep_outputs(std::get<nlohmann::ordered_json>(merged), args.json_path, args.csv_path, args.quiet,
                             "dartlab merge");
}

}  // namespace

Command add_merge_command(CLI::App& app) {
  auto args = std::make_shared<MergeArgs>();
  CLI::App* cmd = app.add_subcommand("merge", "Join the --json outputs of a sweep's shards into the whole sweep's results");
  cmd->add_option("shards", args->inputs, "the shards' JSON files (`dartlab sweep CONFIG --shard I/N --json FILE`)")
      ->required();
  cmd->add_option("--json", args->json_path, "write the merged results as JSON to FILE ('-' for stdout)");
  cmd->add_option("--csv", args->csv_path, "write the merged results as CSV to FILE ('-' for stdout)");
  cmd->add_flag("-q,--quiet", args->quiet, "no table");
  cmd->footer(R"(Checks that the inputs belong together: one sweep (the same name and hash of its expanded
points), shards of one split (the same N, each shard once), every point exactly once and in the
shard that holds it, and each trace read the same by every shard (same events, warnings, notes).
Errors name the files and the missing or duplicate points.

The output is what the unsharded `dartlab sweep` writes, byte for byte up to "timing" (JSON) and
entirely (CSV), with the Pareto frontier computed over all points; timing.runs lists each
shard's run (host, threads, seconds).
Exit codes: 0 ok; 1 bad usage, an input that is not a shard of the sweep, or an output error.
)");
  return {cmd, [args] { return run_merge(*args); }};
}

}  // namespace dartlab::cli
