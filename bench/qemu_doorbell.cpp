// SPDX-License-Identifier: MIT
// apple-dma-pci doorbell cost (numbers, never assertions): a no-op register write vs a 1-entry map
// doorbell vs a 64-entry batch (per-entry cost = (t64 - t1) / 63), measured twice:
//  - in process, on the device core over a fake guest: the device's own work;
//  - through qemu-system-x86_64 ($DARTLAB_QEMU) over qtest, under each accelerator that works
//    here (qtest, tcg, kvm when /dev/kvm opens): adds QEMU's MMIO dispatch and the qtest socket
//    round trip (no vCPU exit: qtest drives the bus directly).
// Usage: dartlab_qemu_doorbell_bench [ITERATIONS]   (default 2000 over qtest, 50x that in process)
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "passthrough/qemu/core/apple_dma.h"
#include "passthrough/qemu/core/command.hpp"
#include "qemu/guest.hpp"
#include "support/fake_guest.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double median_ns(std::vector<double>& v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Numbers {
  double noop_ns, map1_ns, unmap1_ns, map64_ns, unmap64_ns;
};

void print(const char* where, const Numbers& n) {
  std::printf("%-18s %10.0f %10.0f %10.0f %12.0f %12.0f %14.0f\n", where, n.noop_ns, n.map1_ns, n.unmap1_ns,
              n.map64_ns, n.unmap64_ns, (n.map64_ns - n.map1_ns) / 63.0);
}

// The guest's side, on either the core or QEMU: register writes and guest RAM.
struct Target {
  std::function<void(std::uint64_t reg, std::uint32_t v)> write_reg;
  std::function<void(std::uint64_t gpa, const std::vector<std::uint8_t>&)> write_ram;
  std::function<std::vector<std::uint8_t>(std::uint64_t gpa, std::size_t len)> read_ram;
};

constexpr std::uint64_t kMapPage = 0x100000, kUnmapPage = 0x100100;
constexpr std::uint64_t kMapReq = 0x101000, kMapResp = 0x110000;
constexpr std::uint64_t kUnmapReq = 0x120000, kUnmapResp = 0x130000;
constexpr std::uint64_t kData = 0x1000000;

double elapsed_ns(Clock::time_point t0) { return std::chrono::duration<double, std::nano>(Clock::now() - t0).count(); }

// Two command pages written once (map `batch` pages; unmap them), then per round: point CMD_GPA
// at one, time the doorbell alone; the handles are copied into the unmap requests untimed.
Numbers run(const Target& t, int iterations) {
  using namespace dartlab::apple_dma;
  Numbers n{};
  std::vector<double> noop;
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = Clock::now();
    t.write_reg(ADMA_REG_CMD_GPA_HI, 0);
    noop.push_back(elapsed_ns(t0));
  }
  n.noop_ns = median_ns(noop);
  auto set_page = [&](std::uint64_t gpa) {
    t.write_reg(ADMA_REG_CMD_GPA_LO, static_cast<std::uint32_t>(gpa));
    t.write_reg(ADMA_REG_CMD_GPA_HI, 0);
  };
  for (std::uint32_t batch : {1u, 64u}) {
    std::uint8_t page[kCommandBytes];
    encode_command({ADMA_CMD_MAP_REQ, batch, 0, kMapReq, kMapResp}, page);
    t.write_ram(kMapPage, std::vector<std::uint8_t>(page, page + sizeof(page)));
    encode_command({ADMA_CMD_UNMAP_REQ, batch, 0, kUnmapReq, kUnmapResp}, page);
    t.write_ram(kUnmapPage, std::vector<std::uint8_t>(page, page + sizeof(page)));
    std::vector<std::uint8_t> reqs(batch * 24);
    EntryBytes b;
    for (std::uint32_t i = 0; i < batch; ++i) {
      encode_map_request(ADMA_CMD_MAP_REQ, {kData + i * 0x4000, 0x1000, 0, 0}, b);
      std::copy_n(b.begin(), 24, reqs.begin() + i * 24);
    }
    t.write_ram(kMapReq, reqs);
    std::vector<double> map_ns, unmap_ns;
    const int rounds = std::max(20, iterations / static_cast<int>(batch));
    std::vector<std::uint8_t> unmaps(batch * 16);
    for (int r = 0; r < rounds; ++r) {
      set_page(kMapPage);
      auto t0 = Clock::now();
      t.write_reg(ADMA_REG_DOORBELL, 1);
      map_ns.push_back(elapsed_ns(t0));
      const auto resp = t.read_ram(kMapResp, batch * 24);
      for (std::uint32_t i = 0; i < batch; ++i) {
        encode_unmap_request({load_u64(resp.data() + i * 24), 0x1000}, b);
        std::copy_n(b.begin(), 16, unmaps.begin() + i * 16);
      }
      t.write_ram(kUnmapReq, unmaps);
      set_page(kUnmapPage);
      t0 = Clock::now();
      t.write_reg(ADMA_REG_DOORBELL, 1);
      unmap_ns.push_back(elapsed_ns(t0));
    }
    (batch == 1 ? n.map1_ns : n.map64_ns) = median_ns(map_ns);
    (batch == 1 ? n.unmap1_ns : n.unmap64_ns) = median_ns(unmap_ns);
  }
  return n;
}

