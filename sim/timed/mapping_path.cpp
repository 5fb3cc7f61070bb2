// SPDX-License-Identifier: MIT
#include "sim/timed/mapping_path.hpp"

namespace dartlab::sim::timed {

MappingPath::MappingPath(dart::Dart& functional, dart::DartTlm& timed, const MappingCostConfig& costs,
                         const dart::InvalidationConfig& invalidation, std::uint32_t memory_gbytes_per_s)
    : functional_(functional),
      backend_(functional),
      timed_(timed),
      costs_(costs),
      policy_(invalidation),
      flush_(dart::flush_cost(invalidation)),
      memory_gbytes_per_s_(memory_gbytes_per_s == 0 ? 1 : memory_gbytes_per_s) {}

void MappingPath::set_context(std::uint64_t now_ps, std::uint16_t stream) {
  now_ps_ = now_ps;
  stream_ = stream;
}

void MappingPath::charge(std::uint64_t MappingTime::*step, std::uint64_t ps, bool waited_for) {
  totals_.*step += ps;
  if (waited_for) pending_ps_ += ps;
}

void MappingPath::guest_request() {
  charge(&MappingTime::doorbell_ps, std::uint64_t{costs_.doorbell_ns} * 1000);
  charge(&MappingTime::mapper_ps, std::uint64_t{costs_.mapper_ns} * 1000);
}

void MappingPath::tick(std::uint64_t now_ps) {
  // The flush queue's timer runs on the host; nobody waits for it.
  if (policy_.on_time(now_ps / 1000)) flush(dart::DartRange{}, false);
}

void MappingPath::bounce_copy(std::uint64_t bytes) {
  // A copy reads every byte and writes it again: twice its bytes go through host memory, at its
  // bandwidth (HostMemoryConfig: Apple M4's 120 GB/s by spec). A floor: one CPU's memcpy reaches
  // only part of the memory system's peak (a guess that it reaches all of it). GB/s = bytes/ns.
  counts_.bounce_copy_bytes += bytes;
  charge(&MappingTime::bounce_copy_ps, 2 * bytes * 1000 / memory_gbytes_per_s_);
}

void MappingPath::flush(const dart::DartRange& range, bool waited_for) {
  ++counts_.flushes;
  counts_.flush_polls += flush_.polls;
  counts_.flush_timeouts += flush_.timed_out ? 1 : 0;
  charge(&MappingTime::invalidation_ps, flush_ps(), waited_for);
  timed_.flush(policy_.scope(), stream_, range);
}

dartlab::Result<mapper::BackendMapping> MappingPath::map(std::uint64_t gpa, std::uint64_t len_bytes,
                                                        dartlab::Direction dir) {
  const std::uint64_t tables_before = functional_.stats().tables_live;
  charge(&MappingTime::service_ps, std::uint64_t{costs_.service_ns} * 1000);
  const auto result = backend_.map(gpa, len_bytes, dir);
  if (!result.ok) {
    ++counts_.host_refusals;
    return result;
  }
  ++counts_.host_maps;
  const std::optional<dart::DartRange> range = functional_.live_range(result.value.handle);
  const std::uint64_t ptes = range ? range->len_bytes / functional_.config().page_bytes : 0;
  const std::uint64_t tables = functional_.stats().tables_live - tables_before;
  counts_.ptes_written += ptes;
  counts_.tables_created += tables;
  charge(&MappingTime::pte_ps, (ptes * costs_.pte_ns + tables * costs_.table_ns) * 1000);
  if (policy_.on_map(now_ps_ / 1000))
    flush(range.value_or(dart::DartRange{}));
  else if (range)
    timed_.forget(stream_, *range);  // a batched host never hands out a range its flush has not cleared
  return result;
}

bool MappingPath::unmap(std::uint64_t handle) {
  const std::optional<dart::DartRange> range = functional_.live_range(handle);
  charge(&MappingTime::service_ps, std::uint64_t{costs_.service_ns} * 1000);
  if (!backend_.unmap(handle)) return false;
  ++counts_.host_unmaps;
  const std::uint64_t ptes = range ? range->len_bytes / functional_.config().page_bytes : 0;
  counts_.ptes_written += ptes;
  charge(&MappingTime::pte_ps, ptes * costs_.pte_ns * 1000);
  if (policy_.on_unmap(now_ps_ / 1000))
    flush(range.value_or(dart::DartRange{}));
  else
    ++counts_.deferred_unmaps;
  return true;
}

std::uint64_t MappingPath::take_ps() {
  const std::uint64_t ps = pending_ps_;
  pending_ps_ = 0;
  return ps;
}

}  // namespace dartlab::sim::timed
