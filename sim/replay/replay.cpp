// SPDX-License-Identifier: MIT
#include "sim/replay/replay.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

#include <fmt/format.h>

namespace dartlab::sim {

namespace {

constexpr std::size_t kReleasedRing = 1 << 16;  // how many released ids are remembered (a power of two)
constexpr std::size_t kWarningSamples = 5;
// A waiting request's mapping cell holds {its place in the run's wait queue, this}: a packed token
// of generation 0, which never names a live mapping (a refused request's cell holds {0, 0}).
constexpr std::uint64_t kWaitingTag = 1;

dartlab::Direction to_mapper(trace::Direction d) {
  switch (d) {
    case trace::Direction::ToDevice: return dartlab::Direction::ToDevice;
    case trace::Direction::FromDevice: return dartlab::Direction::FromDevice;
    case trace::Direction::Bidirectional: return dartlab::Direction::Bidirectional;
  }
  return dartlab::Direction::Bidirectional;
}

[[noreturn, gnu::cold, gnu::noinline]] void throw_refused_release() {
  throw std::logic_error("replay: the mapper refused to release a token it handed out");
}

std::uint32_t sg_count(const trace::Event& ev) {
  return ev.kind == trace::EventKind::MapSg ? static_cast<std::uint32_t>(ev.segments.size()) : 1;
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
  Run(const RunConfig& config, std::size_t series_points)
      : dart(config.dart),
        backend(dart),
        mapper(backend, config.policy),
        dart_spec(dart::to_spec(config.dart)),
        metrics(series_points, dart.stats()) {}
  dart::Dart dart;
  dartlab::backends::DartBackend backend;
  mapper::Mapper mapper;
  std::string dart_spec;
  FirstFailure first_failure;
  std::uint64_t dropped_unmaps = 0;
  std::uint64_t access_checks = 0;
  std::uint64_t access_faults = 0;
  RunMetrics metrics;

  // cap: the requests waiting for room, in trace order, in a ring indexed by sequence number; a
  // waiting request's mapping cell holds its number, so that an unmap cancels it in place.
  struct Waiter {
    std::uint64_t since_event = 0;  // 0: no longer waiting (served, refused or cancelled)
    std::uint64_t align_bytes = 0;
    std::uint32_t block = 0;
    std::uint16_t seg_count = 0;
    trace::EventKind kind = trace::EventKind::Map;
    dartlab::Direction dir = dartlab::Direction::Bidirectional;
  };
  std::vector<Waiter> waiters;  // a power of two long
  std::uint64_t wait_head = 0;  // sequence numbers: [wait_head, wait_tail) are in the ring
  std::uint64_t wait_tail = 0;
  std::uint64_t waiting = 0;    // of which still waiting
  std::uint64_t waiting_segments = 0;
  std::uint64_t cancelled_segments = 0;
  std::uint64_t waits = 0;
  std::uint64_t longest_wait_events = 0;
  std::uint64_t cancelled_waits = 0;
  std::uint64_t waiting_accesses = 0;

  Waiter& waiter(std::uint64_t seq) { return waiters[seq & (waiters.size() - 1)]; }
  const Waiter& waiter(std::uint64_t seq) const { return waiters[seq & (waiters.size() - 1)]; }
  void pop_ended() {
    while (wait_head != wait_tail && waiter(wait_head).since_event == 0) ++wait_head;
  }
  // w stops waiting at event `now`: served, refused or cancelled.
  void leave_queue(Waiter& w, std::uint64_t now) {
    longest_wait_events = std::max(longest_wait_events, now - w.since_event);
    w.since_event = 0;
    --waiting;
    metrics.queue_moved();
    waiting_segments -= w.seg_count;
  }

  // After every event.
  [[gnu::always_inline]] void observe() { metrics.observe(mapper.stats(), dart.stats(), waiting); }
};

Replay::Replay(std::span<const RunConfig> runs, ReplayOptions options)
    : options_(options), by_id_(1024), released_ring_(kReleasedRing, Released{0, 0}) {
  if (runs.empty() || runs.size() > kMaxRuns)
    throw std::invalid_argument(fmt::format("a replay evaluates 1 to {} configurations at once, got {}", kMaxRuns,
                                            runs.size()));
  for (const RunConfig& c : runs) runs_.push_back(std::make_unique<Run>(c, options_.series_points));
  one_run_ = runs_.size() == 1;
  stride_ = static_cast<std::uint32_t>(1 + runs_.size());
  single_class_ = size_class(1 + stride_);
}

Replay::~Replay() = default;

void Replay::observe_all() {
  for (const auto& run : runs_) run->observe();
}

bool Replay::report(std::string message) {
  observe_all();
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

std::uint32_t Replay::grow_arena(unsigned cls) {
  // New blocks are aligned to their size, so a block never straddles more lines than it must.
  const std::size_t cells = std::size_t{1} << cls;
  const std::size_t block = (arena_end_ + cells - 1) & ~(cells - 1);
  arena_end_ = block + cells;
  // The vector grows an eighth at a time, not a block at a time: a resize per new block cost 108
  // instructions (311 K of them in BM_ReplayEngine, 2% of the engine's instructions). The cells
  // beyond arena_end_ are at most that eighth (or 16 KiB), zeroed and not yet handed out.
  if (arena_end_ > arena_.size())
    arena_.resize(std::max(arena_end_, arena_.size() + std::max<std::size_t>(arena_.size() / 8, 1024)));
  // Room on the size's stack for this block once it is freed (doubling: a resize per block made
  // would be one more per new block).
  FreeBlocks& f = free_[cls];
  if (++f.made > f.offsets.size()) f.offsets.resize(std::max<std::size_t>(64, 2 * f.offsets.size()));
  return static_cast<std::uint32_t>(block);
}

// Every event passes here: inline in apply_batch, with the common shapes (a single-range map, its
// unmap) taken without the general paths' calls (measured: the engine's own bookkeeping, with
// the mapper taken out, cost 31 ns an event with every table in cache, 2.5x the mapper's).
// Each handler observes every run itself, in its loop over the runs, where the run is at hand:
// a run's metrics read only that run's own mapper, DART and queue, which nothing later in the
// event changes, so the values are those of a loop after the event. A loop of its own here cost
// 16 instructions an event (callgrind, BM_ReplayEngine) beside the metrics themselves.
template <bool kOneRun>
[[gnu::always_inline]] inline bool Replay::apply_one(const trace::Event& ev, std::uint64_t line) {
  ++events_;
  current_line_ = line;
  if (ev.kind == trace::EventKind::Map || ev.kind == trace::EventKind::Alloc) return on_single_map<kOneRun>(ev, line);
  if (ev.kind == trace::EventKind::MapSg) return on_map_sg(ev, line);
  if (trace::is_unmap_kind(ev.kind)) return on_unmap<kOneRun>(ev);
  return on_access(ev);
}

bool Replay::apply(const trace::Event& ev, std::uint64_t line) {
  return one_run_ ? apply_one<true>(ev, line) : apply_one<false>(ev, line);
}

std::size_t Replay::apply_batch(std::span<const trace::Event> events, std::span<const std::uint64_t> lines) {
  return one_run_ ? apply_events<true>(events, lines) : apply_events<false>(events, lines);
}

// The one-run test is made once a batch, not once an event (11 M of 1,801 M instructions).
template <bool kOneRun>
std::size_t Replay::apply_events(std::span<const trace::Event> events, std::span<const std::uint64_t> lines) {
  // Two stages of read-ahead over each group of kGroup events: the id slots, one group ahead, then
  // the arena blocks of the group's requests being released, found through those slots. The
  // slots used to be fetched just before the blocks, in the same group, and the blocks' lookups
  // waited for them: perf put a fifth of apply_events' samples in `dartlab replay -p
  // window:256K` on that one compare. The mappers' own lines (their key slots, the records
  // behind them, a released request's record) are left to the hardware: prefetching them too,
  // with a hash and a probe per event and run, made BM_ReplayEngine 20% slower (27 -> 21 M
  // events/s, the same run). GCC had been deleting those hints (a call whose only work is a
  // prefetch counts as free of side effects), and the engine was faster for it.
  //
  // A block's first segment and its mappings in every run span one line for one or two runs,
  // and more lines beyond (blocks are aligned to their power-of-two size, 4 cells a line): with
  // only the first line fetched, an unmap in the third run and later waited for the rest, and a
  // pass of four window:256K runs took 2.3x one run's time, not about 1 + 3 x 0.25 (the mapper's
  // share, measured as a second run added).
  const std::uint32_t block_lines = kOneRun ? 1 : (1 + stride_ + 3) / 4;
  for (const trace::Event& ev : events.first(std::min(events.size(), kGroup))) by_id_.prefetch(ev.id);
  for (std::size_t at = 0; at < events.size(); at += kGroup) {
    const std::size_t end = std::min(events.size(), at + kGroup);
    for (const trace::Event& ev : events.subspan(end, std::min(events.size() - end, kGroup))) by_id_.prefetch(ev.id);
    for (std::size_t i = at; i < end; ++i)
      if (trace::is_unmap_kind(events[i].kind))
        if (const Record* rec = by_id_.find(events[i].id))
          for (std::uint32_t l = 0; l < block_lines; ++l) __builtin_prefetch(&arena_[rec->block + 4 * l]);
    for (std::size_t i = at; i < end; ++i)
      if (!apply_one<kOneRun>(events[i], i < lines.size() ? lines[i] : 0)) return i;
  }
  return events.size();
}

// A map or alloc of one range: each run's mapper called directly and a served map's after-work
// inline; refusals take the general path (after_map, wait). Forced inline, as on_unmap: with the
// runs' observe() moved into these loops and a copy for one run, inlining them into the batch
// loop saved 110 M of 1,790 M instructions in BM_ReplayEngine (callgrind, 2 M events x 3): their
// prologues and epilogues, and the batch loop's values no longer spilled around the calls.
template <bool kOneRun>
[[gnu::always_inline]] inline bool Replay::on_single_map(const trace::Event& ev, std::uint64_t line) {
  const std::uint32_t block = alloc_block(1);
  // The id is recorded first: one lookup of its slot, which also says whether it is taken (a
  // find() and then an insert() went there twice). Nothing reads the table until the next event.
  if (!by_id_.insert_new(ev.id, Record{block, 1, ev.kind})) [[unlikely]] {
    free_block(block, 1);  // back on top of its list, as before the alloc
    return report_taken_id(ev);
  }
  set_segment(block, 0, ev.gpa, ev.len_bytes);
  const dartlab::Direction dir =
      ev.kind == trace::EventKind::Alloc ? dartlab::Direction::Bidirectional : to_mapper(ev.dir);
  std::uint64_t failed = 0;
  const std::unique_ptr<Run>* const runs = runs_.data();
  for (std::size_t r = 0, n = kOneRun ? 1 : runs_.size(); r < n; ++r) {
    Run& run = *runs[r];
    const auto res = run.mapper.map(ev.gpa, ev.len_bytes, dir);
    // The result comes back through memory, stored as an 8-byte address and an 8-byte token; read
    // as one 16-byte copy it cannot be forwarded from those stores and waits until they reach the
    // cache, behind every older store still waiting for its line (the arena's, the id table's, the
    // mapper's): perf put 16% of a replay's samples there. Two 8-byte loads forward at once.
    std::uint64_t dma = res.value.dma_addr;
    asm("" : "+r"(dma));  // keeps the two loads apart (the compiler would merge them)
    set_mapping(block, 0, r, mapper::Mapping{dma, res.value.token});  // {0, 0} when refused
    if (res.ok) [[likely]] {
      run.metrics.after_served_map(dma, ev.align_bytes);
    } else {
      failed |= std::uint64_t{1} << r;  // a waiting request holds no mapping either
      if (res.error == dartlab::MapError::Cap) {
        wait(r, block, ev, dir);
      } else if (!run.first_failure.happened) [[unlikely]] {
        after_map(r, block, 1, ev.kind, dartlab::Result<bool>::failure(res.error), ev.align_bytes, line);
      }  // else a refusal has nothing more to record (after_map)
    }
    run.observe();
  }
  arena_[block] = Cell{failed, line};
  return true;
}

bool Replay::report_taken_id(const trace::Event& ev) {
  if (const Record* live = by_id_.find(ev.id))
    return report(fmt::format("{} of id {} which is still live (mapped at {} {})", trace::to_string(ev.kind), ev.id,
                              options_.position_unit, line_of(live->block)));
  return report(fmt::format("id {} is reserved", ev.id));
}

bool Replay::on_map_sg(const trace::Event& ev, std::uint64_t line) {
  if (by_id_.find(ev.id) != nullptr || ev.id == kNoId) return report_taken_id(ev);
  const std::size_t count = ev.segments.size();
  if (count == 0 || count > (std::size_t{1} << 13)) return report(fmt::format("map_sg with {} segments", count));

  const auto n = static_cast<std::uint32_t>(count);
  const std::uint32_t offset = alloc_block(n);  // the block; its header is written below
  for (std::uint32_t i = 0; i < n; ++i) set_segment(offset, i, ev.segments[i].gpa, ev.segments[i].len_bytes);
  const dartlab::Direction dir = to_mapper(ev.dir);

  std::uint64_t failed = 0;
  for (std::size_t r = 0; r < runs_.size(); ++r) {
    const dartlab::Result<bool> mapped = map_request(r, offset, n, /*sg=*/true, dir);
    if (!mapped) failed |= std::uint64_t{1} << r;  // a waiting request holds no mapping either
    if (!mapped && mapped.error == dartlab::MapError::Cap) {
      wait(r, offset, ev, dir);
    } else {
      after_map(r, offset, n, ev.kind, mapped, ev.align_bytes, line);
    }
    runs_[r]->observe();
  }

  arena_[offset] = Cell{failed, line};
  by_id_.insert(ev.id, Record{offset, static_cast<std::uint16_t>(count), ev.kind});
  return true;
}

dartlab::Result<bool> Replay::map_request(std::size_t r, std::uint32_t block, std::uint32_t segments, bool sg,
                                         dartlab::Direction dir) {
  mapper::Mapper& m = runs_[r]->mapper;
  if (!sg) {
    const mapper::MapSegment s = segment(block, 0);
    const auto res = m.map(s.gpa, s.len_bytes, dir);
    set_mapping(block, 0, r, res.value);  // {0, 0} when refused
    return res ? dartlab::Result<bool>::success(true) : dartlab::Result<bool>::failure(res.error);
  }
  // Scratch grown to the longest list seen, never shrunk.
  if (sg_in_.size() < segments) sg_in_.resize(segments);
  if (sg_out_.size() < segments) sg_out_.resize(segments);
  for (std::uint32_t i = 0; i < segments; ++i) sg_in_[i] = segment(block, i);
  const auto res = m.map_sg(std::span<const mapper::MapSegment>(sg_in_.data(), segments), dir,
                            std::span<mapper::Mapping>(sg_out_.data(), segments));
  if (!res) {
    set_mapping(block, 0, r, mapper::Mapping{});
    return res;
  }
  for (std::uint32_t i = 0; i < segments; ++i) set_mapping(block, i, r, sg_out_[i]);
  return res;
}

void Replay::after_map(std::size_t r, std::uint32_t block, std::uint32_t segments, trace::EventKind kind,
                       const dartlab::Result<bool>& mapped, std::uint64_t align_bytes, std::uint64_t line) {
  Run& run = *runs_[r];
  if (mapped) {
    run.metrics.after_map(mapping(block, 0, r).dma_addr, align_bytes, run.dart.stats());
  } else if (!run.first_failure.happened) {
    std::uint64_t bytes = 0;
    for (std::uint32_t i = 0; i < segments; ++i) bytes += segment(block, i).len_bytes;
    run.first_failure = FirstFailure{true, events_, line, mapped.error, kind, segment(block, 0).gpa, bytes, segments};
  }
}

void Replay::wait(std::size_t r, std::uint32_t block, const trace::Event& ev, dartlab::Direction dir) {
  Run& run = *runs_[r];
  if (run.wait_tail - run.wait_head == run.waiters.size()) {
    const std::uint64_t in_ring = run.wait_tail - run.wait_head;
    if (in_ring != 0 && run.waiting <= in_ring / 2) {
      // Half the ring ended behind a request still waiting: close the gaps (renumbering the
      // waiting requests' cells), so the ring follows the requests waiting, not those that did.
      std::uint64_t to = run.wait_head;
      for (std::uint64_t from = run.wait_head; from != run.wait_tail; ++from) {
        const Run::Waiter w = run.waiter(from);
        if (w.since_event == 0) continue;
        run.waiter(to) = w;
        set_mapping(w.block, 0, r, mapper::Mapping{to, mapper::MapToken::unpack(kWaitingTag)});
        ++to;
      }
      run.wait_tail = to;
    } else {
      std::vector<Run::Waiter> grown(std::max<std::size_t>(64, 2 * run.waiters.size()));
      for (std::uint64_t seq = run.wait_head; seq != run.wait_tail; ++seq) grown[seq & (grown.size() - 1)] = run.waiter(seq);
      run.waiters = std::move(grown);
    }
  }
  const std::uint64_t seq = run.wait_tail++;
  run.waiter(seq) = Run::Waiter{events_, ev.align_bytes, block, static_cast<std::uint16_t>(sg_count(ev)), ev.kind, dir};
  set_mapping(block, 0, r, mapper::Mapping{seq, mapper::MapToken::unpack(kWaitingTag)});
  ++run.waits;
  ++run.waiting;
  run.metrics.queue_moved();
  run.waiting_segments += sg_count(ev);
}

bool Replay::waiting(std::uint32_t block, std::size_t r) const {
  return (failed_runs(block) & (std::uint64_t{1} << r)) != 0 && mapping(block, 0, r).token.pack() == kWaitingTag;
}

void Replay::end_wait(std::size_t r, std::uint32_t block) {
  Run& run = *runs_[r];
  Run::Waiter& w = run.waiter(mapping(block, 0, r).dma_addr);
  run.leave_queue(w, events_);
  run.cancelled_segments += w.seg_count;
  ++run.cancelled_waits;
  run.pop_ended();
}

void Replay::serve_waiting(std::size_t r) {
  Run& run = *runs_[r];
  for (run.pop_ended(); run.wait_head != run.wait_tail; run.pop_ended()) {
    const std::uint64_t seq = run.wait_head;
    Run::Waiter& w = run.waiter(seq);
    const dartlab::Result<bool> mapped = map_request(r, w.block, w.seg_count, w.kind == trace::EventKind::MapSg, w.dir);
    if (!mapped && mapped.error == dartlab::MapError::Cap) {
      // Still no room: the head keeps its place, and those behind it theirs (trace order).
      set_mapping(w.block, 0, r, mapper::Mapping{seq, mapper::MapToken::unpack(kWaitingTag)});
      return;
    }
    run.leave_queue(w, events_);
    if (mapped) arena_[w.block].a &= ~(std::uint64_t{1} << r);
    after_map(r, w.block, w.seg_count, w.kind, mapped, w.align_bytes, line_of(w.block));
  }
}

// An unmap the trace should not hold: of an id never mapped or already released, or of the
// wrong kind. Out of line, so that on_unmap's common path stays small.
bool Replay::report_bad_unmap(const trace::Event& ev, const Record* found) {
  if (found == nullptr) {
    // Newest first: the most recent release of this id is the one to name.
    for (std::size_t i = 1; i <= released_ring_.size(); ++i) {
      const Released& r = released_ring_[(released_next_ - i) & (kReleasedRing - 1)];
      if (r.event == 0) break;
      if (r.id == ev.id)
        return report(fmt::format("double {}: id {} was already released by event {}", trace::to_string(ev.kind),
                                  ev.id, r.event));
    }
    return report(fmt::format("{} of id {} which was never mapped", trace::to_string(ev.kind), ev.id));
  }
  return report(fmt::format("{} of id {}, which was created by {} at {} {} (expected {})", trace::to_string(ev.kind),
                            ev.id, trace::to_string(found->kind), options_.position_unit, line_of(found->block),
                            trace::to_string(unmap_kind_for(found->kind))));
}

// A release in a run that refused the request. Out of line: rare, and on_unmap's loop stays small.
void Replay::release_refused(std::size_t r, std::uint32_t block) {
  // The run's bit in the header is set (the caller read it), so its mapping cell alone says
  // whether it waits.
  if (mapping(block, 0, r).token.pack() == kWaitingTag) {
    end_wait(r, block);  // released before it was ever served: the wait is cancelled
  } else {
    ++runs_[r]->dropped_unmaps;  // a driver never unmaps an address it never got
  }
}

// The common release, a request every run mapped, is the loop's inline path; a run that refused
// it, and an sg list, go out of line. The bookkeeping that is the same for every run (the id
// table, the released ring, the block's free list) is done before the loop, while the id's slot
// is in registers and cache, so that the loop carries few values across the mapper's calls.
template <bool kOneRun>
[[gnu::always_inline]] inline bool Replay::on_unmap(const trace::Event& ev) {
  const Record* found = by_id_.find(ev.id);
  if (found == nullptr || unmap_kind_for(found->kind) != ev.kind) [[unlikely]] return report_bad_unmap(ev, found);
  const std::uint32_t block = found->block;
  const std::uint32_t seg_count = found->seg_count;
  by_id_.erase(ev.id);
  released_ring_[released_next_] = Released{ev.id, events_};
  released_next_ = (released_next_ + 1) & (kReleasedRing - 1);
  const std::uint64_t failed = failed_runs(block);
  const std::uint64_t len = segment(block, 0).len_bytes;
  // Freed before the loop, which still reads the block's cells: no block is allocated until the
  // next event.
  free_block(block, seg_count);
  const std::unique_ptr<Run>* const runs = runs_.data();
  for (std::size_t r = 0, n = kOneRun ? 1 : runs_.size(); r < n; ++r) {
    Run& run = *runs[r];
    if (failed & (std::uint64_t{1} << r)) [[unlikely]] {
      release_refused(r, block);
    } else {
      if (seg_count == 1) [[likely]] {
        if (!run.mapper.unmap(mapping(block, 0, r).token, len).ok) [[unlikely]] throw_refused_release();
      } else {
        release_segments(r, block, seg_count);
      }
      if (run.waiting != 0) [[unlikely]] serve_waiting(r);  // before observe: the queue it serves is counted
    }
    run.observe();
  }
  return true;
}

void Replay::release_segments(std::size_t r, std::uint32_t block, std::uint32_t segments) {
  mapper::Mapper& m = runs_[r]->mapper;
  for (std::uint32_t i = 0; i < segments; ++i)
    if (!m.unmap(mapping(block, i, r).token, segment(block, i).len_bytes).ok) throw_refused_release();
}

bool Replay::on_access(const trace::Event& ev) {
  const Record* found = by_id_.find(ev.id);
  if (found == nullptr) return report(fmt::format("access to id {} which is not live", ev.id));
  const Record& rec = *found;
  // The access must lie inside one segment of the request.
  std::uint32_t seg = rec.seg_count;
  for (std::uint32_t i = 0; i < rec.seg_count; ++i) {
    const mapper::MapSegment s = segment(rec.block, i);
    if (ev.gpa >= s.gpa && ev.len_bytes <= s.len_bytes && ev.gpa - s.gpa <= s.len_bytes - ev.len_bytes) {
      seg = i;
      break;
    }
  }
  if (seg == rec.seg_count)
    return report(fmt::format("access [{:#x}, +{}) lies outside request id {}", ev.gpa, ev.len_bytes, ev.id));

  const mapper::MapSegment s = segment(rec.block, seg);
  const dart::Access access = ev.dir == trace::Direction::FromDevice ? dart::Access::Write : dart::Access::Read;
  const std::uint64_t failed = failed_runs(rec.block);
  for (std::size_t r = 0; r < runs_.size(); ++r) {
    Run& run = *runs_[r];
    if (failed & (std::uint64_t{1} << r)) {
      if (waiting(rec.block, r)) ++run.waiting_accesses;
      run.observe();
      continue;
    }
    const std::uint64_t dma = mapping(rec.block, seg, r).dma_addr + (ev.gpa - s.gpa);
    // Every probed byte must reach its own gpa (bounce: its copy in the pool).
    const std::uint64_t target = run.mapper.target_gpa(dma, ev.gpa);
    const std::uint64_t page = run.dart.config().page_bytes;
    // Probes one page apart from the first byte, then the last byte: every page touched is seen.
    const auto probe = [&](std::uint64_t off) {
      ++run.access_checks;
      const dart::Translation t = run.dart.translate(dma + off, access);
      if (!t || t.pa != target + off) ++run.access_faults;
    };
    const std::uint64_t last = ev.len_bytes - 1;
    std::uint64_t off = 0;
    for (; last - off >= page; off += page) probe(off);
    probe(off);
    if (off != last) probe(last);
    run.observe();
  }
  return true;
}

const FirstFailure& Replay::first_failure(std::size_t r) const { return runs_[r]->first_failure; }

const dart::DartStats& Replay::dart_stats(std::size_t r) const { return runs_[r]->dart.stats(); }

const mapper::MapperStats& Replay::mapper_stats(std::size_t r) const { return runs_[r]->mapper.stats(); }

RunResult Replay::result(std::size_t r) const {
  const Run& run = *runs_.at(r);
  const mapper::MapperStats& s = run.mapper.stats();
  RunResult out;
  out.policy = run.mapper.policy().spec();
  out.dart = run.dart_spec;
  // Requests that waited count once: when served, or, cancelled or still waiting, here.
  out.requests = s.map_requests + run.waiting_segments + run.cancelled_segments;
  out.peak_mappings = s.peak_mappings;
  out.peak_mapped_bytes = run.dart.stats().peak_mapped_bytes;
  out.peak_requested_bytes = s.peak_requested_bytes;
  out.host_map_calls = s.host_map_calls;
  out.host_unmap_calls = s.host_unmap_calls;
  out.failed_maps = s.failed_maps;
  for (int i = 0; i < dartlab::kMapErrorCount; ++i) out.failures_by_reason[static_cast<std::size_t>(i)] = s.failures[i];
  out.first_failure = run.first_failure;
  out.dropped_unmaps = run.dropped_unmaps;
  out.access_checks = run.access_checks;
  out.access_faults = run.access_faults;
  out.final_live_mappings = s.live_mappings;
  out.final_mapped_bytes = run.dart.stats().mapped_bytes;
  out.dart_peak_tables = run.metrics.peak_tables();
  out.min_largest_free_bytes = run.metrics.min_largest_free_bytes();
  out.reuse_hits = s.reuse_hits;
  out.alignment_violations = run.metrics.alignment_violations();
  out.exposure_peak_bytes = run.metrics.exposure_peak_bytes();
  out.exposure_mean_bytes = run.metrics.exposure_mean_bytes(events_);
  out.frag_index_peak = run.metrics.frag_index_peak();
  out.frag_index_final = run.metrics.frag_index();
  const dart::DartConfig& dc = run.dart.config();
  out.slot_limit = dc.unlimited_slots ? 0 : dc.slots;
  out.aperture_bytes = run.dart.stats().aperture_bytes;
  out.page_bytes = dc.page_bytes;
  out.series = run.metrics.series().points();
  out.waits = run.waits;
  out.longest_wait_events = run.longest_wait_events;
  for (std::uint64_t seq = run.wait_head; seq != run.wait_tail; ++seq) {
    const Run::Waiter& w = run.waiter(seq);
    if (w.since_event == 0) continue;
    out.longest_wait_events = std::max(out.longest_wait_events, events_ - w.since_event);  // the oldest open wait
    break;
  }
  out.cancelled_waits = run.cancelled_waits;
  out.waiting_at_end = run.waiting;
  out.waiting_accesses = run.waiting_accesses;
  return out;
}


}  // namespace dartlab::sim
