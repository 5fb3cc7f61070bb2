// `dartlab gen`: a synthetic, NVIDIA-shaped trace, deterministic per seed.
#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "sim/atomic_file.hpp"
#include "sim/cli/cli.hpp"
#include "traces/gen/generator.hpp"
#include "traces/text_writer.hpp"

namespace dartlab::cli {
namespace {

struct GenArgs {
  std::string command_line;
  std::string profile;
  trace::gen::GenParams params;
  std::string out = "-";
};

int run_gen(const GenArgs& args) {
  std::string error;
  auto gen = trace::gen::make_generator(args.profile, args.params, &error);
  if (!gen) {
    fmt::print(stderr, "dartlab gen: {}\n", error);
    return kExitUsage;
  }
  sim::AtomicFile out(args.out);
  if (!out.open_error().empty()) {
    fmt::print(stderr, "dartlab gen: {}\n", out.open_error());
    return kExitUsage;
  }
  bool written = false;
  {  // the writer flushes in its destructor: it must be gone before the file is closed
    trace::TextTraceWriter writer(out.stream());
    writer.set_devices(gen->devices());
    writer.comment("made by: " + args.command_line);
    trace::Event ev;
    while (gen->next(ev)) writer.write(ev);
    written = writer.flush();  // the writer's own check first (it buffers), then the file's
  }
  const std::string err = written ? out.commit() : "cannot write " + args.out + ": " + std::strerror(errno);
  if (!err.empty()) {
    fmt::print(stderr, "dartlab gen: {}\n", err);
    return kExitUsage;
  }
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
  cmd->add_option("-n,--events", args->params.events, "events to generate, final drain included")
      ->default_val(args->params.events);
  cmd->add_option("-s,--seed", args->params.seed, "random seed")->default_val(args->params.seed);
  cmd->add_option("-o,--output", args->out, "output text trace ('-' for stdout)")->default_val("-");
  cmd->add_option("--live-target", args->params.live_target, "game: live requests in steady state")
      ->default_val(args->params.live_target);
  cmd->add_option(
         "--no-drain", [args](const CLI::results_t&) { args->params.drain = false; return true; },
         "do not release what is live at the end")
      ->expected(0);
  cmd->footer(profiles_help());
  return {cmd, [args] { return run_gen(*args); }};
}

}  // namespace dartlab::cli
