// SPDX-License-Identifier: MIT
// `dartlab stress`: soak one policy x DART configuration with a generated workload, or a trace
// looped with address jitter, until the first refused map or a bound; report when, how and the
// fragmentation on the way; optionally shrink the failure to a small trace (ddmin).
#include <algorithm>
#include <cctype>
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
#include "sim/results_output.hpp"
#include "sim/shrink.hpp"
#include "sim/stress.hpp"

namespace dartlab::cli {
namespace {

// The shrunk trace is printed whole up to this many events, else its head.
constexpr std::size_t kPrintWholeEvents = 40;
constexpr std::size_t kPrintHeadEvents = 20;
// Rows of the curve's mini table, and columns of its sparkline: a terminal's width.
constexpr std::size_t kCurveRows = 8;
constexpr std::size_t kSparklineColumns = 64;

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

// Single-quoted for a POSIX shell when it holds anything but plain path characters.
std::string shell_word(const std::string& s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("_./:=,@%+-").find(c) != std::string_view::npos;
  });
  if (plain) return s;
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

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
  std::string cmd = fmt::format("dartlab stress --policy {} --dart {}", shell_word(policy), shell_word(dart));
  if (a.trace_path.empty()) {
    cmd += fmt::format(" --profile {}{}", shell_word(a.profile), knob_flags(a));
  } else {
    cmd += fmt::format(" --trace {} --jitter {} --leftovers {}", shell_word(a.trace_path), format_size(a.jitter_bytes),
                       a.leftovers);
    if (a.input.format != "auto") cmd += " --format " + a.input.format;
    if (!a.input.device.empty()) cmd += " --device " + shell_word(a.input.device);
    if (a.input.level != "guest") cmd += " --level " + a.input.level;
  }
  cmd += fmt::format(" --seed {} --max-events {}", a.seed, events);
  if (a.limits.max_bytes != 0) cmd += " --max-bytes " + format_size(a.limits.max_bytes);
  return cmd;
}

std::string describe_request(const sim::StressFailure& f) {
  const std::string what = f.kind == trace::EventKind::MapSg
                               ? fmt::format("map_sg of {} segments, {} from", f.segments, sim::human_bytes(f.request_bytes))
                               : fmt::format("{} of {} at", trace::to_string(f.kind), sim::human_bytes(f.request_bytes));
  return fmt::format("{} {:#x}", what, f.gpa);
}

std::string describe_dart(const sim::DartSnapshot& d) {
  return fmt::format("{} live mappings, {} mapped, {} free, largest free extent {}, fragmentation {:.3f}",
                     d.live_mappings, sim::human_bytes(d.mapped_bytes), sim::human_bytes(d.free_bytes),
                     sim::human_bytes(d.largest_free_bytes), d.frag_index());
}

void print_curve(std::FILE* out, const sim::StressResult& r) {
  const auto& points = r.curve;
  if (points.empty()) return;
  std::vector<double> frag(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) frag[i] = points[i].max.frag_index;
  fmt::print(out, "fragmentation index (1 - largest free extent / free bytes; 0 one free run, 1 dust), worst per {} event{}:\n",
             r.curve_bucket_events, r.curve_bucket_events == 1 ? "" : "s");
  fmt::print(out, "  0 {} 1\n", sim::sparkline(frag, 0.0, 1.0, kSparklineColumns));
  fmt::print(out, "  {:>12}  {:>10}  {:>10}  {:>11}  {:>13}\n", "to event", "frag index", "live maps", "mapped", "requested");
  const std::size_t rows = std::min(kCurveRows, points.size());
  for (std::size_t row = 0; row < rows; ++row) {
    // Evenly spaced, the last point always shown: it holds the failure.
    const sim::SeriesPoint& p = points[rows == 1 ? 0 : row * (points.size() - 1) / (rows - 1)];
    fmt::print(out, "  {:>12}  {:>10.3f}  {:>10}  {:>11}  {:>13}\n", p.event, p.max.frag_index, p.max.live_mappings,
               sim::human_bytes(p.max.mapped_bytes), sim::human_bytes(p.max.requested_bytes));
  }
}

nlohmann::ordered_json snapshot_json(const sim::DartSnapshot& d) {
  return {{"live_mappings", d.live_mappings},
          {"mapped_bytes", d.mapped_bytes},
          {"free_bytes", d.free_bytes},
          {"largest_free_bytes", d.largest_free_bytes},
          {"frag_index", d.frag_index()}};
}

