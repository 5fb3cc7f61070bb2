#include "models/dart/dart_backend.hpp"

namespace dartlab::dart {

Perms perms_for(mapper::Direction dir) {
  switch (dir) {
    case mapper::Direction::ToDevice: return Perms{true, false};
    case mapper::Direction::FromDevice: return Perms{false, true};
    case mapper::Direction::Bidirectional: break;
  }
  return Perms{true, true};
}

mapper::MapError to_map_error(MapFailure failure) {
  switch (failure) {
    case MapFailure::Invalid: return mapper::MapError::Invalid;
    case MapFailure::Slots: return mapper::MapError::Slots;
    case MapFailure::Aperture: return mapper::MapError::Aperture;
    case MapFailure::Fragmented: return mapper::MapError::Fragmented;
  }
  return mapper::MapError::Invalid;
}

namespace {
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
}  // namespace

mapper::Result<mapper::BackendMapping> DartBackend::map(std::uint64_t gpa, std::uint64_t len_bytes,
                                                        mapper::Direction dir) {
  using R = mapper::Result<mapper::BackendMapping>;
  const PageRange range = round_out(gpa, len_bytes, dart_.config().page_bytes);
  // An empty or wrapping range still goes to the DART, as zero bytes, so that its stats count the refusal.
  const DartMapResult r = dart_.map(range.pa, range.len_bytes, perms_for(dir));
  if (!r.ok) return R::failure(to_map_error(r.failure));
  return R::success(mapper::BackendMapping{r.mapping.handle, r.mapping.bus_addr + (gpa - range.pa)});
}

}  // namespace dartlab::dart
