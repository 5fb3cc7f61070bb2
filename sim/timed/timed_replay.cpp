// SPDX-License-Identifier: MIT
#include "sim/timed/timed_replay.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "base/flat_map.hpp"
#include "passthrough/mapper/mapper.hpp"
#include "sim/common/human_units.hpp"
#include "sim/timed/latency_histogram.hpp"
#include "sim/timed/params.hpp"
#include "sim/timed/platform.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::sim::timed {

namespace {

constexpr std::uint64_t kNoId = ~std::uint64_t{0};  // marks empty id-table slots
constexpr std::size_t kWarningSamples = 5;
constexpr std::size_t kMaxSegments = std::size_t{1} << 13;
// AccessSource::Auto looks this far into a trace file for an access event.
constexpr std::uint64_t kAutoScanEvents = 100'000;

dartlab::Direction to_mapper(trace::Direction d) {
  switch (d) {
    case trace::Direction::ToDevice: return dartlab::Direction::ToDevice;
    case trace::Direction::FromDevice: return dartlab::Direction::FromDevice;
    case trace::Direction::Bidirectional: break;
  }
  return dartlab::Direction::Bidirectional;
}

// The device writes memory only for from_dev; it reads it otherwise.
dartlab::bus::DmaDir transfer_dir(trace::Direction d) {
  return d == trace::Direction::FromDevice ? dartlab::bus::DmaDir::DeviceToHost : dartlab::bus::DmaDir::HostToDevice;
}

trace::EventKind unmap_kind_for(trace::EventKind k) {
  switch (k) {
    case trace::EventKind::MapSg: return trace::EventKind::UnmapSg;
    case trace::EventKind::Alloc: return trace::EventKind::Free;
    default: return trace::EventKind::Unmap;
  }
}

LatencySummary summary(const LatencyHistogram& h) {
  return LatencySummary{h.count(), h.quantile(0.50), h.quantile(0.99), h.max(), h.mean()};
}

// Replays events onto the platform from inside its thread. Live requests sit in a pool of
// records found through a flat id table; both are recycled, so steady state allocates nothing.
class Engine {
 public:
  // position_unit: what the positions given with events count, "line" or "event" (binary traces).
  Engine(const TimedConfig& config, const TimedOptions& options, GpuDma& gpu, MappingPath& path,
         mapper::Mapper& mapper, std::uint32_t streams, std::string_view position_unit)
      : config_(config), options_(options), gpu_(gpu), path_(path), mapper_(mapper), streams_(streams),
        position_unit_(position_unit) {}

  // False when an inconsistency stops the replay; issue() says what.
  bool apply(const trace::Event& ev, std::uint64_t line) {
    ++result_.events;
    line_ = line;
    path_.tick(gpu_.now_ps());
    if (trace::is_map_kind(ev.kind)) return on_map(ev, line);
    if (trace::is_unmap_kind(ev.kind)) return on_unmap(ev);
    return on_access(ev);
  }

  const std::string& issue() const { return issue_; }
  TimedResult& result() { return result_; }
  const LatencyHistogram& map_latency() const { return map_latency_; }
  const LatencyHistogram& unmap_latency() const { return unmap_latency_; }

 private:
  struct Segment {
    std::uint64_t gpa = 0;
    std::uint64_t len = 0;
    std::uint64_t dma = 0;
    std::uint64_t token = 0;
  };
  struct Request {
    trace::EventKind kind = trace::EventKind::Map;
    trace::Direction dir = trace::Direction::Bidirectional;
    std::uint16_t stream = 0;
    bool refused = false;
    std::uint64_t line = 0;
    std::vector<Segment> segments;  // capacity kept when the record is recycled
  };

  bool report(std::string message) {
    if (options_.lenient) {
      ++result_.warnings;
      if (result_.warning_samples.size() < kWarningSamples)
        result_.warning_samples.push_back(fmt::format("line {}: {}", line_, message));
      return true;
    }
    issue_ = std::move(message);
    return false;
  }

