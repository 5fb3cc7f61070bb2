// SPDX-License-Identifier: MIT
// The DART as a TLM-2.0 loosely timed module over the functional core: device transactions come
// in, each page they touch is looked up in the IOTLB (iotlb.hpp) and walked on a miss, one read
// of host memory per level through the memory socket (table_walk.hpp); translated transactions go
// on to host memory, faulting ones come back with TLM_ADDRESS_ERROR_RESPONSE and are latched in
// the error register (faults.hpp). The host flushes it through flush() (invalidation.hpp says
// when and what that costs the host).
//
// Translation is a pipeline: a hit takes lookup_ns and frees the pipe after lookup_interval_ps; a
// miss holds it for the whole walk (one walker, in order), so later pages wait behind it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "models/dart/dart.hpp"
#include "models/dart/dart_timing.hpp"
#include "models/dart/faults.hpp"
#include "models/dart/iotlb.hpp"
#include "models/dart/table_walk.hpp"
#include "models/tlm/dma_extension.hpp"

namespace dartlab::dart {

// The DMA extension is shared with the link (models/tlm); the DART speaks of it unqualified.
using bus::DmaDir;
using bus::DmaExtension;
using bus::picos_time;

struct DartTlmStats {
  std::uint64_t transactions = 0;
  std::uint64_t page_lookups = 0;  // real lookups (one per page a transaction touches)
  std::uint64_t walks = 0;
  std::uint64_t walk_reads = 0;    // table reads the walks made
  std::uint64_t walk_ps = 0;       // time spent walking
  std::uint64_t flushes = 0;
  std::uint64_t faults = 0;
  std::array<std::uint64_t, kFaultCodeCount> faults_by_code{};
};

class DartTlm final : public bus::DmaTarget, public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<DartTlm> device_side;    // from the link
  tlm_utils::simple_initiator_socket<DartTlm> memory_side;  // walks and translated data

  explicit DartTlm(const sc_core::sc_module_name& name);

  // Per run: the functional DART whose page tables are walked, and the timing. Empties the IOTLB
  // and the counters.
  void configure(const Dart& functional, const DartTiming& timing);

  // The host's flush command took effect: the IOTLB drops what `scope` covers.
  void flush(FlushScope scope, std::uint16_t stream, const DartRange& range);
  // A batched host's new mapping: stale entries of a reused range go without a command.
  void forget(std::uint16_t stream, const DartRange& range);

  const DartTlmStats& stats() const { return stats_; }
  const IotlbStats& iotlb_stats() const { return iotlb_->stats(); }
  const Iotlb& iotlb() const { return *iotlb_; }
  const FaultRecord& last_fault() const { return faults_.latched(); }
  const DartTiming& timing() const { return timing_; }

  // Translated transactions go on to `memory` directly rather than through memory_side (which
  // must be bound to the same module); null: through the socket. Table walks always take it.
  void set_direct_memory(bus::DmaTarget* memory) { direct_memory_ = memory; }
  std::uint64_t dma_transport(tlm::tlm_generic_payload& trans, DmaExtension& ext, std::uint64_t arrive_ps) override;

 private:
  // Table memory as the walker sees it: each read is a TLM read of the memory socket, timed from
  // a cursor the walk advances.
  class SocketTableMemory final : public TableMemory {
   public:
    explicit SocketTableMemory(DartTlm& owner) : owner_(owner) {}
    std::uint64_t read_entry(std::uint64_t pa) override;
    std::uint64_t cursor_ps = 0;
    std::uint64_t now_ps = 0;

   private:
    DartTlm& owner_;
  };

  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  // Both paths: now_ps is SystemC's time, first_ps when the transaction arrives; ext may be null
  // (then the transaction goes on through the socket). Returns when it is done, as dma_transport.
  std::uint64_t transport(tlm::tlm_generic_payload& trans, DmaExtension* ext, std::uint64_t now_ps, std::uint64_t first_ps);
  // Translates one page for an access arriving at arrival_ps; returns when the translation is
  // done, or sets `fault`.
  std::uint64_t translate_page(std::uint16_t stream, std::uint64_t bus_addr, Access access, std::uint64_t arrival_ps,
                               std::uint64_t now_ps, Translation& out);
  void record_fault(const Fault& fault, Access access);

  DartTiming timing_{};
  std::optional<Iotlb> iotlb_;
  std::optional<TableWalker> walker_;
  SocketTableMemory table_memory_;
  FaultRegister faults_;
  DartTlmStats stats_{};
  unsigned page_shift_ = 14;
  std::uint64_t busy_ps_ = 0;  // the translation pipe is free from then on
  // What the IOTLB's last lookup found (null: a miss, or the IOTLB changed since). Per-TLP mode
  // looks a page up once for each of its TLPs; while no other lookup, fill, flush or forget came
  // between, the answer and the IOTLB's state after it are the same as the last time.
  const Iotlb::Entry* last_entry_ = nullptr;
  std::uint64_t last_page_ = 0;
  std::uint16_t last_stream_ = 0;
  bus::DmaTarget* direct_memory_ = nullptr;
  tlm::tlm_generic_payload walk_trans_;
  std::uint64_t walk_data_ = 0;
};

}  // namespace dartlab::dart
