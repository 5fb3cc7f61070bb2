// SPDX-License-Identifier: MIT
// The timed mode's command-line flags, shared by `dartlab replay --timed` and `dartlab bandwidth`:
// --link, --dart (given by the caller's own option), --host, --mode, and for replays --timed and
// --access; plus the help that lists every preset and parameter, and the whole timed replay as
// the replay command runs it.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <CLI/CLI.hpp>

#include "sim/replay_file.hpp"
#include "sim/timed/timed_config.hpp"

namespace dartlab::sim::timed {

struct TimedFlags {
  bool timed = false;
  std::string link = "tb4";
  std::string host;
  std::string mode = "burst";
  std::string access = "auto";

  // --link, --host, --mode; and with `replay`, --timed and --access.
  void add_to(CLI::App& app, bool replay);
  // One run's configuration from these flags, a policy and a --dart spec ("" = defaults).
  std::variant<TimedConfig, std::string> config(const mapper::Policy& policy, std::string_view dart_spec) const;
};

// Every preset with its parameters, the timed DART keys, the host keys, modes and access sources.
std::string timed_help();

// What `dartlab replay --timed` does: every trace under every policy x --dart spec, one timed
// run each; prints a summary (unless quiet or JSON goes to stdout) and writes
// {"timed": [...]} to json_path ("" none, "-" stdout). Returns the exit code: 0 ok, 1 bad usage
// or output error, 2 a malformed or inconsistent trace (the replay command's codes).
int run_timed_replay(const std::vector<std::string>& traces, const std::vector<std::string>& policies,
                     const std::vector<std::string>& darts, const TimedFlags& flags, const InputOptions& input,
                     bool lenient, const std::string& json_path, bool quiet);

}  // namespace dartlab::sim::timed
