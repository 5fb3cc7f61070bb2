// SPDX-License-Identifier: MIT
// The `dartlab` command: one binary, subcommands, `--help` on each.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "dartlab_version.hpp"  // generated: cmake/version.cmake
#include "sim/cli/cli.hpp"
#include "sim/common/atomic_file.hpp"

namespace {

// A table or help text that did not reach standard output (a full disk, /dev/full) is an output
// error, exit 1, not a silent success.
int finish_stdout(int rc) {
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  if (flushed && std::ferror(stdout) == 0) return rc;
  fmt::print(stderr, "dartlab: cannot write standard output: {}\n", errno != 0 ? std::strerror(errno) : "write error");
  return rc == dartlab::cli::kExitOk ? dartlab::cli::kExitUsage : rc;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dartlab::cli;
  // Named, so that usage lines (and the man pages made from them) say "dartlab", not argv[0].
  CLI::App app{"dartlab: replay GPU DMA traces through clustering policies, Apple's DART and a Thunderbolt link",
               "dartlab"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dartlab " DARTLAB_VERSION_TEXT, "Display program version information and exit");

  std::string command_line = "dartlab";
  for (int i = 1; i < argc; ++i) command_line += std::string(" ") + argv[i];

  const std::vector<Command> commands = {
      add_replay_command(app),
      add_gen_command(app, command_line),
      add_stats_command(app),
      add_convert_command(app, command_line),
      add_bandwidth_command(app),
      add_sweep_command(app),
      add_merge_command(app),
      add_report_command(app),
      add_stress_command(app, command_line),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return finish_stdout(app.exit(e) == 0 ? kExitOk : kExitUsage);
  }
  // From here on an interrupted gen, convert or any output leaves no FILE.tmp behind.
  dartlab::sim::remove_temp_files_on_signals();

  int rc = kExitUsage;
  try {
    for (const Command& c : commands)
      if (c.app->parsed()) {
        rc = c.run();
        break;
      }
  } catch (const std::exception& e) {
    fmt::print(stderr, "dartlab: internal error: {}\n", e.what());
    rc = kExitInternal;
  }
  return finish_stdout(rc);
}