nlohmann::ordered_json curve_json(const sim::StressResult& r) {
  nlohmann::ordered_json event = nlohmann::ordered_json::array(), frag = event, live = event, mapped = event,
                         requested = event;
  for (const auto& p : r.curve) {
    event.push_back(p.event);
    frag.push_back(p.max.frag_index);
    live.push_back(p.max.live_mappings);
    mapped.push_back(p.max.mapped_bytes);
    requested.push_back(p.max.requested_bytes);
  }
  return {{"bucket_events", r.curve_bucket_events}, {"event", event},          {"frag_index", frag},
          {"live_mappings", live},                  {"mapped_bytes", mapped}, {"requested_bytes", requested}};
}

// Prints the file's lines: all of them when the trace is short, else its head.
void print_trace_file(std::FILE* out, const std::string& path, std::size_t events) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return;
  const std::size_t shown = events <= kPrintWholeEvents ? events : kPrintHeadEvents;
  std::size_t event_lines = 0;
  char line[4096];
  while (event_lines < shown && std::fgets(line, sizeof line, f) != nullptr) {
    fmt::print(out, "  {}", line);
    if (line[0] != '#' && std::string_view(line).rfind("dartlab-trace", 0) != 0) ++event_lines;
  }
  std::fclose(f);
  if (shown < events) fmt::print(out, "  ... ({} more events)\n", events - shown);
}

