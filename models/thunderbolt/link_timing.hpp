// SPDX-License-Identifier: MIT
// The link's timing as plain arithmetic, no SystemC: bytes on the wire for a transfer (TLPs split
// at MPS, MRRS and the completion size, headers, framing), the rate of each segment (PCIe after
// 128b/130b, DLLPs and SKP; the tunnel after guard band, DisplayPort and packet headers), one-way
// latency, and the closed forms a whole burst needs (credits and tags bound what is in flight).
// The TLM channel (tlm/link_tlm.hpp) calls it per transaction; tests and --help call it directly.
#pragma once

#include <cstdint>
#include <string>

#include "models/thunderbolt/link_config.hpp"

namespace dartlab::thunderbolt {

using Picos = std::uint64_t;

// Up carries the device's writes and read requests to the host; Down carries read completions
// (and, in a tunnel, DisplayPort) to the device.
enum class LinkDir : std::uint8_t { Up, Down };

// A run of TLPs in one direction.
struct TlpRun {
  std::uint64_t tlps = 0;
  std::uint64_t payload_bytes = 0;
  std::uint64_t wire_bytes = 0;      // payload + headers + framing
  std::uint64_t tunnel_packets = 0;  // tunnelled packets that carry them (each TLP is packed on its own)
};

// A read: its requests go up, its completions come down.
struct ReadShape {
  TlpRun requests;
  TlpRun completions;
};

class LinkTiming {
 public:
  // Throws std::invalid_argument with validate()'s reason for a config that cannot carry data.
  explicit LinkTiming(const LinkConfig& config);

  // Empty if the config works; else what is wrong ("dp=40000 leaves no tunnel bandwidth ...").
  static std::string validate(const LinkConfig& config);

  const LinkConfig& config() const { return config_; }

  // Bytes a second: the PCIe line after its code, what is left of it for TLPs once ACK/UpdateFC
  // DLLPs and SKP ordered sets took their share, and what the tunnel leaves for the same TLP
  // bytes after the guard band and, downstream, DisplayPort (0 without a tunnel).
  double pcie_line_bytes_per_s() const { return pcie_line_bps_; }
  double pcie_tlp_bytes_per_s() const { return pcie_tlp_bps_; }
  double tunnel_tlp_bytes_per_s(LinkDir dir) const { return tunnel_tlp_bps_[index(dir)]; }

  // Posted writes of [bus_addr, bus_addr + bytes): one TLP per MPS-aligned piece.
  TlpRun write_run(std::uint64_t bus_addr, std::uint64_t bytes) const;
  // A read of [bus_addr, bus_addr + bytes): one request per MRRS-aligned piece, completions per
  // piece aligned to min(completion_bytes, MPS).
  ReadShape read_shape(std::uint64_t bus_addr, std::uint64_t bytes) const;

  // What the shapes above depend on besides the sizes, for callers that remember them: the TLP
  // header a transfer's requests carry (3DW below 4 GiB, else 4DW), and the size completions are
  // split at (the completion size, at most MPS).
  std::uint64_t header_bytes(std::uint64_t bus_addr, std::uint64_t bytes) const {
    const std::uint64_t last = bytes == 0 ? bus_addr : bus_addr + (bytes - 1);
    return last < (std::uint64_t{1} << 32) && last >= bus_addr ? config_.header_3dw_bytes : config_.header_4dw_bytes;
  }
  std::uint64_t completion_chunk_bytes() const { return std::uint64_t{1} << completion_shift_; }

  // Time the slower segment (PCIe or tunnel) takes to carry a run, rounded up to a picosecond.
  Picos serialize_ps(LinkDir dir, const TlpRun& run) const;
  // Port and router crossings one way.
  Picos one_way_ps() const { return one_way_ps_; }

  // Write TLPs of payload_bytes the posted credits let be in flight at once.
  std::uint64_t posted_credit_tlps(std::uint64_t payload_bytes) const;

  // n items through a bottleneck that takes per_item_ps each, at most `window` of them
  // outstanding, each returning its slot loop_ps after it started: from the first start to the
  // end of the last item's turn. Credits (writes) and tags (reads) both have this shape.
  static Picos window_bound_span(std::uint64_t n, Picos per_item_ps, std::uint64_t window, Picos loop_ps);

  // Analytic figures for one transfer that starts on an idle link, in bytes a second:
  // writes until the last byte reaches the host; reads until the last completion reaches the
  // device, the host taking host_read_ps from a request's arrival to its first data.
  Picos write_time_ps(std::uint64_t bus_addr, std::uint64_t bytes) const;
  Picos read_time_ps(std::uint64_t bus_addr, std::uint64_t bytes, Picos host_read_ps) const;
  double write_bytes_per_s(std::uint64_t bytes) const;
  double read_bytes_per_s(std::uint64_t bytes, Picos host_read_ps) const;

 private:
  static unsigned index(LinkDir dir) { return dir == LinkDir::Up ? 0 : 1; }
  // Adds `count` TLPs of `payload` bytes (each with `overhead` bytes of header and framing).
  void add_tlps(TlpRun& run, std::uint64_t count, std::uint64_t payload, std::uint64_t overhead) const;
  // Splits [addr, addr + bytes) at multiples of 2^chunk_shift and adds a TLP per piece.
  void add_pieces(TlpRun& run, std::uint64_t addr, std::uint64_t bytes, unsigned chunk_shift,
                  std::uint64_t overhead) const;
  std::uint64_t tunnel_packets(std::uint64_t tlp_bytes) const;

  LinkConfig config_;
  double pcie_line_bps_ = 0;
  double pcie_tlp_bps_ = 0;
  double tunnel_tlp_bps_[2] = {0, 0};
  // Attoseconds a byte (fine enough that a 5 ns TLP rounds off no more than 1e-5 of itself).
  std::uint64_t pcie_as_per_byte_ = 0;
  std::uint64_t tunnel_as_per_byte_[2] = {0, 0};
  Picos one_way_ps_ = 0;
  unsigned mps_shift_ = 7;  // MPS, MRRS and the completion chunk are powers of two (validate())
  unsigned mrrs_shift_ = 9;
  unsigned completion_shift_ = 7;
  int tunnel_payload_shift_ = -1;  // -1: not a power of two
};

}  // namespace dartlab::thunderbolt
