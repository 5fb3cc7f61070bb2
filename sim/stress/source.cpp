// SPDX-License-Identifier: MIT
#include "sim/stress/source.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "base/flat_map.hpp"
#include "traces/gen/rng.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::sim {

StressSource::~StressSource() = default;

std::string_view to_string(Leftovers leftovers) { return leftovers == Leftovers::Drain ? "drain" : "keep"; }

namespace {

class GeneratorSource final : public StressSource {
 public:
  GeneratorSource(std::string profile, std::unique_ptr<trace::gen::Generator> gen)
      : profile_(std::move(profile)), gen_(std::move(gen)) {}

  Status next(trace::Event& ev) override {
    if (!gen_->next(ev)) return Status::End;
    ++events_;
    return Status::Event;
  }
  const std::string& error() const override { return error_; }
  std::string locate() const override { return fmt::format("{} event {}", profile_, events_); }
  const std::vector<std::string>& devices() const override { return gen_->devices(); }

 private:
  std::string profile_;
  std::unique_ptr<trace::gen::Generator> gen_;
  std::string error_;  // a generator cannot fail once made
  std::uint64_t events_ = 0;
};

// The unmap kind that ends a request of each map kind.
trace::EventKind release_kind(trace::EventKind k) {
  switch (k) {
    case trace::EventKind::MapSg: return trace::EventKind::UnmapSg;
    case trace::EventKind::Alloc: return trace::EventKind::Free;
    default: return trace::EventKind::Unmap;
  }
}

class LoopedTraceSource final : public StressSource {
 public:
  LoopedTraceSource(std::string path, LoopOptions options)
      : path_(std::move(path)), options_(std::move(options)), rng_(options_.seed), ids_(1024) {}

  Status next(trace::Event& ev) override;
  const std::string& error() const override { return error_; }
  std::string locate() const override {
    return reader_ ? fmt::format("{} (loop {})", reader_->locate(reader_->position()), loop_ + 1) : path_;
  }
  const std::vector<std::string>& devices() const override { return reader_ ? reader_->devices() : no_devices_; }

 private:
  // A live request of the current loop: the id the soak gave it, and how it must end.
  struct Live {
    std::uint64_t soak_id;
    trace::EventKind kind;
  };
  static constexpr std::uint64_t kNoId = ~std::uint64_t{0};

  Status fail(std::string message) {
    error_ = std::move(message);
    failed_ = true;
    return Status::Error;
  }
  Status fail_here(std::string_view what) {
    return fail(fmt::format("{}: error: {} (loop {})", reader_->locate(reader_->position()), what, loop_ + 1));
  }
  bool shift(std::uint64_t& gpa, std::uint64_t len_bytes) const {
    if (gpa > std::numeric_limits<std::uint64_t>::max() - shift_bytes_) return false;
    gpa += shift_bytes_;
    // The reader refuses zero lengths; a range may end exactly at 2^64.
    return len_bytes == 0 || len_bytes - 1 <= std::numeric_limits<std::uint64_t>::max() - gpa;
  }
  Status translate(trace::Event& ev);
  void end_loop();

