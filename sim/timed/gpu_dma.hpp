// SPDX-License-Identifier: MIT
// The GPU's copy engine as a TLM-2.0 initiator with temporal decoupling: it runs ahead of
// SystemC time, keeping its local time as integer picoseconds, and hands it to a
// tlm_quantumkeeper only at quantum boundaries (sync). A transfer goes out as one transaction
// (burst mode: the link times its N TLPs in closed form) or as one per TLP (per-TLP mode: MPS
// pieces for writes, MRRS pieces for reads, with the device's tags bounding its reads in flight).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "models/tlm/dma_extension.hpp"
#include "models/thunderbolt/link_config.hpp"
#include "models/thunderbolt/tlm/link_tlm.hpp"

namespace dartlab::sim::timed {

enum class TransferMode : std::uint8_t { Burst, Tlp };
std::string_view to_string(TransferMode m);

struct GpuConfig {
  std::uint32_t dma_setup_ns = 1000;  // guess: the copy engine fetching and starting one copy
  TransferMode mode = TransferMode::Burst;
  // Temporal decoupling: how far the engine runs ahead of SystemC time. A simulation setting,
  // not a hardware figure: it changes wall time, not results (one initiator).
  std::uint64_t quantum_ns = 100'000;
  friend bool operator==(const GpuConfig&, const GpuConfig&) = default;
};

struct TransferOutcome {
  std::uint64_t start_ps = 0;  // when the engine began (after its setup)
  std::uint64_t done_ps = 0;   // last byte written to host memory, or back at the device
  std::uint64_t transactions = 0;
  bool faulted = false;
};

struct GpuStats {
  std::uint64_t transfers = 0;
  std::uint64_t transactions = 0;
  std::uint64_t syncs = 0;
  std::uint64_t faulted_transfers = 0;
};

class GpuDma : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<GpuDma> socket;

  explicit GpuDma(const sc_core::sc_module_name& name);
  ~GpuDma() override;

  // Per run: the engine, and the link's TLP sizes and tags (per-TLP mode cuts transfers by them).
  void configure(const GpuConfig& config, const thunderbolt::LinkConfig& link);

  // From the simulation's thread only. begin() takes SystemC's time as the local time; end()
  // hands what is left of the local time back (a final sync).
  void begin();
  void end();
  TransferOutcome transfer(dartlab::bus::DmaDir dir, std::uint16_t stream, std::uint64_t bus_addr, std::uint64_t bytes);
  // Time the engine waits on something else (the mapping path, say).
  void spend_ps(std::uint64_t ps);
  std::uint64_t now_ps() const { return local_ps_; }

  const GpuStats& stats() const { return stats_; }
  const GpuConfig& config() const { return config_; }

  // Transactions go to `link` directly rather than through the socket (which must be bound to the
  // same module); null: through the socket.
  void set_direct_link(thunderbolt::LinkTlm* link) { direct_link_ = link; }

 private:
  // One transaction issued at issue_ps; returns when it is done for the engine (a write: handed
  // to the link; a read: data back).
  std::uint64_t issue(tlm::tlm_command cmd, std::uint64_t addr, std::uint64_t bytes, std::uint64_t issue_ps);
  // Per TLP: a compare, and a sync once the quantum is used up.
  void keep_quantum(std::uint64_t local_ps) {
    if (local_ps >= sync_at_ps_) sync_to(local_ps);
  }
  void sync_to(std::uint64_t local_ps);

  GpuConfig config_{};
  std::uint32_t mps_bytes_ = 128;
  std::uint32_t mrrs_bytes_ = 512;
  std::vector<std::uint64_t> tags_;  // per-TLP reads: completion times by request number, a ring
  std::uint64_t tag_limit_ = 256;    // the device's tags
  tlm::tlm_generic_payload trans_;
  dartlab::bus::DmaExtension ext_;
  tlm_utils::tlm_quantumkeeper keeper_;
  std::uint64_t quantum_ps_ = 0;
  std::uint64_t kernel_now_ps_ = 0;  // SystemC's time, as of our last sync (only we wait)
  thunderbolt::LinkTlm* direct_link_ = nullptr;  // a final class: the call is a direct one
  std::uint64_t local_ps_ = 0;
  std::uint64_t sync_at_ps_ = 0;
  GpuStats stats_{};
  unsigned char dummy_data_[8] = {};  // DMA contents are not modelled
};

}  // namespace dartlab::sim::timed
