// SPDX-License-Identifier: MIT
// `dartlab bandwidth`: CUDA's bandwidthTest in the simulated world. A pinned host buffer is mapped
// once through the DART and copied by the GPU over the link, --iterations times; the figure is
// bytes over the copies' time, in GiB/s.
#include <memory>
#include <variant>

#include <fmt/format.h>

#include "base/size_text.hpp"
#include "sim/cli/cli.hpp"
#include "sim/cli/timed_flags.hpp"
#include "sim/common/atomic_file.hpp"
#include "sim/timed/bandwidth.hpp"

namespace dartlab::cli {
namespace {

struct BandwidthArgs {
  TimedFlags timed;
  std::string dart;
  std::string dir = "h2d";
  std::uint64_t size_bytes = sim::timed::BandwidthRequest{}.size_bytes;
  std::uint32_t iterations = 10;
  std::string json_path;
  bool quiet = false;
};

int run_bandwidth(const BandwidthArgs& args) {
  if (const int rc = check_outputs("dartlab bandwidth", {{"--json", args.json_path}}); rc != kExitOk) return rc;
  // One buffer, mapped directly: no policy.
  auto config = sim::timed::make_timed_config(args.timed.specs, mapper::Policy{}, args.dart);
  if (const auto* e = std::get_if<std::string>(&config)) {
    fmt::print(stderr, "dartlab bandwidth: {}\n", *e);
    return kExitUsage;
  }
  const sim::timed::BandwidthRequest request{
      args.dir == "d2h" ? dartlab::bus::DmaDir::DeviceToHost : dartlab::bus::DmaDir::HostToDevice, args.size_bytes, args.iterations};
  auto result = sim::timed::run_bandwidth(std::get<sim::timed::TimedConfig>(config), request);
  if (const auto* e = std::get_if<std::string>(&result)) {
    fmt::print(stderr, "dartlab bandwidth: {}\n", *e);
    return kExitUsage;
  }
  const auto& r = std::get<sim::timed::BandwidthResult>(result);
  if (!args.quiet && args.json_path != "-") fmt::print("{}", sim::timed::bandwidth_summary(r));
  if (!args.json_path.empty()) {
    const std::string err = sim::write_output(args.json_path, sim::timed::bandwidth_json(r).dump(2) + "\n");
    if (!err.empty()) {
      fmt::print(stderr, "dartlab bandwidth: --json: {}\n", err);
      return kExitUsage;
    }
  }
  return kExitOk;
}

}  // namespace

Command add_bandwidth_command(CLI::App& app) {
  auto args = std::make_shared<BandwidthArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bandwidth", "CUDA's bandwidthTest in the simulated world: a pinned buffer mapped once, copied repeatedly "
                   "over the link, through the DART");
  args->timed.add_to(*cmd, false);
  cmd->add_option("--dir", args->dir, "h2d: the GPU reads host memory (cudaMemcpy host to device); d2h: it writes it")
      ->check(CLI::IsMember({"h2d", "d2h"}))
      ->default_val("h2d");
  add_size_option(*cmd, "--size", args->size_bytes, "bytes per copy (bandwidthTest's default 32M)", 1);
  add_count_option(*cmd, "--iterations", args->iterations, "copies, one after another", 1, 1'000'000);
  cmd->add_option("-d,--dart", args->dart,
                  "DART variant and keys: t8020 or t8110 (default), the DART spec keys (aperture=...) and the timed "
                  "ones below");
  cmd->add_option("--json", args->json_path, "write the result as JSON to FILE ('-' for stdout); field gib_per_s");
  cmd->add_flag("-q,--quiet", args->quiet, "no summary line");
  cmd->footer(sim::timed::timed_help() +
              "\nExit codes: 0 ok; 1 bad usage, a configuration the models refuse, or an output error.\n");
  return {cmd, [args] { return run_bandwidth(*args); }};
}

}  // namespace dartlab::cli
