// SPDX-License-Identifier: MIT
// What a DMA mapping costs on the way the guest asks for it: the guest's doorbell write exits the
// VM to QEMU, the mapper (the clustering policy) decides, and when a new host mapping is needed
// QEMU calls the host service, which writes the DART's page tables and invalidates its IOTLB
// (invalidation.hpp: when, what, and the busy-poll it costs). Each step is a parameter with its
// source or marked a guess. MappingPath is the mapper's backend in a timed replay: it forwards to
// the functional DART and adds up the host's time.
#pragma once

#include <cstdint>

#include "models/dart/dart.hpp"
#include "passthrough/backends/dart_backend.hpp"
#include "models/dart/invalidation.hpp"
#include "models/dart/tlm/dart_tlm.hpp"
#include "passthrough/mapper/mapping_backend.hpp"

namespace dartlab::sim::timed {

struct MappingCostConfig {
  // guess: an MMIO write that exits a Hypervisor.framework vCPU to QEMU and resumes it; VM exits
  // to a user-space VMM cost microseconds on every platform measured, none published for HVF.
  std::uint32_t doorbell_ns = 5000;
  std::uint32_t mapper_ns = 65;  // measured: the mapper serves 15.9 M requests/s (README, BM_CoreWindow256K)
  // guess: QEMU -> IOUserClient -> DriverKit extension -> kernel mapping call and back; several
  // context switches and Mach messages.
  std::uint32_t service_ns = 20000;
  std::uint32_t pte_ns = 20;     // guess: one 8-byte PTE store with its cache maintenance
  std::uint32_t table_ns = 500;  // guess: a new page-table page: allocate, zero, link
  friend bool operator==(const MappingCostConfig&, const MappingCostConfig&) = default;
};

// Host time, in picoseconds, by step.
struct MappingTime {
  std::uint64_t doorbell_ps = 0;
  std::uint64_t mapper_ps = 0;
  std::uint64_t service_ps = 0;
  std::uint64_t pte_ps = 0;
  std::uint64_t invalidation_ps = 0;
  std::uint64_t bounce_copy_ps = 0;  // bounce: the guest copying into and out of the pool
  std::uint64_t total() const { return doorbell_ps + mapper_ps + service_ps + pte_ps + invalidation_ps + bounce_copy_ps; }
};

struct MappingCounts {
  std::uint64_t host_maps = 0;
  std::uint64_t host_unmaps = 0;
  std::uint64_t host_refusals = 0;  // map calls the DART refused (still a round trip)
  std::uint64_t ptes_written = 0;
  std::uint64_t tables_created = 0;
  std::uint64_t flushes = 0;
  std::uint64_t flush_polls = 0;
  std::uint64_t flush_timeouts = 0;
  std::uint64_t deferred_unmaps = 0;  // batched: unmaps whose flush was put off
  std::uint64_t bounce_copy_bytes = 0;  // bounce: bytes copied into the pool (map) and out (unmap)
};

class MappingPath final : public mapper::MappingBackend {
 public:
  // memory_gbytes_per_s: the host memory's bandwidth, which bounce copies run at.
  MappingPath(dart::Dart& functional, dart::DartTlm& timed, const MappingCostConfig& costs,
              const dart::InvalidationConfig& invalidation, std::uint32_t memory_gbytes_per_s);

  // Before each guest request: the host's clock (for the batch window) and the device's stream.
  void set_context(std::uint64_t now_ps, std::uint16_t stream);
  // A guest request reached the host: its doorbell exit and the mapper's decision.
  void guest_request();
  // Batched mode: the flush queue's timer; a due flush is host time nobody waits for.
  void tick(std::uint64_t now_ps);
  // Bounce: the guest copies a request's bytes into its pool slot (a map the device reads) or
  // back out (an unmap of one the device wrote), as swiotlb does; the request waits for it.
  void bounce_copy(std::uint64_t bytes);

  dartlab::Result<mapper::BackendMapping> map(std::uint64_t gpa, std::uint64_t len_bytes, dartlab::Direction dir) override;
  bool unmap(std::uint64_t handle) override;

  // Host time the guest waited for since the last take; and the host's totals, which also hold
  // the timer's flushes.
  std::uint64_t take_ps();
  const MappingTime& totals() const { return totals_; }
  const MappingCounts& counts() const { return counts_; }
  const MappingCostConfig& costs() const { return costs_; }
  // Host time one flush takes (write, busy-poll).
  std::uint64_t flush_ps() const { return flush_.ns * 1000; }

 private:
  // Adds host time to a step; waited_for: the guest request in progress waits for it.
  void charge(std::uint64_t MappingTime::*step, std::uint64_t ps, bool waited_for = true);
  void flush(const dart::DartRange& range, bool waited_for = true);

  dart::Dart& functional_;
  dartlab::backends::DartBackend backend_;
  dart::DartTlm& timed_;
  MappingCostConfig costs_;
  dart::InvalidationPolicy policy_;
  dart::FlushCost flush_;
  std::uint32_t memory_gbytes_per_s_;
  std::uint64_t now_ps_ = 0;
  std::uint16_t stream_ = 0;
  std::uint64_t pending_ps_ = 0;
  MappingTime totals_{};
  MappingCounts counts_{};
};

}  // namespace dartlab::sim::timed
