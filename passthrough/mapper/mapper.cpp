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

Mapper::Mapper(MappingBackend& backend, const Policy& policy, MapperOptions options)
    : backend_(backend), policy_(policy), options_(options) {
  if (policy_.kind == PolicyKind::Multi) probe_sizes_ = policy_.multi_sizes;
  if (policy_.kind == PolicyKind::Adaptive) {
    // Every size the window may take: min..max.
    probe_sizes_ = (policy_.adaptive_max_bytes | (policy_.adaptive_max_bytes - 1)) & ~(policy_.adaptive_min_bytes - 1);
    window_bytes_ = policy_.window_bytes;
    stats_.window_bytes_now = window_bytes_;
  }
  if (bounce()) pool_slots_.reset(policy_.bounce_pool_bytes / Policy::kBounceSlotBytes);
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
  if (bounce()) return map_bounce(len_bytes);
  std::uint32_t index = 0;
  if (!find_serving(gpa, len_bytes, index)) {
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
  } else {
    ++stats_.map_requests;
  }
  ++stats_.live_requests;
  stats_.requested_bytes += len_bytes;
  stats_.peak_requested_bytes = std::max(stats_.peak_requested_bytes, stats_.requested_bytes);
  const Entry& e = entries_[index];
  return Result<Mapping>::success(Mapping{e.bus_addr + (gpa - e.key.base), MapToken{index, e.generation}});
}

bool Mapper::find_serving(std::uint64_t gpa, std::uint64_t len_bytes, std::uint32_t& index) {
  if (probe_sizes_ == 0) {  // direct and window: exactly one key can serve (DESIGN.md)
    const std::uint32_t* found = by_key_.find(key_for(policy_, gpa, len_bytes));
    if (found == nullptr) return false;
    index = *found;
    take(index);
    return true;
  }
  // Multi and adaptive: any live window that holds the request, the largest first (after a
  // promotion the larger window takes the new requests and the smaller ones drain), then the
  // request's own direct key.
  for (WindowSizes sizes = live_sizes_; sizes != 0;) {
    const int bit = 63 - std::countl_zero(sizes);
    sizes &= ~(WindowSizes{1} << bit);
    const std::uint64_t bytes = std::uint64_t{1} << bit;
    if (!fits_window(gpa, len_bytes, bytes)) continue;
    if (const std::uint32_t* found = by_key_.find(window_key(gpa, bytes))) {
      index = *found;
      take(index);
      return true;
    }
  }
  if (const std::uint32_t* found = by_key_.find(direct_key(gpa, len_bytes))) {
    index = *found;
    take(index);
    return true;
  }
  return false;
}

void Mapper::take(std::uint32_t index) {
  Entry& e = entries_[index];
  if (e.refs == 0) {  // kept by lazy: back in use
    unkeep(index);
    ++stats_.reuse_hits;
  } else {
    ++stats_.shared_hits;
  }
  ++e.refs;
}

Key Mapper::choose_key(std::uint64_t gpa, std::uint64_t len_bytes, bool& promoted) {
  promoted = false;
  switch (policy_.kind) {
    case PolicyKind::Direct:
    case PolicyKind::Window:
    case PolicyKind::Bounce: return key_for(policy_, gpa, len_bytes);  // bounce never gets here: map_bounce
    case PolicyKind::Adaptive: return window_or_direct(window_bytes_, gpa, len_bytes);
    case PolicyKind::Multi: break;
  }
  const Key smallest = key_for(policy_, gpa, len_bytes);
  if (policy_.promote_fraction <= 0 || !std::has_single_bit(smallest.size_bytes) ||
      (policy_.multi_sizes & smallest.size_bytes) == 0)
    return smallest;  // a direct mapping, or promotion off
  // The largest listed window whose region is already covered enough by live smaller windows.
  for (WindowSizes larger = policy_.multi_sizes & ~((smallest.size_bytes << 1) - 1); larger != 0;) {
    const int bit = 63 - std::countl_zero(larger);
    larger &= ~(WindowSizes{1} << bit);
    const Key region = window_key(gpa, std::uint64_t{1} << bit);
    const std::uint64_t* covered = coverage_.find(region);
    if (covered != nullptr && static_cast<double>(*covered) >= policy_.promote_fraction * static_cast<double>(region.size_bytes)) {
      promoted = true;
      return region;
    }
  }
  return smallest;
}

