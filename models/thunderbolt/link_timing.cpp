// SPDX-License-Identifier: MIT
#include "models/thunderbolt/link_timing.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace dartlab::thunderbolt {

namespace {

constexpr double kAttosPerSecond = 1e18;
constexpr std::uint64_t kAttosPerPico = 1'000'000;

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

bool power_of_two_in(std::uint64_t v, std::uint64_t lo, std::uint64_t hi) {
  return std::has_single_bit(v) && v >= lo && v <= hi;
}

double dllp_share(const LinkConfig& c) {
  return static_cast<double>(c.dllp_bytes) / c.ack_interval_bytes +
         static_cast<double>(c.dllp_bytes) / c.fc_interval_bytes;
}

double skp_share(const LinkConfig& c) { return static_cast<double>(c.skp_bytes) / c.skp_interval_bytes; }

double tunnel_mbps_left(const LinkConfig& c, LinkDir dir) {
  const double after_guard = c.tunnel_mbps * (1.0 - c.guard_band_percent / 100.0);
  return after_guard - (dir == LinkDir::Down ? c.dp_reserved_mbps : 0.0);
}

std::uint64_t attos_per_byte(double bytes_per_s) {
  return static_cast<std::uint64_t>(std::llround(kAttosPerSecond / bytes_per_s));
}

}  // namespace

std::string LinkTiming::validate(const LinkConfig& c) {
  if (pcie_gt_per_s(c.pcie_gen) == 0.0) return "gen=" + std::to_string(c.pcie_gen) + ": PCIe generations are 1 to 5";
  if (c.pcie_lanes == 0 || c.pcie_lanes > 32) return "lanes=" + std::to_string(c.pcie_lanes) + ": 1 to 32 lanes";
  if (!power_of_two_in(c.mps_bytes, 128, 4096)) return "mps: a power of two from 128 to 4096 bytes";
  if (!power_of_two_in(c.mrrs_bytes, 128, 4096)) return "mrrs: a power of two from 128 to 4096 bytes";
  if (!power_of_two_in(c.completion_bytes, 64, 4096)) return "cpl: a power of two from 64 (the smallest RCB) to 4096 bytes";
  if (c.header_3dw_bytes == 0 || c.header_4dw_bytes < c.header_3dw_bytes) return "TLP headers: 4DW must be at least 3DW";
  if (c.ack_interval_bytes == 0 || c.fc_interval_bytes == 0 || c.skp_interval_bytes == 0)
    return "ack, fc and skp intervals must be positive";
  if (dllp_share(c) + skp_share(c) >= 0.5)
    return "DLLPs and SKP would take half the link or more (ack/fc intervals too small)";
  if (c.posted_header_credits == 0) return "ph: at least one posted header credit";
  if (c.posted_data_credits < ceil_div(c.mps_bytes, 16))
    return "pd: fewer posted data credits than one MPS write needs (" + std::to_string(ceil_div(c.mps_bytes, 16)) + ")";
  if (c.read_tags == 0) return "tags: at least one outstanding read";
  if (c.tunneled()) {
    if (c.guard_band_percent >= 100) return "guard: below 100 percent";
    if (c.tunnel_payload_bytes == 0) return "tunnel packets need a payload";
    if (tunnel_mbps_left(c, LinkDir::Down) <= 0.0)
      return "dp=" + std::to_string(c.dp_reserved_mbps) + " leaves no tunnel bandwidth for PCIe (link " +
             std::to_string(c.tunnel_mbps) + " Mb/s less " + std::to_string(c.guard_band_percent) + "% guard band)";
  }
  return {};
}

LinkTiming::LinkTiming(const LinkConfig& config) : config_(config) {
  if (const std::string why = validate(config); !why.empty()) throw std::invalid_argument("link: " + why);
  pcie_line_bps_ = pcie_gt_per_s(config.pcie_gen) * 1e9 * config.pcie_lanes * pcie_encoding_efficiency(config.pcie_gen) / 8.0;
  pcie_tlp_bps_ = pcie_line_bps_ * (1.0 - dllp_share(config) - skp_share(config));
  pcie_as_per_byte_ = attos_per_byte(pcie_tlp_bps_);
  if (config.tunneled()) {
    for (const LinkDir dir : {LinkDir::Up, LinkDir::Down}) {
      // The tunnel carries the PCIe link's TLPs and DLLPs (not its line code or SKP): DLLPs
      // take the same share of it.
      tunnel_tlp_bps_[index(dir)] = tunnel_mbps_left(config, dir) * 1e6 / 8.0 * (1.0 - dllp_share(config));
      tunnel_as_per_byte_[index(dir)] = attos_per_byte(tunnel_tlp_bps_[index(dir)]);
    }
  }
  mps_shift_ = static_cast<unsigned>(std::countr_zero(config.mps_bytes));
  mrrs_shift_ = static_cast<unsigned>(std::countr_zero(config.mrrs_bytes));
  completion_shift_ = static_cast<unsigned>(std::countr_zero(std::min(config.completion_bytes, config.mps_bytes)));
  tunnel_payload_shift_ =
      std::has_single_bit(config.tunnel_payload_bytes) ? std::countr_zero(config.tunnel_payload_bytes) : -1;
  one_way_ps_ = (Picos{config.port_ns} * config.ports + Picos{config.tunnel_hop_ns} * config.tunnel_hops) * 1000;
}

std::uint64_t LinkTiming::tunnel_packets(std::uint64_t tlp_bytes) const {
  // Per TLP, so on the hot path: a shift when the payload size allows (256 does).
  return tunnel_payload_shift_ >= 0 ? (tlp_bytes + config_.tunnel_payload_bytes - 1) >> tunnel_payload_shift_
                                    : ceil_div(tlp_bytes, config_.tunnel_payload_bytes);
}

