// SPDX-License-Identifier: MIT
// `dartlab gen`: a synthetic, NVIDIA-shaped trace, deterministic per seed.
#include <sys/stat.h>

#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "sim/cli/cli.hpp"
#include "sim/common/human_units.hpp"
#include "traces/gen/generator.hpp"

namespace dartlab::cli {
namespace {

struct GenArgs {
  std::string command_line;
  std::string profile;
  trace::gen::GenParams params;
  std::string out = "-";
  OutputFlags output;
  bool quiet = false;
};

int run_gen(const GenArgs& args) {
  std::string error;
  auto gen = trace::gen::make_generator(args.profile, args.params, &error);
  if (!gen) {
    fmt::print(stderr, "dartlab gen: {}\n", error);
    return kExitUsage;
  }
  const auto start = std::chrono::steady_clock::now();
  ProgressLine progress(!args.quiet);
  std::uint64_t events = 0;
  const int rc = write_trace(args.out, args.output, "dartlab gen", [&](trace::TraceWriter& writer) {
    writer.set_devices(gen->devices());
    writer.comment("made by: " + args.command_line);
    trace::Event ev;
    while (gen->next(ev)) {
      writer.write(ev);
      if ((++events & 0xffff) == 0) progress.update("dartlab gen", events, args.params.events, events);
    }
    progress.done();
    return kExitOk;
  });
  if (rc != kExitOk || args.quiet) return rc;
  // A summary on stderr: the trace itself may be on stdout.
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string size;
  struct stat st {};
  if (args.out != "-" && ::stat(args.out.c_str(), &st) == 0 && S_ISREG(st.st_mode))
    size = ", " + sim::human_bytes(static_cast<std::uint64_t>(st.st_size));
  const trace::TraceFormat format = args.output.format_for(args.out);
  fmt::print(stderr, "dartlab gen: {} events of {} (seed {}) -> {}: {}{}{} in {:.2f} s ({:.1f} M events/s)\n", events,
             args.profile, args.params.seed, args.out == "-" ? "standard output" : args.out,
             format == trace::TraceFormat::Binary ? "binary" : "text", args.output.zstd ? " + zstd" : "", size, seconds,
             seconds > 0 ? static_cast<double>(events) / seconds / 1e6 : 0.0);
  return kExitOk;
}

std::string profiles_help() {
  std::string text = "Profiles:\n";
  for (const std::string_view name : trace::gen::profile_names())
    text += fmt::format("  {}\n    {}\n", name, trace::gen::profile_help(name));
  return text;
}

}  // namespace

Command add_gen_command(CLI::App& app, std::string command_line) {
  auto args = std::make_shared<GenArgs>();
  args->command_line = std::move(command_line);
  CLI::App* cmd = app.add_subcommand("gen", "Generate a synthetic, NVIDIA-shaped DMA trace (deterministic per seed)");
  cmd->add_option("profile", args->profile, "workload profile")->required();
  add_count_option(*cmd, "-n,--events", args->params.events, "events to generate, final drain included");
  add_count_option(*cmd, "-s,--seed", args->params.seed, "random seed");
  cmd->add_option("-o,--output", args->out, "output trace ('-' for stdout); FILE.dlt is written binary")->default_val("-");
  cmd->add_flag("-q,--quiet", args->quiet, "no progress line, no summary line");
  args->output.add_to(*cmd);
  add_gen_knobs(*cmd, args->params);
  cmd->add_option(
         "--no-drain", [args](const CLI::results_t&) { args->params.drain = false; return true; },
         "do not release what is live at the end")
      ->expected(0);
  cmd->footer(profiles_help());
  return {cmd, [args] { return run_gen(*args); }};
}

}  // namespace dartlab::cli
