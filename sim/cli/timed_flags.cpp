// SPDX-License-Identifier: MIT
#include "sim/cli/timed_flags.hpp"

#include <fmt/format.h>

#include "sim/cli/cli.hpp"
#include "sim/common/atomic_file.hpp"
#include "sim/timed/timed_replay.hpp"

namespace dartlab::cli {

void TimedFlags::add_to(CLI::App& app, bool replay) {
  if (replay)
    app.add_flag("--timed", timed,
                 "replay through the timed platform (GPU -> link -> DART -> host memory) and report simulated time, "
                 "mapping vs transfer time, DMA GiB/s, IOTLB hit rate, map latency");
  app.add_option("--link", specs.link, "link preset and overrides, PRESET[,key=value...] (see below)")->default_val("tb4");
  app.add_option("--host", specs.host, "mapping path, host memory and copy engine parameters, key=value,... (see below)");
  app.add_option("--mode", specs.mode, "burst: a transfer is one transaction timed in closed form; tlp: one transaction per TLP")
      ->check(CLI::IsMember({"burst", "tlp"}))
      ->default_val("burst");
  if (replay)
    app.add_option("--access", specs.access,
                   "where DMA transfers come from: trace (its access events), synthetic (each mapped segment "
                   "transferred once in full right after its map, in the map's direction), auto (trace if one of "
                   "its first 100,000 events is an access, else synthetic)")
        ->check(CLI::IsMember({"auto", "trace", "synthetic"}))
        ->default_val("auto");
}

int run_timed_replay(const std::vector<std::string>& traces, const std::vector<std::string>& policies,
                     const std::vector<std::string>& darts, const TimedFlags& flags, const sim::InputOptions& input,
                     bool lenient, const std::string& json_path, bool quiet) {
  std::vector<sim::timed::TimedConfig> configs;
  const std::vector<std::string> dart_specs = darts.empty() ? std::vector<std::string>{""} : darts;
  for (const std::string& dart_spec : dart_specs) {
    for (const std::string& policy_spec : policies) {
      auto policy = mapper::parse_policy(policy_spec);
      if (const auto* e = std::get_if<std::string>(&policy)) {
        fmt::print(stderr, "dartlab replay: --policy: {}\n", *e);
        return kExitUsage;
      }
      auto config = sim::timed::make_timed_config(flags.specs, std::get<mapper::Policy>(policy), dart_spec);
      if (const auto* e = std::get_if<std::string>(&config)) {
        fmt::print(stderr, "dartlab replay: {}\n", *e);
        return kExitUsage;
      }
      configs.push_back(std::get<sim::timed::TimedConfig>(config));
    }
  }
  const bool json_to_stdout = json_path == "-";
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const std::string& trace : traces) {
    for (const sim::timed::TimedConfig& config : configs) {
      auto outcome = sim::timed::timed_replay_file(trace, config, sim::timed::TimedOptions{.lenient = lenient, .input = input});
      if (const auto* e = std::get_if<std::string>(&outcome)) {
        fmt::print(stderr, "{}\n", *e);
        return kExitTrace;
      }
      const sim::timed::TimedResult& r = std::get<sim::timed::TimedResult>(outcome);
      if (!quiet && !json_to_stdout) fmt::print("{}", sim::timed::timed_summary(r));
      if (const std::string w = sim::timed::timed_warning(r); !w.empty())
        fmt::print(stderr, "dartlab replay: warning: {} under {}: {}\n", r.trace, r.policy, w);
      results.push_back(sim::timed::timed_json(r));
    }
  }
  if (!json_path.empty()) {
    const nlohmann::ordered_json doc = {{"timed", results}};
    if (const std::string err = sim::write_output(json_path, doc.dump(2) + "\n"); !err.empty()) {
      fmt::print(stderr, "dartlab replay: --json: {}\n", err);
      return kExitUsage;
    }
  }
  return kExitOk;
}

}  // namespace dartlab::cli