Result<Mapping> Mapper::map_bounce(std::uint64_t len_bytes) {
  ++stats_.map_requests;
  const std::uint64_t slots = bounce_slots(len_bytes);
  const std::optional<std::uint64_t> first = pool_slots_.take(slots);
  if (!first) {
    fail(MapError::Pool);
    return Result<Mapping>::failure(MapError::Pool);
  }
  if (pool_mapped_) {
    ++stats_.shared_hits;
  } else {
    const Key pool = key_for(policy_, 0, 0);
    const Result<BackendMapping> host = map_on_host(pool);  // a pool the host cuts is no pool
    if (!host) {
      pool_slots_.give(*first, slots);
      fail(host.error);
      return Result<Mapping>::failure(host.error);
    }
    pool_mapped_ = true;
    pool_bus_addr_ = host.value.bus_addr;
    pool_handle_ = host.value.handle;
    ++stats_.host_map_calls;
    stats_.live_mappings = 1;
    stats_.mapped_bytes = pool.size_bytes;
    stats_.peak_mappings = std::max<std::uint64_t>(stats_.peak_mappings, 1);
    stats_.peak_mapped_bytes = std::max(stats_.peak_mapped_bytes, pool.size_bytes);
  }
  ++stats_.live_requests;
  stats_.requested_bytes += len_bytes;
  stats_.peak_requested_bytes = std::max(stats_.peak_requested_bytes, stats_.requested_bytes);
  stats_.pool_bytes_taken += slots * Policy::kBounceSlotBytes;
  stats_.peak_pool_bytes_taken = std::max(stats_.peak_pool_bytes_taken, stats_.pool_bytes_taken);
  return Result<Mapping>::success(Mapping{pool_bus_addr_ + *first * Policy::kBounceSlotBytes,
                                          MapToken{static_cast<std::uint32_t>(*first), pool_generation_}});
}

bool Mapper::release_bounce(MapToken token, std::uint64_t len_bytes) {
  const std::uint64_t slots = bounce_slots(len_bytes);
  if (!pool_mapped_ || token.generation != pool_generation_ || !pool_slots_.give(token.entry, slots)) return false;
  --stats_.live_requests;
  stats_.requested_bytes -= std::min(stats_.requested_bytes, len_bytes);
  stats_.pool_bytes_taken -= slots * Policy::kBounceSlotBytes;
  return true;
}

