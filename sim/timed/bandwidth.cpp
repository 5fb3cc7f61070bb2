// SPDX-License-Identifier: MIT
#include "sim/timed/bandwidth.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>

#include <fmt/format.h>

#include "models/dart/dart.hpp"
#include "models/thunderbolt/link_timing.hpp"
#include "sim/common/human_units.hpp"
#include "sim/timed/platform.hpp"

namespace dartlab::sim::timed {

namespace {
constexpr std::uint64_t kPinnedBufferPa = 0x2'0000'0000;  // a guess: any page-aligned host address
constexpr std::uint16_t kGpuStream = 0;

std::string_view dir_name(dartlab::bus::DmaDir dir) { return dir == dartlab::bus::DmaDir::HostToDevice ? "h2d" : "d2h"; }
}  // namespace

double BandwidthResult::gib_per_s() const {
  if (copy_ps_total == 0) return 0.0;
  const double bytes = static_cast<double>(request.size_bytes) * request.iterations;
  return bytes / static_cast<double>(1ULL << 30) / (static_cast<double>(copy_ps_total) * 1e-12);
}

double BandwidthResult::gb_per_s() const { return gib_per_s() * static_cast<double>(1ULL << 30) / 1e9; }

std::variant<BandwidthResult, std::string> run_bandwidth(const TimedConfig& config, const BandwidthRequest& request) {
  const auto wall_start = std::chrono::steady_clock::now();
  if (request.size_bytes == 0) return std::string("--size must be at least one byte");
  if (request.iterations == 0) return std::string("--iterations must be at least 1");
  auto prepared = prepare_run(config.platform(), config.dart.functional);
  if (auto* e = std::get_if<std::string>(&prepared)) return std::move(*e);
  const std::unique_ptr<dart::Dart> functional = std::move(std::get<std::unique_ptr<dart::Dart>>(prepared));
  // Pinned, mapped once, both directions allowed (cudaHostAlloc'd memory).
  const std::uint64_t page = config.dart.functional.page_bytes;
  const std::uint64_t mapped_bytes = (request.size_bytes + page - 1) / page * page;
  const dart::DartMapResult mapping = functional->map(kPinnedBufferPa, mapped_bytes, dart::Perms{true, true});
  if (!mapping.ok)
    return fmt::format("the DART refused to map a {}-byte buffer ({}; its aperture is {}); raise it with --dart aperture=SIZE",
                       request.size_bytes, dartlab::to_string(mapping.error), dart::format_size(config.dart.functional.aperture_bytes));

  Platform& platform = Platform::instance();
  BandwidthResult out;
  out.copy_ps_min = std::numeric_limits<std::uint64_t>::max();
  bool faulted = false;
  platform.run([&] {
    GpuDma& gpu = platform.gpu();
    gpu.begin();
    for (std::uint32_t i = 0; i < request.iterations && !faulted; ++i) {
      const std::uint64_t before = gpu.now_ps();
      const TransferOutcome o = gpu.transfer(request.dir, kGpuStream, mapping.mapping.bus_addr, request.size_bytes);
      const std::uint64_t took = gpu.now_ps() - before;
      out.copy_ps_total += took;
      out.copy_ps_min = std::min(out.copy_ps_min, took);
      out.copy_ps_max = std::max(out.copy_ps_max, took);
      faulted = o.faulted;
    }
    gpu.end();
  });
  if (faulted) return std::string("the copy faulted in the DART (internal error: the buffer is mapped)");

  out.link = to_spec(config.link);
  out.dart = to_spec(config.dart);
  out.host = to_spec(config.host);
  out.mode = to_string(config.host.gpu.mode);
  out.request = request;
  out.transactions = platform.gpu().stats().transactions;
  const thunderbolt::LinkStats& link = platform.link().stats();
  out.tlps = request.dir == dartlab::bus::DmaDir::HostToDevice ? link.read_requests : link.write_tlps;
  out.iotlb_hit_rate = platform.dart().iotlb_stats().hit_rate();
  out.walks = platform.dart().stats().walks;
  out.faults = platform.dart().stats().faults;
  const thunderbolt::LinkTiming timing(config.link);
  const std::uint64_t host_read_ps = (std::uint64_t{config.host.memory.read_ns} + config.dart.timing.lookup_ns) * 1000;
  const double predicted = request.dir == dartlab::bus::DmaDir::HostToDevice
                               ? timing.read_bytes_per_s(request.size_bytes, host_read_ps)
                               : timing.write_bytes_per_s(request.size_bytes);
  out.predicted_gib_per_s = predicted / static_cast<double>(1ULL << 30);
  out.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return out;
}

nlohmann::ordered_json bandwidth_json(const BandwidthResult& r) {
  return {
      {"link", r.link},
      {"dart", r.dart},
      {"host", r.host},
      {"dir", dir_name(r.request.dir)},
      {"size_bytes", r.request.size_bytes},
      {"iterations", r.request.iterations},
      {"mode", r.mode},
      {"gib_per_s", r.gib_per_s()},
      {"gb_per_s", r.gb_per_s()},
      {"predicted_gib_per_s", r.predicted_gib_per_s},
      {"copy_time_ns", {{"total", static_cast<double>(r.copy_ps_total) / 1000.0},
                        {"min", static_cast<double>(r.copy_ps_min) / 1000.0},
                        {"max", static_cast<double>(r.copy_ps_max) / 1000.0}}},
      {"dma_transactions", r.transactions},
      {"tlps", r.tlps},
      {"iotlb_hit_rate", r.iotlb_hit_rate},
      {"walks", r.walks},
      {"faults", r.faults},
      {"wall_seconds", r.wall_seconds},
  };
}

std::string bandwidth_summary(const BandwidthResult& r) {
  constexpr double kGiB = 1ULL << 30;
  return fmt::format(
      "{} {} {} bytes x {} ({}): {} ({}); link model alone {}; IOTLB hit rate {:.1f}%, "
      "{} walks; {} transactions in {:.3f} s of wall time\n",
      r.link, dir_name(r.request.dir), r.request.size_bytes, r.request.iterations, r.mode, human_rate(r.gib_per_s() * kGiB),
      human_rate(r.gb_per_s() * 1e9, false), human_rate(r.predicted_gib_per_s * kGiB), 100.0 * r.iotlb_hit_rate, r.walks,
      r.transactions, r.wall_seconds);
}

}  // namespace dartlab::sim::timed
