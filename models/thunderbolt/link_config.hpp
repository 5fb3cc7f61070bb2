// SPDX-License-Identifier: MIT
// A PCIe link, native or tunnelled through Thunderbolt / USB4, as data: one struct of parameters,
// one row per preset, in the manner of Linux's apple_dart_hw tables. Each preset row says where
// every value came from (spec, observed, inferred, guess); models/thunderbolt/CALIBRATION.md
// gathers the sources and what the presets predict.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace dartlab::thunderbolt {

struct LinkConfig {
  std::string_view name;  // the preset it started from

  // --- the PCIe link the device sits on ---
  unsigned pcie_gen = 3;    // 1..5: 2.5, 5, 8, 16, 32 GT/s a lane; 8b/10b up to gen 2, 128b/130b after (spec)
  unsigned pcie_lanes = 4;  // 1..32
  std::uint32_t mps_bytes = 128;         // Max_Payload_Size: largest write or completion payload
  std::uint32_t mrrs_bytes = 512;        // Max_Read_Request_Size: largest read a request asks for
  std::uint32_t completion_bytes = 128;  // chunks the completer splits read data into (an RCB multiple, at most MPS)
  std::uint32_t framing_bytes = 8;       // per TLP below the transaction layer: STP/sequence, LCRC (pcie-bench DLLP_Hdr)
  std::uint32_t header_3dw_bytes = 12;   // MWr/MRd below 4 GiB, and every CplD (spec)
  std::uint32_t header_4dw_bytes = 16;   // MWr/MRd at or above 4 GiB (spec: 64-bit addressing)
  std::uint32_t dllp_bytes = 8;          // an ACK or UpdateFC DLLP with its framing (pcie-bench Ack_Size, FC_Size)
  // One ACK and one UpdateFC DLLP per this many link bytes: the spec's Ack latency and UpdateFC
  // tables, charged per link byte as pcie-bench's model does (see CALIBRATION.md).
  std::uint32_t ack_interval_bytes = 169;
  std::uint32_t fc_interval_bytes = 169;
  std::uint32_t skp_bytes = 4;             // clock compensation ordered set (pcie-bench SKIP_Length)
  std::uint32_t skp_interval_bytes = 1538;  // and its interval (pcie-bench SKIP_Interval)

  // --- flow control ---
  std::uint32_t posted_header_credits = 64;   // PH the host's receiver advertises (one per write TLP)
  std::uint32_t posted_data_credits = 1024;   // PD, in 16-byte units (ceil(payload / 16) per write TLP)
  std::uint32_t read_tags = 256;              // reads the device keeps outstanding (its tags)

  // --- the Thunderbolt / USB4 tunnel (tunnel_mbps 0: native PCIe, no tunnel) ---
  std::uint32_t tunnel_mbps = 0;           // link rate each way after line coding
  std::uint32_t guard_band_percent = 10;   // Linux tb.c leaves 10% of every link unallocated
  std::uint32_t dp_reserved_mbps = 0;      // DisplayPort tunnels, host to device, served first
  std::uint32_t tunnel_payload_bytes = 256;  // largest tunnelled packet payload
  std::uint32_t tunnel_header_bytes = 4;     // header of each tunnelled packet

  // --- latency one way (a credit or a read round trip crosses it twice) ---
  std::uint32_t port_ns = 150;     // one PCIe port or switch crossing
  std::uint32_t ports = 1;         // crossings one way
  std::uint32_t tunnel_hop_ns = 0;  // one USB4 router adapter crossing (in or out of the tunnel)
  std::uint32_t tunnel_hops = 0;    // crossings one way

  bool tunneled() const { return tunnel_mbps != 0; }
  friend bool operator==(const LinkConfig&, const LinkConfig&) = default;
};

// --- presets: tb3, tb4, usb4v2, pcie-gen4-x16 ---

// Thunderbolt 3: a Gen3 x4 device behind a Titan Ridge dock on a 40 Gb/s link.
inline constexpr LinkConfig kLinkTb3{
    .name = "tb3",
    .pcie_gen = 3,      // spec: the PCIe side of a TB3 controller is Gen3 x4 (BACKGROUND)
    .pcie_lanes = 4,    // spec, same
    .mps_bytes = 128,   // observed: JHL7540 (Titan Ridge) bridges, lspci DevCap/DevCtl "MaxPayload 128 bytes"
    .mrrs_bytes = 512,  // observed: same lspci, DevCtl "MaxReadReq 512 bytes"
    .completion_bytes = 128,   // spec: a completion never exceeds MPS; inferred: the host returns MPS-sized ones
    .ack_interval_bytes = 169,  // spec (PCIe r5.0 tables 3-7..3-9, 8 GT/s x4, MPS 128) via pcie-bench
    .fc_interval_bytes = 169,   // spec (tables 2-46..2-48, same row) via pcie-bench
    .posted_header_credits = 64,  // guess: root ports advertise tens to a few hundred; enough for the tunnel's loop
    .posted_data_credits = 1024,  // guess: 16 KiB of write buffer
    .read_tags = 256,             // spec: 8-bit Extended Tags; GPUs use them (guess for this one)
    .tunnel_mbps = 40000,         // spec: 2 lanes x 20 Gb/s (BACKGROUND)
    .guard_band_percent = 10,     // spec: Linux drivers/thunderbolt/tb.c "Leave 10% guard band"
    .dp_reserved_mbps = 0,        // no display tunnelled (the GPU drives its own outputs)
    .tunnel_payload_bytes = 256,  // inferred: USB4 transport-layer packets carry up to 256 bytes
    .tunnel_header_bytes = 4,     // inferred: behind a 4-byte header
    .port_ns = 150,               // guess: PCIe switch port-to-port latency is 100-150 ns in switch datasheets
    .ports = 2,                   // the dock's switch and the host's downstream port
    .tunnel_hop_ns = 300,         // guess: no published router latency
    .tunnel_hops = 2,             // into the tunnel at the dock, out of it at the host
};