Numbers bench_core(int iterations) {
  dartlab::test::FakeGuest guest;
  guest.record = false;
  const AdmaHostOps ops = guest.ops();
  const AdmaConfig config{3, "direct", "", 0, ADMA_COMPAT_DEFAULT, ADMA_RESET_DEFAULT};
  AdmaDevice* dev = adma_create(&config, &ops, &guest, nullptr, 0);
  Target t{[&](std::uint64_t reg, std::uint32_t v) { adma_mmio_write(dev, reg, v, 4); },
           [&](std::uint64_t gpa, const std::vector<std::uint8_t>& bytes) {
             std::copy(bytes.begin(), bytes.end(), guest.at(gpa));
           },
           [&](std::uint64_t gpa, std::size_t len) {
             return std::vector<std::uint8_t>(guest.at(gpa), guest.at(gpa) + len);
           }};
  const Numbers n = run(t, iterations);
  if (adma_stat(dev, ADMA_STAT_LIVE_REQUESTS) != 0) std::printf("(core: requests left live: the bench is wrong)\n");
  adma_destroy(dev);
  return n;
}

Numbers bench_qemu(const std::string& accel, int iterations) {
  using namespace dartlab::qtest;
  QemuOptions o;
  o.apple_dma_props = "interface=3,policy=direct";
  o.accel = accel;
  Qemu q(o);
  Guest g(q);
  Target t{[&](std::uint64_t reg, std::uint32_t v) { q.writel(kAppleDmaBar + reg, v); },
           [&](std::uint64_t gpa, const std::vector<std::uint8_t>& bytes) { q.write(gpa, bytes); },
           [&](std::uint64_t gpa, std::size_t len) { return q.read(gpa, len); }};
  const Numbers n = run(t, iterations);
  if (g.stat(ADMA_STAT_LIVE_REQUESTS) != 0) std::printf("(qemu: requests left live: the bench is wrong)\n");
  return n;
}

bool kvm_usable() {
  const int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  close(fd);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::max(20, std::atoi(argv[1])) : 2000;
  std::printf("median ns per doorbell; per-entry = (64-entry map - 1-entry map) / 63\n");
  std::printf("%-18s %10s %10s %10s %12s %12s %14s\n", "where", "no-op", "map x1", "unmap x1", "map x64", "unmap x64",
              "per entry");
  print("core (in process)", bench_core(iterations * 50));
  if (std::getenv("DARTLAB_QEMU") == nullptr) {
    std::printf("(set DARTLAB_QEMU to build/qemu/qemu-system-x86_64 for the numbers through QEMU)\n");
    return 0;
  }
  std::vector<std::string> accels{"qtest", "tcg"};
  if (kvm_usable()) accels.push_back("kvm");
  for (const auto& a : accels) {
    try {
      print(("qemu, " + a).c_str(), bench_qemu(a, iterations));
    } catch (const std::exception& e) {
      std::printf("qemu, %s: %s\n", a.c_str(), e.what());
    }
  }
  return 0;
}
