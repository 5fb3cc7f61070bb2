// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "base/size_text.hpp"
#include "sim/cli/cli.hpp"
#include "sim/common/flag_numbers.hpp"
#include "sim/common/atomic_file.hpp"
#include "traces/binary_format.hpp"
#include "traces/printable.hpp"

namespace dartlab::cli {

namespace {

// The flag's long name for messages: "-n,--events" -> "--events".
std::string flag_name(const std::string& names) {
  const std::size_t comma = names.rfind(',');
  return comma == std::string::npos ? names : names.substr(comma + 1);
}

template <class T>
CLI::Option* add_number(CLI::App& app, const std::string& names, T& target, const std::string& help, sim::FlagNumber kind,
                        std::uint64_t min, std::uint64_t max) {
  static_assert(std::is_unsigned_v<T>);
  max = std::min<std::uint64_t>(max, std::numeric_limits<T>::max());
  const std::string flag = flag_name(names);
  return app
      .add_option(
          names,
          [&target, flag, kind, min, max](const CLI::results_t& r) {
            std::uint64_t v = 0;
            const std::string err = sim::parse_flag_number(flag, r.front(), kind, min, max, v);
            if (!err.empty()) throw CLI::ValidationError(err);
            target = static_cast<T>(v);
            return true;
          },
          help)
      ->default_str(kind == sim::FlagNumber::Size ? format_size(target) : std::to_string(target))
      ->type_name(kind == sim::FlagNumber::Size ? "SIZE" : "N");
}

}  // namespace

CLI::Option* add_size_option(CLI::App& app, const std::string& flag, std::uint64_t& target, const std::string& help,
                             std::uint64_t min) {
  return add_number(app, flag, target, help, sim::FlagNumber::Size, min, std::numeric_limits<std::uint64_t>::max());
}

template <class T>
CLI::Option* add_count_option(CLI::App& app, const std::string& names, T& target, const std::string& help,
                              std::uint64_t min, std::uint64_t max) {
  return add_number(app, names, target, help, sim::FlagNumber::Count, min, max);
}
template CLI::Option* add_count_option(CLI::App&, const std::string&, std::uint64_t&, const std::string&, std::uint64_t,
                                       std::uint64_t);
template CLI::Option* add_count_option(CLI::App&, const std::string&, std::uint32_t&, const std::string&, std::uint64_t,
                                       std::uint64_t);

CLI::Option* add_decimal_option(CLI::App& app, const std::string& names, double& target, const std::string& help) {
  const std::string flag = flag_name(names);
  return app
      .add_option(
          names,
          [&target, flag](const CLI::results_t& r) {
            double v = 0;
            const std::string err = sim::parse_flag_decimal(flag, r.front(), v);
            if (!err.empty()) throw CLI::ValidationError(err);
            target = v;
            return true;
          },
          help)
      ->default_str(fmt::format("{}", target))
      ->type_name("X");
}

void add_gen_knobs(CLI::App& cmd, trace::gen::GenParams& params) {
  for (const trace::gen::GenKnob& knob : trace::gen::gen_knobs(params)) {
    const std::string flag = "--" + std::string(knob.flag);
    const std::string help = fmt::format("[{}] {}", knob.profiles, knob.help);
    std::visit(
        [&](auto* target) {
          using T = std::remove_pointer_t<decltype(target)>;
          if constexpr (std::is_same_v<T, bool>) {
            cmd.add_flag(flag, *target, help);
          } else if constexpr (std::is_same_v<T, double>) {
            add_decimal_option(cmd, flag, *target, help);
          } else {
            add_number(cmd, flag, *target, help, knob.is_size ? sim::FlagNumber::Size : sim::FlagNumber::Count, 0,
                       std::numeric_limits<T>::max());
          }
        },
        knob.target);
  }
}

int check_outputs(const std::string& prefix, std::initializer_list<OutputPath> outputs) {
  for (auto a = outputs.begin(); a != outputs.end(); ++a) {
    if (a->path.empty()) continue;
    if (const std::string err = sim::check_output_path(a->path); !err.empty()) {
      fmt::print(stderr, "{}: {}: {}\n", prefix, a->flag, err);
      return kExitUsage;
    }
    for (auto b = outputs.begin(); b != a; ++b) {
      if (b->path.empty() || !sim::same_output(a->path, b->path)) continue;
      if (a->path == "-")
        fmt::print(stderr, "{}: {} and {} both write to standard output: send one to a file\n", prefix, b->flag, a->flag);
      else
        fmt::print(stderr, "{}: {} and {} both name {}: give each its own file\n", prefix, b->flag, a->flag, a->path);
      return kExitUsage;
    }
  }
  return kExitOk;
}

void InputFlags::add_to(CLI::App& app) {
  app.add_option("--format", format,
                 "input format: auto (by the first lines), text (dartlab v1), binary, ftrace (Linux trace text), "
                 "qemu-log (apple-dma-pci trace events in a QEMU log, dartlab's device or the real one), "
                 "apple-dma-csv (the apple_dma guest module's debugfs trace); gzip and zstd files are read as what "
                 "they hold")
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(trace::kTraceFormatNames), std::end(trace::kTraceFormatNames))))
      ->default_val("auto");
  app.add_option("--device", device,
                 "keep only this device's events (a PCI BDF such as 0000:01:00.0); others are skipped and counted. "
                 "For a recording of one device that names none (apple-dma-csv, the real device's QEMU log): its "
                 "name (default 0000:01:00.0)")
      ->check(CLI::Validator(
          [](const std::string& name) -> std::string {
            if (trace::binary::valid_device_name(name)) return {};
            return "'" + trace::printable(name) + "' is not a device name: letters, digits and ':._-', 1 to " +
                   std::to_string(trace::binary::kMaxDeviceNameBytes) + " bytes (a PCI BDF such as 0000:01:00.0)";
          },
          "DEVICE"));
  app.add_option("--level", level,
                 "a QEMU log of the real apple-dma-pci device: replay the guest's map and unmap entries (guest), or "
                 "the host mappings QEMU registered, apple_dext_* (host)")
      ->check(CLI::IsMember({"guest", "host"}))
      ->default_val("guest");
}

