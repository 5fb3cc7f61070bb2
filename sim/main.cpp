// The `dartlab` command: one binary, subcommands, `--help` on each.
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sim/cli/cli.hpp"

int main(int argc, char** argv) {
  using namespace dartlab::cli;
  CLI::App app{"dartlab: replay GPU DMA traces through clustering policies, Apple's DART and a Thunderbolt link"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dartlab 0.1.0");

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
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }

  try {
    for (const Command& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const std::exception& e) {
    fmt::print(stderr, "dartlab: internal error: {}\n", e.what());
    return kExitInternal;
  }
  return kExitUsage;
}
