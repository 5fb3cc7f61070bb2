// SPDX-License-Identifier: MIT
// The metrics a replay keeps for each run beside the mapper's and the DART's own counters:
// exposure (bytes the device can reach beyond the bytes requested), the aperture's fragmentation
// index, the time series, alignment checks and the DART's peaks. They observe every step and
// change nothing. Inline: observe() runs after every event, on the hot path; what it reads from
// the DART is worked out again only on the events that called the DART (RunMetrics::observe).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "models/dart/dart.hpp"
#include "passthrough/mapper/mapper.hpp"
#include "sim/replay/series.hpp"

namespace dartlab::sim {

// 1 - largest free extent / free bytes: 0 when the free space is one run (or there is none),
// towards 1 when it is cut into many small ones. A map fails as "fragmented" when its size lies
// between the largest extent and the free bytes.
inline double fragmentation_index(std::uint64_t free_bytes, std::uint64_t largest_free_bytes) {
  if (free_bytes == 0) return 0.0;
  return 1.0 - static_cast<double>(largest_free_bytes) / static_cast<double>(free_bytes);
}

// Bytes mapped beyond those requested; 0 when overlapping requests make requested exceed mapped.
inline std::uint64_t exposure_bytes(std::uint64_t mapped_bytes, std::uint64_t requested_bytes) {
  return mapped_bytes > requested_bytes ? mapped_bytes - requested_bytes : 0;
}

// The driver wanted the bus address aligned (UVM's 2 MiB pages, align=); the host chose it.
inline bool breaks_alignment(std::uint64_t dma_addr, std::uint64_t align_bytes) {
  return align_bytes != 0 && (dma_addr & (align_bytes - 1)) != 0;
}

class RunMetrics {
 public:
  // `dart` is the DART's state before the first event; series_points 0 keeps no series.
  RunMetrics(std::size_t series_points, const dart::DartStats& dart)
      : min_largest_free_bytes_(dart.largest_free_bytes),
        seen_changes_(dart.changes),
        series_(series_points),
        keep_series_(series_points != 0) {
    series_.note_change(SeriesSample{0, dart.mapped_bytes, 0, frag_index_, 0});  // the state before the first event
  }

  // After every event: the metrics that are integrals or peaks over events. Mapped bytes are the
  // DART's, in its own pages (the mapper's keys are 16 KiB-rounded; a 64 KiB-page DART maps more).
  //
  // Only the requested bytes move on every event. What is read from the DART (mapped, free and
  // largest free bytes, tables) moves only when a map is served or an unmap done, which its
  // change counter shows, and the mapper's live host mappings only with those; the queue only
  // when a request waits or leaves it, which queue_moved() marks. Those metrics are worked out
  // on the events that move them (a few in a thousand under a window policy) and stand still
  // otherwise, with the same values: a peak or a bucket's maximum of a repeated value is that
  // value. A refused map moves nothing: under a stingy host (slots=8192,aperture=512M) six
  // requests in ten are refused, and counting calls instead worked the metrics out for each.
  [[gnu::always_inline]] void observe(const mapper::MapperStats& s, const dart::DartStats& d, std::uint64_t waiting) {
    const std::uint64_t requested = s.requested_bytes;
    const std::uint64_t exposure = exposure_bytes(d.mapped_bytes, requested);
    exposure_peak_bytes_ = std::max(exposure_peak_bytes_, exposure);
    exposure_sum_bytes_ += static_cast<double>(exposure);
    if (d.changes != seen_changes_) [[unlikely]] moved(s, d, waiting);
    if (keep_series_)
      series_.add_event(requested, [&] { return SeriesSample{s.live_mappings, d.mapped_bytes, requested, frag_index_, waiting}; });
  }

  // The run's wait queue grew or shrank in this event: its observe() works the moved metrics out.
  void queue_moved() { seen_changes_ = kUnseen; }

