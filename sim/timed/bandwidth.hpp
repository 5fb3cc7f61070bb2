// SPDX-License-Identifier: MIT
// CUDA's bandwidthTest in the simulated world: a pinned host buffer, mapped once through the DART,
// copied by the GPU's copy engine over the link `iterations` times, one copy after another; the
// figure is bytes copied over the time the copies took (each from its start to its last byte done).
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "models/tlm/dma_extension.hpp"
#include "sim/timed/timed_config.hpp"

namespace dartlab::sim::timed {

struct BandwidthRequest {
  dartlab::bus::DmaDir dir = dartlab::bus::DmaDir::HostToDevice;
  std::uint64_t size_bytes = 32ULL << 20;  // bandwidthTest's default transfer
  std::uint32_t iterations = 10;
};

struct BandwidthResult {
  std::string link;
  std::string dart;
  std::string host;
  std::string mode;  // burst or tlp
  BandwidthRequest request;
  std::uint64_t copy_ps_total = 0;  // the copies' time, summed
  std::uint64_t copy_ps_min = 0;
  std::uint64_t copy_ps_max = 0;
  std::uint64_t transactions = 0;
  std::uint64_t tlps = 0;  // write TLPs or read requests
  double iotlb_hit_rate = 0;
  std::uint64_t walks = 0;
  std::uint64_t faults = 0;
  double predicted_gib_per_s = 0;  // the link model alone (link_timing.hpp), same size
  double wall_seconds = 0;

  double gib_per_s() const;
  double gb_per_s() const;
};

// The buffer sits at a 16 KiB-aligned host address and must fit the DART's aperture.
std::variant<BandwidthResult, std::string> run_bandwidth(const TimedConfig& config, const BandwidthRequest& request);

// {"link", "dir", "size_bytes", "iterations", "mode", "gib_per_s", "gb_per_s", ...}
nlohmann::ordered_json bandwidth_json(const BandwidthResult& result);
std::string bandwidth_summary(const BandwidthResult& result);

}  // namespace dartlab::sim::timed
