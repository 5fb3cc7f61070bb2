// SPDX-License-Identifier: MIT
#include "sim/replay/replay_file.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "traces/trace_reader.hpp"

namespace dartlab::sim {

namespace {

// Parsing and replaying overlap: a reader thread fills batches of events while the calling
// thread replays the previous ones. Batches are large so that hand-offs are rare; the replay
// reads ahead in groups of its own (Replay::kGroup).
constexpr std::size_t kBatchEvents = 1024;
constexpr std::size_t kBatchesInFlight = 8;  // the reader is woken when half are free

}  // namespace

struct Batch {
  std::size_t count = 0;
  std::array<trace::Event, kBatchEvents> events;
  std::array<std::uint64_t, kBatchEvents> lines{};
  // map_sg segments, copied (a reader's spans die with its next event): event i's are
  // segments[seg_first[i] .. + seg_count[i]); the consumer points the spans at them.
  std::vector<trace::Segment> segments;
  std::array<std::uint32_t, kBatchEvents> seg_first{};
  std::array<std::uint32_t, kBatchEvents> seg_count{};
  std::uint64_t bytes_consumed = 0;
  bool last = false;  // no batch follows
  std::string error;  // a parse error right after these events
};

namespace {

// A bounded single-producer single-consumer queue of batches. The reader is several times faster
// than the replay, so it mostly waits for room; woken for every batch consumed, it cost the
// replay's thread a futex wake each 1,024 events (8% of a replay's samples, in the kernel). It is
// woken once half the batches are free instead, and each side is notified only while it waits.
class BatchQueue {
 public:
  // Producer: the next slot to fill, or nullptr once the consumer has given up.
  Batch* next_empty() {
    std::unique_lock lock(mutex_);
    if (!abandoned_ && filled_ - consumed_ == kBatchesInFlight) {
      producer_waits_ = true;
      changed_.wait(lock, [&] { return abandoned_ || filled_ - consumed_ <= kBatchesInFlight / 2; });
      producer_waits_ = false;
    }
    return abandoned_ ? nullptr : &slots_[filled_ % kBatchesInFlight];
  }
  void publish() {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      ++filled_;
      wake = consumer_waits_;
    }
    if (wake) changed_.notify_all();
  }
  // Consumer: the oldest filled batch.
  Batch& next_filled() {
    std::unique_lock lock(mutex_);
    if (filled_ == consumed_) {
      consumer_waits_ = true;
      changed_.wait(lock, [&] { return filled_ > consumed_; });
      consumer_waits_ = false;
    }
    return slots_[consumed_ % kBatchesInFlight];
  }
  void done_with_it() {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      ++consumed_;
      wake = producer_waits_ && filled_ - consumed_ <= kBatchesInFlight / 2;
    }
    if (wake) changed_.notify_all();
  }
  void abandon() {
    {
      std::lock_guard lock(mutex_);
      abandoned_ = true;
    }
    changed_.notify_all();
  }

 private:
  std::array<Batch, kBatchesInFlight> slots_;
  std::size_t filled_ = 0;
  std::size_t consumed_ = 0;
  bool abandoned_ = false;
  bool producer_waits_ = false;
  bool consumer_waits_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
};

// Fills b with the reader's next events; b.last says whether another batch can follow.
void fill_batch(trace::TraceReader& reader, Batch& b) {
  b.count = 0;
  b.segments.clear();
  b.error.clear();
  b.last = false;
  while (b.count < kBatchEvents) {
    const std::size_t i = b.count;
    trace::Event& ev = b.events[i];
    const auto status = reader.next(ev);
    if (status == trace::TraceReader::Status::End) {
      b.last = true;
      break;
    }
    if (status == trace::TraceReader::Status::Error) {
      b.error = reader.error().to_string();
      b.last = true;
      break;
    }
    b.lines[i] = reader.position();
    b.seg_first[i] = static_cast<std::uint32_t>(b.segments.size());
    b.seg_count[i] = static_cast<std::uint32_t>(ev.segments.size());
    b.segments.insert(b.segments.end(), ev.segments.begin(), ev.segments.end());
    ev.segments = {};
    ++b.count;
  }
  b.bytes_consumed = reader.bytes_consumed();
}

