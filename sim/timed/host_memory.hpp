// SPDX-License-Identifier: MIT
// Host memory as the DART and the link see it: a TLM target with a read and a write latency and a
// bandwidth it serves bytes at. DMA data is timed only (contents are not modelled); reads of the
// DART's page-table memory (transactions without a DmaExtension: the walker's) return the real
// table entries from the functional page tables, and are counted.
#pragma once

#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "models/dart/page_table.hpp"
#include "models/tlm/dma_extension.hpp"

namespace dartlab::sim::timed {

struct HostMemoryConfig {
  // guess: a fabric agent's read of DRAM and back; M1 CPU loads measure about 100 ns, an agent
  // beside the PCIe root complex sees more.
  std::uint32_t read_ns = 150;
  std::uint32_t write_ns = 50;         // guess: a write is posted into the fabric's buffers
  std::uint32_t gbytes_per_s = 120;    // spec: Apple M4 unified memory, 120 GB/s
  friend bool operator==(const HostMemoryConfig&, const HostMemoryConfig&) = default;
};

struct HostMemoryStats {
  std::uint64_t data_reads = 0;
  std::uint64_t data_writes = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t table_reads = 0;  // 8-byte reads of page-table memory (table walks)
};

class HostMemory final : public dartlab::bus::DmaTarget, public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<HostMemory> socket;

  explicit HostMemory(const sc_core::sc_module_name& name);

  // Per run: the timing, and the page tables whose memory table reads see (may be null).
  void configure(const HostMemoryConfig& config, const dart::PageTable* tables);
  const HostMemoryStats& stats() const { return stats_; }

  // A DMA transaction's data (not a table read): the bandwidth server, as b_transport serves it.
  std::uint64_t dma_transport(tlm::tlm_generic_payload& trans, dartlab::bus::DmaExtension& ext,
                              std::uint64_t arrive_ps) override;

 private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);

  HostMemoryConfig config_{};
  const dart::PageTable* tables_ = nullptr;
  std::uint64_t attos_per_byte_ = 0;
  std::uint64_t serve_bytes_ = 0;  // the last transaction's size and the time the bandwidth takes for it
  std::uint64_t serve_ps_ = 0;
  std::uint64_t busy_ps_ = 0;
  HostMemoryStats stats_{};
  dartlab::bus::PicosMemo table_memo_;
};

}  // namespace dartlab::sim::timed