void LinkTiming::add_tlps(TlpRun& run, std::uint64_t count, std::uint64_t payload, std::uint64_t overhead) const {
  if (count == 0) return;
  run.tlps += count;
  run.payload_bytes += count * payload;
  run.wire_bytes += count * (payload + overhead);
  run.tunnel_packets += count * tunnel_packets(payload + overhead);
}

void LinkTiming::add_pieces(TlpRun& run, std::uint64_t addr, std::uint64_t bytes, unsigned chunk_shift,
                            std::uint64_t overhead) const {
  if (bytes == 0) return;
  const std::uint64_t chunk = std::uint64_t{1} << chunk_shift;
  const std::uint64_t head = std::min(bytes, chunk - (addr & (chunk - 1)));
  add_tlps(run, 1, head, overhead);
  const std::uint64_t rest = bytes - head;
  add_tlps(run, rest >> chunk_shift, chunk, overhead);
  if ((rest & (chunk - 1)) != 0) add_tlps(run, 1, rest & (chunk - 1), overhead);
}

TlpRun LinkTiming::write_run(std::uint64_t bus_addr, std::uint64_t bytes) const {
  TlpRun run;
  add_pieces(run, bus_addr, bytes, mps_shift_, config_.framing_bytes + header_bytes(bus_addr, bytes));
  return run;
}

ReadShape LinkTiming::read_shape(std::uint64_t bus_addr, std::uint64_t bytes) const {
  ReadShape shape;
  if (bytes == 0) return shape;
  const std::uint64_t requests = ((bus_addr + (bytes - 1)) >> mrrs_shift_) - (bus_addr >> mrrs_shift_) + 1;
  add_tlps(shape.requests, requests, 0, config_.framing_bytes + header_bytes(bus_addr, bytes));
  add_pieces(shape.completions, bus_addr, bytes, completion_shift_, config_.framing_bytes + config_.header_3dw_bytes);
  return shape;
}

Picos LinkTiming::serialize_ps(LinkDir dir, const TlpRun& run) const {
  std::uint64_t attos = run.wire_bytes * pcie_as_per_byte_;
  if (config_.tunneled()) {
    const std::uint64_t tunnel_bytes = run.wire_bytes + run.tunnel_packets * config_.tunnel_header_bytes;
    attos = std::max(attos, tunnel_bytes * tunnel_as_per_byte_[index(dir)]);
  }
  return ceil_div(attos, kAttosPerPico);
}

std::uint64_t LinkTiming::posted_credit_tlps(std::uint64_t payload_bytes) const {
  const std::uint64_t data_credits = std::max<std::uint64_t>(1, ceil_div(payload_bytes, 16));
  return std::min<std::uint64_t>(config_.posted_header_credits, config_.posted_data_credits / data_credits);
}

Picos LinkTiming::window_bound_span(std::uint64_t n, Picos per_item_ps, std::uint64_t window, Picos loop_ps) {
  if (n == 0) return 0;
  if (window == 0) window = 1;
  if (window * per_item_ps >= loop_ps) return n * per_item_ps;  // the bottleneck, not the window, sets the pace
  // Item i starts at (i / window) loops plus (i % window) items: each window's worth goes out back
  // to back, then waits for the first of them to come back.
  return ((n - 1) / window) * loop_ps + ((n - 1) % window) * per_item_ps + per_item_ps;
}

Picos LinkTiming::write_time_ps(std::uint64_t bus_addr, std::uint64_t bytes) const {
  const TlpRun run = write_run(bus_addr, bytes);
  if (run.tlps == 0) return 0;
  const Picos total = serialize_ps(LinkDir::Up, run);
  const Picos per = total / run.tlps;
  const std::uint64_t credits = posted_credit_tlps(std::min<std::uint64_t>(bytes, config_.mps_bytes));
  const Picos loop = per + 2 * one_way_ps_;  // a credit returns once its TLP arrived and UpdateFC came back
  const Picos span = credits * per >= loop ? total : window_bound_span(run.tlps, per, credits, loop);
  return span + one_way_ps_;
}

Picos LinkTiming::read_time_ps(std::uint64_t bus_addr, std::uint64_t bytes, Picos host_read_ps) const {
  const ReadShape shape = read_shape(bus_addr, bytes);
  const std::uint64_t k = shape.requests.tlps;
  if (k == 0) return 0;
  const Picos up = serialize_ps(LinkDir::Up, shape.requests);
  const Picos down = serialize_ps(LinkDir::Down, shape.completions);
  const Picos per = std::max(up, down) / k;
  const Picos round_trip = up / k + one_way_ps_ + host_read_ps + down / k + one_way_ps_;
  // The last request starts (span - per) after the first and completes a round trip later.
  const Picos span = window_bound_span(k, per, config_.read_tags, round_trip);
  return span - per + round_trip;
}

double LinkTiming::write_bytes_per_s(std::uint64_t bytes) const {
  const Picos t = write_time_ps(0, bytes);
  return t == 0 ? 0.0 : static_cast<double>(bytes) * 1e12 / static_cast<double>(t);
}

double LinkTiming::read_bytes_per_s(std::uint64_t bytes, Picos host_read_ps) const {
  const Picos t = read_time_ps(0, bytes, host_read_ps);
  return t == 0 ? 0.0 : static_cast<double>(bytes) * 1e12 / static_cast<double>(t);
}

}  // namespace dartlab::thunderbolt
