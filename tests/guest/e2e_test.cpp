// SPDX-License-Identifier: MIT
// The whole path with a real Linux guest: Debian's kernel, its nvme driver doing real DMA, the
// apple_dma module (passthrough/guest) owning that DMA, apple-dma-pci and the emulated DART in our
// QEMU. Every byte written is read back and compared; the device's counters are checked against
// a replay of the module's own trace; host pressure and DART faults are provoked on purpose.
// Scenarios: tests/guest/scenarios; the guest image: docs/guest-image.md.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <sstream>

#include "guest/guest_run.hpp"

using namespace dartlab::guest;

namespace {

// A dmacheck pass that moved every block and found every 4 KiB as written.
void require_clean(const GuestRun& g, const std::string& tag) {
  INFO(g.describe());
  const Fields f = g.check(tag);
  INFO(tag << ": errors=" << f.at("errors") << " bad_4k=" << f.at("bad_4k"));
  CHECK(number(f, "blocks") > 0);
  CHECK(number(f, "errors") == 0);
  CHECK(number(f, "bad_4k") == 0);
  CHECK(number(f, "fsync_error") == 0);
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The kernel's log (dmesg at the scenario's end; the console is quiet) holds no more than
// `warnings` WARNs (the module's unknown-unmap WARN_ONCE included) and no BUG, oops or
// sleeping-in-atomic report. run-guest.sh already fails a panic.
void require_quiet_kernel(const GuestRun& g, std::size_t warnings = 0) {
  INFO(g.describe());
  const std::string dmesg = g.file("dmesg.txt");
  REQUIRE(!dmesg.empty());
  CHECK(count(dmesg, "WARNING:") == warnings);
  for (const char* bad : {"BUG:", "Oops", "scheduling while atomic", "rcu_sched self-detected stall"})
    CHECK(dmesg.find(bad) == std::string::npos);
}

// The device's counters equal `dartlab replay` of the guest's trace under the device's policy and
// DART: the guest recorded exactly what the device did.
void require_closed_loop(const GuestRun& g, const Counters& device, const std::string& policy,
                         const std::string& dart) {
  INFO(g.describe());
  const ReplayResult r = replay(g.dir() / "results" / "guest" / "trace.dartlab", policy, dart);
  CHECK(r.peak_mappings == device.at("peak_mappings"));
  CHECK(r.host_map_calls == device.at("host_map_calls"));
  CHECK(r.host_unmap_calls == device.at("host_unmap_calls"));
  CHECK(r.final_live_mappings == device.at("live_mappings"));
  CHECK(r.peak_mapped_bytes == device.at("peak_mapped_bytes"));
  CHECK(r.failures_by_reason.at("slots") == device.at("fail_slots"));
  CHECK(r.failures_by_reason.at("aperture") == device.at("fail_aperture"));
  CHECK(r.failures_by_reason.at("fragmented") == device.at("fail_fragmented"));
  // The RFC device refuses a gpa registered twice: a replay does with duplicate=refuse.
  CHECK(r.failures_by_reason.at("duplicate") == device.at("fail_still_open"));
  CHECK(r.failed_maps == device.at("fail_slots") + device.at("fail_aperture") + device.at("fail_fragmented") +
                             device.at("fail_invalid") + device.at("fail_still_open"));
}

// After the I/O nothing is left but the driver's own allocations (queues, PRP pools).
void require_streaming_released(const Counters& stats, const Counters& device) {
  CHECK(stats.at("live_requests") == stats.at("live_allocs"));
  CHECK(stats.at("unknown_unmaps") == 0);
  CHECK(stats.at("size_mismatches") == 0);
  CHECK(stats.at("unmap_errors") == 0);
  // The device's requests are the module's under interface 3, its windows under interface 2.
  CHECK(device.at("live_requests") == stats.at(stats.at("interface") == 3 ? "live_requests" : "host_mappings"));
  CHECK(device.at("invalid_commands") == 0);
  CHECK(device.at("fail_invalid") == 0);
  // Peaks within the host's limits.
  CHECK(device.at("peak_mappings") <= device.at("slot_capacity"));
  CHECK(device.at("peak_mapped_bytes") <= device.at("aperture_bytes"));
}

// The CSV view ends where the module's counters are.
void require_csv_matches(const GuestRun& g, const Counters& stats) {
  std::istringstream in(g.file("trace.csv"));
  std::string line, last;
  std::getline(in, line);
  CHECK(line == "timestamp_ns,op,gpa_hex,size,active_maps,active_bytes");
  std::uint64_t rows = 0;
  while (std::getline(in, line)) {
    last = line;
    ++rows;
  }
  REQUIRE(rows > 0);
  std::vector<std::string> cols;
  std::istringstream fields(last);
  for (std::string c; std::getline(fields, c, ',');) cols.push_back(c);
  REQUIRE(cols.size() == 6);
  CHECK(std::stoull(cols[4]) == stats.at("live_requests"));
  CHECK(std::stoull(cols[5]) == stats.at("live_bytes"));
}

// The part of the I/O scenario both interfaces share. `dart`: the replay's DART spec (the
// device's, plus duplicate=refuse against the RFC device, which refuses a gpa registered twice).
// `tolerate_still_open`: against the RFC device the seed clustering may map a direct range that
// starts where a live window starts, which the host refuses (still open, the seed module's own
// hazard): each such refusal may cost one I/O error, never a corrupt block (io.sh's TOLERATE).
void require_io_intact(const GuestRun& g, const std::string& policy, const std::string& dart = "",
                       bool tolerate_still_open = false) {
  REQUIRE(g.exit_code() == 0);
  if (!tolerate_still_open) {
    for (const char* tag : {"direct-write", "buffered-write", "direct-verify", "buffered-verify", "after-fault",
                            "after-reload"})
      require_clean(g, tag);
  } else {
    std::uint64_t errors = 0;
    for (const char* tag : {"direct-write", "direct-verify", "after-fault", "after-reload"}) {
      INFO(g.describe());
      const Fields f = g.check(tag);
      CHECK(number(f, "bad_4k") == 0);
      errors += number(f, "errors");
    }
    // Every error has its still-open refusal (the module's two lives: before and after rmmod).
    CHECK(errors <= g.counters("before-rmmod.stats").at("refused_still-open") +
                        g.counters("end.stats").at("refused_still-open"));
  }
  require_quiet_kernel(g);

  const Counters stats = g.counters("io.stats");
  const Counters device = g.counters("io.device");
  // Refused maps: none, but the RFC device's still-open ones (above).
  CHECK(stats.at("refused_maps") == stats.at("refused_still-open"));
  CHECK(device.at("host_map_calls") > 0);
  CHECK(stats.at("sg_maps") > 0);
  require_streaming_released(stats, device);
  require_csv_matches(g, stats);
  // The closed loop needs the whole trace: the ring did not wrap.
  REQUIRE(stats.at("trace_records") <= stats.at("trace_capacity"));
  require_closed_loop(g, device, policy, dart);

  // The fault hook: the managed NVMe's DMA to an address nothing maps faults in the DART, the
  // read fails, and not one byte of the buffer changes.
  for (const char* tag : {"fault-sg", "fault-page"}) {
    INFO(tag << ": " << g.describe());
    const Fields f = g.check(tag);
    CHECK(f.at("read_failed") == "1");
    CHECK(f.at("changed_bytes") == "0");
  }
  const Counters fault_stats = g.counters("fault.stats");
  const Counters fault_device = g.counters("fault.device");
  CHECK(fault_stats.at("faults_injected") >= 2);
  CHECK(fault_device.at("dart_faults") > device.at("dart_faults"));
  // Each faulting address lies past the aperture: the hook aimed there, and QEMU saw it.
  const DeviceEvents ev = device_events(g.qemu_log());
  const auto beyond = std::count_if(ev.fault_addrs.begin(), ev.fault_addrs.end(), [&](std::uint64_t a) {
    return a >= device.at("aperture_bytes");
  });
  CHECK(beyond > 0);
  // rmmod took the driver with it and released everything on the host: up to the module's last
  // probe, every mapping the device made was unmapped.
  CHECK(g.file("events").find("after_rmmod=unbound") != std::string::npos);
  CHECK(ev.maps_ok_before_last_probe > 0);
  CHECK(ev.unmaps_ok_before_last_probe == ev.maps_ok_before_last_probe);
}

}  // namespace

