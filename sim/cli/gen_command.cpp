// `dartlab gen`: a synthetic, NVIDIA-shaped trace, deterministic per seed.
#include <limits>
#include <memory>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "passthrough/mapper/size_text.hpp"
#include "sim/cli/cli.hpp"
#include "traces/gen/generator.hpp"

namespace dartlab::cli {
namespace {

struct GenArgs {
  std::string command_line;
  std::string profile;
  trace::gen::GenParams params;
  std::string out = "-";
  OutputFlags output;
};

int run_gen(const GenArgs& args) {
  std::string error;
  auto gen = trace::gen::make_generator(args.profile, args.params, &error);
  if (!gen) {
    fmt::print(stderr, "dartlab gen: {}\n", error);
    return kExitUsage;
  }
  return write_trace(args.out, args.output, "dartlab gen", [&](trace::TraceWriter& writer) {
    writer.set_devices(gen->devices());
    writer.comment("made by: " + args.command_line);
    trace::Event ev;
    while (gen->next(ev)) writer.write(ev);
    return kExitOk;
  });
}

std::string profiles_help() {
  std::string text = "Profiles:\n";
  for (const std::string_view name : trace::gen::profile_names())
    text += fmt::format("  {}\n    {}\n", name, trace::gen::profile_help(name));
  return text;
}

// Every generator parameter as --FLAG, bound to its field; sizes take K/M/G/T suffixes.
void add_knobs(CLI::App& cmd, trace::gen::GenParams& params) {
  for (const trace::gen::GenKnob& knob : trace::gen::gen_knobs(params)) {
    const std::string flag = "--" + std::string(knob.flag);
    const std::string help = fmt::format("[{}] {}", knob.profiles, knob.help);
    std::visit(
        [&](auto* target) {
          using T = std::remove_pointer_t<decltype(target)>;
          if constexpr (std::is_same_v<T, bool>) {
            cmd.add_flag(flag, *target, help);
          } else if constexpr (std::is_same_v<T, double>) {
            cmd.add_option(flag, *target, help)->default_val(*target);
          } else if (knob.is_size) {
            const std::string shown = format_size(*target);
            cmd.add_option(
                   flag,
                   [target, flag](const CLI::results_t& r) {
                     std::uint64_t bytes = 0;
                     if (!parse_size(r.front(), bytes) || bytes > std::numeric_limits<T>::max())
                       throw CLI::ValidationError(flag, "'" + r.front() + "' is not a size (e.g. 4096, 64K, 2M, 1G)");
                     *target = static_cast<T>(bytes);
                     return true;
                   },
                   help)
                ->default_str(shown)
                ->type_name("SIZE");
          } else {
            cmd.add_option(flag, *target, help)->default_val(*target);
          }
        },
        knob.target);
  }
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
  cmd->add_option("-o,--output", args->out, "output trace ('-' for stdout); FILE.dlt is written binary")->default_val("-");
  args->output.add_to(*cmd);
  add_knobs(*cmd, args->params);
  cmd->add_option(
         "--no-drain", [args](const CLI::results_t&) { args->params.drain = false; return true; },
         "do not release what is live at the end")
      ->expected(0);
  cmd->footer(profiles_help());
  return {cmd, [args] { return run_gen(*args); }};
}

}  // namespace dartlab::cli