  // After a served map: its alignment, and the DART's peaks. A refused map has none to take: it
  // left the DART as it was, a state some observe() has already read (the last change's, or the
  // first one's, which the constructor took).
  void after_map(std::uint64_t dma_addr, std::uint64_t align_bytes, const dart::DartStats& d) {
    after_served_map(dma_addr, align_bytes);
    peak_tables_ = std::max(peak_tables_, d.tables_live);
    min_largest_free_bytes_ = std::min(min_largest_free_bytes_, d.largest_free_bytes);
  }
  // The same for a map served with nothing else done in its run before the event's observe(),
  // which takes the DART's peaks when the map moved it (the state after_map would have read).
  void after_served_map(std::uint64_t dma_addr, std::uint64_t align_bytes) {
    if (breaks_alignment(dma_addr, align_bytes)) ++alignment_violations_;
  }

  std::uint64_t exposure_peak_bytes() const { return exposure_peak_bytes_; }
  double exposure_mean_bytes(std::uint64_t events) const {
    return events == 0 ? 0.0 : exposure_sum_bytes_ / static_cast<double>(events);
  }
  double frag_index() const { return frag_index_; }
  double frag_index_peak() const { return frag_index_peak_; }
  std::uint64_t alignment_violations() const { return alignment_violations_; }
  std::uint64_t peak_tables() const { return peak_tables_; }
  std::uint64_t min_largest_free_bytes() const { return min_largest_free_bytes_; }
  const Series& series() const { return series_; }

 private:
  // An event that called the DART or moved the queue. The largest free extent and the tables seen
  // here count as after_map's: between maps the DART only unmaps, which never shrinks the largest
  // free extent nor adds a table, so these extremes are those of the states after maps.
  [[gnu::noinline]] void moved(const mapper::MapperStats& s, const dart::DartStats& d, std::uint64_t waiting) {
    // The DART has just stored the counts read here, each as an 8-byte store. GCC merges two
    // neighbours' reads into one 16-byte load, which no store can forward to: it waits until the
    // stores reach the cache, behind every older store still missing its line (perf put 62% of
    // this function's samples in a 20-point sweep on the free and largest-free bytes' load). Read
    // apart (the empty asm between them), each is forwarded at once.
    seen_changes_ = d.changes;
    std::uint64_t free_bytes = d.free_bytes;
    asm("" : "+r"(free_bytes));
    const std::uint64_t largest_free_bytes = d.largest_free_bytes;
    if (free_bytes != frag_free_bytes_ || largest_free_bytes != frag_largest_free_bytes_) {
      frag_free_bytes_ = free_bytes;
      frag_largest_free_bytes_ = largest_free_bytes;
      frag_index_ = fragmentation_index(free_bytes, largest_free_bytes);
      frag_index_peak_ = std::max(frag_index_peak_, frag_index_);
    }
    peak_tables_ = std::max(peak_tables_, d.tables_live);
    min_largest_free_bytes_ = std::min(min_largest_free_bytes_, largest_free_bytes);
    if (keep_series_) series_.note_change(SeriesSample{s.live_mappings, d.mapped_bytes, s.requested_bytes, frag_index_, waiting});
  }

  std::uint64_t exposure_peak_bytes_ = 0;
  // Over events, a double added event by event (1.5 GiB x 1e12 events would wrap a u64). An exact
  // integer sum would be cheaper and more exact, but past 2^53 (a few million events of a large
  // exposure) it differs in the last digits, and results stay byte-identical.
  double exposure_sum_bytes_ = 0;
  double frag_index_ = 0;
  double frag_index_peak_ = 0;
  // frag_index_ is that of these two byte counts; at first none (no aperture has 2^64 - 1 bytes free).
  std::uint64_t frag_free_bytes_ = ~std::uint64_t{0};
  std::uint64_t frag_largest_free_bytes_ = ~std::uint64_t{0};
  std::uint64_t alignment_violations_ = 0;
  std::uint64_t peak_tables_ = 0;
  std::uint64_t min_largest_free_bytes_ = 0;  // the smallest largest-free-extent seen after a map
  // The DART's change count when moved() last ran (kUnseen: run it at the next observe()). The
  // count cannot reach kUnseen: a change takes far longer than 2^64 would allow.
  static constexpr std::uint64_t kUnseen = ~std::uint64_t{0};
  std::uint64_t seen_changes_ = 0;
  Series series_;
  bool keep_series_;
};

}  // namespace dartlab::sim
