// SPDX-License-Identifier: MIT
// `dartlab stats`: what a trace asks of the mapper, before any policy.
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/dart/dart_config.hpp"
#include "sim/cli/cli.hpp"
#include "sim/common/atomic_file.hpp"
#include "sim/common/human_units.hpp"
#include "sim/replay/results_output.hpp"
#include "sim/stats/trace_stats.hpp"

namespace dartlab::cli {
namespace {

struct StatsArgs {
  std::vector<std::string> traces;
  InputFlags input;
  std::string json_path;
  std::uint64_t page_bytes = sim::TraceStatsBuilder::kDefaultPageBytes;
  bool quiet = false;
};

int run_stats(const StatsArgs& args) {
  if (const int rc = check_outputs("dartlab stats", {{"--json", args.json_path}}); rc != kExitOk) return rc;
  if (const int rc = check_inputs(args.traces, "dartlab stats"); rc != kExitOk) return rc;
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  const bool json_to_stdout = args.json_path == "-";
  ProgressLine progress(!args.quiet);
  for (const std::string& path : args.traces) {
    const sim::InputOptions in = args.input.options();
    auto reader = trace::open_trace(path, in.reader_options(false), in.format);
    sim::TraceStatsBuilder builder(args.page_bytes);
    trace::Event ev;
    trace::TraceReader::Status status;
    while ((status = reader->next(ev)) == trace::TraceReader::Status::Event) {
      builder.add(ev);
      if ((builder.stats().events & 0xffff) == 0)
        progress.update(path, reader->bytes_consumed(), reader->file_bytes(), builder.stats().events);
    }
    progress.done();
    if (status == trace::TraceReader::Status::Error) {
      fmt::print(stderr, "{}\n", reader->error().to_string());
      return kExitTrace;
    }
    const sim::TraceStats& stats = builder.stats();
    if (!json_to_stdout && !args.quiet) {
      fmt::print("{} ({} trace, {} device{})\n", path, reader->format_name(), reader->devices().size(),
                 reader->devices().size() == 1 ? "" : "s");
      fmt::print("{}", sim::stats_text(stats));
      if (const auto own = reader->recorded_peaks()) {
        // The recording counts what was live before its first row; the events above cannot.
        fmt::print("recording's own  {} requests, {} at their peak (its active_maps, active_bytes columns)\n",
                   own->live_requests, sim::human_bytes(own->live_bytes));
      }
      sim::print_notes(stdout, reader->notes(), "");
      fmt::print("\n");
    }
    nlohmann::ordered_json j;
    j["trace"] = path;
    j["format"] = reader->format_name();
    j["devices"] = reader->devices();
    j.update(sim::stats_json(stats));
    if (const auto own = reader->recorded_peaks())
      j["recorded_peaks"] = {{"live_requests", own->live_requests}, {"live_bytes", own->live_bytes}};
    j["notes"] = sim::notes_json(reader->notes());
    all.push_back(std::move(j));
  }
  if (!args.json_path.empty()) {
    nlohmann::ordered_json doc;
    doc["traces"] = std::move(all);
    const std::string err = sim::write_output(args.json_path, doc.dump(2) + "\n");
    if (!err.empty()) {
      fmt::print(stderr, "dartlab stats: --json: {}\n", err);
      return kExitUsage;
    }
  }
  return kExitOk;
}

}  // namespace

Command add_stats_command(CLI::App& app) {
  auto args = std::make_shared<StatsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "stats", "What a trace asks for: events by kind and size, live peaks, size histogram, clustering potential");
  cmd->add_option("traces", args->traces, "traces in any format dartlab reads; '-' reads standard input")->required();
  args->input.add_to(*cmd);
  cmd->add_option("--json", args->json_path, "write the statistics as JSON to FILE ('-' for stdout)");
  add_size_option(*cmd, "--page", args->page_bytes,
                  "the DART page the clustering potential counts mapped bytes in (as replay's --dart page=)")
      ->check([](const std::string& text) {  // the DART's own rule: a power of two, 4K..64K
        const auto dart = dart::parse_dart_spec("page=" + text);
        const auto* err = std::get_if<std::string>(&dart);
        return err == nullptr ? std::string() : *err;
      });
  cmd->add_flag("-q,--quiet", args->quiet, "no table, no progress line");
  cmd->footer(
      "Ranges: a map or alloc is one range, a map_sg one per segment (the mapper sees one request per range).\n"
      "Clustering potential: what window:S would need with no DART limits, for S = 64K, 256K, 1M: ranges\n"
      "that fit in one S-aligned window share it, others are direct mappings of their 16 KiB pages; bytes\n"
      "are counted as a DART with --page pages maps them (each mapping rounded out to whole pages).\n"
      "'cut' = peak live ranges / peak live mappings. Releases of ids that are not live, and maps of ids\n"
      "still live, are counted, not fatal (replay is strict about them).\n"
      "A recording that counts its own live requests (the apple_dma debugfs CSV) shows its own peaks too:\n"
      "they include requests live before it began, which its events cannot show.\n");
  return {cmd, [args] { return run_stats(*args); }};
}

}  // namespace dartlab::cli
