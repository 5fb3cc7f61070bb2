// SPDX-License-Identifier: MIT
// See guest_run.hpp.
#include "guest/guest_run.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace dartlab::guest {

namespace fs = std::filesystem;

namespace {

// The tree this test was built from and its build directory (CMake passes them).
const fs::path kSource = DARTLAB_SOURCE_DIR;
const fs::path kBinary = DARTLAB_BINARY_DIR;
const fs::path kRunGuest = kSource / "scripts" / "run-guest.sh";
const fs::path kScenarios = kSource / "tests" / "guest" / "scenarios";
const fs::path kCli = kBinary / "sim" / "dartlab";
const fs::path kRuns = kBinary / "guest-runs";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// POSIX shell single quotes: everything literal, a quote written as '\''.
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace

GuestRun::GuestRun(const Scenario& s) : dir_(kRuns / s.name) {
  const fs::path& scenarios = kScenarios;
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  const fs::path results = dir_ / "results";
  const fs::path wrapper = dir_ / "run.sh";
  {
    std::ofstream w(wrapper);
    w << "# written by tests/guest/guest_run.cpp\n";
    for (const auto& [k, v] : s.env) w << k << "=" << quote(v) << "\n";
    w << ". /scenario/files/lib.sh\n. /scenario/files/" << s.script << "\n";
  }
  std::string cmd = quote(kRunGuest.string()) + " --script " + quote(wrapper.string()) + " --file " +
                    quote((scenarios / "lib.sh").string()) + " --file " + quote((scenarios / s.script).string()) +
                    " --adma " + quote(s.adma) + " --results " + quote(results.string());
  if (!s.dart.empty()) cmd += " --dart " + quote(s.dart);
  cmd += " >" + quote((dir_ / "run-guest.log").string()) + " 2>&1";
  exit_code_ = run(cmd);
}

std::string GuestRun::file(const std::string& name) const { return slurp(dir_ / "results" / "guest" / name); }
std::string GuestRun::console() const { return slurp(dir_ / "results" / "console.log"); }
std::string GuestRun::qemu_log() const { return slurp(dir_ / "results" / "qemu.log"); }

std::string GuestRun::describe() const {
  return "guest run in " + dir_.string() + " (run-guest.log, results/console.log, results/guest/); run-guest said:\n" +
         slurp(dir_ / "run-guest.log");
}

Counters GuestRun::counters(const std::string& name) const {
  Counters out;
  std::istringstream in(file(name));
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(": ");
    if (colon == std::string::npos) continue;
    const std::string value = line.substr(colon + 2);
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos) continue;
    out[line.substr(0, colon)] = std::stoull(value);
  }
  if (out.empty()) throw std::runtime_error("no counters in " + name + ": " + describe());
  return out;
}

Fields GuestRun::check(const std::string& tag) const {
  std::istringstream in(file("dmacheck.log"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string word;
    words >> word;
    if (word != tag) continue;
    Fields f;
    while (words >> word) {
      const auto eq = word.find('=');
      if (eq != std::string::npos) f[word.substr(0, eq)] = word.substr(eq + 1);
    }
    return f;
  }
  throw std::runtime_error("no dmacheck line tagged '" + tag + "': " + describe());
}

std::uint64_t number(const Fields& f, const std::string& key) {
  const auto it = f.find(key);
  if (it == f.end()) throw std::runtime_error("dmacheck line has no " + key);
  return std::stoull(it->second);
}

ReplayResult replay(const fs::path& trace, const std::string& policy, const std::string& dart) {
  const fs::path json = trace.string() + "." + std::to_string(std::hash<std::string>{}(policy + dart)) + ".json";
  std::string cmd = quote(kCli.string()) + " replay " + quote(trace.string()) + " --policy " + quote(policy) +
                    " --quiet --json " + quote(json.string());
  if (!dart.empty()) cmd += " --dart " + quote(dart);
  if (const int rc = run(cmd + " >/dev/null"); rc != 0)
    throw std::runtime_error("dartlab replay of " + trace.string() + " exited " + std::to_string(rc));
  const auto j = nlohmann::json::parse(slurp(json));
  const auto& r = j.at("results").at(0);
  ReplayResult out;
  out.peak_mappings = r.at("peak_mappings");
  out.host_map_calls = r.at("host_map_calls");
  out.host_unmap_calls = r.at("host_unmap_calls");
  out.failed_maps = r.at("failed_maps");
  out.final_live_mappings = r.at("final_live_mappings");
  out.peak_mapped_bytes = r.at("peak_mapped_bytes");
  for (const auto& [k, v] : r.at("failures_by_reason").items()) out.failures_by_reason[k] = v;
  return out;
}

DeviceEvents device_events(const std::string& qemu_log) {
  DeviceEvents e;
  std::uint64_t maps = 0, unmaps = 0;
  std::istringstream in(qemu_log);
  std::string line;
  while (std::getline(in, line)) {
    // The log backend may prefix "PID@SEC.USEC:"; the event name follows.
    const auto start = line.find("apple_dma_");
    if (start == std::string::npos) continue;
    const std::string ev = line.substr(start);
    const bool ok = ev.find(" status=0") != std::string::npos;
    if (ev.rfind("apple_dma_mmio_read offset=0x0 ", 0) == 0) {
      e.maps_ok_before_last_probe = maps;
      e.unmaps_ok_before_last_probe = unmaps;
    } else if (ev.rfind("apple_dma_map ", 0) == 0 && ok) {
      ++maps;
    } else if (ev.rfind("apple_dma_unmap ", 0) == 0 && ok) {
      ++unmaps;
    } else if (ev.rfind("apple_dma_fault ", 0) == 0) {
      const auto at = ev.find(" dma=0x");
      if (at != std::string::npos) e.fault_addrs.push_back(std::stoull(ev.substr(at + 7), nullptr, 16));
    }
  }
  return e;
}

}  // namespace dartlab::guest
