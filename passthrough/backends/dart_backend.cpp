// SPDX-License-Identifier: MIT
#include "passthrough/backends/dart_backend.hpp"

#include <algorithm>

namespace dartlab::backends {

namespace {
std::size_t slot_of(std::uint64_t handle) { return static_cast<std::uint32_t>(handle); }  // slots.hpp

// [gpa, gpa + len_bytes) rounded out to whole pages; ok is false when it is empty or wraps.
struct PageRange {
  std::uint64_t pa = 0;
  std::uint64_t len_bytes = 0;
  bool ok = false;
};

PageRange round_out(std::uint64_t gpa, std::uint64_t len_bytes, std::uint64_t page_bytes) {
  const std::uint64_t mask = page_bytes - 1;
  if (len_bytes == 0 || len_bytes > UINT64_MAX - gpa) return {};
  const std::uint64_t end = gpa + len_bytes;  // exclusive
  if (end > UINT64_MAX - mask) return {};     // rounding up would wrap
  const std::uint64_t first = gpa & ~mask;
  return PageRange{first, ((end + mask) & ~mask) - first, true};
}

// The bytes of a rounded range the DART maps: a chunked host maps the first chunk only (the real
// host prepares every chunk but answers the first: docs/REAL-SYSTEM.md, "The host's answers").
std::uint64_t first_chunk(std::uint64_t bytes, const dart::DartConfig& config) {
  return config.chunk_bytes != 0 ? std::min(bytes, config.chunk_bytes) : bytes;
}
}  // namespace

dartlab::Result<mapper::BackendMapping> DartBackend::map(std::uint64_t gpa, std::uint64_t len_bytes,
                                                        dartlab::Direction dir) {
  using R = dartlab::Result<mapper::BackendMapping>;
  const dart::DartConfig& config = dart_.config();
  const PageRange range = round_out(gpa, len_bytes, config.page_bytes);
  const std::uint64_t map_bytes = first_chunk(range.len_bytes, config);
  if (range.ok) {
    // The host searches its table for the gpa before it looks for a free slot.
    if (config.duplicate == dart::DuplicateRule::Refuse && handle_by_gpa_.find(gpa) != nullptr) {
      return R::failure(dartlab::MapError::Duplicate);
    }
    if (map_bytes < range.len_bytes && (range.len_bytes - 1) / config.chunk_bytes >= kMaxChunks)
      return R::failure(dartlab::MapError::Slots);
  }
  // An empty or wrapping range still goes to the DART, as zero bytes, so that its stats count the refusal.
  const dart::DartMapResult r = dart_.map(range.pa, map_bytes, perms_for(dir));
  if (!r.ok) return R::failure(r.error);
  if (config.duplicate == dart::DuplicateRule::Refuse) {
    handle_by_gpa_.insert(gpa, r.mapping.handle);
    const std::size_t slot = slot_of(r.mapping.handle);
    if (slot >= gpa_by_slot_.size()) gpa_by_slot_.resize(slot + 1);
    gpa_by_slot_[slot] = gpa;
  }
  const std::uint64_t covered_bytes = std::min(len_bytes, range.pa + map_bytes - gpa);
  return R::success(mapper::BackendMapping{r.mapping.handle, r.mapping.bus_addr + (gpa - range.pa), covered_bytes});
}

bool DartBackend::unmap(std::uint64_t handle) {
  if (!dart_.unmap(handle)) return false;
  forget(handle);
  return true;
}

bool DartBackend::unmap_hinted(std::uint64_t handle, std::uint64_t bus_addr, std::uint64_t len_bytes) {
  // The range map() gave the DART for [gpa, gpa + len_bytes), bus_addr being gpa's: rounded out
  // to pages, cut at a chunk. A wrong hint only makes a range the DART will not match.
  const dart::DartConfig& config = dart_.config();
  const PageRange range = round_out(bus_addr, len_bytes, config.page_bytes);
  if (!range.ok) return unmap(handle);  // a hint no mapping could have
  if (!dart_.unmap(handle, dart::DartRange{range.pa, first_chunk(range.len_bytes, config)})) return false;
  forget(handle);
  return true;
}

void DartBackend::forget(std::uint64_t handle) {
  if (dart_.config().duplicate != dart::DuplicateRule::Refuse || slot_of(handle) >= gpa_by_slot_.size()) return;
  // The slot's gpa is this mapping's only if this backend registered it (not a map made on the DART itself).
  const std::uint64_t gpa = gpa_by_slot_[slot_of(handle)];
  if (const std::uint64_t* registered = handle_by_gpa_.find(gpa); registered != nullptr && *registered == handle) {
    handle_by_gpa_.erase(gpa);
  }
}

void DartBackend::reset() {
  dart_.reset();
  handle_by_gpa_.clear();
}

}  // namespace dartlab::backends