struct ShrinkReport {
  sim::ShrinkResult result;
  std::uint64_t replay_fail_event = 0;  // where `dartlab replay` of the written file fails
};

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
  // JSON on standard output moves the report for people to standard error: it is never skipped,
  // the reproduce line least of all.
  std::FILE* out = a.json_path == "-" ? stderr : stdout;
  const std::string reproduce = reproduce_command(a, policy_spec, dart_spec, r.events);
  const double rate = r.wall_seconds > 0 ? static_cast<double>(r.events) / r.wall_seconds : 0.0;

  const std::string source_name =
      from_trace ? fmt::format("{} looped (jitter {}, leftovers {})", a.trace_path, format_size(a.jitter_bytes), a.leftovers)
                 : a.profile;
  if (!a.quiet) fmt::print(out, "stress: {}, seed {}, under {} on {}\n", source_name, a.seed, policy_spec, dart_spec);
  if (r.failure) {
    const sim::StressFailure& f = *r.failure;
    fmt::print(out, "FAILED at event {}: {} maps before it asked for {} in all ({:.2f} s, {:.0f} events/s)\n", f.event,
               r.maps, sim::human_bytes(r.bytes_moved), r.wall_seconds, rate);
    fmt::print(out, "  refused: {}, reason {}\n", describe_request(f), dartlab::to_string(f.reason));
    if (!a.quiet) fmt::print(out, "  DART then: {}\n", describe_dart(f.dart));
  } else {
    fmt::print(out, "no failure within {} events (stopped by {}; {} maps asked for {}; {:.2f} s, {:.0f} events/s)\n", r.events,
               sim::to_string(r.stop), r.maps, sim::human_bytes(r.bytes_moved), r.wall_seconds, rate);
    if (!a.quiet) fmt::print(out, "  DART at the end: {}\n", describe_dart(r.final_dart));
  }
  if (!a.quiet) print_curve(out, r);
  fmt::print(out, "reproduce: {}\n", reproduce);
  std::fflush(out);

  std::optional<ShrinkReport> shrunk;
  if (a.shrink && r.failure) {
    if (!a.quiet)
      fmt::print(out, "shrink: {} events of history kept ({}); ddmin over requests, at most {} s\n", history->size(),
                 sim::human_bytes(history->memory_bytes()), a.shrink_seconds);
    std::fflush(out);
    ShrinkReport report{sim::shrink_failure(*history, r.events, run, r.failure->reason,
                                            sim::ShrinkOptions{.max_seconds = a.shrink_seconds}),
                        0};
    const sim::ShrinkResult& s = report.result;
    fmt::print(out, "shrink: {} events ({} requests) -> {} events ({} requests) in {:.2f} s, {} replays\n", s.from_events,
               s.from_requests, s.events.size(), s.requests, s.seconds, s.predicate_calls);
    if (!a.quiet) {
      if (s.live_cut)
        fmt::print(out, "  the requests live at the failure sufficed; the largest of them first: {} sufficed; then "
                   "single removals\n",
                   s.ranked_cut_requests);
      else
        fmt::print(out, "  the live requests alone do not fail so (released ones cut the holes): ddmin over all\n");
    }
    if (!a.quiet || !s.complete)
      fmt::print(out, "  {}\n",
                 s.complete ? "1-minimal: removing any one request makes the failure go away"
                            : fmt::format("time cap of {} s hit: the smallest trace found so far, not proven "
                                          "minimal (raise --shrink-seconds)",
                                          a.shrink_seconds));
    const OutputFlags text{.to = "text"};
    const int rc = write_trace(a.out, text, "dartlab stress: -o", [&](trace::TraceWriter& writer) {
      writer.set_devices(source->devices());
      writer.comment("dartlab stress --shrink: a small trace whose first refused map fails as the soak's did");
      writer.comment("policy: " + policy_spec);
      writer.comment("dart: " + dart_spec);
      writer.comment(fmt::format("reason: {}, at event {} of this trace", dartlab::to_string(r.failure->reason),
                                 s.failure.event));
      writer.comment(fmt::format("shrunk from {} events ({} requests) of: {}", s.from_events, s.from_requests, reproduce));
      writer.comment(fmt::format("ddmin: {} replays in {:.2f} s; {}", s.predicate_calls, s.seconds,
                                 s.complete ? "1-minimal" : "time cap hit, not proven minimal"));
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
    report.replay_fail_event = again.event;
    fmt::print(out, "wrote {} ({} events); replayed, it fails by {} at its event {}{}\n", a.out, s.events.size(),
               dartlab::to_string(again.reason), again.event, a.quiet ? "" : ":");
    if (!a.quiet) print_trace_file(out, a.out, s.events.size());
    fmt::print(out, "see it fail: dartlab replay {} --policy {} --dart {}\n", shell_word(a.out), shell_word(policy_spec),
               shell_word(dart_spec));
    shrunk = std::move(report);
  }

  if (!a.json_path.empty()) {
    nlohmann::ordered_json j;
    j["policy"] = policy_spec;
    j["dart"] = dart_spec;
    if (from_trace)
      j["source"] = {{"trace", a.trace_path}, {"jitter_bytes", a.jitter_bytes}, {"leftovers", a.leftovers}};
    else
      j["source"] = {{"profile", a.profile}};
    j["seed"] = a.seed;
    j["limits"] = {{"max_events", a.limits.max_events},
                   {"max_bytes", a.limits.max_bytes},
                   {"max_seconds", a.limits.max_seconds}};
    j["events"] = r.events;
    j["maps"] = r.maps;
    j["bytes_moved"] = r.bytes_moved;
    j["wall_seconds"] = r.wall_seconds;
    j["events_per_second"] = rate;
    j["stopped_by"] = sim::to_string(r.stop);
    if (r.failure) {
      const sim::StressFailure& f = *r.failure;
      j["failure"] = {{"event", f.event},
                      {"reason", dartlab::to_string(f.reason)},
                      {"request", {{"kind", trace::to_string(f.kind)}, {"gpa", f.gpa}, {"bytes", f.request_bytes},
                                   {"segments", f.segments}}},
                      {"dart", snapshot_json(f.dart)}};
    } else {
      j["failure"] = nullptr;
    }
    j["final_dart"] = snapshot_json(r.final_dart);
    j["peak_live_mappings"] = r.peak_live_mappings;
    j["fragmentation"] = curve_json(r);
    j["reproduce"] = reproduce;
    if (shrunk) {
      const sim::ShrinkResult& s = shrunk->result;
      j["shrink"] = {{"output", a.out},
                     {"from_events", s.from_events},
                     {"from_requests", s.from_requests},
                     {"events", s.events.size()},
                     {"requests", s.requests},
                     {"fail_event", shrunk->replay_fail_event},
                     {"predicate_calls", s.predicate_calls},
                     {"seconds", s.seconds},
                     {"one_minimal", s.complete},
                     {"live_cut", s.live_cut},
                     {"ranked_cut_requests", s.ranked_cut_requests},
                     {"history_bytes", history->memory_bytes()}};
    } else {
      j["shrink"] = nullptr;
    }
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
