// SPDX-License-Identifier: MIT
// Everything a timed run is configured by, and the spec strings people write for it:
//   --link  PRESET[,key=value...]        the PCIe link / tunnel (tb3, tb4, usb4v2, pcie-gen4-x16)
//   --dart  [VARIANT,]key=value...       the functional DART's keys and the timed ones (IOTLB, flushes)
//   --host  key=value...                 the mapping path, host memory and the GPU's copy engine
// Each key is a row of a parameter table (params.hpp); the help texts list them all.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "models/dart/dart_config.hpp"
#include "models/dart/dart_variant.hpp"
#include "models/thunderbolt/link_config.hpp"
#include "passthrough/mapper/policy.hpp"
#include "sim/timed/mapping_path.hpp"
#include "sim/timed/platform.hpp"

namespace dartlab::sim::timed {

// Where a timed replay's DMA transfers come from.
enum class AccessSource : std::uint8_t {
  Auto,       // the trace's access events if its first 100,000 events hold one, else synthetic
  Trace,      // only the trace's access events
  Synthetic,  // only synthetic ones: every mapped segment transferred once in full after its map
};
std::string_view to_string(AccessSource a);

// The host side that is not the DART: the mapping path, host memory, the GPU's copy engine.
struct HostConfig {
  MappingCostConfig mapping{};
  HostMemoryConfig memory{};
  GpuConfig gpu{};
  friend bool operator==(const HostConfig&, const HostConfig&) = default;
};

// The DART, functional and timed.
struct TimedDart {
  dart::DartConfig functional{};
  dart::DartTiming timing = dart::kDartT8110.timing;
};

struct TimedConfig {
  mapper::Policy policy{mapper::PolicyKind::Window, 256 * 1024};
  TimedDart dart{};
  thunderbolt::LinkConfig link = thunderbolt::kLinkTb4;
  HostConfig host{};
  AccessSource access = AccessSource::Auto;

  PlatformConfig platform() const { return PlatformConfig{link, dart.timing, host.memory, host.gpu}; }
};

// "tb4" or "tb3,mps=256,dp=17280". The error names the item and why.
std::variant<thunderbolt::LinkConfig, std::string> parse_link_spec(std::string_view spec);
// The preset's name and the keys that differ from it.
std::string to_spec(const thunderbolt::LinkConfig& link);

// "" (t8110 and every default), "t8020", "t8110,inval=batched,aperture=1G": a bare word is the
// variant (its timing row is the start), then dart_config.hpp's keys and the timed keys.
std::variant<TimedDart, std::string> parse_timed_dart_spec(std::string_view spec);
std::string to_spec(const TimedDart& dart);

// "doorbell=5us,service=20us,mem-read=150ns,...": every key optional.
std::variant<HostConfig, std::string> parse_host_spec(std::string_view spec);
std::string to_spec(const HostConfig& host);

// Help: every preset with every parameter and what the link model alone predicts; the DART's
// timed keys; the host's keys. Defaults shown in brackets.
std::string link_help();
std::string dart_timing_help();
std::string host_help();

// A timed run's options as people write them (the text of --link, --host, --mode and --access):
// what a command collects from its flags and hands over whole.
struct TimedSpecs {
  std::string link = "tb4";
  std::string host;
  std::string mode = "burst";   // burst | tlp
  std::string access = "auto";  // auto | trace | synthetic
};

// One run's configuration from the specs, a policy and a --dart spec ("" = defaults). The error
// names the flag whose text is wrong, or says why the policy cannot be timed.
std::variant<TimedConfig, std::string> make_timed_config(const TimedSpecs& specs, const mapper::Policy& policy,
                                                         std::string_view dart_spec);

// Every preset with its parameters, the timed DART keys, the host keys and the modes.
std::string timed_help();

}  // namespace dartlab::sim::timed