  std::string path_;
  LoopOptions options_;
  trace::gen::Rng rng_;
  std::unique_ptr<trace::TraceReader> reader_;
  std::uint64_t loop_ = 0;
  std::uint64_t loop_events_ = 0;
  std::uint64_t shift_bytes_ = 0;
  std::uint64_t next_id_ = 1;
  // Trace id -> the live request of this loop. Released requests leave it: memory follows live.
  dartlab::FlatMap<std::uint64_t, Live, dartlab::FlatHash<std::uint64_t>, kNoId> ids_;
  std::vector<Live> drain_;  // the leftovers of the loop just ended, being released
  std::size_t drain_next_ = 0;
  std::vector<trace::Segment> segments_;  // shifted map_sg segments, grown to the longest list
  std::string error_;
  bool failed_ = false;
  std::vector<std::string> no_devices_;
};

StressSource::Status LoopedTraceSource::next(trace::Event& ev) {
  if (failed_) return Status::Error;
  if (path_ == "-") return fail("<stdin>: error: standard input cannot be looped; save the trace to a file");
  for (;;) {
    if (drain_next_ < drain_.size()) {
      const Live& leftover = drain_[drain_next_++];
      ev = trace::Event{};
      ev.kind = release_kind(leftover.kind);
      ev.id = leftover.soak_id;
      return Status::Event;
    }
    if (!reader_) {
      reader_ = trace::open_trace(path_, options_.input.reader_options(false), options_.input.format);
      loop_events_ = 0;
    }
    const auto status = reader_->next(ev);
    if (status == trace::TraceReader::Status::Error) return fail(reader_->error().to_string());
    if (status == trace::TraceReader::Status::End) {
      if (loop_events_ == 0) return fail(fmt::format("{}: error: the trace has no events to loop", path_));
      end_loop();
      continue;
    }
    ++loop_events_;
    return translate(ev);
  }
}

StressSource::Status LoopedTraceSource::translate(trace::Event& ev) {
  if (trace::is_map_kind(ev.kind)) {
    if (ev.id == kNoId) return fail_here(fmt::format("id {} is reserved", ev.id));
    if (ids_.find(ev.id) != nullptr)
      return fail_here(fmt::format("{} of id {} which is still live", trace::to_string(ev.kind), ev.id));
    if (ev.kind == trace::EventKind::MapSg) {
      if (segments_.size() < ev.segments.size()) segments_.resize(ev.segments.size());
      for (std::size_t i = 0; i < ev.segments.size(); ++i) {
        segments_[i] = ev.segments[i];
        if (!shift(segments_[i].gpa, segments_[i].len_bytes))
          return fail_here(fmt::format("segment {} shifted by {:#x} passes 2^64", i + 1, shift_bytes_));
      }
      ev.segments = std::span<const trace::Segment>(segments_.data(), ev.segments.size());
    } else if (!shift(ev.gpa, ev.len_bytes)) {
      return fail_here(fmt::format("gpa {:#x} shifted by {:#x} passes 2^64", ev.gpa, shift_bytes_));
    }
    ids_.insert(ev.id, Live{next_id_, ev.kind});
    ev.id = next_id_++;
    return Status::Event;
  }
  Live* live = ids_.find(ev.id);
  if (live == nullptr)
    return fail_here(fmt::format("{} of id {} which is not live", trace::to_string(ev.kind), ev.id));
  if (trace::is_unmap_kind(ev.kind)) {
    if (release_kind(live->kind) != ev.kind)
      return fail_here(fmt::format("{} of id {}, which was created by {}", trace::to_string(ev.kind), ev.id,
                                   trace::to_string(live->kind)));
    const std::uint64_t soak_id = live->soak_id;
    ids_.erase(ev.id);
    ev.id = soak_id;
    return Status::Event;
  }
  // An access: the same shift as its request.
  ev.id = live->soak_id;
  if (!shift(ev.gpa, ev.len_bytes))
    return fail_here(fmt::format("access at {:#x} shifted by {:#x} passes 2^64", ev.gpa, shift_bytes_));
  return Status::Event;
}

void LoopedTraceSource::end_loop() {
  drain_.clear();
  drain_next_ = 0;
  if (options_.leftovers == Leftovers::Drain) {
    ids_.for_each([&](std::uint64_t, const Live& live) { drain_.push_back(live); });
    // Oldest first: soak ids grow in map order, and the table's order is a hash's.
    std::sort(drain_.begin(), drain_.end(), [](const Live& a, const Live& b) { return a.soak_id < b.soak_id; });
  }
  ids_.clear();
  reader_.reset();
  ++loop_;
  shift_bytes_ = kJitterUnitBytes * rng_.between(0, options_.jitter_bytes / kJitterUnitBytes);
}

}  // namespace

std::unique_ptr<StressSource> make_generator_source(std::string_view profile, trace::gen::GenParams params,
                                                    std::string* error) {
  params.drain = false;
  auto gen = trace::gen::make_generator(profile, params, error);
  if (!gen) return nullptr;
  return std::make_unique<GeneratorSource>(std::string(profile), std::move(gen));
}

std::unique_ptr<StressSource> make_looped_trace_source(const std::string& path, const LoopOptions& options) {
  return std::make_unique<LoopedTraceSource>(path, options);
}

}  // namespace dartlab::sim
