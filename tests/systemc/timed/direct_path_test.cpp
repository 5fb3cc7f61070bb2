// SPDX-License-Identifier: MIT
// The platform's modules call one another directly (models/tlm/dma_extension.hpp, DmaTarget):
// the same results as through the TLM sockets, an IOTLB whose counts match a lone IOTLB fed the
// same lookups (the DART remembers its last entry), and no allocation per transaction.
#include <catch2/catch.hpp>

#include <cstring>
#include <type_traits>
#include <vector>

#include "models/dart/dart.hpp"
#include "models/dart/iotlb.hpp"
#include "sim/timed/platform.hpp"
#include "support/alloc_counter.hpp"

using namespace dartlab;
using namespace dartlab::sim::timed;
using dartlab::bus::DmaDir;

namespace {

constexpr std::uint64_t kBufferPa = 0x2'0000'0000;
constexpr std::uint64_t kPage = 16384;  // the default DART page

// Counters without padding compare byte for byte.
template <typename T>
bool same_bytes(const T& a, const T& b) {
  static_assert(std::has_unique_object_representations_v<T>);
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

struct Run {
  std::vector<TransferOutcome> outcomes;
  thunderbolt::LinkStats link;
  dart::DartTlmStats dart;
  dart::IotlbStats iotlb;
  HostMemoryStats memory;
  GpuStats gpu;
  std::uint64_t begin_ps = 0;  // SystemC's time goes on from run to run: times compare from here
  std::uint64_t end_ps = 0;
};

// Transfers of every shape through the platform: whole and partial TLPs, page crossings, both
// directions, a fault on an unmapped page and one on a read-only page, an IOTLB flush.
Run run_pattern(bool direct, TransferMode mode, const thunderbolt::LinkConfig& link, const dart::IotlbGeometry& iotlb) {
  dart::Dart functional(dart::DartConfig{});
  const dart::DartMapResult rw = functional.map(kBufferPa, 8 * kPage, dart::Perms{true, true});
  const dart::DartMapResult ro = functional.map(kBufferPa + 16 * kPage, kPage, dart::Perms{true, false});
  REQUIRE(rw.ok);
  REQUIRE(ro.ok);
  Platform& p = Platform::instance();
  PlatformConfig pc;
  pc.link = link;
  pc.gpu.mode = mode;
  pc.gpu.quantum_ns = 2000;  // short: syncs fall inside transfers
  pc.dart.iotlb = iotlb;
  p.configure(pc, functional);
  p.set_direct_calls(direct);
  Run out;
  const std::uint64_t a = rw.mapping.bus_addr;
  p.run([&] {
    GpuDma& gpu = p.gpu();
    gpu.begin();
    out.begin_ps = gpu.now_ps();
    const auto t = [&](DmaDir dir, std::uint64_t addr, std::uint64_t bytes) {
      TransferOutcome o = gpu.transfer(dir, 0, addr, bytes);
      o.start_ps -= out.begin_ps;
      o.done_ps -= out.begin_ps;
      out.outcomes.push_back(o);
    };
    for (const DmaDir dir : {DmaDir::DeviceToHost, DmaDir::HostToDevice}) {
      t(dir, a, 3 * kPage);
      t(dir, a + 100, 1000);
      t(dir, a + kPage - 64, 300);  // crosses a page
      t(dir, a + 5 * kPage, 7);
      t(dir, a + 2 * kPage, 2 * kPage + 12345);
      t(dir, a + 9 * kPage, 512);  // unmapped: faults
      t(dir, a, 64);
    }
    t(DmaDir::DeviceToHost, ro.mapping.bus_addr, 256);  // read-only: a write faults
    t(DmaDir::HostToDevice, ro.mapping.bus_addr, 4096);
    p.dart().flush(dart::FlushScope::All, 0, dart::DartRange{});
    t(DmaDir::HostToDevice, a, 4 * kPage);
    t(DmaDir::DeviceToHost, a + 3 * kPage, 5000);
    gpu.end();
    out.end_ps = gpu.now_ps() - out.begin_ps;
  });
  p.set_direct_calls(true);
  out.link = p.link().stats();
  out.link.last_write_landed_ps -= out.begin_ps;
  out.dart = p.dart().stats();
  out.iotlb = p.dart().iotlb_stats();
  out.memory = p.memory().stats();
  out.gpu = p.gpu().stats();
  return out;
}

}  // namespace

TEST_CASE("Direct calls between the modules give what the TLM sockets give, to the picosecond", "[platform][direct]") {
  thunderbolt::LinkConfig tight = thunderbolt::kLinkTb3;
  tight.posted_header_credits = 4;  // credits bind
  const dart::IotlbGeometry small{2, 2, dart::Replacement::Lru};
  for (const thunderbolt::LinkConfig& link : {thunderbolt::kLinkTb3, thunderbolt::kLinkPcieGen4x16, tight}) {
    for (const TransferMode mode : {TransferMode::Tlp, TransferMode::Burst}) {
      for (const dart::IotlbGeometry& iotlb : {dart::IotlbGeometry{}, small}) {
        INFO(link.name << " " << to_string(mode) << " iotlb sets " << iotlb.sets);
        const Run sockets = run_pattern(false, mode, link, iotlb);
        const Run direct = run_pattern(true, mode, link, iotlb);
        REQUIRE(sockets.outcomes.size() == direct.outcomes.size());
        for (std::size_t i = 0; i < sockets.outcomes.size(); ++i) {
          INFO("transfer " << i);
          CHECK(sockets.outcomes[i].start_ps == direct.outcomes[i].start_ps);
          CHECK(sockets.outcomes[i].done_ps == direct.outcomes[i].done_ps);
          CHECK(sockets.outcomes[i].transactions == direct.outcomes[i].transactions);
          CHECK(sockets.outcomes[i].faulted == direct.outcomes[i].faulted);
        }
        CHECK(sockets.end_ps == direct.end_ps);
        CHECK(same_bytes(sockets.link, direct.link));
        CHECK(same_bytes(sockets.dart, direct.dart));
        CHECK(same_bytes(sockets.iotlb, direct.iotlb));
        CHECK(same_bytes(sockets.memory, direct.memory));
        // (Not the syncs: quantum boundaries are multiples of the quantum in SystemC's time,
        // which each run starts later in.)
        CHECK(sockets.gpu.transfers == direct.gpu.transfers);
        CHECK(sockets.gpu.transactions == direct.gpu.transactions);
        CHECK(sockets.gpu.faulted_transfers == direct.gpu.faulted_transfers);
        CHECK(direct.dart.faults >= 3);  // unmapped both ways, a write to the read-only page
      }
    }
  }
}

TEST_CASE("Per-TLP lookups count in the IOTLB as in a lone IOTLB looked up once per TLP", "[platform][iotlb]") {
  for (const dart::Replacement repl : {dart::Replacement::Lru, dart::Replacement::Fifo, dart::Replacement::Random}) {
    INFO("replacement " << dart::to_string(repl));
    const dart::IotlbGeometry geometry{1, 2, repl};  // one set of two ways: every third page evicts
    dart::Dart functional(dart::DartConfig{});
    const dart::DartMapResult m = functional.map(kBufferPa, 4 * kPage, dart::Perms{true, true});
    REQUIRE(m.ok);
    Platform& p = Platform::instance();
    PlatformConfig pc;
    pc.link = thunderbolt::kLinkTb3;  // MPS 128, MRRS 512: many TLPs a page
    pc.gpu.mode = TransferMode::Tlp;
    pc.dart.iotlb = geometry;
    p.configure(pc, functional);

    // The same lookups by hand: each TLP looks its page up, a miss walks and fills.
    dart::Iotlb lone(geometry);
    const auto expect = [&](DmaDir dir, std::uint64_t offset, std::uint64_t bytes) {
      const std::uint64_t piece = dir == DmaDir::DeviceToHost ? 128 : 512;
      for (std::uint64_t at = offset; at < offset + bytes; at = (at / piece + 1) * piece) {
        const std::uint64_t page = (m.mapping.bus_addr + at) / kPage;
        if (lone.lookup(0, page) == nullptr) lone.fill(0, page, page, dart::Perms{true, true});
      }
    };
    const std::uint64_t pattern[][2] = {{0, 1000}, {1, 700}, {0, 300}, {2, 2000}, {0, 128}, {0, 640}, {1, 5000}, {3, 640}, {2, 100}};
    p.run([&] {
      p.gpu().begin();
      int i = 0;
      for (const auto& [page, bytes] : pattern) {
        const DmaDir dir = i++ % 2 == 0 ? DmaDir::DeviceToHost : DmaDir::HostToDevice;
        p.gpu().transfer(dir, 0, m.mapping.bus_addr + page * kPage + 64, bytes);
        expect(dir, page * kPage + 64, bytes);
        if (i == 5) {  // a flush between TLPs of the same page (the 5th and 6th transfers')
          p.dart().flush(dart::FlushScope::All, 0, dart::DartRange{});
          lone.invalidate_all();
        }
      }
      p.gpu().end();
    });
    const dart::IotlbStats& got = p.dart().iotlb_stats();
    CHECK(got.hits == lone.stats().hits);
    CHECK(got.misses == lone.stats().misses);
    CHECK(got.fills == lone.stats().fills);
    CHECK(got.evictions == lone.stats().evictions);
    CHECK(got.misses > 3);  // the pattern does evict
  }
}

TEST_CASE("Per-TLP transfers allocate nothing once the platform is configured", "[platform][alloc]") {
  dart::Dart functional(dart::DartConfig{});
  const dart::DartMapResult m = functional.map(kBufferPa, 64 * kPage, dart::Perms{true, true});
  REQUIRE(m.ok);
  Platform& p = Platform::instance();
  for (const bool direct : {true, false}) {
    PlatformConfig pc;
    pc.link = thunderbolt::kLinkTb3;
    pc.gpu.mode = TransferMode::Tlp;
    pc.gpu.quantum_ns = 1'000'000'000;  // no sync in the counted stretch: the kernel's own waits are not ours
    p.configure(pc, functional);
    p.set_direct_calls(direct);
    std::size_t allocations = 0;
    std::uint64_t transactions = 0;
    p.run([&] {
      GpuDma& gpu = p.gpu();
      gpu.begin();
      gpu.transfer(DmaDir::HostToDevice, 0, m.mapping.bus_addr, kPage);  // warm: first walks
      const dartlab::test::AllocationCount count;
      for (int i = 0; i < 4; ++i) {
        transactions += gpu.transfer(DmaDir::DeviceToHost, 0, m.mapping.bus_addr + 100, 32 * kPage).transactions;
        transactions += gpu.transfer(DmaDir::HostToDevice, 0, m.mapping.bus_addr, 48 * kPage + 7).transactions;
      }
      allocations = count.count();
      gpu.end();
    });
    p.set_direct_calls(true);
    INFO((direct ? "direct" : "sockets"));
    CHECK(transactions > 10000);
    CHECK(allocations == 0);
  }
}
