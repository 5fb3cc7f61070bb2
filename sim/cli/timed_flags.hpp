// SPDX-License-Identifier: MIT
// The timed mode's command-line flags, shared by `dartlab replay --timed` and `dartlab bandwidth`:
// --link, --host, --mode, and for replays --timed and --access (--dart is the caller's own
// option). They fill a TimedSpecs, which the timed engine turns into a TimedConfig; the engine
// itself knows no flags. Also the whole timed replay as the replay command runs it.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "sim/replay/replay_file.hpp"
#include "sim/timed/timed_config.hpp"

namespace dartlab::cli {

struct TimedFlags {
  bool timed = false;
  sim::timed::TimedSpecs specs;

  // --link, --host, --mode; and with `replay`, --timed and --access.
  void add_to(CLI::App& app, bool replay);
};

// What `dartlab replay --timed` does: every trace under every policy x --dart spec, one timed
// run each; prints a summary (unless quiet or JSON goes to stdout) and writes
// {"timed": [...]} to json_path ("" none, "-" stdout). Returns the exit code: 0 ok, 1 bad usage
// or output error, 2 a malformed or inconsistent trace (the replay command's codes).
int run_timed_replay(const std::vector<std::string>& traces, const std::vector<std::string>& policies,
                     const std::vector<std::string>& darts, const TimedFlags& flags, const sim::InputOptions& input,
                     bool lenient, const std::string& json_path, bool quiet);

}  // namespace dartlab::cli
