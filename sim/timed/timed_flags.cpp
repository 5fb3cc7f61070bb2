// SPDX-License-Identifier: MIT
#include "sim/timed/timed_flags.hpp"

#include <fmt/format.h>

#include "sim/results_output.hpp"
#include "sim/timed/timed_replay.hpp"

namespace dartlab::sim::timed {

namespace {
constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitTrace = 2;
}  // namespace

void TimedFlags::add_to(CLI::App& app, bool replay) {
  if (replay)
    app.add_flag("--timed", timed,
                 "replay through the timed platform (GPU -> link -> DART -> host memory) and report simulated time, "
                 "mapping vs transfer time, DMA GiB/s, IOTLB hit rate, map latency");
  app.add_option("--link", link, "link preset and overrides, PRESET[,key=value...] (see below)")->default_val("tb4");
  app.add_option("--host", host, "mapping path, host memory and copy engine parameters, key=value,... (see below)");
  app.add_option("--mode", mode, "burst: a transfer is one transaction timed in closed form; tlp: one transaction per TLP")
      ->check(CLI::IsMember({"burst", "tlp"}))
      ->default_val("burst");
  if (replay)
    app.add_option("--access", access,
                   "where DMA transfers come from: trace (its access events), synthetic (each mapped segment "
                   "transferred once in full right after its map, in the map's direction), auto (trace if one of "
                   "its first 100,000 events is an access, else synthetic)")
        ->check(CLI::IsMember({"auto", "trace", "synthetic"}))
        ->default_val("auto");
}

std::variant<TimedConfig, std::string> TimedFlags::config(const mapper::Policy& policy, std::string_view dart_spec) const {
  if (policy.cap_windows != 0)
    return "--policy " + policy.spec() +
           ": --timed does not replay cap policies: a request that waits for room would stall the simulated "
           "device, which the timed engine does not model; replay it without --timed";
  TimedConfig c;
  c.policy = policy;
  auto link_config = parse_link_spec(link);
  if (const auto* e = std::get_if<std::string>(&link_config)) return "--link '" + link + "': " + *e;
  c.link = std::get<thunderbolt::LinkConfig>(link_config);
  auto dart = parse_timed_dart_spec(dart_spec);
  if (const auto* e = std::get_if<std::string>(&dart)) return "--dart '" + std::string(dart_spec) + "': " + *e;
  c.dart = std::get<TimedDart>(dart);
  auto host_config = parse_host_spec(host);
  if (const auto* e = std::get_if<std::string>(&host_config)) return "--host '" + host + "': " + *e;
  c.host = std::get<HostConfig>(host_config);
  c.host.gpu.mode = mode == "tlp" ? TransferMode::Tlp : TransferMode::Burst;
  c.access = access == "trace" ? AccessSource::Trace : access == "synthetic" ? AccessSource::Synthetic : AccessSource::Auto;
  return c;
}

std::string timed_help() {
  return "\n" + link_help() + "\n" + dart_timing_help() + "\n" + host_help() +
         "\nModes: burst times a whole transfer as one transaction (N TLPs in closed form); tlp sends one\n"
         "transaction per TLP (MPS writes, MRRS reads). They agree on bandwidth within 2%.\n";
}

int run_timed_replay(const std::vector<std::string>& traces, const std::vector<std::string>& policies,
                     const std::vector<std::string>& darts, const TimedFlags& flags, const InputOptions& input,
                     bool lenient, const std::string& json_path, bool quiet) {
  std::vector<TimedConfig> configs;
  const std::vector<std::string> dart_specs = darts.empty() ? std::vector<std::string>{""} : darts;
  for (const std::string& dart_spec : dart_specs) {
    for (const std::string& policy_spec : policies) {
      auto policy = mapper::parse_policy(policy_spec);
      if (const auto* e = std::get_if<std::string>(&policy)) {
        fmt::print(stderr, "dartlab replay: --policy: {}\n", *e);
        return kExitUsage;
      }
      auto config = flags.config(std::get<mapper::Policy>(policy), dart_spec);
      if (const auto* e = std::get_if<std::string>(&config)) {
        fmt::print(stderr, "dartlab replay: {}\n", *e);
        return kExitUsage;
      }
      configs.push_back(std::get<TimedConfig>(config));
    }
  }
  const bool json_to_stdout = json_path == "-";
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const std::string& trace : traces) {
    for (const TimedConfig& config : configs) {
      auto outcome = timed_replay_file(trace, config, TimedOptions{.lenient = lenient, .input = input});
      if (const auto* e = std::get_if<std::string>(&outcome)) {
        fmt::print(stderr, "{}\n", *e);
        return kExitTrace;
      }
      const TimedResult& r = std::get<TimedResult>(outcome);
      if (!quiet && !json_to_stdout) fmt::print("{}", timed_summary(r));
      if (const std::string w = timed_warning(r); !w.empty())
        fmt::print(stderr, "dartlab replay: warning: {} under {}: {}\n", r.trace, r.policy, w);
      results.push_back(timed_json(r));
    }
  }
  if (!json_path.empty()) {
    const nlohmann::ordered_json doc = {{"timed", results}};
    if (const std::string err = write_output(json_path, doc.dump(2) + "\n"); !err.empty()) {
      fmt::print(stderr, "dartlab replay: --json: {}\n", err);
      return kExitUsage;
    }
  }
  return kExitOk;
}

}  // namespace dartlab::sim::timed