void read_batches(trace::TraceReader& reader, BatchQueue& queue) {
  for (;;) {
    Batch* b = queue.next_empty();
    if (b == nullptr) return;
    fill_batch(reader, *b);
    const bool last = b->last;
    queue.publish();
    if (last) return;
  }
}

}  // namespace

FileReplay::FileReplay(const std::string& path, std::span<const RunConfig> runs, const ReplayOptions& options,
                       const InputOptions& input)
    : path_(path) {
  timed([&] {
    reader_ = trace::open_trace(path, input.reader_options(options.lenient), input.format);
    ReplayOptions replay_options = options;
    replay_options.position_unit = reader_->position_unit();  // "line", or "event" in a binary trace
    replay_ = std::make_unique<Replay>(runs, replay_options);
  });
}

FileReplay::~FileReplay() = default;

template <class F>
void FileReplay::timed(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  busy_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool FileReplay::replay_batch(Batch& b, const ProgressFn& progress) {
  for (std::size_t i = 0; i < b.count; ++i)
    if (b.seg_count[i] != 0) b.events[i].segments = std::span(b.segments.data() + b.seg_first[i], b.seg_count[i]);
  const std::size_t done = replay_->apply_batch(std::span(b.events.data(), b.count), std::span(b.lines.data(), b.count));
  if (done < b.count) failure_ = fmt::format("{}: error: {}", reader_->locate(b.lines[done]), replay_->issue().message);
  // Events before a bad line count, in order, before the parse error is reported.
  if (failure_.empty() && !b.error.empty()) failure_ = b.error;
  if (!failure_.empty()) return false;
  if (progress && replay_->events() >= next_progress_) {
    progress(b.bytes_consumed, reader_->file_bytes(), replay_->events());
    next_progress_ = replay_->events() + (1 << 16);
  }
  return !b.last;
}

bool FileReplay::advance(std::size_t batches, const ProgressFn& progress) {
  if (done_) return false;
  timed([&] {
    if (!batch_) batch_ = std::make_unique<Batch>();  // big (a thousand events): on the heap
    for (std::size_t n = 0; n < batches && !done_; ++n) {
      fill_batch(*reader_, *batch_);
      done_ = !replay_batch(*batch_, progress);
    }
  });
  return !done_;
}

void FileReplay::run_with_reader_thread(const ProgressFn& progress) {
  if (done_) return;
  timed([&] {
    // Big (eight batches of a thousand events): on the heap, not the stack.
    auto queue = std::make_unique<BatchQueue>();
    std::thread producer(read_batches, std::ref(*reader_), std::ref(*queue));
    for (bool more = true; more;) {
      more = replay_batch(queue->next_filled(), progress);
      queue->done_with_it();
    }
    queue->abandon();  // a producer still reading stops at its next batch
    producer.join();
  });
  done_ = true;
}

double FileReplay::fraction() const {
  const std::uint64_t total = reader_->file_bytes();
  if (total == 0) return 0.0;
  return std::min(1.0, static_cast<double>(reader_->bytes_consumed()) / static_cast<double>(total));
}

std::variant<TraceOutcome, std::string> FileReplay::finish(const ProgressFn& progress) {
  if (!failure_.empty()) return failure_;
  TraceOutcome out;
  timed([&] {
    if (progress) progress(reader_->bytes_consumed(), reader_->file_bytes(), replay_->events());
    out.trace = path_;
    out.events = replay_->events();
    out.warnings = reader_->warnings() + replay_->warnings();
    out.warning_samples = reader_->warning_samples();
    out.format = reader_->format_name();
    out.notes.assign(reader_->notes().begin(), reader_->notes().end());
    for (const auto& w : replay_->warning_samples()) out.warning_samples.push_back(w);
    for (std::size_t r = 0; r < replay_->run_count(); ++r) out.results.push_back(replay_->result(r));
  });
  out.wall_seconds = busy_seconds_;
  return out;
}

std::variant<TraceOutcome, std::string> replay_file(const std::string& path, std::span<const RunConfig> runs,
                                                    const ReplayOptions& options, const ProgressFn& progress,
                                                    const InputOptions& input) {
  FileReplay replay(path, runs, options, input);
  if (input.reader_thread != InputOptions::ReaderThread::No) {
    replay.run_with_reader_thread(progress);
  } else {
    while (replay.advance(~std::size_t{0}, progress)) {
    }
  }
  return replay.finish(progress);
}

}  // namespace dartlab::sim
