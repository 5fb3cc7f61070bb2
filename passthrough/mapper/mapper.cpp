// SPDX-License-Identifier: MIT
#include "passthrough/mapper/mapper.hpp"

#include <algorithm>
#include <limits>

namespace dartlab::mapper {

namespace {

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

// A request is well-formed when it is non-empty and its 16 KiB-rounded end does not wrap.
constexpr bool valid_request(std::uint64_t gpa, std::uint64_t len_bytes) {
  return len_bytes != 0 && gpa <= kMaxU64 - len_bytes && gpa + len_bytes <= kMaxU64 - (kHostPageBytes - 1);
}

}  // namespace

Mapper::Mapper(MappingBackend& backend, const Policy& policy)
    : backend_(backend), policy_(policy), clustering_(policy), kept_(policy) {
  if (policy_.kind == PolicyKind::Adaptive) stats_.window_bytes_now = policy_.window_bytes;
  if (policy_.kind == PolicyKind::Bounce) bounce_.emplace(policy_);
}

Mapper::~Mapper() { release_all(); }

void Mapper::fail(MapError e) {
  ++stats_.failed_maps;
  ++stats_.failures[static_cast<int>(e)];
}

Result<Mapping> Mapper::map(std::uint64_t gpa, std::uint64_t len_bytes, Direction /*dir*/) {
  if (!valid_request(gpa, len_bytes)) {
    ++stats_.map_requests;
    fail(MapError::Invalid);
    return Result<Mapping>::failure(MapError::Invalid);
  }
  if (bounce()) {
    const Result<Mapping> r = bounce_->map(len_bytes, backend_, stats_);
    if (!r) fail(r.error);
    return r;
  }
  std::uint32_t index = 0;
  if (const std::uint32_t* found = clustering_.find(by_key_, gpa, len_bytes)) {
    index = *found;
    take(index);
    ++stats_.map_requests;
  } else {
    const Result<std::uint32_t> made = create(gpa, len_bytes);
    if (!made && made.error == MapError::Cap) {
      ++stats_.cap_refusals;  // not a request yet: it will be asked again
      return Result<Mapping>::failure(MapError::Cap);
    }
    ++stats_.map_requests;
    if (!made) {
      fail(made.error);
      return Result<Mapping>::failure(made.error);
    }
    index = made.value;
  }
  stats_.count_request(len_bytes);
  const Entry& e = entries_[index];
  return Result<Mapping>::success(Mapping{e.bus_addr + (gpa - e.key.base), MapToken{index, e.generation}});
}

void Mapper::take(std::uint32_t index) {
  Entry& e = entries_[index];
  if (e.refs == 0) {  // kept by lazy: back in use
    kept_.unkeep(index, e.key.size_bytes, stats_);
    ++stats_.reuse_hits;
  } else {
    ++stats_.shared_hits;
  }
  ++e.refs;
}

Result<std::uint32_t> Mapper::create(std::uint64_t gpa, std::uint64_t len_bytes) {
  // Cap: one more host mapping would pass it. A kept one makes room; else the request waits.
  if (policy_.cap_windows != 0 && stats_.live_mappings >= policy_.cap_windows) {
    if (kept_.oldest() == KeptMappings::kNone) return Result<std::uint32_t>::failure(MapError::Cap);
    evict_oldest();
  }
  clustering_.before_new_mapping(backend_, stats_);
  bool promoted = false;
  Key key = clustering_.choose(gpa, len_bytes, promoted);
  if (kept_.enabled()) relieve_pressure(key.size_bytes);
  Result<BackendMapping> host = map_whole(backend_, key, stats_);
  // Lazy: what it keeps is the first thing to give back when the host refuses for want of room:
  // enough for this mapping (one slot for a slot refusal), then ask again.
  while (!host && for_lack_of_room(host.error) && kept_.oldest() != KeptMappings::kNone) {
    std::uint64_t freed = 0;
    do {
      freed += entries_[kept_.oldest()].key.size_bytes;
      evict_oldest();
    } while (kept_.oldest() != KeptMappings::kNone && host.error != MapError::Slots && freed < key.size_bytes);
    host = map_whole(backend_, key, stats_);
  }
  // Adaptive: a refusal for want of room moves the window size at once, and the request is tried
  // once more.
  if (!host && for_lack_of_room(host.error) && clustering_.adapt_to(host.error, stats_)) {
    const Key retry = clustering_.choose(gpa, len_bytes, promoted);
    if (!(retry == key)) {
      key = retry;
      host = map_whole(backend_, key, stats_);
    }
  }
  if (!host) return Result<std::uint32_t>::failure(host.error);
  if (promoted) ++stats_.promotions;

  const std::uint32_t index = new_entry(key, host.value);
  by_key_.insert(key, index);
  clustering_.on_host_map(key);
  stats_.count_host_map(key.size_bytes);
  return Result<std::uint32_t>::success(index);
}

namespace {
// The generation after g: 0 is reserved for "never live".
constexpr std::uint32_t next_generation(std::uint32_t g) { return g == 0xffffffffu ? 1 : g + 1; }
}  // namespace

std::uint32_t Mapper::new_entry(Key key, const BackendMapping& host) {
  FreeEntry slot{static_cast<std::uint32_t>(entries_.size()), 1};
  if (free_entries_.empty()) {
    entries_.emplace_back();
    kept_.grow();
  } else {
    slot = free_entries_.back();
    free_entries_.pop_back();
  }
  // Field by field: copied whole, the key went through the stack and back as one 16-byte load
  // of two 8-byte stores, which cannot be forwarded (see mapper.hpp).
  Entry& e = entries_[slot.index];
  std::uint64_t base = key.base;
  asm("" : "+r"(base));  // keeps GCC from pairing the key's halves in memory again
  e.key.base = base;
  e.key.size_bytes = key.size_bytes;
  e.bus_addr = host.bus_addr;
  e.backend_handle = host.handle;
  e.refs = 1;
  e.generation = slot.generation;
  return slot.index;
}

void Mapper::evict_oldest() {
  const std::uint32_t index = kept_.oldest();
  kept_.unkeep(index, entries_[index].key.size_bytes, stats_);
  ++stats_.evictions;
  drop_host_mapping(index);
}

void Mapper::relieve_pressure(std::uint64_t new_bytes) {
  if (kept_.oldest() == KeptMappings::kNone) return;
  BackendPressure p = backend_.pressure();
  // Bytes as the host counts them: whole host pages (a 16K request takes a 64K page under page=64K).
  const auto host_bytes = [page = p.page_bytes](std::uint64_t bytes) {
    return page > 1 ? (bytes + page - 1) / page * page : bytes;
  };
  const std::uint64_t wanted = host_bytes(new_bytes);
  while (kept_.oldest() != KeptMappings::kNone && KeptMappings::under_pressure(p, wanted)) {
    const std::uint64_t bytes = host_bytes(entries_[kept_.oldest()].key.size_bytes);
    evict_oldest();
    --p.slots_used;
    p.bytes_used -= std::min(p.bytes_used, bytes);
  }
}

void Mapper::drop_host_mapping(std::uint32_t index) {
  Entry& e = entries_[index];
  // The index's slot is a cache miss of its own: its erase waits (key_index.hpp, erase_soon())
  // while the line arrives, and the host's unmap runs meanwhile. The host is told the range too,
  // so that its work need not wait for its own record of the handle (mapping_backend.hpp).
  by_key_.erase_soon(e.key, index);
  backend_.unmap_hinted(e.backend_handle, e.bus_addr, e.key.size_bytes);
  clustering_.on_host_unmap(e.key);
  ++stats_.host_unmap_calls;
  --stats_.live_mappings;
  stats_.mapped_bytes -= e.key.size_bytes;
  e.key.size_bytes = 0;  // no lookup matches the record through its stale index slot
  free_entries_.push_back(FreeEntry{index, next_generation(e.generation)});
}

Mapper::Entry* Mapper::live_entry(MapToken token) {
  if (token.entry >= entries_.size()) return nullptr;
  Entry& e = entries_[token.entry];
  if (e.refs == 0 || e.generation != token.generation) return nullptr;
  return &e;
}

void Mapper::release(std::uint32_t index, std::uint64_t len_bytes) {
  Entry& e = entries_[index];
  stats_.count_release(len_bytes);
  if (--e.refs != 0) return;
  if (!kept_.enabled()) {
    drop_host_mapping(index);
    return;
  }
  kept_.keep(index, e.key.size_bytes, stats_);
  // Past a bound, the least recently released go (this one last: it is the newest).
  while (kept_.over_bound(stats_) && kept_.oldest() != KeptMappings::kNone) evict_oldest();
}

void Mapper::release_request(MapToken token, std::uint64_t len_bytes) {
  if (bounce()) {
    bounce_->release(token, len_bytes, stats_);
  } else {
    release(token.entry, len_bytes);
  }
}

Result<bool> Mapper::unmap(MapToken token, std::uint64_t len_bytes) {
  if (bounce()) {
    return bounce_->release(token, len_bytes, stats_) ? Result<bool>::success(true) : Result<bool>::failure(MapError::Invalid);
  }
  if (live_entry(token) == nullptr) return Result<bool>::failure(MapError::Invalid);
  release(token.entry, len_bytes);
  // A constant: built field by field after the release call, the three bytes were stored one by
  // one and read back as one, which stalls on store forwarding (seen in a profile).
  static constexpr Result<bool> kReleased{true, MapError::Invalid, true};
  return kReleased;
}

Result<bool> Mapper::map_sg(std::span<const MapSegment> segments, Direction dir, std::span<Mapping> out) {
  if (segments.empty() || out.size() < segments.size()) {
    ++stats_.map_requests;
    fail(MapError::Invalid);
    return Result<bool>::failure(MapError::Invalid);
  }
  const std::uint64_t requests_before = stats_.map_requests;
  const std::uint64_t shared_before = stats_.shared_hits;
  const std::uint64_t reuses_before = stats_.reuse_hits;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const Result<Mapping> r = map(segments[i].gpa, segments[i].len_bytes, dir);
    if (!r) {
      for (std::size_t j = 0; j < i; ++j) release_request(out[j].token, segments[j].len_bytes);
      if (r.error == MapError::Cap) {
        // The list will be asked again whole: the segments served and given back here were no
        // requests (the host calls they made were real, and stay counted).
        stats_.map_requests = requests_before;
        stats_.shared_hits = shared_before;
        stats_.reuse_hits = reuses_before;
      }
      return Result<bool>::failure(r.error);
    }
    out[i] = r.value;
  }
  return Result<bool>::success(true);
}

void Mapper::release_all() {
  if (bounce()) bounce_->release_all(backend_, stats_);
  by_key_.clear();
  clustering_.reset();
  free_entries_.clear();
  for (std::uint32_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    if (e.refs != 0 || kept_.is_kept(i)) {
      backend_.unmap(e.backend_handle);
      ++stats_.host_unmap_calls;
      e.refs = 0;
    }
    free_entries_.push_back(FreeEntry{i, next_generation(e.generation)});
  }
  kept_.clear(stats_);
  stats_.live_mappings = 0;
  stats_.mapped_bytes = 0;
  stats_.live_requests = 0;
  stats_.requested_bytes = 0;
}

}  // namespace dartlab::mapper
