// SPDX-License-Identifier: MIT
#include "sim/timed/timed_config.hpp"

#include <array>
#include <cstdio>

#include <fmt/format.h>

#include "models/thunderbolt/link_timing.hpp"
#include "sim/timed/params.hpp"
#include "base/join.hpp"

namespace dartlab::sim::timed {

namespace {

using thunderbolt::LinkConfig;
using U = ParamUnit;

constexpr std::array kLinkParams{
    param<&LinkConfig::pcie_gen>("gen", U::Count, "PCIe generation: 8b/10b to gen 2, 128b/130b after", 1, 5),
    param<&LinkConfig::pcie_lanes>("lanes", U::Count, "PCIe lanes", 1, 32),
    param<&LinkConfig::mps_bytes>("mps", U::Bytes, "Max_Payload_Size: largest write or completion payload"),
    param<&LinkConfig::mrrs_bytes>("mrrs", U::Bytes, "Max_Read_Request_Size: largest read request"),
    param<&LinkConfig::completion_bytes>("cpl", U::Bytes, "read completions come in chunks of this (RCB multiple, <= MPS)"),
    param<&LinkConfig::framing_bytes>("framing", U::Count, "bytes per TLP below the transaction layer (sequence, LCRC, STP)"),
    param<&LinkConfig::header_3dw_bytes>("hdr3", U::Count, "TLP header below 4 GiB and of completions, bytes"),
    param<&LinkConfig::header_4dw_bytes>("hdr4", U::Count, "TLP header at or above 4 GiB, bytes"),
    param<&LinkConfig::dllp_bytes>("dllp", U::Count, "bytes of one ACK or UpdateFC DLLP"),
    param<&LinkConfig::ack_interval_bytes>("ack", U::Count, "link bytes per ACK DLLP (spec table, pcie-bench's accounting)", 1),
    param<&LinkConfig::fc_interval_bytes>("fc", U::Count, "link bytes per UpdateFC DLLP (same)", 1),
    param<&LinkConfig::skp_bytes>("skp", U::Count, "bytes of one SKP ordered set"),
    param<&LinkConfig::skp_interval_bytes>("skp-interval", U::Count, "link bytes per SKP ordered set", 1),
    param<&LinkConfig::posted_header_credits>("ph", U::Count, "posted header credits at the host (write TLPs in flight)", 1, 65536),
    param<&LinkConfig::posted_data_credits>("pd", U::Count, "posted data credits at the host, 16-byte units", 1),
    param<&LinkConfig::read_tags>("tags", U::Count, "reads the device keeps outstanding", 1, 65536),
    param<&LinkConfig::tunnel_mbps>("tunnel", U::Mbps, "tunnel link rate each way, Mb/s (0: native PCIe)"),
    param<&LinkConfig::guard_band_percent>("guard", U::Percent, "tunnel capacity left unused, percent", 0, 99),
    param<&LinkConfig::dp_reserved_mbps>("dp", U::Mbps, "DisplayPort reserved host->device, Mb/s"),
    param<&LinkConfig::tunnel_payload_bytes>("tunnel-payload", U::Bytes, "largest tunnelled packet payload", 1),
    param<&LinkConfig::tunnel_header_bytes>("tunnel-header", U::Count, "bytes of each tunnelled packet's header"),
    param<&LinkConfig::port_ns>("port", U::Nanos, "one PCIe port or switch crossing"),
    param<&LinkConfig::ports>("ports", U::Count, "port crossings one way"),
    param<&LinkConfig::tunnel_hop_ns>("hop", U::Nanos, "one USB4 router adapter crossing"),
    param<&LinkConfig::tunnel_hops>("hops", U::Count, "router crossings one way"),
};

using dart::DartTiming;
constexpr std::array<std::string_view, 3> kReplacementNames{"lru", "fifo", "random"};
constexpr std::array<std::string_view, 2> kModeNames{"strict", "batched"};
constexpr std::array<std::string_view, 3> kScopeNames{"all", "stream", "range"};

constexpr std::array kDartParams{
    nested_param<&DartTiming::iotlb, &dart::IotlbGeometry::sets>("iotlb-sets", U::Count, "IOTLB sets, a power of two (guess: not published)", 1, 65536),
    nested_param<&DartTiming::iotlb, &dart::IotlbGeometry::ways>("iotlb-ways", U::Count, "IOTLB ways (guess)", 1, 64),
    with_choices(nested_param<&DartTiming::iotlb, &dart::IotlbGeometry::replacement>("repl", U::Choice, "IOTLB replacement: lru, fifo, random (guess)"), kReplacementNames),
    param<&DartTiming::lookup_ns>("lookup", U::Nanos, "IOTLB lookup latency (guess)"),
    param<&DartTiming::lookup_interval_ps>("lookup-interval", U::Picos, "a lookup may start every (guess)"),
    with_choices(nested_param<&DartTiming::invalidation, &dart::InvalidationConfig::mode>("inval", U::Choice, "strict: flush on every map and unmap (Linux apple-dart); batched: flush queue"), kModeNames),
    with_choices(nested_param<&DartTiming::invalidation, &dart::InvalidationConfig::scope>("scope", U::Choice, "a flush covers all, the stream (apple-dart), or the range (t8110 only)"), kScopeNames),
    nested_param<&DartTiming::invalidation, &dart::InvalidationConfig::batch_entries>("batch", U::Count, "batched: flush once this many unmaps wait (Linux flush queue, 250)", 1),
    nested_param<&DartTiming::invalidation, &dart::InvalidationConfig::batch_window_ns>("window", U::Nanos, "batched: or once the oldest waited this long (10 ms)"),
    nested_param<&DartTiming::invalidation, &dart::InvalidationConfig::command_write_ns>("mmio-write", U::Nanos, "host's MMIO write of the flush command (guess)"),
    nested_param<&DartTiming::invalidation, &dart::InvalidationConfig::status_read_ns>("mmio-read", U::Nanos, "host's MMIO read of the busy bit (guess)"),
    nested_param<&DartTiming::invalidation, &dart::InvalidationConfig::flush_hw_ns>("flush-hw", U::Nanos, "the DART's own flush time (guess: not published)"),
    nested_param<&DartTiming::invalidation, &dart::InvalidationConfig::poll_interval_ns>("poll", U::Nanos, "busy-poll interval (apple-dart: 1 us)"),
    nested_param<&DartTiming::invalidation, &dart::InvalidationConfig::poll_timeout_ns>("poll-timeout", U::Nanos, "busy-poll timeout (apple-dart: 100 us)"),
};

constexpr std::array<std::string_view, 2> kTransferModeNames{"burst", "tlp"};

constexpr std::array kHostParams{
    nested_param<&HostConfig::mapping, &MappingCostConfig::doorbell_ns>("doorbell", U::Nanos, "guest doorbell write: VM exit to QEMU and back (guess)"),
    nested_param<&HostConfig::mapping, &MappingCostConfig::mapper_ns>("mapper", U::Nanos, "the mapper's decision (measured: bench core rate)"),
    nested_param<&HostConfig::mapping, &MappingCostConfig::service_ns>("service", U::Nanos, "QEMU's call of the host mapping service and its return (guess)"),
    nested_param<&HostConfig::mapping, &MappingCostConfig::pte_ns>("pte", U::Nanos, "one DART PTE written or cleared (guess)"),
    nested_param<&HostConfig::mapping, &MappingCostConfig::table_ns>("table", U::Nanos, "one new page-table page (guess)"),
    nested_param<&HostConfig::memory, &HostMemoryConfig::read_ns>("mem-read", U::Nanos, "host memory read latency for DMA and walks (guess)"),
    nested_param<&HostConfig::memory, &HostMemoryConfig::write_ns>("mem-write", U::Nanos, "host memory write latency (guess)"),
    nested_param<&HostConfig::memory, &HostMemoryConfig::gbytes_per_s>("mem-gbps", U::GBps, "host memory bandwidth, GB/s (Apple M4: 120)", 1),
    nested_param<&HostConfig::gpu, &GpuConfig::dma_setup_ns>("dma-setup", U::Nanos, "copy engine start of one transfer (guess)"),
    with_choices(nested_param<&HostConfig::gpu, &GpuConfig::mode>("mode", U::Choice, "burst: a transfer is one transaction; tlp: one per TLP"), kTransferModeNames),
    nested_param<&HostConfig::gpu, &GpuConfig::quantum_ns>("quantum", U::Nanos, "temporal decoupling quantum (simulation speed only)", 1),
};

// Applies the items of `rest` through `table`; the error is prefixed with what is parsed.
std::string apply_items(std::span<const Param> table, std::string_view rest, void* config) {
  while (!rest.empty()) {
    std::string_view item;
    if (!split_items(rest, item, rest)) return "empty item (two commas, or one at an end)";
    if (std::string error = apply_param(table, item, config); !error.empty()) return error;
  }
  return {};
}

bool is_functional_dart_key(std::string_view key) {
  for (const std::string_view k : dart::dart_spec_keys())
    if (k == key) return true;
  return false;
}

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

std::string_view to_string(AccessSource a) {
  switch (a) {
    case AccessSource::Auto: return "auto";
    case AccessSource::Trace: return "trace";
    case AccessSource::Synthetic: return "synthetic";
  }
  return "?";
}

std::variant<LinkConfig, std::string> parse_link_spec(std::string_view spec) {
  std::string_view name;
  std::string_view rest;
  if (!split_items(spec, name, rest)) return std::string("the link spec starts with a preset name (tb3, tb4, usb4v2, pcie-gen4-x16)");
  const LinkConfig* preset = thunderbolt::find_link_preset(name);
  if (preset == nullptr) {
    return "unknown link preset '" + std::string(name) + "' (known: " + join(thunderbolt::kLinkPresets, ", ", &LinkConfig::name) + ")";
  }
  LinkConfig link = *preset;
  if (std::string error = apply_items(kLinkParams, rest, &link); !error.empty()) return error;
  if (std::string error = thunderbolt::LinkTiming::validate(link); !error.empty()) return error;
  return link;
}

std::string to_spec(const LinkConfig& link) {
  const LinkConfig* preset = thunderbolt::find_link_preset(link.name);
  return std::string(link.name) + (preset != nullptr ? param_differences(kLinkParams, &link, preset) : "");
}

std::variant<TimedDart, std::string> parse_timed_dart_spec(std::string_view spec) {
  // Sorts the items: the variant (a bare word or variant=) picks the timing row, the functional
  // keys go to parse_dart_spec, the timed keys apply to the row afterwards, in order.
  std::string functional_spec;
  std::string timed;
  for (std::string_view rest = spec; !rest.empty();) {
    std::string_view item;
    if (!split_items(rest, item, rest)) return std::string("empty item in the DART spec (two commas, or one at an end)");
    const std::size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    if (eq == std::string_view::npos) {
      if (dart::find_dart_variant(item) == nullptr) return fmt::format("'{}' is not a DART variant (t8020, t8110) nor key=value", item);
      functional_spec += fmt::format("{}variant={}", functional_spec.empty() ? "" : ",", item);
    } else if (is_functional_dart_key(key)) {
      functional_spec += fmt::format("{}{}", functional_spec.empty() ? "" : ",", item);
    } else if (find_param(kDartParams, key) != nullptr) {
      timed += fmt::format("{}{}", timed.empty() ? "" : ",", item);
    } else {
      return "unknown DART key '" + std::string(key) + "' (known: " + join(dart::dart_spec_keys(), ", ") + ", " +
             join(kDartParams, ", ", &Param::key) + ")";
    }
  }
  auto functional = dart::parse_dart_spec(functional_spec);
  if (const auto* error = std::get_if<std::string>(&functional)) return *error;
  TimedDart out;
  out.functional = std::get<dart::DartConfig>(functional);
  out.timing = out.functional.variant.timing;
  if (std::string error = apply_items(kDartParams, timed, &out.timing); !error.empty()) return error;
  if ((out.timing.iotlb.sets & (out.timing.iotlb.sets - 1)) != 0) return std::string("iotlb-sets: a power of two");
  if (out.timing.invalidation.scope == dart::FlushScope::Range && !out.timing.range_flush)
    return "scope=range: " + std::string(out.functional.variant.name) + " has no range flush (t8110 has)";
  return out;
}

std::string to_spec(const TimedDart& d) {
  return dart::to_spec(d.functional) + param_differences(kDartParams, &d.timing, &d.functional.variant.timing);
}

std::variant<HostConfig, std::string> parse_host_spec(std::string_view spec) {
  HostConfig host;
  if (std::string error = apply_items(kHostParams, spec, &host); !error.empty()) return error;
  return host;
}

std::string to_spec(const HostConfig& host) {
  const HostConfig defaults;
  const std::string diff = param_differences(kHostParams, &host, &defaults);
  return diff.empty() ? std::string("defaults") : diff.substr(1);
}

std::string link_help() {
  constexpr std::size_t kKeyWidth = 15;
  constexpr std::size_t kColumn = 15;
  const auto pad = [](std::string s, std::size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' '); };
  std::string out =
      "Link presets: --link PRESET[,key=value...]. Values per preset; sources beside each value in\n"
      "models/thunderbolt/link_config.hpp and in models/thunderbolt/CALIBRATION.md.\n";
  out += "  " + pad("key", kKeyWidth);
  for (const LinkConfig& p : thunderbolt::kLinkPresets) out += pad(std::string(p.name), kColumn);
  out += "meaning\n";
  for (const Param& param : kLinkParams) {
    out += "  " + pad(std::string(param.key), kKeyWidth);
    for (const LinkConfig& p : thunderbolt::kLinkPresets) out += pad(format_param_value(param, param.get(&p)), kColumn);
    out += std::string(param.help) + "\n";
  }
  // What the link alone allows a 32 MiB transfer (host read latency: the default host memory's
  // plus the DART's lookup).
  const HostConfig host;
  const std::uint64_t host_read_ps = (std::uint64_t{host.memory.read_ns} + dart::kDartT8110.timing.lookup_ns) * 1000;
  for (const bool h2d : {true, false}) {
    out += "  " + pad(h2d ? "h2d GiB/s" : "d2h GiB/s", kKeyWidth);
    for (const LinkConfig& p : thunderbolt::kLinkPresets) {
      const thunderbolt::LinkTiming t(p);
      const double bps = h2d ? t.read_bytes_per_s(32 << 20, host_read_ps) : t.write_bytes_per_s(32 << 20);
      out += pad(fixed(bps / (1 << 30), 2), kColumn);
    }
    out += h2d ? "predicted by the link model alone, 32 MiB (device reads host memory)\n"
               : "the same, device writes host memory\n";
  }
  return out;
}

std::string dart_timing_help() {
  std::string out =
      "Timed DART keys (with --dart, beside aperture, slots, page, alloc, base, variant; a bare t8020 or t8110\n"
      "picks the variant's row; defaults shown for t8110, sources in models/dart/dart_variant.hpp and\n"
      "models/dart/invalidation.hpp):\n";
  out += params_help(kDartParams, &dart::kDartT8110.timing);
  return out;
}

std::string host_help() {
  const HostConfig defaults;
  std::string out =
      "Host keys (--host key=value,...; times take ns, us, ms; sources in sim/timed/mapping_path.hpp,\n"
      "host_memory.hpp, gpu_dma.hpp):\n";
  out += params_help(kHostParams, &defaults);
  return out;
}

std::variant<TimedConfig, std::string> make_timed_config(const TimedSpecs& specs, const mapper::Policy& policy,
                                                         std::string_view dart_spec) {
  if (policy.cap_windows != 0)
    return "--policy " + policy.spec() +
           ": --timed does not replay cap policies: a request that waits for room would stall the simulated "
           "device, which the timed engine does not model; replay it without --timed";
  TimedConfig c;
  c.policy = policy;
  auto link_config = parse_link_spec(specs.link);
  if (const auto* e = std::get_if<std::string>(&link_config)) return "--link '" + specs.link + "': " + *e;
  c.link = std::get<thunderbolt::LinkConfig>(link_config);
  auto dart = parse_timed_dart_spec(dart_spec);
  if (const auto* e = std::get_if<std::string>(&dart)) return "--dart '" + std::string(dart_spec) + "': " + *e;
  c.dart = std::get<TimedDart>(dart);
  auto host_config = parse_host_spec(specs.host);
  if (const auto* e = std::get_if<std::string>(&host_config)) return "--host '" + specs.host + "': " + *e;
  c.host = std::get<HostConfig>(host_config);
  c.host.gpu.mode = specs.mode == "tlp" ? TransferMode::Tlp : TransferMode::Burst;
  c.access = specs.access == "trace"       ? AccessSource::Trace
             : specs.access == "synthetic" ? AccessSource::Synthetic
                                           : AccessSource::Auto;
  return c;
}

std::string timed_help() {
  return fmt::format("\n{}\n{}\n{}\n", link_help(), dart_timing_help(), host_help()) +
         "Modes: burst times a whole transfer as one transaction (N TLPs in closed form); tlp sends one\n"
         "transaction per TLP (MPS writes, MRRS reads). They agree on bandwidth within 2%.\n";
}

}  // namespace dartlab::sim::timed