TEST_CASE("interface 3 under window:256K: 320 MiB through the DART arrive intact and the device's counts equal a "
          "replay of the guest's own trace",
          "[guest][v3]") {
  const GuestRun g({"io-v3", "io.sh", "interface=3,policy=window:256K", "", {{"ADMA_PARAMS", "interface=3 trace_entries=1048576"}}});
  require_io_intact(g, "window:256K");
}

TEST_CASE("interface 2 against dartlab's strict device: the same I/O, the same closed loop", "[guest][v2]") {
  const GuestRun g({"io-v2-strict",
                    "io.sh",
                    "interface=2,compat=strict",
                    "",
                    {{"ADMA_PARAMS", "interface=2 window_shift=18 trace_entries=1048576"}}});
  require_io_intact(g, "window:256K");
  const Counters stats = g.counters("io.stats");
  const Counters device = g.counters("io.device");
  CHECK(stats.at("host_map_calls") == device.at("host_map_calls"));
}

TEST_CASE("interface 2 with window_shift=18 against the RFC's device clusters as window:256K does, and picks up an "
          "NVMe whose driver was loaded first",
          "[guest][v2][rfc]") {
  const GuestRun g({"io-v2",
                    "io.sh",
                    "interface=2",
                    "",
                    {{"ADMA_PARAMS", "interface=2 window_shift=18 trace_entries=1048576"},
                     {"LOAD_ORDER", "driver-first"},
                     {"IO_BUFFERED", "0"},
                     {"TOLERATE", "1"}}});
  require_io_intact(g, "window:256K", "duplicate=refuse", true);
  // apple_dma refused the device while nvme still held it, and bound it once nvme let it go.
  CHECK(g.file("events").find("probe_while_bound=refused") != std::string::npos);
  // The module's own count of the windows it mapped is the device's.
  const Counters stats = g.counters("io.stats");
  const Counters device = g.counters("io.device");
  CHECK(stats.at("host_map_calls") == device.at("host_map_calls"));
  CHECK(stats.at("host_peak_mappings") == device.at("peak_mappings"));
  // One entry per doorbell: every host map and unmap is its own doorbell (the rest: unmaps that
  // only dropped a reference take none).
  CHECK(stats.at("doorbells") == stats.at("host_map_calls") + stats.at("host_unmap_calls"));
}

