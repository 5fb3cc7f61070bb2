// SPDX-License-Identifier: MIT
// The timed platform (GPU -> link -> DART -> host memory) in SystemC: calibration against the
// published figures, burst vs per-TLP agreement, the link model's own figures, walks counted at
// host memory, faults, credits, DisplayPort and the guard band.
#include <catch2/catch.hpp>

#include <cmath>
#include <variant>

#include "models/dart/dart.hpp"
#include "models/thunderbolt/link_timing.hpp"
#include "sim/timed/bandwidth.hpp"
#include "sim/timed/platform.hpp"

using namespace dartlab;
using namespace dartlab::sim::timed;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

TimedConfig config(const thunderbolt::LinkConfig& link, TransferMode mode = TransferMode::Burst) {
  TimedConfig c;
  c.link = link;
  c.host.gpu.mode = mode;
  return c;
}

BandwidthResult bandwidth(const TimedConfig& c, dartlab::bus::DmaDir dir, std::uint64_t size = 32 << 20,
                          std::uint32_t iterations = 2) {
  auto r = run_bandwidth(c, BandwidthRequest{dir, size, iterations});
  if (const auto* e = std::get_if<std::string>(&r)) FAIL(*e);
  return std::get<BandwidthResult>(r);
}

const char* name(dartlab::bus::DmaDir dir) { return dir == dartlab::bus::DmaDir::HostToDevice ? "h2d" : "d2h"; }

}  // namespace

TEST_CASE("tb3 host-to-device bandwidth is within 10% of the 3.1 GiB/s observed behind Thunderbolt",
          "[platform][calibration]") {
  const BandwidthResult r = bandwidth(config(thunderbolt::kLinkTb3), dartlab::bus::DmaDir::HostToDevice);
  INFO("tb3 h2d: " << r.gib_per_s() << " GiB/s");
  CHECK(r.gib_per_s() == Approx(3.1).epsilon(0.10));
  CHECK(r.faults == 0);
}

TEST_CASE("pcie-gen4-x16 host-to-device bandwidth is the desktop bandwidthTest's 24-26 GB/s",
          "[platform][calibration]") {
  const BandwidthResult r = bandwidth(config(thunderbolt::kLinkPcieGen4x16), dartlab::bus::DmaDir::HostToDevice);
  INFO("pcie-gen4-x16 h2d: " << r.gb_per_s() << " GB/s");
  CHECK(r.gb_per_s() >= 24.0);
  CHECK(r.gb_per_s() <= 26.0);
}

TEST_CASE("Burst and per-TLP modes agree on bandwidth within 2% on every preset, both ways", "[platform][modes]") {
  for (const thunderbolt::LinkConfig& link : thunderbolt::kLinkPresets) {
    for (const dartlab::bus::DmaDir dir : {dartlab::bus::DmaDir::HostToDevice, dartlab::bus::DmaDir::DeviceToHost}) {
      const double burst = bandwidth(config(link, TransferMode::Burst), dir, 4 << 20).gib_per_s();
      const BandwidthResult tlp = bandwidth(config(link, TransferMode::Tlp), dir, 4 << 20);
      INFO(link.name << " " << name(dir) << ": burst " << burst << ", tlp " << tlp.gib_per_s());
      CHECK(std::abs(burst - tlp.gib_per_s()) <= 0.02 * tlp.gib_per_s());
      CHECK(tlp.transactions == tlp.tlps);  // per-TLP mode: one transaction per write TLP or read request
    }
  }
}

TEST_CASE("The simulated platform reaches what the link model alone predicts for each preset", "[platform][presets]") {
  for (const thunderbolt::LinkConfig& link : thunderbolt::kLinkPresets) {
    for (const dartlab::bus::DmaDir dir : {dartlab::bus::DmaDir::HostToDevice, dartlab::bus::DmaDir::DeviceToHost}) {
      const BandwidthResult r = bandwidth(config(link), dir);
      INFO(link.name << " " << name(dir) << ": " << r.gib_per_s() << " vs " << r.predicted_gib_per_s);
      CHECK(r.gib_per_s() == Approx(r.predicted_gib_per_s).epsilon(0.01));
    }
  }
}

TEST_CASE("A table walk makes one read of host memory per level, counted at the memory", "[platform][walk]") {
  const auto reads_for = [](const dart::DartVariant& variant) {
    dart::DartConfig dc;
    dc.variant = variant;
    dart::Dart functional(dc);
    const dart::DartMapResult m = functional.map(0x2'0000'0000, 2 * 16384, dart::Perms{true, true});
    REQUIRE(m.ok);
    Platform& p = Platform::instance();
    PlatformConfig pc;
    pc.link = thunderbolt::kLinkTb3;
    pc.dart = variant.timing;
    pc.gpu.mode = TransferMode::Tlp;
    p.configure(pc, functional);
    std::uint64_t after_first = 0;
    std::uint64_t after_second = 0;
    std::uint64_t after_other_page = 0;
    p.run([&] {
      p.gpu().begin();
      p.gpu().transfer(dartlab::bus::DmaDir::HostToDevice, 0, m.mapping.bus_addr, 64);
      after_first = p.memory().stats().table_reads;
      p.gpu().transfer(dartlab::bus::DmaDir::HostToDevice, 0, m.mapping.bus_addr + 64, 64);  // same page: an IOTLB hit
      after_second = p.memory().stats().table_reads;
      p.gpu().transfer(dartlab::bus::DmaDir::HostToDevice, 0, m.mapping.bus_addr + 16384, 64);  // the next page
      after_other_page = p.memory().stats().table_reads;
      p.gpu().end();
    });
    CHECK(p.dart().stats().walks == 2);
    CHECK(p.dart().stats().walk_reads == after_other_page);
    CHECK(after_second == after_first);
    CHECK(after_other_page == 2 * after_first);
    return after_first;
  };
  CHECK(reads_for(dart::kDartT8020) == 2);
  CHECK(reads_for(dart::kDartT8110) == 3);
}

