// SPDX-License-Identifier: MIT
// `dartlab report`: replay or sweep results (JSON) as one self-contained HTML page for people.
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/cli/cli.hpp"
#include "sim/common/atomic_file.hpp"
#include "sim/common/human_units.hpp"
#include "sim/report/html.hpp"
#include "sim/report/input.hpp"

namespace dartlab::cli {
namespace {

struct ReportArgs {
  std::vector<std::string> inputs;
  std::string output;
  std::string title = "dartlab report";
  std::size_t max_lines = 12;
  bool quiet = false;
};

int run_report(const ReportArgs& args) {
  std::size_t stdin_inputs = 0;
  for (const std::string& path : args.inputs) stdin_inputs += path == "-";
  if (stdin_inputs > 1) {
    fmt::print(stderr, "dartlab report: '-' (standard input) given {} times; it can be read once\n", stdin_inputs);
    return kExitUsage;
  }
  if (const int rc = check_outputs("dartlab report", {{"-o", args.output}}); rc != kExitOk) return rc;

  sim::report::Data data;
  ProgressLine progress(!args.quiet);
  for (std::size_t i = 0; i < args.inputs.size(); ++i) {
    progress.update(fmt::format("dartlab report: reading {} ({} of {})", args.inputs[i], i + 1, args.inputs.size()));
    const std::string err = sim::report::load_results_file(args.inputs[i], data);
    if (!err.empty()) {
      progress.done();
      fmt::print(stderr, "dartlab report: {}\n", err);
      return kExitUsage;
    }
  }
  progress.update("dartlab report: drawing");
  const std::string html = sim::report::render_html(data, {.title = args.title, .max_lines = args.max_lines});
  progress.done();
  const std::string err = sim::write_output(args.output, html);
  if (!err.empty()) {
    fmt::print(stderr, "dartlab report: -o: {}\n", err);
    return kExitUsage;
  }
  if (!args.quiet && args.output != "-")
    fmt::print(stderr, "dartlab report: {} results{} from {} file{} -> {} ({})\n", data.results.size(),
               data.timed.empty() ? "" : fmt::format(" and {} timed runs", data.timed.size()), data.inputs.size(),
               data.inputs.size() == 1 ? "" : "s", args.output, sim::human_bytes(html.size()));
  return kExitOk;
}

}  // namespace

Command add_report_command(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report", "One self-contained HTML page (inline SVG plots, tables) from replay, timed replay or sweep results");
  cmd->add_option("inputs", args->inputs,
                  "JSON written by 'dartlab replay --json' (with or without --timed) or 'dartlab sweep --json'; "
                  "several files are merged, results grouped by trace; '-' reads standard input")
      ->required();
  cmd->add_option("-o,--output", args->output, "the HTML file to write ('-' for stdout); written whole or not at all")
      ->required();
  cmd->add_option("--title", args->title, "the page's title and heading")->capture_default_str();
  add_count_option(*cmd, "--max-lines", args->max_lines,
                   "lines per chart at most; beyond it the Pareto frontier is drawn first, the rest stay in the table "
                   "and the Pareto plot",
                   1);
  cmd->add_flag("-q,--quiet", args->quiet, "no progress line, no summary line");
  cmd->footer(
      "Per trace: live mappings, mapped bytes and aperture fragmentation over the trace (one line per\n"
      "policy x DART result, from each result's \"series\") against the host's 65,536 mappings and 1.5 GiB\n"
      "and each configuration's own \"limits\"; the Pareto plot of peak mappings vs peak mapped bytes, refusals\n"
      "marked, frontier joined; a table per result (peaks, refusals by reason, first refusal, exposure, reuse\n"
      "hits, alignment violations, fragmentation). Then every refusal, most first, and the inputs (sweep name,\n"
      "hash, shard, points).\n"
      "The frontier comes from a sweep's \"pareto\" when every result of a trace has one; otherwise it is\n"
      "computed: a result is on it when no other is as good on peak mappings, peak mapped bytes, refused\n"
      "maps and (cap policies) waits at once and better on one of them.\n"
      "Results without \"series\" (older replays) appear in the Pareto plot and the tables only.\n"
      "Timed runs (replay --timed) get a section of their own: where the simulated time went (waiting for\n"
      "mappings vs moving data), the host's time by step, the map latency's spread, and their figures.\n"
      "The page needs nothing from the network; its few lines of script only highlight on hover.\n"
      "\nExit codes: 0 ok; 1 bad usage, an input that is not dartlab results (the message names file and\n"
      "field), or an output error.\n");
  return {cmd, [args] { return run_report(*args); }};
}

}  // namespace dartlab::cli
