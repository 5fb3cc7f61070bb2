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

class LinkTlm : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<LinkTlm> device_side;
  tlm_utils::simple_initiator_socket<LinkTlm> host_side;

  explicit LinkTlm(const sc_core::sc_module_name& name);

  // Per run: the link's parameters (throws std::invalid_argument for a config LinkTiming refuses);
  // empties the servers, the credit ring and the counters.
  void configure(const LinkConfig& config);

  const LinkTiming& timing() const { return *timing_; }
  const LinkStats& stats() const { return stats_; }

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
  std::uint64_t forward(tlm::tlm_generic_payload& trans, dartlab::bus::DmaExtension* ext, std::uint64_t issue,
                        std::uint64_t arrive_ps, std::uint64_t span_ps, std::uint64_t& done_span_ps);

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
  sc_core::sc_time issue_delay_;  // the transaction in progress's annotated delay
  dartlab::bus::PicosMemo forward_memo_;
  dartlab::bus::PicosMemo return_memo_;
  dartlab::bus::DmaExtension scratch_ext_;  // for transactions that come without one
};

}  // namespace dartlab::thunderbolt