// Thunderbolt 4 / USB4 40 Gb/s with a Gen4 x4 device behind: the tunnel, not PCIe, is the limit.
inline constexpr LinkConfig kLinkTb4{
    .name = "tb4",
    .pcie_gen = 4,     // spec: TB4/USB4 docks tunnel Gen4 x4 (BACKGROUND)
    .pcie_lanes = 4,   // spec, same
    .mps_bytes = 256,  // guess: no lspci of a Gen4 dock controller at hand; 256 is the common desktop value
    .mrrs_bytes = 512,          // guess: as tb3
    .completion_bytes = 128,    // inferred: the Mac's root complex in RCB-128 chunks (unpublished)
    .ack_interval_bytes = 214,  // spec (16 GT/s x4, MPS 256) via pcie-bench
    .fc_interval_bytes = 214,   // spec, same
    .posted_header_credits = 64,  // guess, as tb3
    .posted_data_credits = 1024,  // guess, as tb3
    .read_tags = 256,             // as tb3
    .tunnel_mbps = 40000,         // spec: 40 Gb/s (BACKGROUND)
    .guard_band_percent = 10,     // spec: Linux tb.c
    .dp_reserved_mbps = 0,
    .tunnel_payload_bytes = 256,  // inferred, as tb3
    .tunnel_header_bytes = 4,     // inferred, as tb3
    .port_ns = 150,               // guess, as tb3
    .ports = 2,
    .tunnel_hop_ns = 300,  // guess, as tb3
    .tunnel_hops = 2,
};

// USB4 v2 / Thunderbolt 5 at 80 Gb/s symmetric; the Gen4 x4 PCIe side is the limit again.
inline constexpr LinkConfig kLinkUsb4v2{
    .name = "usb4v2",
    .pcie_gen = 4,     // inferred: TB5 controllers tunnel PCIe Gen4 x4
    .pcie_lanes = 4,   // inferred, same
    .mps_bytes = 256,  // guess, as tb4
    .mrrs_bytes = 512,
    .completion_bytes = 128,    // inferred, as tb4
    .ack_interval_bytes = 214,  // spec (16 GT/s x4, MPS 256) via pcie-bench
    .fc_interval_bytes = 214,
    .posted_header_credits = 64,  // guess
    .posted_data_credits = 1024,  // guess
    .read_tags = 256,
    .tunnel_mbps = 80000,      // spec: USB4 v2 / TB5 80 Gb/s symmetric (BACKGROUND)
    .guard_band_percent = 10,  // spec: Linux tb.c
    .dp_reserved_mbps = 0,
    .tunnel_payload_bytes = 256,
    .tunnel_header_bytes = 4,
    .port_ns = 150,  // guess
    .ports = 2,
    .tunnel_hop_ns = 300,  // guess
    .tunnel_hops = 2,
};

// The native-PC baseline: a Gen4 x16 slot on a desktop, no tunnel.
inline constexpr LinkConfig kLinkPcieGen4x16{
    .name = "pcie-gen4-x16",
    .pcie_gen = 4,      // spec
    .pcie_lanes = 16,   // spec
    .mps_bytes = 256,   // observed: the usual desktop value in lspci
    .mrrs_bytes = 512,  // observed: same
    // spec: a root complex's RCB is 64 or 128 bytes; pcie-bench observed RCB-sized completions on
    // several chipsets; 128 is inferred.
    .completion_bytes = 128,
    .ack_interval_bytes = 168,  // spec (16 GT/s x16, MPS 256) via pcie-bench
    .fc_interval_bytes = 168,
    .posted_header_credits = 64,  // guess
    .posted_data_credits = 1024,  // guess
    .read_tags = 256,
    .tunnel_mbps = 0,  // no tunnel
    .guard_band_percent = 0,
    .dp_reserved_mbps = 0,
    .port_ns = 150,  // guess: the root port
    .ports = 1,
    .tunnel_hop_ns = 0,
    .tunnel_hops = 0,
};

inline constexpr std::array<LinkConfig, 4> kLinkPresets{kLinkTb3, kLinkTb4, kLinkUsb4v2, kLinkPcieGen4x16};

// The preset called `name`, or nullptr.
const LinkConfig* find_link_preset(std::string_view name);

// Gigatransfers a second of one lane, and the line code's payload fraction, for a generation.
double pcie_gt_per_s(unsigned gen);
double pcie_encoding_efficiency(unsigned gen);

}  // namespace dartlab::thunderbolt