sim::InputOptions InputFlags::options() const {
  return {.format = trace::parse_trace_format(format).value_or(trace::TraceFormat::Auto),
          .device = device,
          .level = trace::parse_log_level(level).value_or(trace::LogLevel::Guest)};
}

int check_inputs(const std::vector<std::string>& paths, const std::string& prefix) {
  if (std::count(paths.begin(), paths.end(), "-") > 1) {
    fmt::print(stderr, "{}: standard input ('-') can be read only once\n", prefix);
    return kExitUsage;
  }
  for (const std::string& path : paths) {
    if (path == "-") continue;
    // Only a regular file is opened to try it: opening a FIFO would take its writer's reader away.
    struct stat st {};
    std::string why;
    if (::stat(path.c_str(), &st) != 0) {
      why = std::strerror(errno);
    } else if (S_ISDIR(st.st_mode)) {
      why = "is a directory, not a trace";
    } else if (S_ISREG(st.st_mode)) {
      const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) why = std::strerror(errno);
      else ::close(fd);
    }
    if (!why.empty()) {
      fmt::print(stderr, "{}: {}: cannot open: {}\n", prefix, trace::printable(path), why);
      return kExitUsage;
    }
  }
  return kExitOk;
}

void OutputFlags::add_to(CLI::App& app) {
  app.add_option("--to", to, "output format: text (dartlab v1), binary, or auto: binary for FILE.dlt or with --zstd")
      ->check(CLI::IsMember({"auto", "text", "binary"}))
      ->default_val("auto");
  app.add_flag("--zstd", zstd, "binary output compressed with zstd (about 3x smaller, a little slower to read)");
}

trace::TraceFormat OutputFlags::format_for(const std::string& path) const {
  if (to == "text") return trace::TraceFormat::Text;
  if (to == "binary" || zstd || path.ends_with(".dlt")) return trace::TraceFormat::Binary;
  return trace::TraceFormat::Text;
}

int write_trace(const std::string& path, const OutputFlags& flags, const std::string& prefix,
                const std::function<int(trace::TraceWriter&)>& produce) {
  const trace::TraceFormat format = flags.format_for(path);
  if (format == trace::TraceFormat::Binary && path == "-" && isatty(STDOUT_FILENO) != 0) {
    fmt::print(stderr, "{}: not writing a binary trace to a terminal (redirect it, or --to text)\n", prefix);
    return kExitUsage;
  }
  sim::AtomicFile out(path);
  if (!out.open_error().empty()) {
    fmt::print(stderr, "{}: {}\n", prefix, out.open_error());
    return kExitUsage;
  }
  int rc;
  bool written;
  std::string why;
  {  // writers flush when they finish: before the file is closed
    auto writer = trace::make_trace_writer(out.stream(), format, flags.options());
    rc = produce(*writer);
    written = writer->finish();
    why = writer->failure();
  }
  if (rc != kExitOk) return rc;  // never committed: the old file, if any, stays as it was
  // A record the output format cannot hold (a writer's failure()) is said as such, not as errno.
  const std::string err = written ? out.commit() : "cannot write " + path + ": " + (why.empty() ? std::strerror(errno) : why);
  if (!err.empty()) {
    fmt::print(stderr, "{}: {}\n", prefix, err);
    return kExitUsage;
  }
  return kExitOk;
}

ProgressLine::ProgressLine(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO) != 0) {}

void ProgressLine::update(const std::string& what, std::uint64_t bytes, std::uint64_t total, std::uint64_t events) {
  if (!enabled_) return;
  if (total != 0)
    show(fmt::format("{}: {:5.1f}%  {} events ", what, 100.0 * static_cast<double>(bytes) / static_cast<double>(total),
                     events));
  else
    show(fmt::format("{}: {} events ", what, events));
}

void ProgressLine::update(const std::string& text) { show(text); }

void ProgressLine::show(const std::string& line) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  std::fprintf(stderr, "\r%s\033[K", line.c_str());
  shown_ = true;
}

void ProgressLine::done() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
  shown_ = false;
}

}  // namespace dartlab::cli
