// SPDX-License-Identifier: MIT
// The timed models' speed (numbers, never assertions): DMA transactions a second of wall time
// through the platform (GPU -> link -> DART -> host memory) in per-TLP mode, the modules calling
// one another directly and then through their TLM sockets, beside a bare tlm_quantumkeeper loop
// of the same count on the same quantum; the timed replay's rate on a generated trace; burst vs per-TLP bandwidth for every preset and direction; and the wall time
// of a 1 GiB bandwidth run. Usage: dartlab_timed_bench [TRANSACTIONS] (default 8 M).
// Rates are given per second of wall time and per second of CPU time: on a shared machine the
// second is what one dedicated core would do.
#include <chrono>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <variant>

#include <systemc>
#include <tlm_utils/tlm_quantumkeeper.h>
#include <unistd.h>

#include "sim/timed/bandwidth.hpp"
#include "sim/timed/platform.hpp"
#include "sim/timed/timed_replay.hpp"

using namespace dartlab;
using namespace dartlab::sim::timed;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

TimedConfig config_for(const thunderbolt::LinkConfig& link, TransferMode mode) {
  TimedConfig c;
  c.link = link;
  c.host.gpu.mode = mode;
  return c;
}

BandwidthResult bandwidth(const TimedConfig& c, dartlab::bus::DmaDir dir, std::uint64_t size, std::uint32_t iterations) {
  auto r = run_bandwidth(c, BandwidthRequest{dir, size, iterations});
  if (auto* e = std::get_if<std::string>(&r)) {
    std::fprintf(stderr, "bandwidth: %s\n", e->c_str());
    std::exit(1);
  }
  return std::get<BandwidthResult>(r);
}