  // The host time the last request cost; the device waits for it.
  std::uint64_t charge_host(LatencyHistogram& histogram) {
    const std::uint64_t ps = path_.take_ps();
    gpu_.spend_ps(ps);
    result_.mapping_ps += ps;
    histogram.record(ps);
    return ps;
  }

  // copy_back: bounce copies what the device wrote out of the pool first (not when a refused
  // list is undone: nothing was transferred).
  void guest_unmap(Request& r, const Segment& s, bool copy_back) {
    path_.set_context(gpu_.now_ps(), r.stream);
    path_.guest_request();
    if (copy_back && mapper_.bounce() && r.dir != trace::Direction::ToDevice) path_.bounce_copy(s.len);
    if (!mapper_.unmap(mapper::MapToken::unpack(s.token), s.len))
      throw std::logic_error("timed replay: the mapper refused to release a token it handed out");
    ++result_.unmap_requests;
    charge_host(unmap_latency_);
  }

  void transfer(const Request& r, std::uint64_t dma, std::uint64_t len, dartlab::bus::DmaDir dir) {
    const std::uint64_t before = gpu_.now_ps();
    const TransferOutcome o = gpu_.transfer(dir, r.stream, dma, len);
    result_.transfer_ps[static_cast<unsigned>(dir)] += gpu_.now_ps() - before;
    result_.bytes[static_cast<unsigned>(dir)] += len;
    result_.faulted_transfers += o.faulted ? 1 : 0;
  }

  bool synthesize() const {
    return config_.access == AccessSource::Synthetic || (config_.access == AccessSource::Auto && !seen_access_);
  }

  bool on_map(const trace::Event& ev, std::uint64_t line) {
    if (ev.id == kNoId) return report(fmt::format("id {} is reserved", ev.id));
    if (const std::uint32_t* live = by_id_.find(ev.id))
      return report(fmt::format("{} of id {} which is still live (mapped at {} {})", trace::to_string(ev.kind), ev.id,
                                position_unit_, requests_[*live].line));
    const bool sg = ev.kind == trace::EventKind::MapSg;
    const std::size_t count = sg ? ev.segments.size() : 1;
    if (count == 0 || count > kMaxSegments) return report(fmt::format("map_sg with {} segments", count));

    const std::uint32_t slot = take_slot();
    Request& r = requests_[slot];
    r.kind = ev.kind;
    r.dir = ev.kind == trace::EventKind::Alloc ? trace::Direction::Bidirectional : ev.dir;
    r.stream = static_cast<std::uint16_t>(ev.device % streams_);
    r.refused = false;
    r.line = line;
    r.segments.clear();
    if (sg) {
      for (const trace::Segment& s : ev.segments) r.segments.push_back(Segment{s.gpa, s.len_bytes, 0, 0});
    } else {
      r.segments.push_back(Segment{ev.gpa, ev.len_bytes, 0, 0});
    }
    // One doorbell per segment, as the guest module sends them; a refused segment undoes the
    // ones before it, as dma_map_sg callers expect.
    const dartlab::Direction dir = to_mapper(r.dir);
    for (std::size_t i = 0; i < r.segments.size(); ++i) {
      Segment& s = r.segments[i];
      path_.set_context(gpu_.now_ps(), r.stream);
      path_.guest_request();
      const auto mapped = mapper_.map(s.gpa, s.len, dir);
      ++result_.map_requests;
      // Bounce: the device will read the copy in the pool; it is made before the map returns.
      if (mapped.ok && mapper_.bounce() && r.dir != trace::Direction::FromDevice) path_.bounce_copy(s.len);
      charge_host(map_latency_);
      if (!mapped.ok) {
        ++result_.failed_maps;
        r.refused = true;
        for (std::size_t j = 0; j < i; ++j) guest_unmap(r, r.segments[j], false);
        break;
      }
      s.dma = mapped.value.dma_addr;
      s.token = mapped.value.token.pack();
    }
    by_id_.insert(ev.id, slot);
    if (!r.refused && synthesize()) {
      const dartlab::bus::DmaDir d = transfer_dir(r.dir);
      for (const Segment& s : r.segments) {
        ++result_.synthetic_transfers;
        transfer(r, s.dma, s.len, d);
      }
    }
    return true;
  }

