// SPDX-License-Identifier: MIT
// The link's arithmetic, no SystemC: TLP shapes, rates per segment, credits, the guard band and
// DisplayPort, and what each preset allows.
#include <catch2/catch.hpp>

#include "models/thunderbolt/link_timing.hpp"

using namespace dartlab::thunderbolt;
using Catch::Matchers::Contains;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr Picos kHostReadPs = 160'000;  // host memory read (150 ns) + IOTLB lookup (10 ns), the defaults

double h2d_gib(const LinkConfig& c, std::uint64_t bytes = 32 << 20) {
  return LinkTiming(c).read_bytes_per_s(bytes, kHostReadPs) / kGiB;
}
double d2h_gib(const LinkConfig& c, std::uint64_t bytes = 32 << 20) {
  return LinkTiming(c).write_bytes_per_s(bytes) / kGiB;
}

}  // namespace

TEST_CASE("A write TLP carries its payload, 8 bytes of framing and a 3DW header below 4 GiB, 4DW above",
          "[link_timing]") {
  const LinkTiming t(kLinkTb3);
  const TlpRun low = t.write_run(0x1000, 128);
  CHECK(low.tlps == 1);
  CHECK(low.wire_bytes == 128 + 8 + 12);
  const TlpRun high = t.write_run(0x1'0000'0000, 128);
  CHECK(high.wire_bytes == 128 + 8 + 16);
}

TEST_CASE("Writes split at MPS-aligned boundaries", "[link_timing]") {
  const LinkTiming t(kLinkTb3);  // MPS 128
  const TlpRun run = t.write_run(64, 256);  // 64 up to the boundary, 128, then 64
  CHECK(run.tlps == 3);
  CHECK(run.payload_bytes == 256);
  CHECK(run.wire_bytes == 256 + 3 * 20);
  CHECK(t.write_run(0, 1 << 20).tlps == (1 << 20) / 128);
}

TEST_CASE("Reads go up as MRRS-aligned requests and come back as completions of the completion size",
          "[link_timing]") {
  const LinkTiming t(kLinkPcieGen4x16);  // MRRS 512, completions 128, MPS 256
  const ReadShape s = t.read_shape(0, 4096);
  CHECK(s.requests.tlps == 8);
  CHECK(s.requests.wire_bytes == 8 * (8 + 12));
  CHECK(s.completions.tlps == 32);
  CHECK(s.completions.wire_bytes == 4096 + 32 * (8 + 12));
  SECTION("a misaligned read splits at the same boundaries") {
    const ReadShape m = t.read_shape(100, 512);  // requests [100, 512) and [512, 612)
    CHECK(m.requests.tlps == 2);
    CHECK(m.completions.tlps == 5);  // 28, 128, 128, 128, 100
  }
}

TEST_CASE("Read completions smaller than MPS are what make h2d slower than d2h", "[link_timing]") {
  // pcie-gen4-x16: 128-byte completions carry 128/148 of their bytes as data, 256-byte writes 256/276.
  const double h2d = h2d_gib(kLinkPcieGen4x16);
  const double d2h = d2h_gib(kLinkPcieGen4x16);
  CHECK(h2d < d2h);
  CHECK(h2d / d2h == Approx((128.0 / 148.0) / (256.0 / 276.0)).epsilon(0.01));
  SECTION("with completions as large as MPS the gap closes") {
    LinkConfig c = kLinkPcieGen4x16;
    c.completion_bytes = 256;
    CHECK(h2d_gib(c) / d2h_gib(c) == Approx(1.0).epsilon(0.01));
  }
}

TEST_CASE("The PCIe segment loses its line code, DLLPs and SKP; the tunnel its guard band", "[link_timing]") {
  SECTION("tb3's Gen3 x4 loses 128b/130b, DLLPs and SKP, its 40 Gb/s tunnel the guard band") {
    const LinkTiming t(kLinkTb3);
    CHECK(t.pcie_line_bytes_per_s() == Approx(8e9 * 4 * 128 / 130 / 8));  // 3.938 GB/s
    // One ACK and one UpdateFC (8 bytes each) per 169 bytes, SKP 4 per 1538 (pcie-bench).
    CHECK(t.pcie_tlp_bytes_per_s() == Approx(t.pcie_line_bytes_per_s() * (1 - 16.0 / 169 - 4.0 / 1538)));
    // 40 Gb/s less 10% guard band, DLLPs tunnelled with the TLPs.
    CHECK(t.tunnel_tlp_bytes_per_s(LinkDir::Up) == Approx(36e9 / 8 * (1 - 16.0 / 169)));
  }
  SECTION("pcie-gen4-x16 loses its line code and has no tunnel") {
    const LinkTiming t(kLinkPcieGen4x16);
    CHECK(t.pcie_line_bytes_per_s() == Approx(16e9 * 16 * 128 / 130 / 8));  // 31.5 GB/s
    CHECK(t.tunnel_tlp_bytes_per_s(LinkDir::Down) == 0.0);
  }
}