namespace {

// A host too small for a burst of 64 MiB in flight: the burst fails (or waits, under
// refusal=retry), what was written before stays, I/O works afterwards, guest and QEMU stay up.
void require_pressure(const GuestRun& g, const std::string& dart, const std::string& reason, bool retry) {
  INFO(g.describe());
  REQUIRE(g.exit_code() == 0);  // the scenario ran to its end and the guest powered off
  for (const char* tag : {"before-write", "before-verify", "intact", "after-write", "after-verify"})
    require_clean(g, tag);
  const Fields burst = g.check("burst");
  const Counters stats = g.counters("burst.stats");
  const Counters device = g.counters("after.device");
  // A full aperture refuses as "aperture" or, when the free pages are there but cut into runs
  // too short, "fragmented": which one depends on how the guest's requests interleave under TCG
  // (both replays of such a run agree, old and new models alike), so either counts.
  const auto refused = [&](const Counters& c, const std::string& prefix) {
    std::uint64_t n = c.at(prefix + reason);
    if (reason == "aperture") n += c.at(prefix + "fragmented");
    return n;
  };
  CHECK(refused(stats, "refused_") > 0);
  CHECK(refused(device, "fail_") > 0);
  if (retry) {
    CHECK(number(burst, "errors") == 0);  // requeued until there was room
    CHECK(number(burst, "bad_4k") == 0);
  } else {
    CHECK(number(burst, "errors") >= 1);  // the guest saw I/O errors
    CHECK(number(burst, "first_errno") == EREMOTEIO);  // what apple_dma's refusal=fail returns
    CHECK(stats.at("refused_maps") > 0);
  }
  const Counters after = g.counters("after.stats");
  CHECK(after.at("live_requests") == after.at("live_allocs"));
  CHECK(after.at("unknown_unmaps") == 0);
  require_quiet_kernel(g);
  require_closed_loop(g, device, "direct", dart);
}

}  // namespace

TEST_CASE("a 4 MiB aperture: a burst that does not fit fails with I/O errors, earlier data stays intact, and I/O "
          "succeeds once it is over",
          "[guest][pressure]") {
  const GuestRun g({"pressure-aperture",
                    "pressure.sh",
                    "interface=3,policy=direct",
                    "aperture=4M",
                    {{"ADMA_PARAMS", "interface=3"}, {"NVME_PARAMS", "sgl_threshold=0"}}});
  require_pressure(g, "aperture=4M", "aperture", false);
}

