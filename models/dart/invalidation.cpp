// SPDX-License-Identifier: MIT
#include "models/dart/invalidation.hpp"

namespace dartlab::dart {

std::string_view to_string(InvalidationMode m) {
  switch (m) {
    case InvalidationMode::Strict: return "strict";
    case InvalidationMode::Batched: return "batched";
  }
  return "?";
}

std::string_view to_string(FlushScope s) {
  switch (s) {
    case FlushScope::All: return "all";
    case FlushScope::Stream: return "stream";
    case FlushScope::Range: return "range";
  }
  return "?";
}

FlushCost flush_cost(const InvalidationConfig& c) {
  FlushCost out;
  // The flush starts when the write lands; each status read sees the state at its end.
  std::uint64_t since_start = c.status_read_ns;
  out.polls = 1;
  while (since_start < c.flush_hw_ns) {
    if (since_start >= c.poll_timeout_ns) {
      out.timed_out = true;
      break;
    }
    since_start += std::uint64_t{c.poll_interval_ns} + c.status_read_ns;
    ++out.polls;
  }
  out.ns = c.command_write_ns + since_start;
  return out;
}

bool InvalidationPolicy::on_map(std::uint64_t) { return config_.mode == InvalidationMode::Strict; }

bool InvalidationPolicy::on_unmap(std::uint64_t now_ns) {
  if (config_.mode == InvalidationMode::Strict) return true;
  if (pending_ == 0) oldest_ns_ = now_ns;
  if (++pending_ < config_.batch_entries) return false;
  pending_ = 0;
  return true;
}

bool InvalidationPolicy::on_time(std::uint64_t now_ns) {
  if (pending_ == 0 || now_ns - oldest_ns_ < config_.batch_window_ns) return false;
  pending_ = 0;
  return true;
}

FlushScope InvalidationPolicy::scope() const {
  if (config_.mode == InvalidationMode::Batched && config_.scope == FlushScope::Range) return FlushScope::Stream;
  return config_.scope;
}

}  // namespace dartlab::dart