Result<std::uint32_t> Mapper::create(std::uint64_t gpa, std::uint64_t len_bytes) {
  // Cap: one more host mapping would pass it. A kept one makes room; else the request waits.
  if (policy_.cap_windows != 0 && stats_.live_mappings >= policy_.cap_windows) {
    if (lru_oldest_ == kNil) return Result<std::uint32_t>::failure(MapError::Cap);
    evict_oldest();
  }
  if (policy_.kind == PolicyKind::Adaptive && ++maps_since_decision_ >= policy_.decide_every) decide();
  bool promoted = false;
  Key key = choose_key(gpa, len_bytes, promoted);
  if (policy_.lazy) relieve_pressure(key.size_bytes);
  Result<BackendMapping> host = map_on_host(key);
  // Lazy: what it keeps is the first thing to give back when the host refuses for want of room:
  // enough for this mapping (one slot for a slot refusal), then ask again.
  while (!host && for_lack_of_room(host.error) && lru_oldest_ != kNil) {
    std::uint64_t freed = 0;
    do {
      freed += entries_[lru_oldest_].key.size_bytes;
      evict_oldest();
    } while (lru_oldest_ != kNil && host.error != MapError::Slots && freed < key.size_bytes);
    host = map_on_host(key);
  }
  // Adaptive: a refusal for want of room moves the window size at once, and the request is tried
  // once more.
  if (!host && policy_.kind == PolicyKind::Adaptive && for_lack_of_room(host.error) && adapt_to(host.error)) {
    const Key retry = choose_key(gpa, len_bytes, promoted);
    if (!(retry == key)) {
      key = retry;
      host = map_on_host(key);
    }
  }
  if (!host) return Result<std::uint32_t>::failure(host.error);
  if (promoted) ++stats_.promotions;

  std::uint32_t index = 0;
  if (free_entries_.empty()) {
    index = static_cast<std::uint32_t>(entries_.size());
    entries_.emplace_back();
    if (policy_.lazy) lru_.emplace_back();
    if (options_.index_by_dma_addr) bus_nodes_.emplace_back();
  } else {
    index = free_entries_.back();
    free_entries_.pop_back();
  }
  Entry& e = entries_[index];
  e.key = key;
  e.bus_addr = host.value.bus_addr;
  e.backend_handle = host.value.handle;
  e.refs = 1;
  if (++e.generation == 0) e.generation = 1;  // 0 is reserved for "never live"
  by_key_.insert(key, index);
  if (probe_sizes_ != 0) track(key, true);
  if (options_.index_by_dma_addr) {
    BusNode& node = bus_nodes_[index];
    node.bus_addr = e.bus_addr;
    node.size_bytes = key.size_bytes;
    node.entry = index;
    by_bus_.insert(node);
  }
  ++stats_.host_map_calls;
  ++stats_.live_mappings;
  stats_.mapped_bytes += key.size_bytes;
  stats_.peak_mappings = std::max(stats_.peak_mappings, stats_.live_mappings);
  stats_.peak_mapped_bytes = std::max(stats_.peak_mapped_bytes, stats_.mapped_bytes);
  return Result<std::uint32_t>::success(index);
}

Result<BackendMapping> Mapper::map_on_host(const Key& key) {
  // A host mapping is shared by requests of every direction, so it is made bidirectional
  // (as the seed guest module does); per-direction keys would multiply slots.
  const Result<BackendMapping> host = backend_.map(key.base, key.size_bytes, Direction::Bidirectional);
  if (!host || host.value.len_bytes >= key.size_bytes) return host;
  // Two round trips to the host that leave nothing mapped: both are counted.
  backend_.unmap(host.value.handle);
  ++stats_.host_map_calls;
  ++stats_.host_unmap_calls;
  return Result<BackendMapping>::failure(MapError::Truncated);
}

void Mapper::track(const Key& key, bool added) {
  if (!std::has_single_bit(key.size_bytes) || (key.base & (key.size_bytes - 1)) != 0 ||
      (probe_sizes_ & key.size_bytes) == 0)
    return;  // not a window of a size in play
  const int bit = std::countr_zero(key.size_bytes);
  if (added) {
    if (live_windows_[bit]++ == 0) live_sizes_ |= key.size_bytes;
  } else if (--live_windows_[bit] == 0) {
    live_sizes_ &= ~key.size_bytes;
  }
  if (policy_.kind != PolicyKind::Multi || policy_.promote_fraction <= 0) return;
  for (WindowSizes larger = policy_.multi_sizes & ~((key.size_bytes << 1) - 1); larger != 0; larger &= larger - 1) {
    const Key region = window_key(key.base, std::uint64_t{1} << std::countr_zero(larger));
    if (added) {
      *coverage_.insert(region, 0).first += key.size_bytes;
    } else if (std::uint64_t* covered = coverage_.find(region); covered != nullptr) {
      *covered -= std::min(*covered, key.size_bytes);
      if (*covered == 0) coverage_.erase(region);  // memory follows live windows
    }
  }
}

void Mapper::decide() {
  maps_since_decision_ = 0;
  const BackendPressure p = backend_.pressure();
  const double slots = p.slots_limit == 0 ? 0.0 : static_cast<double>(p.slots_used) / static_cast<double>(p.slots_limit);
  const double bytes = p.bytes_limit == 0 ? 0.0 : static_cast<double>(p.bytes_used) / static_cast<double>(p.bytes_limit);
  if (slots >= policy_.high_water && bytes < policy_.high_water) {
    set_window(std::min(window_bytes_ * 2, policy_.adaptive_max_bytes));  // trade bytes for slots
  } else if (bytes >= policy_.high_water && slots < policy_.high_water) {
    set_window(std::max(window_bytes_ / 2, policy_.adaptive_min_bytes));  // trade slots for bytes
  } else if (slots < policy_.low_water && bytes < policy_.low_water && window_bytes_ != policy_.window_bytes) {
    set_window(window_bytes_ < policy_.window_bytes ? window_bytes_ * 2 : window_bytes_ / 2);
  }
}