TEST_CASE("32 mapping slots: a burst that does not fit fails with I/O errors, earlier data stays intact, and I/O "
          "succeeds once it is over",
          "[guest][pressure]") {
  const GuestRun g({"pressure-slots",
                    "pressure.sh",
                    "interface=3,policy=direct",
                    "slots=32",
                    {{"ADMA_PARAMS", "interface=3"}, {"NVME_PARAMS", "sgl_threshold=0"}}});
  require_pressure(g, "slots=32", "slots", false);
}

TEST_CASE("with refusal=retry the same burst waits for room and succeeds", "[guest][pressure]") {
  const GuestRun g({"pressure-retry",
                    "pressure.sh",
                    "interface=3,policy=direct",
                    "aperture=4M",
                    {{"ADMA_PARAMS", "interface=3 refusal=retry"}, {"NVME_PARAMS", "sgl_threshold=0"}}});
  require_pressure(g, "aperture=4M", "aperture", true);
}

namespace {

// The hostile driver's run (tests/guest/hostile): every misuse answered as the DMA API promises,
// counted, warned about (two WARN_ONCE sites), and the disk keeps working. Returns its log.
std::string require_hostile_survived(const GuestRun& g) {
  INFO(g.describe());
  REQUIRE(g.exit_code() == 0);
  const std::string log = g.file("hostile.log");
  for (const char* name : {"unmap_unknown", "unmap_sg_unknown", "map_page", "unmap_wrong_size_then_twice",
                           "map_zero_length_refused", "map_sg_zero_segment_refused", "map_resource_refused",
                           "map_unmap_irqs_off", "map_sg", "alloc_coherent_atomic", "same_base_first"}) {
    INFO(name << " in:\n" << log);
    CHECK(log.find(std::string("adma_hostile: ") + name + " ok=1") != std::string::npos);
  }
  CHECK(log.find("adma_hostile: done") != std::string::npos);
  const Counters before = g.counters("before.stats");
  const Counters after = g.counters("after.stats");
  // Three unmaps of addresses never handed out (one of them a second unmap), one wrong length,
  // three requests refused as bad (length 0, a zero-length segment, MMIO).
  CHECK(after.at("unknown_unmaps") - before.at("unknown_unmaps") == 3);
  CHECK(after.at("size_mismatches") - before.at("size_mismatches") == 1);
  CHECK(after.at("refused_bad-request") - before.at("refused_bad-request") == 3);
  CHECK(after.at("live_requests") == after.at("live_allocs"));
  CHECK(g.counters("after.device").at("invalid_commands") == 0);
  require_quiet_kernel(g, 2);
  require_clean(g, "io-write");
  require_clean(g, "io-verify");
  return log;
}

}  // namespace

TEST_CASE("a driver misusing the DMA API gets warnings and counters, never a crash, and the disk keeps working",
          "[guest][hostile]") {
  const GuestRun g({"hostile", "hostile.sh", "interface=3,policy=window:256K", "", {{"ADMA_PARAMS", "interface=3"}}});
  const std::string log = require_hostile_survived(g);
  // Two mappings from one base are two host mappings to dartlab's device under interface 3.
  CHECK(log.find("adma_hostile: same_base_second mapped=1") != std::string::npos);
}

TEST_CASE("against the RFC device a second registration of a gpa is a refusal the driver sees, never an address",
          "[guest][hostile][rfc]") {
  const GuestRun g(
      {"hostile-rfc", "hostile.sh", "interface=2", "", {{"ADMA_PARAMS", "interface=2 window_shift=18"}}});
  const std::string log = require_hostile_survived(g);
  INFO(g.describe() << "\n" << log);
  CHECK(log.find("adma_hostile: same_base_second mapped=0") != std::string::npos);
  const Counters before = g.counters("before.stats");
  const Counters after = g.counters("after.stats");
  CHECK(after.at("refused_still-open") - before.at("refused_still-open") == 1);
  CHECK(g.counters("after.device").at("fail_still_open") == 1);
}

TEST_CASE("against the RFC device a full host is an I/O error too, and the closed loop still holds",
          "[guest][pressure][rfc]") {
  const GuestRun g({"pressure-rfc",
                    "pressure.sh",
                    "interface=2",
                    "slots=32",
                    {{"ADMA_PARAMS", "interface=2 window_shift=0"}, {"NVME_PARAMS", "sgl_threshold=0"}}});
  require_pressure(g, "slots=32,duplicate=refuse", "slots", false);
}