TEST_CASE("A DMA to an unmapped or forbidden address faults, is reported and counted", "[platform][faults]") {
  dart::Dart functional(dart::DartConfig{});
  const dart::DartMapResult ro = functional.map(0x2'0000'0000, 16384, dart::Perms{true, false});  // device may only read
  REQUIRE(ro.ok);
  Platform& p = Platform::instance();
  PlatformConfig pc;
  pc.gpu.mode = TransferMode::Tlp;
  p.configure(pc, functional);
  TransferOutcome unmapped;
  TransferOutcome write_to_ro;
  TransferOutcome fine;
  p.run([&] {
    p.gpu().begin();
    unmapped = p.gpu().transfer(dartlab::bus::DmaDir::HostToDevice, 0, ro.mapping.bus_addr + 16384, 256);
    write_to_ro = p.gpu().transfer(dartlab::bus::DmaDir::DeviceToHost, 0, ro.mapping.bus_addr, 256);
    fine = p.gpu().transfer(dartlab::bus::DmaDir::HostToDevice, 0, ro.mapping.bus_addr, 256);
    p.gpu().end();
  });
  CHECK(unmapped.faulted);
  CHECK(write_to_ro.faulted);
  CHECK_FALSE(fine.faulted);
  const dart::DartTlmStats& s = p.dart().stats();
  CHECK(s.faults == 2);
  CHECK(s.faults_by_code[static_cast<unsigned>(dart::FaultCode::NoPte)] == 1);
  CHECK(s.faults_by_code[static_cast<unsigned>(dart::FaultCode::WriteProt)] == 1);
  // The error register latches the first fault.
  CHECK(p.dart().last_fault().valid);
  CHECK(p.dart().last_fault().fault.code == dart::FaultCode::NoPte);
  CHECK(p.dart().last_fault().fault.bus_addr == ro.mapping.bus_addr + 16384);
  CHECK(p.dart().last_fault().later_faults == 1);
  CHECK(p.gpu().stats().faulted_transfers == 2);
}

TEST_CASE("Posted credits bound the write TLPs in flight on the link", "[platform][credits]") {
  SECTION("four credits: never more than four in flight, and the loop sets the pace") {
    thunderbolt::LinkConfig tight = thunderbolt::kLinkTb3;
    tight.posted_header_credits = 4;
    const BandwidthResult r = bandwidth(config(tight, TransferMode::Tlp), dartlab::bus::DmaDir::DeviceToHost, 1 << 20, 1);
    CHECK(Platform::instance().link().stats().max_posted_in_flight == 4);
    CHECK(Platform::instance().link().stats().credit_stall_ps > 0);
    CHECK(r.gib_per_s() == Approx(r.predicted_gib_per_s).epsilon(0.01));
    CHECK(r.gib_per_s() < 0.3 * bandwidth(config(thunderbolt::kLinkTb3), dartlab::bus::DmaDir::DeviceToHost).gib_per_s());
  }
  SECTION("the presets' credits cover the loop: the link, not the credits, is the limit") {
    bandwidth(config(thunderbolt::kLinkTb3, TransferMode::Tlp), dartlab::bus::DmaDir::DeviceToHost, 1 << 20, 1);
    const auto& s = Platform::instance().link().stats();
    CHECK(s.max_posted_in_flight <= 64);
    CHECK(s.max_posted_in_flight > 4);
    CHECK(s.credit_stall_ps == 0);
  }
}

TEST_CASE("A DisplayPort reservation and the guard band reduce bandwidth by their share", "[platform][tunnel]") {
  SECTION("DP on tb3 makes the tunnel the limit for host-to-device only") {
    thunderbolt::LinkConfig dp = thunderbolt::kLinkTb3;
    dp.dp_reserved_mbps = 17280;
    const double tunnel_bytes = (36000.0 - 17280.0) * 1e6 / 8 * (1 - 16.0 / 169);
    const BandwidthResult h2d = bandwidth(config(dp), dartlab::bus::DmaDir::HostToDevice);
    CHECK(h2d.gib_per_s() == Approx(tunnel_bytes * 128 / 152 / kGiB).epsilon(0.01));
    const double d2h = bandwidth(config(dp), dartlab::bus::DmaDir::DeviceToHost).gib_per_s();
    CHECK(d2h == Approx(bandwidth(config(thunderbolt::kLinkTb3), dartlab::bus::DmaDir::DeviceToHost).gib_per_s()).epsilon(0.001));
  }
  SECTION("the 10% guard band costs tb4 (tunnel-bound) 10%") {
    thunderbolt::LinkConfig no_guard = thunderbolt::kLinkTb4;
    no_guard.guard_band_percent = 0;
    for (const dartlab::bus::DmaDir dir : {dartlab::bus::DmaDir::HostToDevice, dartlab::bus::DmaDir::DeviceToHost}) {
      const double with = bandwidth(config(thunderbolt::kLinkTb4), dir).gib_per_s();
      const double without = bandwidth(config(no_guard), dir).gib_per_s();
      CHECK(with / without == Approx(0.9).epsilon(0.01));
    }
  }
}

TEST_CASE("A buffer larger than the DART's aperture is refused with the way out", "[platform]") {
  auto r = run_bandwidth(config(thunderbolt::kLinkTb4), BandwidthRequest{dartlab::bus::DmaDir::HostToDevice, 2ULL << 30, 1});
  REQUIRE(std::holds_alternative<std::string>(r));
  CHECK_THAT(std::get<std::string>(r), Catch::Matchers::Contains("aperture"));
}