bool Mapper::adapt_to(MapError refusal) {
  const std::uint64_t before = window_bytes_;
  if (refusal == MapError::Slots) {
    set_window(std::min(window_bytes_ * 2, policy_.adaptive_max_bytes));
  } else {
    set_window(std::max(window_bytes_ / 2, policy_.adaptive_min_bytes));
  }
  maps_since_decision_ = 0;
  return window_bytes_ != before;
}

void Mapper::set_window(std::uint64_t bytes) {
  if (bytes == window_bytes_) return;
  window_bytes_ = bytes;
  stats_.window_bytes_now = bytes;
  ++stats_.adaptations;
}

void Mapper::keep(std::uint32_t index) {
  lru_[index] = LruLink{kNil, lru_newest_};
  if (lru_newest_ != kNil) lru_[lru_newest_].prev = index;
  lru_newest_ = index;
  if (lru_oldest_ == kNil) lru_oldest_ = index;
  ++stats_.cached_mappings;
  stats_.cached_bytes += entries_[index].key.size_bytes;
}

void Mapper::unkeep(std::uint32_t index) {
  const LruLink link = lru_[index];
  if (link.prev == kNil) {
    lru_newest_ = link.next;
  } else {
    lru_[link.prev].next = link.next;
  }
  if (link.next == kNil) {
    lru_oldest_ = link.prev;
  } else {
    lru_[link.next].prev = link.prev;
  }
  lru_[index] = LruLink{};
  --stats_.cached_mappings;
  stats_.cached_bytes -= entries_[index].key.size_bytes;
}

void Mapper::evict_oldest() {
  const std::uint32_t index = lru_oldest_;
  unkeep(index);
  ++stats_.evictions;
  drop_host_mapping(index);
}

void Mapper::relieve_pressure(std::uint64_t new_bytes) {
  if (lru_oldest_ == kNil) return;
  BackendPressure p = backend_.pressure();
  // Bytes as the host counts them: whole host pages (a 16K request takes a 64K page under page=64K).
  const auto host_bytes = [page = p.page_bytes](std::uint64_t bytes) {
    return page > 1 ? (bytes + page - 1) / page * page : bytes;
  };
  const std::uint64_t wanted = host_bytes(new_bytes);
  const auto over = [&p, wanted] {
    return (p.slots_limit != 0 && static_cast<double>(p.slots_used + 1) > Policy::kLazyPressure * static_cast<double>(p.slots_limit)) ||
           (p.bytes_limit != 0 && static_cast<double>(p.bytes_used + wanted) > Policy::kLazyPressure * static_cast<double>(p.bytes_limit));
  };
  while (lru_oldest_ != kNil && over()) {
    const std::uint64_t bytes = host_bytes(entries_[lru_oldest_].key.size_bytes);
    evict_oldest();
    --p.slots_used;
    p.bytes_used -= std::min(p.bytes_used, bytes);
  }
}

void Mapper::drop_host_mapping(std::uint32_t index) {
  Entry& e = entries_[index];
  if (options_.index_by_dma_addr) by_bus_.erase(by_bus_.iterator_to(bus_nodes_[index]));
  by_key_.erase(e.key);
  if (probe_sizes_ != 0) track(e.key, false);
  backend_.unmap(e.backend_handle);
  ++stats_.host_unmap_calls;
  --stats_.live_mappings;
  stats_.mapped_bytes -= e.key.size_bytes;
  free_entries_.push_back(index);
}

Mapper::Entry* Mapper::live_entry(MapToken token) {
  if (token.entry >= entries_.size()) return nullptr;
  Entry& e = entries_[token.entry];
  if (e.refs == 0 || e.generation != token.generation) return nullptr;
  return &e;
}

