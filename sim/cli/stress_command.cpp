// SPDX-License-Identifier: MIT
// `dartlab stress`: soak one policy x DART configuration with a generated workload, or a trace
// looped with address jitter, until the first refused map or a bound; report when, how and the
// fragmentation on the way; optionally shrink the failure to a small trace (ddmin).
#include <cstdio>
#include <memory>
#include <optional>
#include <type_traits>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/dart/dart_config.hpp"
#include "passthrough/mapper/policy.hpp"
#include "base/size_text.hpp"
#include "sim/cli/cli.hpp"
#include "sim/common/atomic_file.hpp"
#include "sim/stress/report.hpp"
#include "sim/stress/shrink.hpp"
#include "sim/stress/stress.hpp"

namespace dartlab::cli {
namespace {

struct StressArgs {
  std::string policy = "window:256K";
  std::string dart;
  std::string profile = "churn";
  trace::gen::GenParams params;
  std::string trace_path;
  std::uint64_t jitter_bytes = 0;
  std::string leftovers = "drain";
  InputFlags input;
  std::uint64_t seed = 1;
  sim::StressLimits limits;
  bool shrink = false;
  double shrink_seconds = sim::ShrinkOptions{}.max_seconds;
  std::string out = "minimal.trace";
  std::string json_path;
  bool quiet = false;  // the verdict, the reproduce line and what was written; no progress, curve or narrative
  CLI::App* cmd = nullptr;
};

bool given(const StressArgs& a, const std::string& flag) { return a.cmd->count(flag) > 0; }

// Does the knob apply to the profile: "all", or the profile in its comma-separated list.
bool knob_reads(std::string_view profiles, std::string_view profile) {
  if (profiles == "all") return true;
  while (!profiles.empty()) {
    const std::size_t comma = profiles.find(',');
    if (profiles.substr(0, comma) == profile) return true;
    if (comma == std::string_view::npos) break;
    profiles.remove_prefix(comma + 1);
  }
  return false;
}

// --FLAG VALUE for every knob the profile reads, and for any other set off its default: the
// command means the same run even if a default changes later.
std::string knob_flags(const StressArgs& a) {
  trace::gen::GenParams params = a.params;
  trace::gen::GenParams defaults;
  const std::vector<trace::gen::GenKnob> knobs = trace::gen::gen_knobs(params);
  const std::vector<trace::gen::GenKnob> default_knobs = trace::gen::gen_knobs(defaults);
  std::string out;
  for (std::size_t i = 0; i < knobs.size(); ++i) {
    const trace::gen::GenKnob& knob = knobs[i];
    std::string value;
    bool is_default = false;
    std::visit(
        [&](auto* target) {
          using T = std::remove_pointer_t<decltype(target)>;
          const T preset = *std::get<T*>(default_knobs[i].target);
          is_default = *target == preset;
          if constexpr (std::is_same_v<T, bool>)
            value = *target ? "" : "-";  // a flag: present or absent
          else if constexpr (std::is_same_v<T, double>)
            value = fmt::format("{}", *target);  // shortest text that reads back to the same double
          else
            value = knob.is_size ? format_size(*target) : fmt::format("{}", *target);
        },
        knob.target);
    if (!knob_reads(knob.profiles, a.profile) && is_default) continue;
    if (value == "-") continue;
    out += fmt::format(" --{}{}{}", knob.flag, value.empty() ? "" : " ", value);
  }
  return out;
}

// The command that runs the same soak again to the same end: every knob explicit, the event
// bound set to where this run stopped (a time bound is not reproducible; an event count is).
std::string reproduce_command(const StressArgs& a, const std::string& policy, const std::string& dart,
                              std::uint64_t events) {
  std::string cmd = fmt::format("dartlab stress --policy {} --dart {}", sim::shell_word(policy), sim::shell_word(dart));
  if (a.trace_path.empty()) {
    cmd += fmt::format(" --profile {}{}", sim::shell_word(a.profile), knob_flags(a));
  } else {
    cmd += fmt::format(" --trace {} --jitter {} --leftovers {}", sim::shell_word(a.trace_path), format_size(a.jitter_bytes),
                       a.leftovers);
    if (a.input.format != "auto") cmd += " --format " + a.input.format;
    if (!a.input.device.empty()) cmd += " --device " + sim::shell_word(a.input.device);
    if (a.input.level != "guest") cmd += " --level " + a.input.level;
  }
  cmd += fmt::format(" --seed {} --max-events {}", a.seed, events);
  if (a.limits.max_bytes != 0) cmd += " --max-bytes " + format_size(a.limits.max_bytes);
  return cmd;
}

int run_stress(StressArgs& a) {
  // The configuration, checked before anything runs.
  const auto policy = mapper::parse_policy(a.policy);
  if (const auto* err = std::get_if<std::string>(&policy)) {
    fmt::print(stderr, "dartlab stress: --policy: {}\n", *err);
    return kExitUsage;
  }
  const auto dart = dart::parse_dart_spec(a.dart);
  if (const auto* err = std::get_if<std::string>(&dart)) {
    fmt::print(stderr, "dartlab stress: --dart '{}': {}\n", a.dart, *err);
    return kExitUsage;
  }
  const sim::RunConfig run{std::get<mapper::Policy>(policy), std::get<dart::DartConfig>(dart)};
  const std::string policy_spec = run.policy.spec();
  const std::string dart_spec = dart::to_spec(run.dart);

  const bool from_trace = !a.trace_path.empty();
  if (from_trace) {
    if (given(a, "--profile")) {
      fmt::print(stderr, "dartlab stress: --trace and --profile: give one source of events\n");
      return kExitUsage;
    }
    for (const auto& knob : trace::gen::gen_knobs(a.params))
      if (given(a, "--" + std::string(knob.flag))) {
        fmt::print(stderr, "dartlab stress: --{} sets a generator knob; it means nothing with --trace\n", knob.flag);
        return kExitUsage;
      }
    if (a.trace_path == "-") {
      fmt::print(stderr, "dartlab stress: --trace -: standard input cannot be looped; save the trace to a file\n");
      return kExitUsage;
    }
  } else {
    for (const char* flag : {"--jitter", "--leftovers", "--format", "--device", "--level"})
      if (given(a, flag)) {
        fmt::print(stderr, "dartlab stress: {} applies to --trace only\n", flag);
        return kExitUsage;
      }
  }
  if (a.shrink_seconds <= 0) {
    fmt::print(stderr, "dartlab stress: --shrink-seconds must be above 0\n");
    return kExitUsage;
  }
  if (a.shrink && a.limits.max_events > 0xffff'ffffULL) {
    fmt::print(stderr, "dartlab stress: --shrink keeps every event: --max-events must stay below 2^32 with it\n");
    return kExitUsage;
  }
  if (a.shrink && a.out == "-") {
    fmt::print(stderr, "dartlab stress: -o: the shrunk trace goes to a file, not standard output\n");
    return kExitUsage;
  }
  if (const int rc = check_outputs("dartlab stress", {{"--json", a.json_path}, {"-o", a.shrink ? a.out : std::string()}});
      rc != kExitOk)
    return rc;

  std::unique_ptr<sim::StressSource> source;
  if (from_trace) {
    source = sim::make_looped_trace_source(
        a.trace_path, sim::LoopOptions{.jitter_bytes = a.jitter_bytes,
                                       .seed = a.seed,
                                       .leftovers = a.leftovers == "keep" ? sim::Leftovers::Keep : sim::Leftovers::Drain,
                                       .input = a.input.options()});
  } else {
    trace::gen::GenParams params = a.params;
    params.seed = a.seed;
    params.events = a.limits.max_events;
    std::string error;
    source = sim::make_generator_source(a.profile, params, &error);
    if (!source) {
      fmt::print(stderr, "dartlab stress: {}\n", error);
      return kExitUsage;
    }
  }

  std::unique_ptr<sim::StressHistory> history;
  if (a.shrink) history = std::make_unique<sim::StressHistory>();
  ProgressLine progress(!a.quiet);
  const auto outcome = sim::run_stress(
      *source, run,
      sim::StressOptions{.limits = a.limits,
                         .history = history.get(),
                         .progress = [&](std::uint64_t events) {
                           progress.update("dartlab stress", events, a.limits.max_events, events);
                         }});
  progress.done();
  if (const auto* err = std::get_if<std::string>(&outcome)) {
    fmt::print(stderr, "{}\n", *err);
    return kExitTrace;
  }
  const sim::StressResult& r = std::get<sim::StressResult>(outcome);
  const sim::StressRun report{.policy = policy_spec,
                              .dart = dart_spec,
                              .source_name = from_trace ? fmt::format("{} looped (jitter {}, leftovers {})", a.trace_path,
                                                                      format_size(a.jitter_bytes), a.leftovers)
                                                        : a.profile,
                              .source = from_trace ? nlohmann::ordered_json{{"trace", a.trace_path},
                                                                            {"jitter_bytes", a.jitter_bytes},
                                                                            {"leftovers", a.leftovers}}
                                                   : nlohmann::ordered_json{{"profile", a.profile}},
                              .seed = a.seed,
                              .limits = a.limits,
                              .reproduce = reproduce_command(a, policy_spec, dart_spec, r.events)};
  // JSON on standard output moves the report for people to standard error: it is never skipped,
  // the reproduce line least of all.
  std::FILE* out = a.json_path == "-" ? stderr : stdout;
  sim::print_stress_verdict(out, report, r, a.quiet);
  std::fflush(out);

  std::optional<sim::ShrinkReport> shrunk;
  if (a.shrink && r.failure) {
    if (!a.quiet) sim::print_shrink_start(out, history->size(), history->memory_bytes(), a.shrink_seconds);
    std::fflush(out);
    sim::ShrinkReport shrink{sim::shrink_failure(*history, r.events, run, r.failure->reason,
                                                 sim::ShrinkOptions{.max_seconds = a.shrink_seconds}),
                             a.out, 0, history->memory_bytes()};
    const sim::ShrinkResult& s = shrink.result;
    sim::print_shrink_result(out, s, a.quiet, a.shrink_seconds);
    const OutputFlags text{.to = "text"};
    const int rc = write_trace(a.out, text, "dartlab stress: -o", [&](trace::TraceWriter& writer) {
      writer.set_devices(source->devices());
      for (const std::string& comment : sim::shrunk_trace_comments(report, r, s)) writer.comment(comment);
      sim::write_events(*history, s.events, writer);
      return kExitOk;
    });
    if (rc != kExitOk) return rc;
    // Replay the file as `dartlab replay` would: what was written is what fails.
    const auto check = sim::replay_file(a.out, std::span<const sim::RunConfig>(&run, 1), {});
    if (const auto* err = std::get_if<std::string>(&check)) {
      fmt::print(stderr, "dartlab stress: internal error: the shrunk trace does not read back: {}\n", *err);
      return kExitInternal;
    }
    const sim::FirstFailure& again = std::get<sim::TraceOutcome>(check).results.front().first_failure;
    if (!again.happened || again.reason != r.failure->reason) {
      fmt::print(stderr, "dartlab stress: internal error: {} does not fail by {} when replayed\n", a.out,
                 dartlab::to_string(r.failure->reason));
      return kExitInternal;
    }
    shrink.replay_fail_event = again.event;
    sim::print_shrink_written(out, report, r, shrink, a.quiet);
    shrunk = std::move(shrink);
  }

  if (!a.json_path.empty()) {
    const nlohmann::ordered_json j = sim::stress_json(report, r, shrunk ? &*shrunk : nullptr);
    const std::string err = sim::write_output(a.json_path, j.dump(2) + "\n");
    if (!err.empty()) {
      fmt::print(stderr, "dartlab stress: --json: {}\n", err);
      return kExitUsage;
    }
  }
  return r.failure ? kExitStressFailure : kExitOk;
}

}  // namespace

Command add_stress_command(CLI::App& app, std::string command_line) {
  (void)command_line;  // the reproduce line is rebuilt with every knob explicit, not echoed
  auto args = std::make_shared<StressArgs>();
  CLI::App* cmd = app.add_subcommand(
      "stress", "Soak a policy x DART with a churning workload (or a looped trace) until the first refused map; shrink it");
  args->cmd = cmd;
  cmd->add_option("-p,--policy", args->policy, "clustering policy (as for replay)")->default_val(args->policy);
  cmd->add_option("-d,--dart", args->dart,
                  "DART / host service config (as for replay), e.g. aperture=256M,slots=4096,alloc=best-fit "
                  "(default: the observed host)");
  cmd->add_option("--profile", args->profile, "workload generator profile (as for gen); its knobs below")
      ->default_val(args->profile);
  cmd->add_option("--trace", args->trace_path,
                  "loop this trace instead of generating: read again for every loop, ids renumbered, gpas shifted");
  add_size_option(*cmd, "--jitter", args->jitter_bytes,
                  "with --trace: each loop after the first shifts every gpa by a multiple of 16 KiB drawn "
                  "from 0 .. this (the seed's); 0: the same addresses every loop");
  cmd->add_option("--leftovers", args->leftovers,
                  "with --trace: requests still live at a loop's end are released then, oldest first (drain), "
                  "or kept live for the rest of the soak (keep: a leaking trace grows every loop)")
      ->check(CLI::IsMember({"drain", "keep"}))
      ->default_val(args->leftovers);
  args->input.add_to(*cmd);
  add_count_option(*cmd, "-s,--seed", args->seed, "random seed of the generator, or of the loops' jitter");
  add_count_option(*cmd, "--max-events", args->limits.max_events,
                   "stop after this many events without a failure (a guess)", 1);
  add_size_option(*cmd, "--max-bytes", args->limits.max_bytes,
                  "stop once maps have asked for this many bytes in all; 0: no bound");
  add_decimal_option(*cmd, "--max-seconds", args->limits.max_seconds, "stop after this much wall time; 0: no bound");
  cmd->add_flag("--shrink", args->shrink,
                "on a failure, delta-debug the events up to it to a small trace that fails the same way, and "
                "write it (-o). Keeps every event until the failure: 48 bytes each, 16 more per sg segment");
  add_decimal_option(*cmd, "--shrink-seconds", args->shrink_seconds,
                     "cap on shrinking time; at the cap the smallest trace found so far is written (a guess)");
  cmd->add_option("-o,--output", args->out, "where --shrink writes the shrunk text trace (atomically)")
      ->default_val(args->out);
  cmd->add_option("--json", args->json_path, "write the report as JSON to FILE ('-' for stdout)");
  cmd->add_flag("-q,--quiet", args->quiet,
                "no progress line, DART state, curve or shrink narrative: the verdict, the refused request, the "
                "reproduce line and what was written");
  add_gen_knobs(*cmd, args->params);
  cmd->footer(
      "Stops at the first map the DART refuses (slots, aperture, fragmented) or at a bound, and prints: the\n"
      "event and the request refused, the bytes maps asked for before it, the DART's state then (live\n"
      "mappings, mapped bytes, free bytes, largest free extent), the fragmentation curve (1 - largest free\n"
      "extent / free bytes over the run: 0 while free space is one run, near 1 when it is dust; a map fails\n"
      "as fragmented when its size lies between the largest extent and the free bytes), and always a\n"
      "command that reproduces the run: same seed, every knob explicit, --max-events at the failure.\n"
      "\nExit codes: 0 no failure within the bound; 4 a failure found; 1 bad usage or output error;\n"
      "2 a malformed or inconsistent --trace; 3 internal error.\n");
  return {cmd, [args] { return run_stress(*args); }};
}

}  // namespace dartlab::cli
