// SPDX-License-Identifier: MIT
#include "models/dart/dart.hpp"

#include <algorithm>
#include <stdexcept>

#include "models/dart/pte.hpp"

namespace dartlab::dart {

namespace {
const DartConfig& checked(const DartConfig& c) {
  // PageTable checks the page size itself; these are the aperture's own conditions.
  if (c.page_bytes == 0 || c.aperture_bytes == 0 || c.aperture_bytes % c.page_bytes != 0 ||
      c.base_bus_addr % c.page_bytes != 0 || c.variant.va_bits >= 64 ||
      c.base_bus_addr >= (std::uint64_t{1} << c.variant.va_bits) ||
      c.aperture_bytes > (std::uint64_t{1} << c.variant.va_bits) - c.base_bus_addr ||
      (!c.unlimited_slots && c.slots == 0) || c.chunk_bytes % c.page_bytes != 0) {
    throw std::invalid_argument("bad DART config: " + to_spec(c));
  }
  return c;
}
}  // namespace

Dart::Dart(const DartConfig& config)
    : config_(checked(config)),
      first_page_(config.base_bus_addr / config.page_bytes),
      page_count_(config.aperture_bytes / config.page_bytes),
      aperture_(make_aperture_allocator(config.alloc, first_page_, page_count_)),
      slots_(config.unlimited_slots ? SlotTable::kUnlimited : config.slots),
      tables_(config.page_bytes, config.variant.va_bits) {
  reset();
}

void Dart::refresh_space_stats() const {
  stats_.free_bytes = aperture_->free_pages() * config_.page_bytes;
  stats_.largest_free_bytes = aperture_->largest_free_pages() * config_.page_bytes;
  stats_.tables_live = tables_.tables_live();
  stats_.live_mappings = slots_.live();
  space_stale_ = false;
}

DartMapResult Dart::map(std::uint64_t pa, std::uint64_t len_bytes, Perms perms) {
  ++stats_.map_calls;
  const auto fail = [this](MapError why) {
    ++stats_.failures[static_cast<unsigned>(why)];
    return DartMapResult{DartMapping{}, why, false};
  };
  const std::uint64_t page_mask = config_.page_bytes - 1;
  if (len_bytes == 0 || (pa & page_mask) != 0 || (len_bytes & page_mask) != 0 || pa >= pte::kPaLimit ||
      len_bytes > pte::kPaLimit - pa) {
    return fail(MapError::Invalid);
  }
  if (slots_.full()) return fail(MapError::Slots);
  const std::uint64_t pages = len_bytes >> tables_.page_shift();  // page_bytes is a power of two (PageTable checks)
  // A refusal is Aperture when no arrangement of the free pages could hold what the allocator
  // reserves for this request (buddy rounds it up), else fragmentation (or alignment, for linux).
  // Told apart after the alloc, which then has failed without changing anything: a map served
  // makes one virtual call, not three (about 7 M of BM_CoreDirect's 1,320 M instructions over
  // 1 M events x 3, callgrind).
  const auto refuse = [&] {
    return fail(aperture_->free_pages() < aperture_->reserved_pages(pages) ? MapError::Aperture : MapError::Fragmented);
  };
  if (pages >= refused_pages_) [[unlikely]] return refuse();  // refused already, and nothing freed since
  const std::uint64_t first_page = aperture_->take(pages);
  if (first_page == ApertureAllocator::kNoFit) [[unlikely]] {
    refused_pages_ = pages;  // fewer than any remembered (else the line above had answered)
    return refuse();
  }

  const std::uint64_t handle = slots_.take(SlotRecord{first_page, pages});  // not full: checked
  const std::uint64_t bus_addr = first_page * config_.page_bytes;
  tables_.map_range(bus_addr, pa, pages, perms);
  stats_.mapped_bytes += len_bytes;
  stats_.peak_mapped_bytes = std::max(stats_.peak_mapped_bytes, stats_.mapped_bytes);
  ++stats_.changes;
  space_stale_ = true;
  return DartMapResult{DartMapping{handle, bus_addr}, MapError::Invalid, true};
}

// What every unmap does once its slot is released: the range's entries, pages and bytes.
// Forced inline: GCC made it a call, and the hinted unmap's range then went through memory.
[[gnu::always_inline]] inline void Dart::release_pages(const SlotRecord& range) {
  tables_.unmap_range(range.first_page * config_.page_bytes, range.pages);
  aperture_->free(range.first_page, range.pages);
  refused_pages_ = kNoRefusal;
  stats_.mapped_bytes -= range.pages * config_.page_bytes;
  ++stats_.changes;
  space_stale_ = true;
}

bool Dart::unmap(std::uint64_t handle) {
  ++stats_.unmap_calls;
  const std::optional<SlotRecord> record = slots_.release(handle);
  if (!record) return false;
  release_pages(*record);
  return true;
}

bool Dart::unmap(std::uint64_t handle, const DartRange& expected) {
  const unsigned shift = tables_.page_shift();
  const SlotRecord guess{expected.bus_addr >> shift, expected.len_bytes >> shift};
  if (!slots_.release_if(handle, guess)) return unmap(handle);  // not live, or not that range
  // The work below takes its range from the guess, not from the slot's entry: equal once
  // release_if() has said so, but known before the entry's cache miss is over, so the page-table
  // stores, the aperture's free and their branches do not wait for it (the CPU runs them on the
  // predicted match). In BM_CoreDirect* (10 M events, alternating medians of 5) that made 2-4%
  // more events/s. Prefetching the entry, the leaf PTEs and the aperture's words from the same
  // hint instead gained nothing: the entry's load is issued at once anyway, unmap_range only
  // stores, and the allocators' words are mostly cached.
  ++stats_.unmap_calls;
  release_pages(guess);
  return true;
}

std::optional<DartRange> Dart::live_range(std::uint64_t handle) const {
  const std::optional<SlotRecord> record = slots_.find(handle);
  if (!record) return std::nullopt;
  return DartRange{record->first_page * config_.page_bytes, record->pages * config_.page_bytes};
}

Translation Dart::walk(std::uint64_t bus_addr, Access access) const {
  if (bus_addr < config_.base_bus_addr || bus_addr - config_.base_bus_addr >= config_.aperture_bytes) {
    return Translation::miss(Fault{FaultCode::NoTtbr, bus_addr, 0});
  }
  const PageWalk w = tables_.walk(bus_addr);
  if (!w.ok) return Translation::miss(w.fault);
  const Perms perms = pte::decode_perms(w.pte);
  const unsigned leaf = tables_.levels();
  if (access == Access::Read && !perms.device_read) {
    return Translation::miss(Fault{FaultCode::ReadProt, bus_addr, leaf});
  }
  if (access == Access::Write && !perms.device_write) {
    return Translation::miss(Fault{FaultCode::WriteProt, bus_addr, leaf});
  }
  return Translation::hit(pte::decode_pa(w.pte) + (bus_addr & (config_.page_bytes - 1)));
}

Translation Dart::translate(std::uint64_t bus_addr, Access access) {
  const Translation t = walk(bus_addr, access);
  if (!t.ok) {
    faults_.record(t.fault, access);
    stats_.faults_by_code = faults_.counts();
  }
  return t;
}

void Dart::reset() {
  aperture_->reset();
  refused_pages_ = kNoRefusal;
  slots_.reset();
  tables_.reset();
  faults_.reset();
  const std::uint64_t changes = stats_.changes + 1;
  stats_ = DartStats{};
  stats_.changes = changes;
  stats_.aperture_bytes = config_.aperture_bytes;
  stats_.slot_capacity = config_.unlimited_slots ? 0 : config_.slots;
  refresh_space_stats();
}

}  // namespace dartlab::dart
