// SPDX-License-Identifier: MIT
// The metrics a replay keeps for each run beside the mapper's and the DART's own counters:
// exposure (bytes the device can reach beyond the bytes requested), the aperture's fragmentation
// index, the time series, alignment checks and the DART's peaks. They observe every step and
// change nothing. Inline: observe() runs after every event, on the hot path.
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
      : min_largest_free_bytes_(dart.largest_free_bytes), series_(series_points), keep_series_(series_points != 0) {}

  // After every event: the metrics that are integrals or peaks over events. Mapped bytes are the
  // DART's, in its own pages (the mapper's keys are 16 KiB-rounded; a 64 KiB-page DART maps more).
  [[gnu::always_inline]] void observe(const mapper::MapperStats& s, const dart::DartStats& d, std::uint64_t waiting) {
    const std::uint64_t exposure = exposure_bytes(d.mapped_bytes, s.requested_bytes);
    exposure_peak_bytes_ = std::max(exposure_peak_bytes_, exposure);
    exposure_sum_bytes_ += static_cast<double>(exposure);
    // The index is a function of the aperture's free space alone, which changes only when a host
    // mapping is made or released (a few events in a thousand): a division and a compare spared
    // on every other event, with the same values (the peak of a repeated value is that value).
    std::uint64_t free_bytes = d.free_bytes;
    std::uint64_t largest = d.largest_free_bytes;
    asm("" : "+r"(free_bytes), "+r"(largest));
    if (free_bytes != frag_free_bytes_ || largest != frag_largest_free_bytes_) {
      frag_free_bytes_ = free_bytes;
      frag_largest_free_bytes_ = largest;
      frag_index_ = fragmentation_index(free_bytes, largest);
      frag_index_peak_ = std::max(frag_index_peak_, frag_index_);
    }
    if (keep_series_) series_.add(SeriesSample{s.live_mappings, d.mapped_bytes, s.requested_bytes, frag_index_, waiting});
  }

  // After a map, served or refused: its alignment (when it got an address) and the DART's peaks.
  void after_map(bool mapped, std::uint64_t dma_addr, std::uint64_t align_bytes, const dart::DartStats& d) {
    if (mapped && breaks_alignment(dma_addr, align_bytes)) ++alignment_violations_;
    peak_tables_ = std::max(peak_tables_, d.tables_live);
    min_largest_free_bytes_ = std::min(min_largest_free_bytes_, d.largest_free_bytes);
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
  std::uint64_t exposure_peak_bytes_ = 0;
  double exposure_sum_bytes_ = 0;  // over events; a double: 1.5 GiB x 1e12 events would wrap a u64
  double frag_index_ = 0;
  double frag_index_peak_ = 0;
  // frag_index_ is that of these two byte counts; at first none (no aperture has 2^64 - 1 bytes free).
  std::uint64_t frag_free_bytes_ = ~std::uint64_t{0};
  std::uint64_t frag_largest_free_bytes_ = ~std::uint64_t{0};
  std::uint64_t alignment_violations_ = 0;
  std::uint64_t peak_tables_ = 0;
  std::uint64_t min_largest_free_bytes_ = 0;  // the smallest largest-free-extent seen after a map
  Series series_;
  bool keep_series_;
};

}  // namespace dartlab::sim
