// SPDX-License-Identifier: MIT
// The timed replay: what its JSON reports, where its transfers come from, strict against batched
// invalidation, and trace errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <variant>

#include "sim/timed/timed_replay.hpp"

using namespace dartlab;
using namespace dartlab::sim::timed;
using Catch::Matchers::Contains;

namespace {

class TempTrace {
 public:
  TempTrace(const std::string& name, const std::string& text)
      : path_((std::filesystem::temp_directory_path() /
               ("dartlab-timed-" + std::to_string(::getpid()) + "-" + name + ".trace")).string()) {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }
  ~TempTrace() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `n` 64 KiB buffers at distinct guest addresses, each mapped, read in 4 KiB pieces, unmapped;
// `live` of them at a time.
std::string buffers_trace(int n, int live, bool accesses) {
  std::string t = "dartlab-trace v1\n";
  for (int i = 0; i < n; ++i) {
    if (i >= live) t += "unmap " + std::to_string(i - live) + "\n";
    const std::uint64_t gpa = 0x4000'0000 + std::uint64_t(i % 1024) * 0x10000;
    char line[128];
    std::snprintf(line, sizeof line, "map %d 0000:01:00.0 0x%llx 65536 to_dev\n", i, static_cast<unsigned long long>(gpa));
    t += line;
    if (accesses)
      for (int off = 0; off < 65536; off += 4096) {
        std::snprintf(line, sizeof line, "access %d 0x%llx 4096 to_dev\n", i, static_cast<unsigned long long>(gpa + off));
        t += line;
      }
  }
  for (int i = n > live ? n - live : 0; i < n; ++i) t += "unmap " + std::to_string(i) + "\n";
  return t;
}

TimedConfig config(std::string_view dart_spec = "", TransferMode mode = TransferMode::Burst) {
  TimedConfig c;
  c.policy = std::get<mapper::Policy>(mapper::parse_policy("direct"));
  c.dart = std::get<TimedDart>(parse_timed_dart_spec(dart_spec));
  c.host.gpu.mode = mode;
  return c;
}

TimedResult replay(const std::string& path, const TimedConfig& c, bool lenient = false) {
  auto r = timed_replay_file(path, c, TimedOptions{.lenient = lenient});
  if (const auto* e = std::get_if<std::string>(&r)) FAIL(*e);
  return std::get<TimedResult>(r);
}

}  // namespace

TEST_CASE("The timed replay's JSON says simulated time, mapping vs transfer time, GiB/s each way, hit rate, map latency",
          "[timed_replay][json]") {
  const TempTrace trace("json", buffers_trace(40, 8, true));
  const TimedResult r = replay(trace.path(), config());
  const nlohmann::ordered_json j = timed_json(r);
  for (const char* key : {"simulated_time_ns", "mapping_time_ns", "transfer_time_ns", "dma_gib_per_s", "iotlb_hit_rate",
                          "map_latency_ns", "dma_transactions", "host_time_ns", "faults"})
    CHECK(j.contains(key));
  CHECK(j["dma_gib_per_s"].contains("h2d"));
  CHECK(j["dma_gib_per_s"].contains("d2h"));
  CHECK(j["map_latency_ns"]["p50"].get<double>() > 0);
  CHECK(j["map_latency_ns"]["p99"].get<double>() >= j["map_latency_ns"]["p50"].get<double>());
  CHECK(r.simulated_ps == r.mapping_ps + r.transfer_ps_total());  // one timeline: nothing else happens
  CHECK(r.map_requests == 40);
  CHECK(r.unmap_requests == 40);
  CHECK(r.trace_transfers == 40 * 16);
  CHECK(r.synthetic_transfers == 0);
  CHECK(r.bytes[static_cast<unsigned>(dartlab::bus::DmaDir::HostToDevice)] == 40 * 65536);
  CHECK(r.gib_per_s(dartlab::bus::DmaDir::HostToDevice) > 0.5);
  CHECK(r.dart_stats.faults == 0);
}

TEST_CASE("A trace without access events gets the synthetic pattern: each mapped segment once, in full",
          "[timed_replay][synthetic]") {
  SECTION("a trace with no access event gets one full transfer per mapped segment") {
    const TempTrace trace("synthetic", buffers_trace(20, 4, false));
    const TimedResult r = replay(trace.path(), config());
    CHECK(r.access == "synthetic");
    CHECK(r.synthetic_transfers == 20);
    CHECK(r.trace_transfers == 0);
    CHECK(r.bytes[static_cast<unsigned>(dartlab::bus::DmaDir::HostToDevice)] == 20 * 65536);
  }
  SECTION("a trace with an access event: only the trace's transfers, even for maps before it") {
    const TempTrace trace("auto", "dartlab-trace v1\n"
                                  "map 1 0000:01:00.0 0x40000000 16384 to_dev\n"
                                  "map 2 0000:01:00.0 0x40010000 16384 from_dev\n"
                                  "access 2 0x40010000 4096 from_dev\n"
                                  "unmap 1\nunmap 2\n");
    const TimedResult r = replay(trace.path(), config());
    CHECK(r.access == "trace");
    CHECK(r.synthetic_transfers == 0);
    CHECK(r.trace_transfers == 1);
    CHECK(r.bytes[static_cast<unsigned>(dartlab::bus::DmaDir::DeviceToHost)] == 4096);
    SECTION("access=synthetic ignores them and transfers every segment") {
      TimedConfig c = config();
      c.access = AccessSource::Synthetic;
      const TimedResult s = replay(trace.path(), c);
      CHECK(s.synthetic_transfers == 2);
      CHECK(s.trace_transfers == 0);
    }
  }
}

// `n` 64 KiB buffers, 8 live; after each map the device reads 4 KiB of every live buffer, so
// entries made before a map are wanted again after it.
std::string revisiting_trace(int n) {
  constexpr int kLive = 8;
  std::string t = "dartlab-trace v1\n";
  char line[128];
  for (int i = 0; i < n; ++i) {
    if (i >= kLive) t += "unmap " + std::to_string(i - kLive) + "\n";
    std::snprintf(line, sizeof line, "map %d 0000:01:00.0 0x%x 65536 to_dev\n", i, 0x4000'0000 + (i % 1024) * 0x10000);
    t += line;
    for (int j = std::max(0, i - kLive + 1); j <= i; ++j) {
      std::snprintf(line, sizeof line, "access %d 0x%x 4096 to_dev\n", j, 0x4000'0000 + (j % 1024) * 0x10000);
      t += line;
    }
  }
  for (int i = std::max(0, n - kLive); i < n; ++i) t += "unmap " + std::to_string(i) + "\n";
  return t;
}

TEST_CASE("Strict per-map invalidation costs a map at least 5x what a batched flush does, and the report shows it",
          "[timed_replay][invalidation]") {
  const TempTrace trace("inval", revisiting_trace(600));
  const TimedResult strict = replay(trace.path(), config("inval=strict", TransferMode::Tlp));
  const TimedResult batched = replay(trace.path(), config("inval=batched", TransferMode::Tlp));
  const double strict_ns = timed_json(strict)["invalidation_ns_per_host_map"].get<double>();
  const double batched_ns = timed_json(batched)["invalidation_ns_per_host_map"].get<double>();
  INFO("invalidation per host map: strict " << strict_ns << " ns, batched " << batched_ns << " ns");
  CHECK(strict_ns >= 5 * batched_ns);
  CHECK(strict.host_counts.flushes == 1200);  // every map and every unmap
  // 600 unmaps, 250 to a flush, and the 10 ms timer's flushes.
  CHECK(batched.host_counts.flushes >= 2);
  CHECK(batched.host_counts.flushes <= 2 + batched.simulated_ps / 10'000'000'000 + 1);
  CHECK(strict.map_latency.p50_ps > batched.map_latency.p50_ps);
  // Flushing the stream on every map empties the IOTLB: every revisit walks again.
  CHECK(strict.dart_stats.walks > 4 * batched.dart_stats.walks);
  CHECK(strict.iotlb_hit_rate() < batched.iotlb_hit_rate());
  CHECK(strict.dart_stats.faults == 0);
  CHECK(batched.dart_stats.faults == 0);
}

TEST_CASE("The DART variant sets the walk depth of a timed replay", "[timed_replay][walk]") {
  const TempTrace trace("variant", buffers_trace(4, 4, true));
  const TimedResult t8020 = replay(trace.path(), config("t8020", TransferMode::Tlp));
  const TimedResult t8110 = replay(trace.path(), config("t8110", TransferMode::Tlp));
  REQUIRE(t8020.dart_stats.walks == t8110.dart_stats.walks);
  CHECK(t8020.dart_stats.walk_reads == 2 * t8020.dart_stats.walks);
  CHECK(t8110.dart_stats.walk_reads == 3 * t8110.dart_stats.walks);
  CHECK(t8110.table_reads == t8110.dart_stats.walk_reads);
}

TEST_CASE("Trace inconsistencies stop a timed replay with file and line, or count as warnings when lenient",
          "[timed_replay][errors]") {
  const TempTrace trace("bad", "dartlab-trace v1\nmap 1 0000:01:00.0 0x40000000 4096 to_dev\nunmap 7\nunmap 1\n");
  auto r = timed_replay_file(trace.path(), config());
  REQUIRE(std::holds_alternative<std::string>(r));
  CHECK_THAT(std::get<std::string>(r), Contains(":3: error: unmap of id 7 which is not live"));
  const TimedResult lenient = replay(trace.path(), config(), true);
  CHECK(lenient.warnings == 1);
  CHECK(lenient.unmap_requests == 1);
}

TEST_CASE("Under bounce the copies into and out of the pool are charged at the host memory's bandwidth",
          "[timed_replay][bounce]") {
  // One 64 KiB buffer each way: to_dev is copied in at the map, from_dev out at the unmap.
  const TempTrace trace("bounce", "dartlab-trace v1\n"
                                  "map 1 0000:01:00.0 0x40000000 65536 to_dev\n"
                                  "map 2 0000:01:00.0 0x40100000 65536 from_dev\n"
                                  "access 1 0x40000000 65536 to_dev\n"
                                  "access 2 0x40100000 65536 from_dev\n"
                                  "unmap 1\nunmap 2\n");
  TimedConfig c = config();
  c.policy = std::get<mapper::Policy>(mapper::parse_policy("bounce:1M"));
  c.host.memory.gbytes_per_s = 128;  // divides the copies' picoseconds exactly
  const TimedResult bounced = replay(trace.path(), c);
  CHECK(bounced.host_counts.bounce_copy_bytes == 2 * 65536);
  // Each copy reads and writes its bytes: 2 x 64 KiB at 128 GB/s (bytes/ns).
  const std::uint64_t gbps = c.host.memory.gbytes_per_s;
  CHECK(bounced.host_time.bounce_copy_ps == 2 * (2 * 65536 * 1000 / gbps));
  CHECK(bounced.host_counts.host_maps == 1);
  CHECK(bounced.dart_stats.faults == 0);
  CHECK(bounced.faulted_transfers == 0);
  CHECK(bounced.bytes[static_cast<unsigned>(dartlab::bus::DmaDir::HostToDevice)] == 65536);
  CHECK(timed_summary(bounced).find("bounce copies") != std::string::npos);
  CHECK(timed_json(bounced)["host_time_ns"].contains("bounce_copy"));
  // Half the bandwidth: the copies take twice as long; nothing else changes.
  c.host.memory.gbytes_per_s = static_cast<std::uint32_t>(gbps / 2);
  const TimedResult slower = replay(trace.path(), c);
  CHECK(slower.host_time.bounce_copy_ps == 2 * bounced.host_time.bounce_copy_ps);
  // Other policies copy nothing.
  const TimedResult direct = replay(trace.path(), config());
  CHECK(direct.host_counts.bounce_copy_bytes == 0);
  CHECK(direct.host_time.bounce_copy_ps == 0);
}

TEST_CASE("The timed replay refuses cap policies, whose waits it does not model", "[timed_replay][cap]") {
  const TimedSpecs specs;
  const auto r =
      make_timed_config(specs, std::get<mapper::Policy>(mapper::parse_policy("cap:window:128K,windows=5600")), "");
  REQUIRE(std::holds_alternative<std::string>(r));
  CHECK_THAT(std::get<std::string>(r), Contains("does not replay cap policies"));
  CHECK(std::holds_alternative<TimedConfig>(
      make_timed_config(specs, std::get<mapper::Policy>(mapper::parse_policy("bounce")), "")));
}
