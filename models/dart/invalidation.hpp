// SPDX-License-Identifier: MIT
// When and what the host flushes from the DART's IOTLB after it changed the page tables, and what
// one flush costs the host CPU. Strict mode is Linux apple-dart.c: flush the device's whole
// stream on every map and every unmap, then busy-poll the command's busy bit (every 1 us, 100 us
// timeout). Batched mode is Linux's flush queue: unmaps queue up and one flush serves them all
// once 250 are queued or 10 ms have passed (BACKGROUND); maps flush nothing, as a fresh bus range
// cannot be in the IOTLB while ranges are not reused before their flush (the queue's rule).
#pragma once

#include <cstdint>
#include <string_view>

namespace dartlab::dart {

enum class InvalidationMode : std::uint8_t { Strict, Batched };
// What one flush command covers: every stream, the device's stream, or the pages just changed
// (range flush: later t8110 revisions only; batched flushes fall back to the stream).
enum class FlushScope : std::uint8_t { All, Stream, Range };
std::string_view to_string(InvalidationMode m);
std::string_view to_string(FlushScope s);

struct InvalidationConfig {
  InvalidationMode mode = InvalidationMode::Strict;  // spec: Linux apple-dart flushes on every map and unmap
  FlushScope scope = FlushScope::Stream;              // spec: apple-dart flushes the whole stream
  std::uint32_t batch_entries = 250;                  // BACKGROUND: flush queue, 250 entries ...
  std::uint64_t batch_window_ns = 10'000'000;         // ... or 10 ms
  std::uint32_t command_write_ns = 100;   // guess: one uncached MMIO write from the host CPU
  std::uint32_t status_read_ns = 150;     // guess: one uncached MMIO read of the command register
  std::uint32_t flush_hw_ns = 500;        // guess: no published flush latency (BACKGROUND); a parameter
  std::uint32_t poll_interval_ns = 1000;  // spec: apple-dart polls the busy bit every 1 us ...
  std::uint32_t poll_timeout_ns = 100'000;  // ... and gives up after 100 us
  friend bool operator==(const InvalidationConfig&, const InvalidationConfig&) = default;
};

// One flush as the host driver sees it: write the command, read the busy bit, and while it is
// set wait poll_interval and read again (readl_poll_timeout_atomic). Capped at the timeout.
struct FlushCost {
  std::uint64_t ns = 0;
  std::uint32_t polls = 0;  // status reads made
  bool timed_out = false;
};
FlushCost flush_cost(const InvalidationConfig& config);

// The host side's decisions. Times are the host's clock in nanoseconds.
class InvalidationPolicy {
 public:
  explicit InvalidationPolicy(const InvalidationConfig& config) : config_(config) {}

  // True when the host flushes right after this change of the tables.
  bool on_map(std::uint64_t now_ns);
  bool on_unmap(std::uint64_t now_ns);
  // True when queued unmaps have waited the whole window and their flush is due (batched mode:
  // the flush queue's timer). Call before each host operation.
  bool on_time(std::uint64_t now_ns);

  std::uint64_t pending() const { return pending_; }
  const InvalidationConfig& config() const { return config_; }
  // The scope a flush takes now: batched flushes cover many ranges, so the stream.
  FlushScope scope() const;
  void reset() { pending_ = 0; oldest_ns_ = 0; }

 private:
  InvalidationConfig config_;
  std::uint64_t pending_ = 0;    // unmaps waiting for a flush
  std::uint64_t oldest_ns_ = 0;  // when the oldest of them was queued
};

}  // namespace dartlab::dart