  bool on_unmap(const trace::Event& ev) {
    const std::uint32_t* found = by_id_.find(ev.id);
    if (found == nullptr) return report(fmt::format("{} of id {} which is not live", trace::to_string(ev.kind), ev.id));
    const std::uint32_t slot = *found;
    Request& r = requests_[slot];
    if (unmap_kind_for(r.kind) != ev.kind)
      return report(fmt::format("{} of id {}, which was created by {} at {} {} (expected {})", trace::to_string(ev.kind),
                                ev.id, trace::to_string(r.kind), position_unit_, r.line,
                                trace::to_string(unmap_kind_for(r.kind))));
    if (r.refused) {
      ++result_.dropped_unmaps;  // a driver never unmaps an address it never got
    } else {
      for (const Segment& s : r.segments) guest_unmap(r, s, true);
    }
    by_id_.erase(ev.id);
    free_.push_back(slot);
    return true;
  }

  bool on_access(const trace::Event& ev) {
    seen_access_ = true;
    if (config_.access == AccessSource::Synthetic) return true;
    const std::uint32_t* found = by_id_.find(ev.id);
    if (found == nullptr) return report(fmt::format("access to id {} which is not live", ev.id));
    const Request& r = requests_[*found];
    if (r.refused) {
      ++result_.skipped_accesses;
      return true;
    }
    for (const Segment& s : r.segments) {
      if (ev.gpa >= s.gpa && ev.len_bytes <= s.len && ev.gpa - s.gpa <= s.len - ev.len_bytes) {
        ++result_.trace_transfers;
        transfer(r, s.dma + (ev.gpa - s.gpa), ev.len_bytes, transfer_dir(ev.dir));
        return true;
      }
    }
    return report(fmt::format("access [{:#x}, +{}) lies outside request id {}", ev.gpa, ev.len_bytes, ev.id));
  }

  std::uint32_t take_slot() {
    if (!free_.empty()) {
      const std::uint32_t slot = free_.back();
      free_.pop_back();
      return slot;
    }
    requests_.emplace_back();
    return static_cast<std::uint32_t>(requests_.size() - 1);
  }

  const TimedConfig& config_;
  const TimedOptions& options_;
  GpuDma& gpu_;
  MappingPath& path_;
  mapper::Mapper& mapper_;
  std::uint32_t streams_;
  std::string_view position_unit_;
  dartlab::FlatMap<std::uint64_t, std::uint32_t, dartlab::FlatHash<std::uint64_t>, kNoId> by_id_{1024};
  std::vector<Request> requests_;
  std::vector<std::uint32_t> free_;
  LatencyHistogram map_latency_;
  LatencyHistogram unmap_latency_;
  TimedResult result_;
  std::string issue_;
  std::uint64_t line_ = 0;
  bool seen_access_ = false;
};

double gib(std::uint64_t bytes, std::uint64_t ps) {
  return ps == 0 ? 0.0 : static_cast<double>(bytes) / static_cast<double>(1ULL << 30) / (static_cast<double>(ps) * 1e-12);
}

double ns(std::uint64_t ps) { return static_cast<double>(ps) / 1000.0; }

nlohmann::ordered_json latency_json(const LatencySummary& s) {
  return {{"count", s.count}, {"p50", ns(s.p50_ps)}, {"p99", ns(s.p99_ps)}, {"mean", s.mean_ps / 1000.0}, {"max", ns(s.max_ps)}};
}

// Auto: a trace file whose first kAutoScanEvents events hold an access event is replayed with the
// trace's transfers, else with synthetic ones. Standard input cannot be read twice: there, Auto
// stays, and the engine makes synthetic transfers until the first access event shows up.
AccessSource resolve_access(const std::string& path, const TimedOptions& options, AccessSource requested) {
  if (requested != AccessSource::Auto || path == "-") return requested;
  const std::unique_ptr<trace::TraceReader> reader =
      trace::open_trace(path, options.input.reader_options(options.lenient), options.input.format);
  trace::Event ev;
  for (std::uint64_t i = 0; i < kAutoScanEvents; ++i) {
    if (reader->next(ev) != trace::TraceReader::Status::Event) break;  // errors surface in the replay itself
    if (ev.kind == trace::EventKind::Access) return AccessSource::Trace;
  }
  return AccessSource::Synthetic;
}

}  // namespace

