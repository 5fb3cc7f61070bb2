// SPDX-License-Identifier: MIT
#include "sim/sweep/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

namespace dartlab::sim {

std::vector<SweepPass> plan_sweep(const SweepConfig& config, Shard shard, unsigned jobs, std::size_t max_group) {
  max_group = std::clamp<std::size_t>(max_group, 1, Replay::kMaxRuns);
  jobs = std::max(jobs, 1u);
  std::vector<std::vector<std::size_t>> by_trace(config.traces.size());
  for (const SweepPoint& p : config.points)
    if (shard.holds(p.index)) by_trace[p.trace].push_back(p.index);
  // A trace's share of the work decides how many passes it needs to keep `jobs` threads busy.
  const auto cost_of = [&](std::size_t t, std::size_t points) {
    return std::max<std::uint64_t>(config.traces[t].file_bytes, 1) * points;
  };
  std::uint64_t total_cost = 0;
  for (std::size_t t = 0; t < by_trace.size(); ++t) total_cost += cost_of(t, by_trace[t].size());

  std::vector<SweepPass> passes;
  for (std::size_t t = 0; t < by_trace.size(); ++t) {
    const std::vector<std::size_t>& points = by_trace[t];
    if (points.empty()) continue;
    const std::size_t k = points.size();
    const double share = static_cast<double>(cost_of(t, k)) / static_cast<double>(total_cost);
    const auto for_jobs = static_cast<std::size_t>(std::ceil(share * jobs - 1e-9));
    const std::size_t n = std::min(k, std::max((k + max_group - 1) / max_group, for_jobs));
    const std::size_t first = passes.size();
    for (std::size_t i = 0; i < n; ++i) passes.push_back({t, {}, 0});
    for (std::size_t j = 0; j < k; ++j) passes[first + j % n].points.push_back(points[j]);
    for (std::size_t i = first; i < passes.size(); ++i) passes[i].cost = cost_of(t, passes[i].points.size());
  }
  // Longest first: the last passes to start are the short ones, so the threads finish together.
  std::stable_sort(passes.begin(), passes.end(), [](const SweepPass& a, const SweepPass& b) { return a.cost > b.cost; });
  return passes;
}

std::variant<SweepOutcome, std::string> run_sweep(const SweepConfig& config, Shard shard,
                                                  const SweepRunOptions& options, SweepProgress& progress,
                                                  const std::function<void()>& tick) {
  const std::vector<SweepPass> passes = plan_sweep(config, shard, options.jobs, options.max_group);
  progress.work_total = 0;
  progress.points_total = 0;
  for (const SweepPass& p : passes) {
    progress.work_total += config.traces[p.trace].file_bytes * p.points.size();
    progress.points_total += p.points.size();
  }

  std::vector<std::optional<TraceOutcome>> pass_outcomes(passes.size());
  std::atomic<std::size_t> next_pass{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;  // guards failure, running, finished, and what sliced_loop shares
  std::condition_variable finished;
  std::string failure;
  std::exception_ptr crash;  // rethrown on the calling thread: an internal error, not the trace's
  std::size_t running = 0;

  // A pass open for replay, with what its progress reports have counted so far.
  struct Active {
    std::size_t pass = 0;
    std::unique_ptr<FileReplay> replay;
    ProgressFn progress;
    std::uint64_t bytes_seen = 0;
    std::uint64_t events_seen = 0;
    double fraction = 0;  // of the trace replayed, as of its last slice (sliced_loop)
    bool busy = true;     // sliced_loop: a thread is replaying it
    std::size_t last_worker = 0;  // sliced_loop: who replayed its last slice
  };
  const auto open_pass = [&](std::size_t i) {
    auto a = std::make_unique<Active>();
    a->pass = i;
    const SweepPass& pass = passes[i];
    std::vector<RunConfig> runs;
    for (std::size_t p : pass.points) runs.push_back(config.points[p].config);
    const std::uint64_t n = pass.points.size();
    Active* const self = a.get();
    a->progress = [&progress, self, n](std::uint64_t bytes, std::uint64_t, std::uint64_t events) {
      progress.work_done += (bytes - self->bytes_seen) * n;
      progress.point_events += (events - self->events_seen) * n;
      self->bytes_seen = bytes;
      self->events_seen = events;
    };
    const InputOptions input{.device = config.device, .reader_thread = options.reader_thread ? InputOptions::ReaderThread::Yes : InputOptions::ReaderThread::No};
    // The same series as `replay --json` keeps: reports plot a point's run over time.
    const ReplayOptions replay_options{.lenient = config.lenient, .series_points = Series::kDefaultPoints};
    a->replay = std::make_unique<FileReplay>(config.traces[pass.trace].path, runs, replay_options, input);
    return a;
  };
  // A finished pass's outcome, with the mutex held: its results, or the failure that stops the sweep.
  const auto record = [&](std::size_t i, std::variant<TraceOutcome, std::string>&& outcome) {
    if (auto* err = std::get_if<std::string>(&outcome)) {
      if (failure.empty()) failure = std::move(*err);
      stop = true;
      return;
    }
    pass_outcomes[i] = std::move(std::get<TraceOutcome>(outcome));
    progress.points_done += passes[i].points.size();
  };

  // One thread, or a reader thread per pass: each pass whole, on the thread that opened it.
  const auto work_loop = [&] {
    for (;;) {
      const std::size_t i = next_pass.fetch_add(1);
      if (i >= passes.size() || stop.load()) break;
      const std::unique_ptr<Active> a = open_pass(i);
      if (options.reader_thread) {
        a->replay->run_with_reader_thread(a->progress);
      } else {
        while (a->replay->advance(~std::size_t{0}, a->progress)) {
        }
      }
      auto outcome = a->replay->finish(a->progress);
      std::lock_guard lock(mutex);
      record(i, std::move(outcome));
    }
  };
  // On two threads or more the passes advance a slice at a time, each slice on whichever thread
  // is free, the least advanced pass first: they finish together, and no thread replays the last
  // pass alone while the others wait (a whole-pass schedule lost a tenth of two cores to that
  // tail on the sweep bench, whose stingy-host points cost 1.3x the others). A thread keeps its
  // pass while it is at most kStayAhead ahead of the least advanced one waiting, so that a pass
  // moves between cores about 1 / kStayAhead times, not at every slice. Up to two passes a thread
  // are open at once: a pass opened late would again be replayed alone at the end.
  std::condition_variable pass_free;  // a pass was let go, or opened, or the sweep stops
  std::vector<std::unique_ptr<Active>> active;  // guarded by mutex, as the counts below
  std::size_t opened = 0;                       // passes opened or being opened, in plan order
  std::size_t opening = 0;
  const std::size_t max_active = 2 * static_cast<std::size_t>(std::max(options.jobs, 1u));
  std::uint64_t slices = 0;  // guarded by mutex
  std::uint64_t pass_moves = 0;
  std::size_t workers_named = 0;
  const auto sliced_loop = [&] {
    // 16 K events by default: a few ms of a pass of five, so that a lock and a choice a slice
    // cost nothing, and the last slices to end are short.
    const std::size_t slice_batches = std::max<std::size_t>(1, options.slice_events / 1024);
    constexpr double kStayAhead = 1.0 / 32;
    constexpr std::size_t kNone = ~std::size_t{0};
    std::size_t last = kNone;  // the pass this thread replayed last (another may have finished it)
    std::unique_lock lock(mutex);
    const std::size_t me = workers_named++;
    for (;;) {
      if (stop) return;
      Active* pick = nullptr;
      Active* mine = nullptr;
      for (const auto& a : active) {
        if (a->busy) continue;
        if (pick == nullptr || a->fraction < pick->fraction) pick = a.get();
        if (a->pass == last) mine = a.get();
      }
      if (mine != nullptr && mine->fraction <= pick->fraction + kStayAhead) pick = mine;
      const bool can_open = opened < passes.size() && active.size() + opening < max_active;
      if (can_open && (pick == nullptr || pick->fraction > kStayAhead)) {
        const std::size_t i = opened++;
        ++opening;
        lock.unlock();
        std::unique_ptr<Active> a = open_pass(i);  // busy: this thread replays it first
        lock.lock();
        --opening;
        pick = a.get();
        active.push_back(std::move(a));
      } else if (pick == nullptr) {
        if (active.empty() && opening == 0 && opened == passes.size()) return;  // all done
        pass_free.wait(lock);
        continue;
      }
      pick->busy = true;
      if (pick->last_worker != me && pick->fraction > 0) ++pass_moves;
      pick->last_worker = me;
      ++slices;
      last = pick->pass;
      lock.unlock();
      const bool more = pick->replay->advance(slice_batches, pick->progress);
      std::optional<std::variant<TraceOutcome, std::string>> outcome;
      if (!more) outcome = pick->replay->finish(pick->progress);
      lock.lock();
      pick->busy = false;
      pick->fraction = pick->replay->fraction();
      if (outcome) {
        record(pick->pass, std::move(*outcome));
        std::erase_if(active, [&](const auto& a) { return a.get() == pick; });
      }
      pass_free.notify_all();
    }
  };

  const bool sliced = !options.reader_thread && std::min<std::size_t>(std::max(options.jobs, 1u), passes.size()) > 1;
  const auto work = [&] {
    try {
      if (sliced) {
        sliced_loop();
      } else {
        work_loop();
      }
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!crash) crash = std::current_exception();
      stop = true;
    }
    std::lock_guard lock(mutex);
    --running;
    finished.notify_all();
    pass_free.notify_all();  // a thread waiting for a pass sees the stop, or that none is left
  };

  SweepOutcome out;
  out.passes = passes.size();
  out.jobs = static_cast<unsigned>(std::min<std::size_t>(std::max(options.jobs, 1u), passes.size()));
  std::vector<std::thread> workers;
  running = out.jobs;
  for (unsigned j = 0; j < out.jobs; ++j) workers.emplace_back(work);
  {
    std::unique_lock lock(mutex);
    while (running != 0) {
      finished.wait_for(lock, std::chrono::milliseconds(250), [&] { return running == 0; });
      if (tick && running != 0) {
        lock.unlock();
        tick();
        lock.lock();
      }
    }
  }
  for (std::thread& w : workers) w.join();
  out.slices = slices;
  out.pass_moves = pass_moves;
  if (crash) std::rethrow_exception(crash);
  if (!failure.empty()) return failure;

  // Gather by trace, results in point order.
  for (std::size_t t = 0; t < config.traces.size(); ++t) {
    std::vector<std::pair<std::size_t, const RunResult*>> results;
    const TraceOutcome* first = nullptr;
    for (std::size_t i = 0; i < passes.size(); ++i) {
      if (passes[i].trace != t) continue;
      const TraceOutcome& o = *pass_outcomes[i];
      if (first == nullptr) {
        first = &o;
      } else if (o.events != first->events || o.warnings != first->warnings) {
        return fmt::format("{}: read twice with different contents ({} then {} events): did it change during the sweep?",
                           config.traces[t].path, first->events, o.events);
      }
      for (std::size_t r = 0; r < passes[i].points.size(); ++r) results.emplace_back(passes[i].points[r], &o.results[r]);
    }
    if (first == nullptr) continue;
    std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    SweepTraceOutcome st;
    st.outcome = *first;
    st.outcome.trace = config.traces[t].name;
    st.outcome.results.clear();
    for (const auto& [point, result] : results) {
      st.points.push_back(point);
      st.outcome.results.push_back(*result);
    }
    out.traces.push_back(std::move(st));
  }
  return out;
}

}  // namespace dartlab::sim
