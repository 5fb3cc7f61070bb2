// SPDX-License-Identifier: MIT
// `dartlab sweep`: a config's traces x policies x parameters x DARTs, on every core, or one shard
// of it for GNU parallel or a Slurm array to spread over machines.
#include <unistd.h>

#include <chrono>
#include <memory>
#include <thread>
#include <variant>

#include <fmt/format.h>

#include "sim/cli/cli.hpp"
#include "sim/common/atomic_file.hpp"
#include "sim/sweep/config.hpp"
#include "sim/sweep/output.hpp"
#include "sim/sweep/run.hpp"

namespace dartlab::cli {
namespace {

struct SweepArgs {
  std::string config;
  std::string shard = "1/1";
  unsigned jobs = 0;
  std::size_t group = sim::kDefaultSweepGroup;
  bool reader_thread = false;
  std::string json_path;
  std::string csv_path;
  bool list = false;
  bool quiet = false;
};

std::string duration_text(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

// "[#####.....]  41%  7/20 points  12.3 M events/s  ETA 0:17": done is the share of trace bytes
// x points read, so passes over a big trace count for more than passes over a small one.
std::string progress_text(const sim::SweepProgress& p, double elapsed, bool bar) {
  const double done = p.work_total == 0 ? 0.0
                                        : static_cast<double>(p.work_done.load()) / static_cast<double>(p.work_total);
  const double rate = elapsed > 0 ? static_cast<double>(p.point_events.load()) / elapsed / 1e6 : 0.0;
  const std::string eta = done > 0.01 ? duration_text(elapsed * (1 - done) / done) : std::string("?");
  constexpr int kWidth = 24;
  const int filled = std::min(kWidth, static_cast<int>(done * kWidth));
  if (bar)
    return fmt::format("sweep: [{}{}] {:3.0f}%  {}/{} points  {:.1f} M events/s  ETA {}", std::string(filled, '#'),
                       std::string(kWidth - filled, '.'), done * 100, p.points_done.load(), p.points_total, rate, eta);
  return fmt::format("sweep: {}/{} points, {:.0f}%, {:.1f} M events/s, {} elapsed, ETA {}", p.points_done.load(),
                     p.points_total, done * 100, rate, duration_text(elapsed), eta);
}

void list_points(const sim::SweepConfig& config, sim::Shard shard) {
  fmt::print("sweep '{}' ({}), hash {}: {} points\n", config.name, config.source, sim::hash_hex(config.hash),
             config.points.size());
  std::size_t policy_width = 6;
  std::size_t dart_width = 4;
  for (const sim::SweepPoint& p : config.points) {
    policy_width = std::max(policy_width, p.policy.size());
    dart_width = std::max(dart_width, p.dart.size());
  }
  fmt::print("{:>6} {:>7}  {:<{}} {:<{}} {}\n", "point", "shard", "policy", policy_width, "dart", dart_width, "params");
  std::size_t trace = config.points.size();
  for (const sim::SweepPoint& p : config.points) {
    if (!shard.holds(p.index)) continue;
    if (p.trace != trace) fmt::print("{}:\n", config.traces[p.trace].name);
    trace = p.trace;
    std::string params;
    for (const auto& [k, v] : p.params) params += (params.empty() ? "" : " ") + k + "=" + v;
    fmt::print("{:>6} {:>7}  {:<{}} {:<{}} {}\n", p.index, fmt::format("{}/{}", p.index % shard.count + 1, shard.count),
               p.policy, policy_width, p.dart, dart_width, params);
  }
}

int run_sweep(const SweepArgs& args) {
  auto loaded = sim::load_sweep_config(args.config);
  if (const auto* err = std::get_if<std::string>(&loaded)) {
    fmt::print(stderr, "dartlab sweep: {}\n", *err);
    return kExitUsage;
  }
  const sim::SweepConfig& config = std::get<sim::SweepConfig>(loaded);
  const auto shard_or = sim::parse_shard(args.shard);
  if (const auto* err = std::get_if<std::string>(&shard_or)) {
    fmt::print(stderr, "dartlab sweep: --shard {}\n", *err);
    return kExitUsage;
  }
  const sim::Shard shard = std::get<sim::Shard>(shard_or);
  if (args.list) {
    list_points(config, shard);
    return kExitOk;
  }
  if (const int rc = check_outputs("dartlab sweep", {{"--json", args.json_path}, {"--csv", args.csv_path}}); rc != kExitOk)
    return rc;

  const unsigned jobs = args.jobs != 0 ? args.jobs : std::max(1u, std::thread::hardware_concurrency());
  const sim::SweepRunOptions options{.jobs = jobs, .max_group = args.group, .reader_thread = args.reader_thread};
  sim::SweepProgress progress;
  ProgressLine line(!args.quiet);
  const bool plain = !args.quiet && isatty(STDERR_FILENO) == 0;
  const auto start = std::chrono::steady_clock::now();
  auto last_plain = start;
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  auto outcome = sim::run_sweep(config, shard, options, progress, [&] {
    line.show(progress_text(progress, elapsed(), true));
    // Logs (Slurm, parallel --results) get a plain line now and then instead of a bar.
    if (plain && std::chrono::steady_clock::now() - last_plain >= std::chrono::seconds(10)) {
      last_plain = std::chrono::steady_clock::now();
      fmt::print(stderr, "{}\n", progress_text(progress, elapsed(), false));
    }
  });
  line.done();
  if (const auto* err = std::get_if<std::string>(&outcome)) {
    fmt::print(stderr, "{}\n", *err);
    return kExitTrace;
  }
  const sim::SweepOutcome& run = std::get<sim::SweepOutcome>(outcome);
  const double wall = elapsed();
  sim::SweepParts parts = sim::sweep_parts(config, shard, run);
  parts.timing = {{"runs", nlohmann::ordered_json::array({sim::timing_run(shard, run, args.group, wall)})}};
  const nlohmann::ordered_json doc = sim::sweep_document(std::move(parts));
  if (!args.quiet)
    fmt::print(stderr, "sweep '{}': {} points of {} (shard {}/{}) in {:.1f} s: {} passes on {} threads, {:.1f} M events/s\n",
               config.name, progress.points_total, config.points.size(), shard.index, shard.count, wall, run.passes,
               run.jobs, wall > 0 ? static_cast<double>(progress.point_events.load()) / wall / 1e6 : 0.0);

  return write_sweep_outputs(doc, args.json_path, args.csv_path, args.quiet, "dartlab sweep");
}

}  // namespace

int write_sweep_outputs(const nlohmann::ordered_json& doc, const std::string& json_path, const std::string& csv_path,
                        bool quiet, const std::string& prefix) {
  const bool to_stdout = json_path == "-" || csv_path == "-";
  if (!quiet && !to_stdout) sim::print_sweep_table(stdout, doc);
  if (!json_path.empty()) {
    const std::string err = sim::write_output(json_path, doc.dump(2) + "\n");
    if (!err.empty()) {
      fmt::print(stderr, "{}: --json: {}\n", prefix, err);
      return kExitUsage;
    }
  }
  if (!csv_path.empty()) {
    const std::string err = sim::write_output(csv_path, sim::sweep_csv(doc));
    if (!err.empty()) {
      fmt::print(stderr, "{}: --csv: {}\n", prefix, err);
      return kExitUsage;
    }
  }
  return kExitOk;
}

Command add_sweep_command(CLI::App& app) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* cmd = app.add_subcommand(
      "sweep", "Replay a config's traces x policies x parameters x DARTs on every core, or one shard of them");
  cmd->add_option("config", args->config, "sweep config: FILE.toml or FILE.json (see below)")->required();
  cmd->add_option("--shard", args->shard,
                  "run shard I of N only (1-based): the points p with p % N == I - 1; `dartlab merge` joins the "
                  "shards' --json files")
      ->default_val("1/1");
  add_count_option(*cmd, "-j,--jobs", args->jobs, "threads running passes (0, the default: every core)", 0, 1024);
  add_count_option(*cmd, "--group", args->group,
                   "configurations replayed per read of a trace, at most (more: fewer reads, but their tables crowd "
                   "each other out of the cache; fewer: more passes to share among threads)",
                   1, sim::Replay::kMaxRuns);
  cmd->add_flag("--reader-thread", args->reader_thread,
                "parse each pass's trace on a thread of its own (default: inline, the passes fill the cores)");
  cmd->add_option("--json", args->json_path, "write the results as JSON to FILE ('-' for stdout)");
  cmd->add_option("--csv", args->csv_path, "write the results as CSV to FILE ('-' for stdout)");
  cmd->add_flag("--list", args->list, "print the expanded points (of --shard) with their numbers, run nothing");
  cmd->add_flag("-q,--quiet", args->quiet, "no table, no progress");
  cmd->footer(R"(Config (TOML; JSON takes the same keys), relative paths from the config's directory:
  name = "windows vs lazy"                   # optional; default: the file's stem
  traces = ["game.dlt", "llm.trace"]         # any format replay reads; not '-'
  policies = ["direct", "window:{size}"]     # spec templates: {NAME} takes each value of params.NAME
  darts = ["", "slots={slots}", "alloc=best-fit"]   # optional; "" = the defaults
  lenient = false                            # optional: as replay --lenient
  device = "0000:01:00.0"                    # optional: as replay --device
  [params]
  size = ["64K", "256K", "1M"]               # a list of values (strings, numbers, booleans), or
  slots = { from = 1024, to = 65536, mul = 4 }   # a range: from, to, and mul= or add=
                                             # ("64K"-style bounds give "64K"-style values)
Points, numbered from 0: for each trace, for each policy template, for each combination of the
params it names, for each dart template, for each combination of the params it names that the
policy did not (a param in both takes one value for the pair). Combinations vary params in name
order, the last fastest; values in the order listed. Unknown keys, {NAME}s without a param,
params nobody names, empty lists or ranges, bad specs and duplicate points are errors naming the
file, the line (TOML) and the key. `--list` shows the points. Policy and DART specs are those of
`dartlab replay --help` (direct, window:S, multi:..., adaptive..., lazy:...; aperture=, slots=...).

Execution: each trace's points are replayed in passes of up to --group configurations over one
read of the trace. On one thread the passes run one after another; on several, up to two a
thread are open at once and advance 16 K events at a time on whichever thread is free, the
least advanced first, so that they finish together.

Output: a table per trace marking the Pareto frontier (*: no other point has as few peak
mappings, peak mapped bytes, failed maps and waits (cap) with one of them fewer); --json: {"sweep":{name,
hash, points, shard}, "results":[{point, trace, policy, dart, params, ...replay's fields...,
pareto}], "pareto":[{trace, points}], "inputs", "timing"}; --csv: a row per point with "point"
and "pareto" columns. A shard's output has no frontier: `dartlab merge` computes it. Everything
but "timing" is the same whichever machine, --jobs or --group ran it.

Progress: a bar with ETA on a terminal, else a plain line every 10 s; and a summary line.
Exit codes: 0 ok; 1 bad config, flag or output; 2 malformed or inconsistent trace.
)");
  return {cmd, [args] { return run_sweep(*args); }};
}

}  // namespace dartlab::cli