double TimedResult::gib_per_s(dartlab::bus::DmaDir dir) const {
  const auto i = static_cast<unsigned>(dir);
  return gib(bytes[i], transfer_ps[i]);
}

std::variant<TimedResult, std::string> timed_replay_file(const std::string& path, const TimedConfig& config,
                                                         const TimedOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::unique_ptr<trace::TraceReader> reader =
      trace::open_trace(path, options.input.reader_options(options.lenient), options.input.format);

  auto prepared = prepare_run(config.platform(), config.dart.functional);
  if (auto* e = std::get_if<std::string>(&prepared)) return std::move(*e);
  const std::unique_ptr<dart::Dart> functional = std::move(std::get<std::unique_ptr<dart::Dart>>(prepared));
  Platform& platform = Platform::instance();
  MappingPath mapping(*functional, platform.dart(), config.host.mapping, config.dart.timing.invalidation,
                      config.host.memory.gbytes_per_s);
  mapper::Mapper mapper(mapping, config.policy);
  TimedConfig resolved = config;
  resolved.access = resolve_access(path, options, config.access);
  Engine engine(resolved, options, platform.gpu(), mapping, mapper,
                std::max<std::uint32_t>(1, config.dart.functional.variant.max_streams), reader->position_unit());

  std::string failure;
  std::uint64_t simulated_ps = 0;
  platform.run([&] {
    GpuDma& gpu = platform.gpu();
    gpu.begin();
    const std::uint64_t start = gpu.now_ps();
    trace::Event ev;
    for (;;) {
      const auto status = reader->next(ev);
      if (status == trace::TraceReader::Status::End) break;
      if (status == trace::TraceReader::Status::Error) {
        failure = reader->error().to_string();
        break;
      }
      if (!engine.apply(ev, reader->position())) {
        failure = fmt::format("{}: error: {}", reader->locate(reader->position()), engine.issue());
        break;
      }
    }
    simulated_ps = gpu.now_ps() - start;
    gpu.end();
  });
  if (!failure.empty()) return failure;

  TimedResult out = std::move(engine.result());
  out.trace = path;
  out.format = reader->format_name();
  out.policy = config.policy.spec();
  out.dart = to_spec(config.dart);
  out.link = to_spec(config.link);
  out.host = to_spec(config.host);
  out.access = to_string(resolved.access);
  out.simulated_ps = simulated_ps;
  out.map_latency = summary(engine.map_latency());
  out.unmap_latency = summary(engine.unmap_latency());
  out.host_time = mapping.totals();
  out.host_counts = mapping.counts();
  out.flush_hw_ns = config.dart.timing.invalidation.flush_hw_ns;
  out.poll_timeout_ns = config.dart.timing.invalidation.poll_timeout_ns;
  out.iotlb = platform.dart().iotlb_stats();
  out.dart_stats = platform.dart().stats();
  out.table_reads = platform.memory().stats().table_reads;
  out.link_stats = platform.link().stats();
  out.dma_transactions = platform.gpu().stats().transactions;
  out.warnings += reader->warnings();
  for (const std::string& w : reader->warning_samples())
    if (out.warning_samples.size() < kWarningSamples) out.warning_samples.push_back(w);
  out.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return out;
}

