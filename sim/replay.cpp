#include "sim/replay.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

#include <fmt/format.h>

namespace dartlab::sim {

namespace {

constexpr std::size_t kReleasedRing = 1 << 16;  // how many released ids are remembered
constexpr std::size_t kWarningSamples = 5;

mapper::Direction to_mapper(trace::Direction d) {
  switch (d) {
    case trace::Direction::ToDevice: return mapper::Direction::ToDevice;
    case trace::Direction::FromDevice: return mapper::Direction::FromDevice;
    case trace::Direction::Bidirectional: return mapper::Direction::Bidirectional;
  }
  return mapper::Direction::Bidirectional;
}

// The unmap kind that ends a request of each map kind.
trace::EventKind unmap_kind_for(trace::EventKind k) {
  switch (k) {
    case trace::EventKind::MapSg: return trace::EventKind::UnmapSg;
    case trace::EventKind::Alloc: return trace::EventKind::Free;
    default: return trace::EventKind::Unmap;
  }
}

}  // namespace

struct Replay::Run {
  explicit Run(const RunConfig& config)
      : dart(config.dart), backend(dart), mapper(backend, config.policy), dart_spec(dart::to_spec(config.dart)) {
    min_largest_free_bytes = dart.stats().largest_free_bytes;
  }
  dart::Dart dart;
  dart::DartBackend backend;
  mapper::Mapper mapper;
  std::string dart_spec;
  std::vector<mapper::Mapping> mappings;  // parallel to Replay::segments_
  FirstFailure first_failure;
  std::uint64_t dropped_unmaps = 0;
  std::uint64_t access_checks = 0;
  std::uint64_t access_faults = 0;
  std::uint64_t peak_tables = 0;
  std::uint64_t min_largest_free_bytes = 0;
};

Replay::Replay(std::span<const RunConfig> runs, ReplayOptions options)
    : options_(options), by_id_(1024), recently_released_(kReleasedRing), released_ring_(kReleasedRing, 0) {
  if (runs.empty() || runs.size() > kMaxRuns)
    throw std::invalid_argument(fmt::format("a replay evaluates 1 to {} configurations at once, got {}", kMaxRuns,
                                            runs.size()));
  for (const RunConfig& c : runs) runs_.push_back(std::make_unique<Run>(c));
}

Replay::~Replay() = default;

bool Replay::report(std::string message) {
  if (options_.lenient) {
    ++warnings_;
    if (warning_samples_.size() < kWarningSamples)
      warning_samples_.push_back(current_line_ != 0 ? fmt::format("line {}: {}", current_line_, message)
                                                    : fmt::format("event {}: {}", events_, message));
    return true;
  }
  issue_ = ReplayIssue{events_, std::move(message)};
  return false;
}

std::uint32_t Replay::alloc_segments(std::uint32_t count) {
  const unsigned cls = static_cast<unsigned>(std::bit_width(std::bit_ceil(count)) - 1);
  auto& free_list = free_blocks_[cls];
  if (!free_list.empty()) {
    const std::uint32_t offset = free_list.back();
    free_list.pop_back();
    return offset;
  }
  const auto offset = static_cast<std::uint32_t>(segments_.size());
  const std::size_t size = segments_.size() + (std::size_t{1} << cls);
  segments_.resize(size);
  for (auto& run : runs_) run->mappings.resize(size);
  return offset;
}

void Replay::free_segments(std::uint32_t offset, std::uint32_t count) {
  const unsigned cls = static_cast<unsigned>(std::bit_width(std::bit_ceil(count)) - 1);
  free_blocks_[cls].push_back(offset);
}

bool Replay::apply(const trace::Event& ev, std::uint64_t line) {
  ++events_;
  current_line_ = line;
  if (trace::is_map_kind(ev.kind)) return on_map(ev, line);
  if (trace::is_unmap_kind(ev.kind)) return on_unmap(ev);
  return on_access(ev);
}

bool Replay::on_map(const trace::Event& ev, std::uint64_t line) {
  if (const std::uint32_t* live = by_id_.find(ev.id))
    return report(fmt::format("{} of id {} which is still live (mapped at line {})", trace::to_string(ev.kind),
                              ev.id, records_[*live].line));

  const bool sg = ev.kind == trace::EventKind::MapSg;
  const std::size_t count = sg ? ev.segments.size() : 1;
  if (count == 0 || count > (std::size_t{1} << 13)) return report(fmt::format("map_sg with {} segments", count));

  const std::uint32_t offset = alloc_segments(static_cast<std::uint32_t>(count));
  if (sg) {
    for (std::size_t i = 0; i < count; ++i) segments_[offset + i] = {ev.segments[i].gpa, ev.segments[i].len_bytes};
  } else {
    segments_[offset] = {ev.gpa, ev.len_bytes};
  }
  const std::span<const mapper::MapSegment> segs(&segments_[offset], count);
  const mapper::Direction dir =
      ev.kind == trace::EventKind::Alloc ? mapper::Direction::Bidirectional : to_mapper(ev.dir);

  std::uint64_t failed = 0;
  for (std::size_t r = 0; r < runs_.size(); ++r) {
    Run& run = *runs_[r];
    const std::span<mapper::Mapping> out(&run.mappings[offset], count);
    mapper::MapError error{};
    bool ok = true;
    if (sg) {
      const auto res = run.mapper.map_sg(segs, dir, out);
      ok = res.ok;
      error = res.error;
    } else {
      const auto res = run.mapper.map(segs[0].gpa, segs[0].len_bytes, dir);
      ok = res.ok;
      error = res.error;
      out[0] = res.value;
    }
    if (!ok) {
      failed |= std::uint64_t{1} << r;
      if (!run.first_failure.happened) run.first_failure = FirstFailure{true, events_, line, error};
    }
    const auto& ds = run.dart.stats();
    run.peak_tables = std::max(run.peak_tables, ds.tables_live);
    run.min_largest_free_bytes = std::min(run.min_largest_free_bytes, ds.largest_free_bytes);
  }

  std::uint32_t index = 0;
  if (free_records_.empty()) {
    index = static_cast<std::uint32_t>(records_.size());
    records_.push_back({});
  } else {
    index = free_records_.back();
    free_records_.pop_back();
  }
  records_[index] = Record{ev.kind, offset, static_cast<std::uint32_t>(count), failed, line};
  by_id_.insert(ev.id, index);
  return true;
}

bool Replay::on_unmap(const trace::Event& ev) {
  const std::uint32_t* found = by_id_.find(ev.id);
  if (found == nullptr) {
    if (const std::uint64_t* when = recently_released_.find(ev.id))
      return report(fmt::format("double {}: id {} was already released by event {}", trace::to_string(ev.kind),
                                ev.id, *when));
    return report(fmt::format("{} of id {} which was never mapped", trace::to_string(ev.kind), ev.id));
  }
  const std::uint32_t index = *found;
  const Record rec = records_[index];
  if (unmap_kind_for(rec.kind) != ev.kind)
    return report(fmt::format("{} of id {}, which was created by {} at line {} (expected {})",
                              trace::to_string(ev.kind), ev.id, trace::to_string(rec.kind), rec.line,
                              trace::to_string(unmap_kind_for(rec.kind))));

  for (std::size_t r = 0; r < runs_.size(); ++r) {
    Run& run = *runs_[r];
    if (rec.failed_runs & (std::uint64_t{1} << r)) {
      ++run.dropped_unmaps;  // a driver never unmaps an address it never got
      continue;
    }
    for (std::uint32_t i = 0; i < rec.seg_count; ++i) {
      const auto res = run.mapper.unmap(run.mappings[rec.seg_offset + i].token, segments_[rec.seg_offset + i].len_bytes);
      if (!res) throw std::logic_error("replay: the mapper refused to release a token it handed out");
    }
  }
  free_segments(rec.seg_offset, rec.seg_count);
  by_id_.erase(ev.id);
  free_records_.push_back(index);

  // Remember the id for a while, forgetting the oldest, so memory stays bounded.
  const std::uint64_t oldest = released_ring_[released_next_];
  if (oldest != 0) recently_released_.erase(oldest - 1);
  released_ring_[released_next_] = ev.id + 1;  // 0 marks an empty ring slot
  released_next_ = (released_next_ + 1) % released_ring_.size();
  recently_released_.erase(ev.id);
  recently_released_.insert(ev.id, events_);
  return true;
}

bool Replay::on_access(const trace::Event& ev) {
  const std::uint32_t* found = by_id_.find(ev.id);
  if (found == nullptr) return report(fmt::format("access to id {} which is not live", ev.id));
  const Record& rec = records_[*found];
  // The access must lie inside one segment of the request.
  std::uint32_t seg = rec.seg_count;
  for (std::uint32_t i = 0; i < rec.seg_count; ++i) {
    const auto& s = segments_[rec.seg_offset + i];
    if (ev.gpa >= s.gpa && ev.len_bytes <= s.len_bytes && ev.gpa - s.gpa <= s.len_bytes - ev.len_bytes) {
      seg = i;
      break;
    }
  }
  if (seg == rec.seg_count)
    return report(fmt::format("access [{:#x}, +{}) lies outside request id {}", ev.gpa, ev.len_bytes, ev.id));

  const auto& s = segments_[rec.seg_offset + seg];
  const dart::Access access = ev.dir == trace::Direction::FromDevice ? dart::Access::Write : dart::Access::Read;
  for (std::size_t r = 0; r < runs_.size(); ++r) {
    if (rec.failed_runs & (std::uint64_t{1} << r)) continue;
    Run& run = *runs_[r];
    const std::uint64_t dma = run.mappings[rec.seg_offset + seg].dma_addr + (ev.gpa - s.gpa);
    // Every probed byte must reach its own gpa.
    const std::uint64_t page = run.dart.config().page_bytes;
    // Probes one page apart from the first byte, then the last byte: every page touched is seen.
    const auto probe = [&](std::uint64_t off) {
      ++run.access_checks;
      const dart::Translation t = run.dart.translate(dma + off, access);
      if (!t || t.pa != ev.gpa + off) ++run.access_faults;
    };
    const std::uint64_t last = ev.len_bytes - 1;
    std::uint64_t off = 0;
    for (; last - off >= page; off += page) probe(off);
    probe(off);
    if (off != last) probe(last);
  }
  return true;
}

RunResult Replay::result(std::size_t r) const {
  const Run& run = *runs_.at(r);
  const mapper::MapperStats& s = run.mapper.stats();
  RunResult out;
  out.policy = run.mapper.policy().spec();
  out.dart = run.dart_spec;
  out.requests = s.map_requests;
  out.peak_mappings = s.peak_mappings;
  out.peak_mapped_bytes = s.peak_mapped_bytes;
  out.peak_requested_bytes = s.peak_requested_bytes;
  out.host_map_calls = s.host_map_calls;
  out.host_unmap_calls = s.host_unmap_calls;
  out.failed_maps = s.failed_maps;
  for (int i = 0; i < mapper::kMapErrorCount; ++i) out.failures_by_reason[static_cast<std::size_t>(i)] = s.failures[i];
  out.first_failure = run.first_failure;
  out.dropped_unmaps = run.dropped_unmaps;
  out.access_checks = run.access_checks;
  out.access_faults = run.access_faults;
  out.final_live_mappings = s.live_mappings;
  out.final_mapped_bytes = s.mapped_bytes;
  out.dart_peak_tables = run.peak_tables;
  out.min_largest_free_bytes = run.min_largest_free_bytes;
  return out;
}

const dart::Dart& Replay::dart_of(std::size_t run) const { return runs_.at(run)->dart; }
const mapper::Mapper& Replay::mapper_of(std::size_t run) const { return runs_.at(run)->mapper; }

}  // namespace dartlab::sim
