// SPDX-License-Identifier: MIT
// A booted Linux guest for the end-to-end tests: runs one scenario of tests/guest/scenarios through
// scripts/run-guest.sh (the real QEMU with apple-dma-pci, the real kernel, nvme and apple_dma) and
// reads back what it left: the files of its /results, the console and QEMU's trace log.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace dartlab::guest {

struct Scenario {
  std::string name;                       // the run's directory under build/release/guest-runs (kept for a look)
  std::string script;                     // tests/guest/scenarios/NAME (io.sh, pressure.sh)
  std::string adma;                       // apple-dma-pci properties without the DART
  std::string dart;                       // the DART spec ("" = the device's defaults)
  std::map<std::string, std::string> env; // shell variables the scenario reads (ADMA_PARAMS, ...)
};

// "key: value" lines (the module's stats and device files).
using Counters = std::map<std::string, std::uint64_t>;
// "key=value" fields of one dmacheck line.
using Fields = std::map<std::string, std::string>;

class GuestRun {
 public:
  explicit GuestRun(const Scenario& s);
  ~GuestRun() = default;
  GuestRun(const GuestRun&) = delete;
  GuestRun& operator=(const GuestRun&) = delete;

  int exit_code() const { return exit_code_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string file(const std::string& name) const;  // a file of the guest's /results; "" if absent
  Counters counters(const std::string& name) const;  // NAME.stats / NAME.device
  Fields check(const std::string& tag) const;        // the dmacheck line tagged TAG (throws if none)
  std::string console() const;
  std::string qemu_log() const;
  std::string describe() const;  // where to look when a check fails

 private:
  std::filesystem::path dir_;
  int exit_code_ = -1;
};

// `dartlab replay` of a trace the guest wrote, as the CLI's JSON result for one configuration.
struct ReplayResult {
  std::uint64_t peak_mappings = 0, host_map_calls = 0, host_unmap_calls = 0, failed_maps = 0;
  std::uint64_t final_live_mappings = 0, peak_mapped_bytes = 0;
  std::map<std::string, std::uint64_t> failures_by_reason;
};
ReplayResult replay(const std::filesystem::path& trace, const std::string& policy, const std::string& dart);

// The device's trace events in QEMU's log. A module's probe reads VERSION first (an
// apple_dma_mmio_read at offset 0): counts before the last such read cover every earlier module
// lifetime, each ended by its removal.
struct DeviceEvents {
  std::uint64_t maps_ok_before_last_probe = 0, unmaps_ok_before_last_probe = 0;
  std::vector<std::uint64_t> fault_addrs;
};
DeviceEvents device_events(const std::string& qemu_log);

std::uint64_t number(const Fields& f, const std::string& key);

}  // namespace dartlab::guest