nlohmann::ordered_json timed_json(const TimedResult& r) {
  const auto h2d = static_cast<unsigned>(dartlab::bus::DmaDir::HostToDevice);
  const auto d2h = static_cast<unsigned>(dartlab::bus::DmaDir::DeviceToHost);
  nlohmann::ordered_json faults_by_code = nlohmann::ordered_json::object();
  for (int c = 0; c < dart::kFaultCodeCount; ++c)
    faults_by_code[std::string(dart::to_string(static_cast<dart::FaultCode>(c)))] = r.dart_stats.faults_by_code[c];
  const std::uint64_t host_maps = r.host_counts.host_maps;
  return {
      {"trace", r.trace},
      {"format", r.format},
      {"policy", r.policy},
      {"dart", r.dart},
      {"link", r.link},
      {"host", r.host},
      {"access", r.access},
      {"events", r.events},
      {"map_requests", r.map_requests},
      {"failed_maps", r.failed_maps},
      {"unmap_requests", r.unmap_requests},
      {"dropped_unmaps", r.dropped_unmaps},
      {"transfers", {{"trace", r.trace_transfers}, {"synthetic", r.synthetic_transfers}, {"faulted", r.faulted_transfers},
                     {"skipped", r.skipped_accesses}}},
      {"dma_transactions", r.dma_transactions},
      {"simulated_time_ns", ns(r.simulated_ps)},
      {"mapping_time_ns", ns(r.mapping_ps)},
      {"transfer_time_ns", ns(r.transfer_ps_total())},
      {"mapping_fraction", r.simulated_ps == 0 ? 0.0 : static_cast<double>(r.mapping_ps) / static_cast<double>(r.simulated_ps)},
      {"dma_gib_per_s", {{"h2d", r.gib_per_s(dartlab::bus::DmaDir::HostToDevice)}, {"d2h", r.gib_per_s(dartlab::bus::DmaDir::DeviceToHost)}}},
      {"dma_bytes", {{"h2d", r.bytes[h2d]}, {"d2h", r.bytes[d2h]}}},
      {"transfer_time_ns_by_dir", {{"h2d", ns(r.transfer_ps[h2d])}, {"d2h", ns(r.transfer_ps[d2h])}}},
      {"iotlb_hit_rate", r.iotlb_hit_rate()},
      {"iotlb", {{"hits", r.iotlb.hits}, {"misses", r.iotlb.misses}, {"fills", r.iotlb.fills}, {"evictions", r.iotlb.evictions},
                 {"invalidations", r.iotlb.invalidations}, {"invalidated_entries", r.iotlb.invalidated_entries},
                 {"walks", r.dart_stats.walks}, {"walk_reads", r.dart_stats.walk_reads}, {"table_reads_at_memory", r.table_reads}}},
      {"map_latency_ns", latency_json(r.map_latency)},
      {"unmap_latency_ns", latency_json(r.unmap_latency)},
      {"host_time_ns", {{"doorbell", ns(r.host_time.doorbell_ps)}, {"mapper", ns(r.host_time.mapper_ps)},
                        {"service", ns(r.host_time.service_ps)}, {"pte", ns(r.host_time.pte_ps)},
                        {"invalidation", ns(r.host_time.invalidation_ps)}, {"bounce_copy", ns(r.host_time.bounce_copy_ps)}}},
      {"invalidation_ns_per_host_map", host_maps == 0 ? 0.0 : ns(r.host_time.invalidation_ps) / static_cast<double>(host_maps)},
      {"host_calls", {{"maps", r.host_counts.host_maps}, {"unmaps", r.host_counts.host_unmaps}, {"refusals", r.host_counts.host_refusals},
                      {"flushes", r.host_counts.flushes}, {"flush_polls", r.host_counts.flush_polls},
                      {"flush_timeouts", r.host_counts.flush_timeouts}, {"deferred_unmaps", r.host_counts.deferred_unmaps},
                      {"ptes_written", r.host_counts.ptes_written}, {"tables_created", r.host_counts.tables_created},
                      {"bounce_copy_bytes", r.host_counts.bounce_copy_bytes}}},
      {"faults", {{"total", r.dart_stats.faults}, {"by_code", faults_by_code}}},
      {"link_stats", {{"write_tlps", r.link_stats.write_tlps}, {"read_requests", r.link_stats.read_requests},
                      {"completions", r.link_stats.completions}, {"max_posted_in_flight", r.link_stats.max_posted_in_flight}}},
      {"warnings", r.warnings},
      {"warning_samples", r.warning_samples},
      {"wall_seconds", r.wall_seconds},
      {"transactions_per_second", r.wall_seconds > 0 ? static_cast<double>(r.dma_transactions) / r.wall_seconds : 0.0},
  };
}

