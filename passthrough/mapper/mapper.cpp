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
    : backend_(backend), policy_(policy), options_(options) {}

Mapper::~Mapper() { release_all(); }

void Mapper::fail(MapError e) {
  ++stats_.failed_maps;
  ++stats_.failures[static_cast<int>(e)];
}

Result<Mapping> Mapper::map(std::uint64_t gpa, std::uint64_t len_bytes, Direction /*dir*/) {
  ++stats_.map_requests;
  if (!valid_request(gpa, len_bytes)) {
    fail(MapError::Invalid);
    return Result<Mapping>::failure(MapError::Invalid);
  }
  const Key key = key_for(policy_, gpa, len_bytes);

  std::uint32_t index = 0;
  if (const std::uint32_t* found = by_key_.find(key)) {
    index = *found;
    ++entries_[index].refs;
    ++stats_.shared_hits;
  } else {
    // A host mapping is shared by requests of every direction, so it is made bidirectional
    // (as the seed guest module does); per-direction keys would multiply slots.
    const Result<BackendMapping> host = backend_.map(key.base, key.size_bytes, Direction::Bidirectional);
    if (!host) {
      fail(host.error);
      return Result<Mapping>::failure(host.error);
    }
    if (free_entries_.empty()) {
      index = static_cast<std::uint32_t>(entries_.size());
      entries_.emplace_back();
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
  }

  ++stats_.live_requests;
  stats_.requested_bytes += len_bytes;
  stats_.peak_requested_bytes = std::max(stats_.peak_requested_bytes, stats_.requested_bytes);
  const Entry& e = entries_[index];
  return Result<Mapping>::success(Mapping{e.bus_addr + (gpa - e.key.base), MapToken{index, e.generation}});
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
  if (options_.index_by_dma_addr) by_bus_.erase(by_bus_.iterator_to(bus_nodes_[index]));
  by_key_.erase(e.key);
  backend_.unmap(e.backend_handle);
  ++stats_.host_unmap_calls;
  --stats_.live_mappings;
  stats_.mapped_bytes -= e.key.size_bytes;
  free_entries_.push_back(index);
}

Result<bool> Mapper::unmap(MapToken token, std::uint64_t len_bytes) {
  if (live_entry(token) == nullptr) return Result<bool>::failure(MapError::Invalid);
  release(token.entry, len_bytes);
  return Result<bool>::success(true);
}

Result<bool> Mapper::unmap(std::uint64_t dma_addr, std::uint64_t len_bytes) {
  if (len_bytes == 0 || dma_addr > kMaxU64 - len_bytes) return Result<bool>::failure(MapError::Invalid);
  if (!options_.index_by_dma_addr) return Result<bool>::failure(MapError::Invalid);
  // The live host mapping with the highest bus base not above dma_addr.
  auto it = by_bus_.upper_bound(dma_addr);
  if (it == by_bus_.begin()) return Result<bool>::failure(MapError::Invalid);
  --it;
  const BusNode& node = *it;
  if (dma_addr + len_bytes > node.bus_addr + node.size_bytes) return Result<bool>::failure(MapError::Invalid);
  release(node.entry, len_bytes);
  return Result<bool>::success(true);
}

Result<bool> Mapper::map_sg(std::span<const MapSegment> segments, Direction dir, std::span<Mapping> out) {
  if (segments.empty() || out.size() < segments.size()) {
    ++stats_.map_requests;
    fail(MapError::Invalid);
    return Result<bool>::failure(MapError::Invalid);
  }
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const Result<Mapping> r = map(segments[i].gpa, segments[i].len_bytes, dir);
    if (!r) {
      for (std::size_t j = 0; j < i; ++j) release(out[j].token.entry, segments[j].len_bytes);
      return Result<bool>::failure(r.error);
    }
    out[i] = r.value;
  }
  return Result<bool>::success(true);
}

void Mapper::release_all() {
  by_bus_.clear();
  by_key_.clear();
  free_entries_.clear();
  for (std::uint32_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    if (e.refs != 0) {
      backend_.unmap(e.backend_handle);
      ++stats_.host_unmap_calls;
      e.refs = 0;
    }
    free_entries_.push_back(i);
  }
  stats_.live_mappings = 0;
  stats_.mapped_bytes = 0;
  stats_.live_requests = 0;
  stats_.requested_bytes = 0;
}

}  // namespace dartlab::mapper
