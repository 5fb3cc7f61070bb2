// SPDX-License-Identifier: MIT
// The device's host mapping service: the DART backend behind the device's mappers, every host
// mapping counted in the statistics window and reported to the glue (AdmaHostOps.host_map and
// host_unmap) with its exact bus range, so that QEMU can notify IOMMU listeners of just that.
#include <algorithm>
#include <new>
#include <optional>

#include "passthrough/qemu/core/device.hpp"

namespace dartlab::apple_dma {

Result<mapper::BackendMapping> Device::map_on_host(std::uint64_t gpa, std::uint64_t len, Direction dir, bool whole) {
  using R = Result<mapper::BackendMapping>;
  R r;
  try {
    r = backend_.map(gpa, len, dir);
  } catch (const std::bad_alloc&) {  // the backend's gpa registry could not grow
    return R::failure(MapError::Invalid);
  }
  if (!r) return r;
  if (whole && r.value.len_bytes < len) {
    // A caller that cannot hear of a cut must not get a mapping short of its range; it never
    // existed for the counters or the glue either.
    backend_.unmap(r.value.handle);
    return R::failure(MapError::Truncated);
  }
  ++host_live_;
  ++counters_[ADMA_STAT_HOST_MAP_CALLS];
  auto& peak = counters_[ADMA_STAT_PEAK_MAPPINGS];
  peak = std::max(peak, host_live_);
  auto& peak_bytes = counters_[ADMA_STAT_PEAK_MAPPED_BYTES];
  peak_bytes = std::max(peak_bytes, dart_.stats().mapped_bytes);
  if (ops_.host_map != nullptr) {
    // The DART maps whole pages: the glue hears of all of them, from the page that holds gpa.
    const std::optional<dart::DartRange> range = dart_.live_range(r.value.handle);
    const dart::Perms perms = backends::perms_for(dir);
    const int perm = (perms.device_read ? ADMA_PERM_READ : 0) | (perms.device_write ? ADMA_PERM_WRITE : 0);
    const std::uint64_t first_gpa = gpa - (r.value.bus_addr - range->bus_addr);
    ops_.host_map(opaque_, range->bus_addr, range->len_bytes, first_gpa, perm);
  }
  return r;
}

bool Device::unmap_on_host(std::uint64_t handle) {
  const std::optional<dart::DartRange> range = dart_.live_range(handle);
  if (!backend_.unmap(handle)) return false;
  --host_live_;
  ++counters_[ADMA_STAT_HOST_UNMAP_CALLS];
  // The page tables changed: whoever caches the managed device's translations of that range must drop them.
  if (ops_.host_unmap != nullptr) ops_.host_unmap(opaque_, range->bus_addr, range->len_bytes);
  return true;
}

mapper::BackendPressure Device::HostService::pressure() const {
  // The page size stays unknown to the policies (0: the mapper's own 16 KiB granule), as the
  // device has always told them.
  mapper::BackendPressure p = device_.backend_.pressure();
  p.page_bytes = 0;
  return p;
}

}  // namespace dartlab::apple_dma