std::string timed_summary(const TimedResult& r) {
  const auto h2d = static_cast<unsigned>(dartlab::bus::DmaDir::HostToDevice);
  const auto d2h = static_cast<unsigned>(dartlab::bus::DmaDir::DeviceToHost);
  const double sim_ms = static_cast<double>(r.simulated_ps) * 1e-9;
  std::string out = fmt::format("{} ({}): {} events, policy {}, link {}, access {}\n", r.trace, r.format, r.events, r.policy,
                                r.link, r.access);
  out += fmt::format("  simulated {:.3f} ms: mapping {:.3f} ms ({:.0f}%), transfers {:.3f} ms\n", sim_ms,
                     static_cast<double>(r.mapping_ps) * 1e-9,
                     r.simulated_ps == 0 ? 0.0 : 100.0 * static_cast<double>(r.mapping_ps) / static_cast<double>(r.simulated_ps),
                     static_cast<double>(r.transfer_ps_total()) * 1e-9);
  constexpr double kGiB = 1ULL << 30;
  out += fmt::format("  DMA h2d {} ({} bytes), d2h {} ({} bytes); IOTLB hit rate {:.1f}%, {} walks\n",
                     human_rate(r.gib_per_s(dartlab::bus::DmaDir::HostToDevice) * kGiB), r.bytes[h2d],
                     human_rate(r.gib_per_s(dartlab::bus::DmaDir::DeviceToHost) * kGiB), r.bytes[d2h], 100.0 * r.iotlb_hit_rate(),
                     r.dart_stats.walks);
  out += fmt::format("  map latency p50 {:.1f} us, p99 {:.1f} us; {} host maps, {} flushes ({:.2f} us each)\n",
                     static_cast<double>(r.map_latency.p50_ps) * 1e-6, static_cast<double>(r.map_latency.p99_ps) * 1e-6,
                     r.host_counts.host_maps, r.host_counts.flushes,
                     r.host_counts.flushes == 0 ? 0.0 : static_cast<double>(r.host_time.invalidation_ps) * 1e-6 / static_cast<double>(r.host_counts.flushes));
  if (r.host_counts.bounce_copy_bytes != 0)
    out += fmt::format("  bounce copies: {} through the pool, {:.3f} ms of the mapping time\n",
                       human_bytes(r.host_counts.bounce_copy_bytes), static_cast<double>(r.host_time.bounce_copy_ps) * 1e-9);
  if (r.failed_maps != 0 || r.dart_stats.faults != 0)
    out += fmt::format("  {} maps refused, {} DART faults\n", r.failed_maps, r.dart_stats.faults);
  if (r.host_counts.flush_timeouts != 0)
    out += fmt::format("  {} of {} flushes hit the {} poll timeout (flush-hw {}): each cut off there\n",
                       r.host_counts.flush_timeouts, r.host_counts.flushes, time_text(r.poll_timeout_ns * 1000),
                       time_text(r.flush_hw_ns * 1000));
  return out;
}

std::string timed_warning(const TimedResult& r) {
  if (r.host_counts.flush_timeouts == 0) return {};
  // Linux's apple-dart gives up at the timeout with an error; the model charges the timeout and
  // goes on, so the flush time shown is a floor, not a cost.
  return fmt::format("{} of {} IOTLB flushes hit the poll timeout (poll-timeout={}, flush-hw={}): their time is "
                     "cut off at the timeout, so flushes look cheaper than they are, and a real host reports each "
                     "as an error; raise poll-timeout or lower flush-hw",
                     r.host_counts.flush_timeouts, r.host_counts.flushes, time_text(r.poll_timeout_ns * 1000),
                     time_text(r.flush_hw_ns * 1000));
}

}  // namespace dartlab::sim::timed