TEST_CASE("Each preset allows what its slower segment and the TLP overheads allow", "[link_timing][presets]") {
  // Hand-derived (see models/thunderbolt/CALIBRATION.md); the model must not drift from them.
  SECTION("tb3: Gen3 x4 binds, 128-byte payloads both ways") {
    const double tlp_bytes = 8e9 * 4 * 128 / 130 / 8 * (1 - 16.0 / 169 - 4.0 / 1538);
    CHECK(h2d_gib(kLinkTb3) == Approx(tlp_bytes * 128 / 148 / kGiB).epsilon(0.002));
    CHECK(d2h_gib(kLinkTb3) == Approx(tlp_bytes * 128 / 148 / kGiB).epsilon(0.002));
  }
  SECTION("tb4: the 40 Gb/s tunnel binds, a 4-byte header on each packet") {
    const double tunnel = 36e9 / 8 * (1 - 16.0 / 214);
    CHECK(h2d_gib(kLinkTb4) == Approx(tunnel * 128 / 152 / kGiB).epsilon(0.002));  // 148 + 4
    CHECK(d2h_gib(kLinkTb4) == Approx(tunnel * 256 / 284 / kGiB).epsilon(0.002));  // 276 + 2 x 4
  }
  SECTION("usb4v2: 80 Gb/s lifts the tunnel above Gen4 x4, which binds again") {
    const double tlp_bytes = 16e9 * 4 * 128 / 130 / 8 * (1 - 16.0 / 214 - 4.0 / 1538);
    CHECK(h2d_gib(kLinkUsb4v2) == Approx(tlp_bytes * 128 / 148 / kGiB).epsilon(0.002));
    CHECK(d2h_gib(kLinkUsb4v2) == Approx(tlp_bytes * 256 / 276 / kGiB).epsilon(0.002));
  }
  SECTION("pcie-gen4-x16's x16 link allows 128-byte writes and 256-byte completions") {
    const double tlp_bytes = 16e9 * 16 * 128 / 130 / 8 * (1 - 16.0 / 168 - 4.0 / 1538);
    CHECK(h2d_gib(kLinkPcieGen4x16) == Approx(tlp_bytes * 128 / 148 / kGiB).epsilon(0.002));
    CHECK(d2h_gib(kLinkPcieGen4x16) == Approx(tlp_bytes * 256 / 276 / kGiB).epsilon(0.002));
  }
}

TEST_CASE("The link model meets the published figures within 10%", "[link_timing][calibration]") {
  // BACKGROUND: a Gen3 x4 device behind Thunderbolt tops out near 3.1 GiB/s.
  CHECK(h2d_gib(kLinkTb3) == Approx(3.1).epsilon(0.10));
  // Desktop pinned-memory bandwidthTest, Gen4 x16: 24-26 GB/s host to device.
  const double gb = h2d_gib(kLinkPcieGen4x16) * kGiB / 1e9;
  CHECK(gb >= 24.0);
  CHECK(gb <= 26.0);
}

