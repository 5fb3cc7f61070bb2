// SPDX-License-Identifier: MIT
// `dartlab convert`: between the text and binary trace formats, and from ftrace recordings.
#include <memory>

#include <fmt/format.h>

#include "sim/cli/cli.hpp"
#include "sim/replay/results_output.hpp"

namespace dartlab::cli {
namespace {

struct ConvertArgs {
  std::string command_line;
  std::string in;
  std::string out;
  InputFlags input;
  OutputFlags output;
  bool lenient = false;
  bool quiet = false;
};

int run_convert(const ConvertArgs& args) {
  if (const int rc = check_inputs({args.in}, "dartlab convert"); rc != kExitOk) return rc;
  const sim::InputOptions in = args.input.options();
  auto reader = trace::open_trace(args.in, in.reader_options(args.lenient), in.format);
  ProgressLine progress(!args.quiet && args.out != "-");
  std::uint64_t events = 0;
  const int rc = write_trace(args.out, args.output, "dartlab convert", [&](trace::TraceWriter& writer) {
    writer.comment("made by: " + args.command_line);
    std::size_t devices_known = 0;
    trace::Event ev;
    trace::TraceReader::Status status;
    while ((status = reader->next(ev)) == trace::TraceReader::Status::Event) {
      // Readers of imports learn device names as they go.
      if (reader->devices().size() != devices_known) {
        writer.set_devices(reader->devices());
        devices_known = reader->devices().size();
      }
      writer.write(ev);
      if ((++events & 0xffff) == 0) progress.update(args.in, reader->bytes_consumed(), reader->file_bytes(), events);
    }
    progress.done();
    if (status == trace::TraceReader::Status::Error) {
      fmt::print(stderr, "{}\n", reader->error().to_string());
      return kExitTrace;  // the output is not committed: nothing half-written is left
    }
    return kExitOk;
  });
  if (rc != kExitOk) return rc;
  if (!args.quiet) {
    fmt::print(stderr, "{}: {} events from {} ({} device{})\n", args.out, events, reader->format_name(),
               reader->devices().size(), reader->devices().size() == 1 ? "" : "s");
    sim::print_notes(stderr, reader->notes(), "  ");
    if (reader->warnings() != 0) {
      fmt::print(stderr, "  {} warnings (lenient), first ones:\n", reader->warnings());
      for (const auto& w : reader->warning_samples()) fmt::print(stderr, "    {}\n", w);
    }
  }
  return kExitOk;
}

}  // namespace

Command add_convert_command(CLI::App& app, std::string command_line) {
  auto args = std::make_shared<ConvertArgs>();
  args->command_line = std::move(command_line);
  CLI::App* cmd = app.add_subcommand(
      "convert", "Convert a trace: text <-> binary, or import a Linux ftrace recording or a QEMU log of the "
      "apple-dma-pci device's trace events into either");
  cmd->add_option("in", args->in, "input trace (format sniffed, or --format); '-' reads standard input")->required();
  cmd->add_option("out", args->out, "output trace; '-' writes standard output")->required();
  args->input.add_to(*cmd);
  args->output.add_to(*cmd);
  cmd->add_flag("--lenient", args->lenient, "skip and count events that parse but make no sense (zero length, ...)");
  cmd->add_flag("-q,--quiet", args->quiet, "no summary, no progress line");
  return {cmd, [args] { return run_convert(*args); }};
}

}  // namespace dartlab::cli
