// The `dartlab` command: one binary, subcommands, `--help` on each.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "models/dart/dart_config.hpp"
#include "passthrough/mapper/policy.hpp"
#include "sim/atomic_file.hpp"
#include "sim/replay_file.hpp"
#include "sim/results_output.hpp"
#include "traces/gen/generator.hpp"
#include "traces/text_writer.hpp"

namespace {

using namespace dartlab;

// Exit codes: 0 ok, 1 bad usage or I/O, 2 a trace is malformed or inconsistent.
constexpr int kExitUsage = 1;
constexpr int kExitTrace = 2;

// A progress line on stderr, only when stderr is a terminal, at most a few times a second.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO) != 0) {}
  void update(const std::string& what, std::uint64_t bytes, std::uint64_t total, std::uint64_t events) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    if (total != 0)
      std::fprintf(stderr, "\r%s: %5.1f%%  %llu events ", what.c_str(), 100.0 * static_cast<double>(bytes) / static_cast<double>(total),
                   static_cast<unsigned long long>(events));
    else
      std::fprintf(stderr, "\r%s: %llu events ", what.c_str(), static_cast<unsigned long long>(events));
    shown_ = true;
  }
  void done() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

struct ReplayArgs {
  std::vector<std::string> traces;
  std::vector<std::string> policies;
  std::vector<std::string> darts;
  std::string json_path;
  std::string csv_path;
  bool lenient = false;
  bool quiet = false;
};

int run_replay(const ReplayArgs& args) {
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
    auto outcome = sim::replay_file(path, runs, sim::ReplayOptions{.lenient = args.lenient},
                                    [&](std::uint64_t bytes, std::uint64_t total, std::uint64_t events) {
                                      progress.update(path, bytes, total, events);
                                    });
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
  return 0;
}

struct GenArgs {
  std::string command_line;  // recorded in the trace, so that it can be made again
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
  return 0;
}

std::string profiles_help() {
  std::string text = "Profiles:\n";
  for (const std::string_view name : trace::gen::profile_names())
    text += fmt::format("  {}\n    {}\n", name, trace::gen::profile_help(name));
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dartlab: replay GPU DMA traces through clustering policies, Apple's DART and a Thunderbolt link"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dartlab 0.1.0");

  ReplayArgs replay;
  CLI::App* replay_cmd = app.add_subcommand(
      "replay", "Replay traces under every policy (and DART config) and report mappings, bytes and failures");
  replay_cmd->add_option("traces", replay.traces, "dartlab text traces (v1); '-' reads standard input")->required();
  replay_cmd->add_option("-p,--policy", replay.policies, "clustering policy, repeatable (see below)")
      ->default_val(std::vector<std::string>{"window:256K"});
  replay_cmd->add_option("-d,--dart", replay.darts,
                         "DART / host service config, repeatable, e.g. aperture=1536M,slots=65536,page=16K,"
                         "alloc=first-fit (default: those)");
  replay_cmd->add_option("--json", replay.json_path, "write results as JSON to FILE ('-' for stdout)");
  replay_cmd->add_option("--csv", replay.csv_path, "write results as CSV to FILE ('-' for stdout)");
  replay_cmd->add_flag("--lenient", replay.lenient,
                       "count trace inconsistencies (unknown or double unmap, zero length, overflow) as "
                       "warnings and skip them, instead of stopping with exit code 2");
  replay_cmd->add_flag("-q,--quiet", replay.quiet, "no table, no progress line");
  replay_cmd->footer(std::string(mapper::policy_help()) +
                     "\nDART spec keys (comma-separated key=value, all optional):\n"
                     "  aperture=SIZE|max   bus-address bytes the host will map at once (1536M, observed)\n"
                     "  slots=N|unlimited   concurrent host mappings (65536, observed)\n"
                     "  page=SIZE           DART page (16K on every Apple Silicon DART)\n"
                     "  alloc=first-fit|best-fit  aperture allocator (the host's is unknown)\n"
                     "  base=ADDR           first bus address used (16K: a null-DMA catch page, a guess)\n"
                     "  variant=t8110|t8020 input address width 42 or 32 bits\n"
                     "\nExit codes: 0 ok; 1 bad usage or output error; 2 malformed or inconsistent trace.\n"
                     "A map the DART refuses is a result, not an error: it is counted by reason.\n");

  GenArgs gen;
  CLI::App* gen_cmd = app.add_subcommand("gen", "Generate a synthetic, NVIDIA-shaped DMA trace (deterministic per seed)");
  gen_cmd->add_option("profile", gen.profile, "workload profile")->required();
  gen_cmd->add_option("-n,--events", gen.params.events, "events to generate, final drain included")
      ->default_val(gen.params.events);
  gen_cmd->add_option("-s,--seed", gen.params.seed, "random seed")->default_val(gen.params.seed);
  gen_cmd->add_option("-o,--output", gen.out, "output text trace ('-' for stdout)")->default_val("-");
  gen_cmd->add_option("--live-target", gen.params.live_target, "game: live requests in steady state")
      ->default_val(gen.params.live_target);
  gen_cmd->add_option("--no-drain", [&](const CLI::results_t&) { gen.params.drain = false; return true; },
                      "do not release what is live at the end")
      ->expected(0);
  gen_cmd->footer(profiles_help() +
                  "\nOn the command line so far: --events, --seed, --live-target, --no-drain; the other knobs\n"
                  "keep the defaults documented in traces/gen/generator.hpp.\n");

  gen.command_line = "dartlab";
  for (int i = 1; i < argc; ++i) gen.command_line += std::string(" ") + argv[i];

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  try {
    if (*replay_cmd) return run_replay(replay);
    if (*gen_cmd) return run_gen(gen);
  } catch (const std::exception& e) {
    fmt::print(stderr, "dartlab: internal error: {}\n", e.what());
    return 3;
  }
  return kExitUsage;
}