TEST_CASE("The guard band and a DisplayPort reservation take exactly their share of a tunnel-bound link",
          "[link_timing][tunnel]") {
  LinkConfig no_guard = kLinkTb4;
  no_guard.guard_band_percent = 0;
  SECTION("the guard band takes 10% of both directions") {
    CHECK(LinkTiming(kLinkTb4).tunnel_tlp_bytes_per_s(LinkDir::Up) ==
          Approx(0.9 * LinkTiming(no_guard).tunnel_tlp_bytes_per_s(LinkDir::Up)));
    CHECK(h2d_gib(kLinkTb4) / h2d_gib(no_guard) == Approx(0.9).epsilon(0.003));
    CHECK(d2h_gib(kLinkTb4) / d2h_gib(no_guard) == Approx(0.9).epsilon(0.003));
  }
  SECTION("DisplayPort comes off the host-to-device direction only") {
    LinkConfig dp = kLinkTb4;
    dp.dp_reserved_mbps = 12000;  // 36000 - 12000 = 24000 Mb/s left downstream
    CHECK(LinkTiming(dp).tunnel_tlp_bytes_per_s(LinkDir::Down) ==
          Approx(24.0 / 36.0 * LinkTiming(kLinkTb4).tunnel_tlp_bytes_per_s(LinkDir::Down)));
    CHECK(h2d_gib(dp) / h2d_gib(kLinkTb4) == Approx(24.0 / 36.0).epsilon(0.003));
    CHECK(d2h_gib(dp) == Approx(d2h_gib(kLinkTb4)));
  }
  SECTION("a display reservation makes tb3's tunnel, not its Gen3 x4 side, the limit") {
    LinkConfig dp = kLinkTb3;
    dp.dp_reserved_mbps = 17280;  // one DisplayPort 1.2 HBR2 x4 stream (4 x 5.4 Gb/s, 8b/10b)
    const double tunnel = (36000.0 - 17280.0) * 1e6 / 8 * (1 - 16.0 / 169);
    CHECK(h2d_gib(dp) == Approx(tunnel * 128 / 152 / kGiB).epsilon(0.002));
    CHECK(h2d_gib(dp) < h2d_gib(kLinkTb3));
  }
}

TEST_CASE("Posted credits bound the write TLPs in flight, and with them a long link's bandwidth",
          "[link_timing][credits]") {
  LinkConfig c = kLinkTb3;
  const LinkTiming roomy(c);
  CHECK(roomy.posted_credit_tlps(128) == 64);  // min(64 PH, 1024 PD / 8)
  c.posted_header_credits = 4;
  const LinkTiming tight(c);
  CHECK(tight.posted_credit_tlps(128) == 4);
  c.posted_header_credits = 64;
  c.posted_data_credits = 16;  // two 128-byte writes' worth
  CHECK(LinkTiming(c).posted_credit_tlps(128) == 2);

  SECTION("four credits over a 1.8 us loop allow four TLPs per loop") {
    const std::uint64_t tlps = 4096;
    const Picos per = tight.serialize_ps(LinkDir::Up, tight.write_run(0, tlps * 128)) / tlps;
    const Picos loop = per + 2 * tight.one_way_ps();
    const Picos span = LinkTiming::window_bound_span(tlps, per, 4, loop);
    CHECK(span == (tlps - 1) / 4 * loop + 3 * per + per);
    CHECK(tight.write_time_ps(0, tlps * 128) == span + tight.one_way_ps());
    const double gib = static_cast<double>(tlps * 128) / (static_cast<double>(span) * 1e-12) / kGiB;
    CHECK(gib == Approx(4.0 * 128 / (static_cast<double>(loop) * 1e-12) / kGiB).epsilon(0.01));
    CHECK(d2h_gib(kLinkTb3) > 4 * gib);
  }
  SECTION("enough credits leave the link the bottleneck") {
    CHECK(LinkTiming::window_bound_span(1000, 100, 20, 1000) == 1000 * 100);
  }
}

TEST_CASE("Configs that cannot carry data are refused with the reason", "[link_timing]") {
  LinkConfig c = kLinkTb3;
  c.dp_reserved_mbps = 40000;
  CHECK_THAT(LinkTiming::validate(c), Contains("leaves no tunnel bandwidth"));
  CHECK_THROWS_AS(LinkTiming(c), std::invalid_argument);
  c = kLinkTb3;
  c.mps_bytes = 100;
  CHECK_THAT(LinkTiming::validate(c), Contains("mps"));
  c = kLinkTb3;
  c.pcie_gen = 6;
  CHECK_THAT(LinkTiming::validate(c), Contains("generations are 1 to 5"));
  c = kLinkTb3;
  c.posted_data_credits = 4;  // less than one 128-byte write
  CHECK_THAT(LinkTiming::validate(c), Contains("pd"));
  for (const LinkConfig& preset : kLinkPresets) CHECK(LinkTiming::validate(preset).empty());
}
