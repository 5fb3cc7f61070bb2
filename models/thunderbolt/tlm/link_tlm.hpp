// SPDX-License-Identifier: MIT
// The PCIe link (tunnelled through Thunderbolt / USB4 or native) as a TLM-2.0 loosely timed
// channel between the device and the host: one server per direction (Up: writes and read
// requests; Down: read completions), the arithmetic from link_timing.hpp, posted-write credits
// that bound the write TLPs in flight, and the device's tags that bound its reads.
//
// A transaction of one TLP (per-TLP mode) is timed TLP by TLP: its credits come from a ring of
// the TLPs still holding them. A larger transaction (burst mode) is timed in closed form: N TLPs
// at the bottleneck's pace, no more than the credits (writes) or tags (reads) allow in flight.
//
// Writes return when the device's transmitter is done with them (posted); DmaExtension::done_ps
// says when the last byte reached host memory. Reads return when the last completion is back.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "models/tlm/dma_extension.hpp"
#include "models/thunderbolt/link_timing.hpp"

namespace dartlab::thunderbolt {

struct LinkStats {
  std::uint64_t write_transactions = 0;
  std::uint64_t read_transactions = 0;
  std::uint64_t write_tlps = 0;
  std::uint64_t read_requests = 0;
  std::uint64_t completions = 0;
  std::uint64_t bytes_up = 0;    // payload written to the host
  std::uint64_t bytes_down = 0;  // payload read from the host
  std::uint64_t wire_bytes_up = 0;
  std::uint64_t wire_bytes_down = 0;
  std::uint64_t max_posted_in_flight = 0;  // write TLPs holding credits at once (per-TLP mode)
  std::uint64_t credit_stall_ps = 0;       // time write TLPs waited for credits (per-TLP mode)
  std::uint64_t last_write_landed_ps = 0;  // absolute time the last written byte reached host memory
};

class LinkTlm final : public sc_core::sc_module, public dartlab::bus::DmaTarget {
 public:
  tlm_utils::simple_target_socket<LinkTlm> device_side;
  tlm_utils::simple_initiator_socket<LinkTlm> host_side;

  explicit LinkTlm(const sc_core::sc_module_name& name);

  // Per run: the link's parameters (throws std::invalid_argument for a config LinkTiming refuses);
  // empties the servers, the credit ring and the counters.
  void configure(const LinkConfig& config);

  const LinkTiming& timing() const { return *timing_; }
  const LinkStats& stats() const { return stats_; }

  // Transactions go on to `host` directly rather than through host_side (which must be bound to
  // the same module); null: through the socket.
  void set_direct_host(dartlab::bus::DmaTarget* host) { direct_host_ = host; }
  std::uint64_t dma_transport(tlm::tlm_generic_payload& trans, dartlab::bus::DmaExtension& ext,
                              std::uint64_t arrive_ps) override;

 private:
  struct Held {  // one write TLP's credits, back at return_ps
    std::uint64_t return_ps;
    std::uint32_t data_credits;
  };

  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  // Each returns the absolute time the transaction is done for the device.
  std::uint64_t write(tlm::tlm_generic_payload& trans, dartlab::bus::DmaExtension* ext, std::uint64_t issue);
  std::uint64_t read(tlm::tlm_generic_payload& trans, dartlab::bus::DmaExtension* ext, std::uint64_t issue);
  // Earliest start for a write TLP that needs data_credits: frees the oldest holders as needed.
  std::uint64_t take_credits(std::uint32_t data_credits, std::uint64_t ready_ps);
  // Forwards to the host; returns the absolute time the first byte is done there, and its span.
  std::uint64_t forward(tlm::tlm_generic_payload& trans, dartlab::bus::DmaExtension* ext, std::uint64_t arrive_ps,
                        std::uint64_t span_ps, std::uint64_t& done_span_ps);
  // The shape and serialization of a write or a read, remembered for the last one of its kind:
  // per-TLP mode asks the same question (an MPS write, an MRRS read at the same alignment) TLP
  // after TLP. Only transactions of one TLP (writes) or one request (reads) are remembered, keyed
  // by what their shape depends on.
  struct WriteShape {
    TlpRun run;
    Picos ser = 0;
  };
  struct ReadTiming {
    ReadShape shape;
    Picos up = 0;
    Picos down = 0;
  };
  const WriteShape& write_shape(std::uint64_t addr, std::uint64_t bytes);
  const ReadTiming& read_timing(std::uint64_t addr, std::uint64_t bytes);

  std::optional<LinkTiming> timing_;
  std::uint64_t up_busy_ps_ = 0;
  std::uint64_t down_busy_ps_ = 0;
  std::vector<Held> held_;  // ring (a power of two long), oldest at held_head_
  std::size_t held_mask_ = 0;
  std::size_t held_limit_ = 0;  // posted header credits: at most this many held
  std::size_t held_head_ = 0;
  std::size_t held_count_ = 0;
  std::uint64_t held_data_credits_ = 0;
  LinkStats stats_{};
  dartlab::bus::DmaTarget* direct_host_ = nullptr;
  // The memos' keys (~0: nothing remembered): the bytes, the header (3 or 4 DW) and, for reads,
  // the offset in a completion chunk.
  std::uint64_t write_key_bytes_ = ~std::uint64_t{0};
  bool write_key_4dw_ = false;
  WriteShape write_memo_{};
  WriteShape write_other_{};  // a write of more than one TLP (not remembered)
  std::uint64_t read_key_bytes_ = ~std::uint64_t{0};
  std::uint64_t read_key_offset_ = 0;
  bool read_key_4dw_ = false;
  ReadTiming read_memo_{};
  ReadTiming read_other_{};  // a read of more than one request (not remembered)
  std::uint64_t posted_data_credits_ = 0;  // the config's, at hand for take_credits
  dartlab::bus::DmaExtension scratch_ext_;  // for transactions that come without one
};

}  // namespace dartlab::thunderbolt
