#include <unistd.h>

#include <cstdio>

#include "sim/cli/cli.hpp"

namespace dartlab::cli {

void InputFlags::add_to(CLI::App& app) {
  app.add_option("--format", format,
                 "input format: auto (by the first bytes), text (dartlab v1), binary, ftrace (Linux trace text)")
      ->check(CLI::IsMember({"auto", "text", "binary", "ftrace"}))
      ->default_val("auto");
  app.add_option("--device", device,
                 "keep only this device's events (a PCI BDF such as 0000:01:00.0); others are skipped and counted");
}

sim::InputOptions InputFlags::options() const {
  return {.format = trace::parse_trace_format(format).value_or(trace::TraceFormat::Auto), .device = device};
}

ProgressLine::ProgressLine(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO) != 0) {}

void ProgressLine::update(const std::string& what, std::uint64_t bytes, std::uint64_t total, std::uint64_t events) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  if (total != 0)
    std::fprintf(stderr, "\r%s: %5.1f%%  %llu events ", what.c_str(),
                 100.0 * static_cast<double>(bytes) / static_cast<double>(total), static_cast<unsigned long long>(events));
  else
    std::fprintf(stderr, "\r%s: %llu events ", what.c_str(), static_cast<unsigned long long>(events));
  shown_ = true;
}

void ProgressLine::done() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
  shown_ = false;
}

}  // namespace dartlab::cli