// A text trace of `requests` 64 KiB buffers, each mapped, read or written once in 4 KiB
// accesses, and unmapped, about 256 live at a time.
std::string write_trace(std::uint64_t requests) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("dartlab-timed-bench-" + std::to_string(::getpid()) + ".trace")).string();
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) std::exit(1);
  std::fprintf(f, "dartlab-trace v1\n");
  constexpr std::uint64_t kLive = 256;
  constexpr std::uint64_t kBuffer = 64 << 10;
  for (std::uint64_t i = 0; i < requests; ++i) {
    const std::uint64_t gpa = 0x4000'0000 + (i % 4096) * kBuffer;
    const char* dir = i % 3 == 0 ? "from_dev" : "to_dev";
    if (i >= kLive) std::fprintf(f, "unmap %llu\n", static_cast<unsigned long long>(i - kLive));
    std::fprintf(f, "map %llu 0000:01:00.0 0x%llx %llu %s\n", static_cast<unsigned long long>(i),
                 static_cast<unsigned long long>(gpa), static_cast<unsigned long long>(kBuffer), dir);
    for (std::uint64_t off = 0; off < kBuffer; off += 4096)
      std::fprintf(f, "access %llu 0x%llx 4096 %s\n", static_cast<unsigned long long>(i),
                   static_cast<unsigned long long>(gpa + off), dir);
  }
  for (std::uint64_t i = requests > kLive ? requests - kLive : 0; i < requests; ++i)
    std::fprintf(f, "unmap %llu\n", static_cast<unsigned long long>(i));
  std::fclose(f);
  return path;
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t transactions = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 8'000'000ULL;
  Platform& platform = Platform::instance();  // made before the kernel first runs

  // 1. Per-TLP d2h writes on tb3 (MPS 128): `transactions` TLPs through every module.
  const TimedConfig tlp = config_for(thunderbolt::kLinkTb3, TransferMode::Tlp);
  const std::uint64_t size = transactions * thunderbolt::kLinkTb3.mps_bytes;
  double cpu = cpu_seconds();
  const BandwidthResult platform_run = bandwidth(tlp, dartlab::bus::DmaDir::DeviceToHost, size, 1);
  const double platform_cpu = cpu_seconds() - cpu;
  const double platform_rate = static_cast<double>(platform_run.transactions) / platform_run.wall_seconds;

  // 1b. The same through the TLM sockets (the modules' direct calls off): what the direct path saves.
  platform.set_direct_calls(false);
  cpu = cpu_seconds();
  const BandwidthResult socket_run = bandwidth(tlp, dartlab::bus::DmaDir::DeviceToHost, size, 1);
  const double socket_cpu = cpu_seconds() - cpu;
  platform.set_direct_calls(true);

  // 2. The bare quantum keeper: the same count, the same quantum, a transaction's worth of time each.
  const std::uint64_t per_tlp_ps = platform_run.copy_ps_total / std::max<std::uint64_t>(1, platform_run.transactions);
  double bare_seconds = 0;
  cpu = cpu_seconds();
  platform.run([&] {
    tlm_utils::tlm_quantumkeeper keeper;
    keeper.reset();
    const sc_core::sc_time step = sc_core::sc_time::from_value(per_tlp_ps);
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < platform_run.transactions; ++i) {
      keeper.inc(step);
      if (keeper.need_sync()) keeper.sync();
    }
    keeper.sync();
    bare_seconds = seconds_since(start);
  });
  const double bare_cpu = cpu_seconds() - cpu;
  const double bare_rate = static_cast<double>(platform_run.transactions) / bare_seconds;

  // 3. The timed replay, per-TLP mode, trace accesses.
  const std::string trace = write_trace(transactions / 512 + 1);
  cpu = cpu_seconds();
  auto replayed = timed_replay_file(trace, tlp);
  const double replay_cpu = cpu_seconds() - cpu;
  std::filesystem::remove(trace);
  if (auto* e = std::get_if<std::string>(&replayed)) {
    std::fprintf(stderr, "replay: %s\n", e->c_str());
    return 1;
  }
  const TimedResult& replay = std::get<TimedResult>(replayed);
  const double replay_rate = static_cast<double>(replay.dma_transactions) / replay.wall_seconds;

  const auto n = static_cast<double>(platform_run.transactions);
  std::printf("per-TLP DMA through the platform: %llu transactions, wall %.3f s = %.2f M/s, cpu %.3f s = %.2f M/s\n",
              static_cast<unsigned long long>(platform_run.transactions), platform_run.wall_seconds, platform_rate / 1e6,
              platform_cpu, n / platform_cpu / 1e6);
  std::printf("  the same through the sockets:   wall %.3f s = %.2f M/s, cpu %.3f s = %.2f M/s\n", socket_run.wall_seconds,
              static_cast<double>(socket_run.transactions) / socket_run.wall_seconds / 1e6, socket_cpu,
              static_cast<double>(socket_run.transactions) / socket_cpu / 1e6);
  std::printf("bare tlm_quantumkeeper loop:      %llu iterations,   wall %.3f s = %.2f M/s, cpu %.3f s = %.2f M/s\n",
              static_cast<unsigned long long>(platform_run.transactions), bare_seconds, bare_rate / 1e6, bare_cpu,
              n / bare_cpu / 1e6);
  std::printf("  platform / bare quantum keeper: %.3f (wall), %.3f (cpu)\n", platform_rate / bare_rate,
              bare_cpu / platform_cpu);
  std::printf("timed replay, per-TLP mode:       %llu events, %llu transactions, wall %.3f s = %.2f M/s, cpu %.3f s = %.2f M/s\n",
              static_cast<unsigned long long>(replay.events), static_cast<unsigned long long>(replay.dma_transactions),
              replay.wall_seconds, replay_rate / 1e6, replay_cpu,
              static_cast<double>(replay.dma_transactions) / replay_cpu / 1e6);

  // 4. Burst vs per-TLP bandwidth, 32 MiB x 3, every preset and direction.
  std::printf("\nburst vs per-TLP, 32 MiB x 3:\n");
  double worst = 0;
  for (const thunderbolt::LinkConfig& link : thunderbolt::kLinkPresets) {
    for (const dartlab::bus::DmaDir dir : {dartlab::bus::DmaDir::HostToDevice, dartlab::bus::DmaDir::DeviceToHost}) {
      const BandwidthResult b = bandwidth(config_for(link, TransferMode::Burst), dir, 32 << 20, 3);
      const BandwidthResult t = bandwidth(config_for(link, TransferMode::Tlp), dir, 32 << 20, 3);
      const double diff = std::abs(b.gib_per_s() - t.gib_per_s()) / t.gib_per_s();
      worst = std::max(worst, diff);
      std::printf("  %-14s %s  burst %7.3f GiB/s  tlp %7.3f GiB/s  differ %.3f%%  (walls %.3f s, %.3f s)\n",
                  std::string(link.name).c_str(), dir == dartlab::bus::DmaDir::HostToDevice ? "h2d" : "d2h", b.gib_per_s(),
                  t.gib_per_s(), 100 * diff, b.wall_seconds, t.wall_seconds);
    }
  }
  std::printf("  largest difference %.3f%%\n", 100 * worst);

  // 5. A 1 GiB bandwidth run, both modes, tb3, both directions.
  std::printf("\n1 GiB bandwidth run (tb3):\n");
  for (const dartlab::bus::DmaDir dir : {dartlab::bus::DmaDir::HostToDevice, dartlab::bus::DmaDir::DeviceToHost}) {
    for (const TransferMode mode : {TransferMode::Burst, TransferMode::Tlp}) {
      cpu = cpu_seconds();
      const BandwidthResult r = bandwidth(config_for(thunderbolt::kLinkTb3, mode), dir, 1ULL << 30, 1);
      std::printf("  %s %-5s %.3f GiB/s, %8llu transactions, wall %.3f s, cpu %.3f s\n",
                  dir == dartlab::bus::DmaDir::HostToDevice ? "h2d" : "d2h", std::string(to_string(mode)).c_str(), r.gib_per_s(),
                  static_cast<unsigned long long>(r.transactions), r.wall_seconds, cpu_seconds() - cpu);
    }
  }
  return 0;
}