void Mapper::release(std::uint32_t index, std::uint64_t len_bytes) {
  Entry& e = entries_[index];
  --stats_.live_requests;
  stats_.requested_bytes -= std::min(stats_.requested_bytes, len_bytes);
  if (--e.refs != 0) return;
  if (!policy_.lazy) {
    drop_host_mapping(index);
    return;
  }
  keep(index);
  // Past a bound, the least recently released go (this one last: it is the newest).
  while ((stats_.cached_mappings > policy_.lazy_keep || stats_.cached_bytes > policy_.lazy_bytes) && lru_oldest_ != kNil)
    evict_oldest();
}

void Mapper::release_request(MapToken token, std::uint64_t len_bytes) {
  if (bounce()) {
    release_bounce(token, len_bytes);
  } else {
    release(token.entry, len_bytes);
  }
}

Result<bool> Mapper::unmap(MapToken token, std::uint64_t len_bytes) {
  if (bounce()) return release_bounce(token, len_bytes) ? Result<bool>::success(true) : Result<bool>::failure(MapError::Invalid);
  if (live_entry(token) == nullptr) return Result<bool>::failure(MapError::Invalid);
  release(token.entry, len_bytes);
  return Result<bool>::success(true);
}

Result<bool> Mapper::unmap(std::uint64_t dma_addr, std::uint64_t len_bytes) {
  if (len_bytes == 0 || dma_addr > kMaxU64 - len_bytes) return Result<bool>::failure(MapError::Invalid);
  if (bounce()) {
    // The slot is the address: a request's DMA address is its first slot's.
    const std::uint64_t offset = dma_addr - pool_bus_addr_;
    if (!pool_mapped_ || dma_addr < pool_bus_addr_ || offset % Policy::kBounceSlotBytes != 0 ||
        offset / Policy::kBounceSlotBytes >= pool_slots_.slots())
      return Result<bool>::failure(MapError::Invalid);
    const MapToken token{static_cast<std::uint32_t>(offset / Policy::kBounceSlotBytes), pool_generation_};
    return release_bounce(token, len_bytes) ? Result<bool>::success(true) : Result<bool>::failure(MapError::Invalid);
  }
  if (!options_.index_by_dma_addr) return Result<bool>::failure(MapError::Invalid);
  // The live host mapping with the highest bus base not above dma_addr.
  auto it = by_bus_.upper_bound(dma_addr);
  if (it == by_bus_.begin()) return Result<bool>::failure(MapError::Invalid);
  --it;
  const BusNode& node = *it;
  if (dma_addr + len_bytes > node.bus_addr + node.size_bytes) return Result<bool>::failure(MapError::Invalid);
  if (entries_[node.entry].refs == 0) return Result<bool>::failure(MapError::Invalid);  // kept, not in use
  release(node.entry, len_bytes);
  return Result<bool>::success(true);
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
  if (pool_mapped_) {
    backend_.unmap(pool_handle_);
    ++stats_.host_unmap_calls;
    pool_mapped_ = false;
    pool_slots_.give_all();
    if (++pool_generation_ == 0) pool_generation_ = 1;  // tokens from before the reset are stale
    stats_.pool_bytes_taken = 0;
  }
  by_bus_.clear();
  by_key_.clear();
  coverage_.clear();
  free_entries_.clear();
  for (std::uint32_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    const bool kept = policy_.lazy && lru_[i].prev != kNotKept;
    if (e.refs != 0 || kept) {
      backend_.unmap(e.backend_handle);
      ++stats_.host_unmap_calls;
      e.refs = 0;
    }
    if (policy_.lazy) lru_[i] = LruLink{};
    free_entries_.push_back(i);
  }
  lru_newest_ = lru_oldest_ = kNil;
  live_sizes_ = 0;
  std::fill(std::begin(live_windows_), std::end(live_windows_), 0u);
  stats_.cached_mappings = 0;
  stats_.cached_bytes = 0;
  stats_.live_mappings = 0;
  stats_.mapped_bytes = 0;
  stats_.live_requests = 0;
  stats_.requested_bytes = 0;
}

}  // namespace dartlab::mapper
