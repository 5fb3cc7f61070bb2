// SPDX-License-Identifier: MIT
// The C API over Mapper. Nothing may escape into C: every entry point catches.
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <variant>

#include "passthrough/mapper/dartlab_mapper.h"
#include "passthrough/mapper/mapper.hpp"
#include "passthrough/mapper/request_table.hpp"

namespace {

using namespace dartlab;
using namespace dartlab::mapper;

int status_of(MapError e) {
  switch (e) {
    case MapError::Invalid: return DL_MAP_INVALID;
    case MapError::Slots: return DL_MAP_SLOTS;
    case MapError::Aperture: return DL_MAP_APERTURE;
    case MapError::Fragmented: return DL_MAP_FRAGMENTED;
    case MapError::Pool: return DL_MAP_POOL;
    case MapError::Cap: return DL_MAP_CAP;
    case MapError::Duplicate: return DL_MAP_DUPLICATE;
    case MapError::Truncated: return DL_MAP_TRUNCATED;
  }
  return DL_MAP_INVALID;
}

MapError error_of(int status) {
  switch (status) {
    case DL_MAP_SLOTS: return MapError::Slots;
    case DL_MAP_APERTURE: return MapError::Aperture;
    case DL_MAP_FRAGMENTED: return MapError::Fragmented;
    case DL_MAP_POOL: return MapError::Pool;
    case DL_MAP_CAP: return MapError::Cap;
    case DL_MAP_DUPLICATE: return MapError::Duplicate;
    case DL_MAP_TRUNCATED: return MapError::Truncated;
    default: return MapError::Invalid;
  }
}

Direction direction_of(int dir) {
  switch (dir) {
    case DL_DIR_TO_DEVICE: return Direction::ToDevice;
    case DL_DIR_FROM_DEVICE: return Direction::FromDevice;
    default: return Direction::Bidirectional;
  }
}

int dir_code(Direction d) {
  switch (d) {
    case Direction::ToDevice: return DL_DIR_TO_DEVICE;
    case Direction::FromDevice: return DL_DIR_FROM_DEVICE;
    case Direction::Bidirectional: return DL_DIR_BIDIRECTIONAL;
  }
  return DL_DIR_BIDIRECTIONAL;
}

// MappingBackend over C function pointers.
class CBackend final : public MappingBackend {
 public:
  CBackend(const DlBackendOps& ops, void* opaque) : ops_(ops), opaque_(opaque) {}

  Result<BackendMapping> map(std::uint64_t gpa, std::uint64_t len_bytes, Direction dir) override {
    BackendMapping m;
    const int status = ops_.map(opaque_, gpa, len_bytes, dir_code(dir), &m.bus_addr, &m.handle);
    if (status != DL_MAP_OK) return Result<BackendMapping>::failure(error_of(status));
    m.len_bytes = len_bytes;  // a C backend maps all of it or refuses (DlBackendOps)
    return Result<BackendMapping>::success(m);
  }
  bool unmap(std::uint64_t handle) override { return ops_.unmap(opaque_, handle) == 0; }
  BackendPressure pressure() const override {
    BackendPressure p;
    if (ops_.pressure != nullptr) ops_.pressure(opaque_, &p.slots_used, &p.slots_limit, &p.bytes_used, &p.bytes_limit);
    return p;
  }

 private:
  DlBackendOps ops_;
  void* opaque_;
};

void write_error(char* err, std::size_t errlen, const std::string& msg) {
  if (err != nullptr && errlen > 0) std::snprintf(err, errlen, "%s", msg.c_str());
}

}  // namespace

// Handles name requests, not host mappings: a guest that releases a handle twice, or a length
// it did not map, is refused instead of taking another request's reference (RequestTable).
struct DlMapper {
  DlMapper(const DlBackendOps& ops, void* opaque, const Policy& p)
      : backend(ops, opaque), mapper(backend, p), requests(mapper), spec(p.spec()) {}
  ~DlMapper() { requests.release_all(); }
  CBackend backend;
  Mapper mapper;
  RequestTable requests;
  std::string spec;
};

extern "C" {

DlMapper* dl_mapper_create(const char* policy_spec, const DlBackendOps* ops, void* opaque, char* err,
                           size_t errlen) {
  try {
    if (policy_spec == nullptr || ops == nullptr || ops->map == nullptr || ops->unmap == nullptr) {
      write_error(err, errlen, "dl_mapper_create: policy spec and backend map/unmap functions are required");
      return nullptr;
    }
    auto parsed = parse_policy(policy_spec);
    if (const auto* msg = std::get_if<std::string>(&parsed)) {
      write_error(err, errlen, *msg);
      return nullptr;
    }
    return new DlMapper(*ops, opaque, std::get<Policy>(parsed));
  } catch (const std::exception& e) {
    write_error(err, errlen, std::string("dl_mapper_create: ") + e.what());
    return nullptr;
  }
}

void dl_mapper_destroy(DlMapper* m) { delete m; }

int dl_mapper_map(DlMapper* m, uint64_t gpa, uint64_t len, int dir, uint64_t* dma_addr, uint64_t* handle) {
  if (m == nullptr || dma_addr == nullptr || handle == nullptr) return DL_MAP_INVALID;
  try {
    const auto r = m->requests.map(gpa, len, direction_of(dir));
    if (!r) return status_of(r.error);
    *dma_addr = r.value.dma_addr;
    *handle = r.value.handle;
    return DL_MAP_OK;
  } catch (const std::bad_alloc&) {
    return DL_MAP_SLOTS;  // no memory to track another request: report it as no room
  }
}

int dl_mapper_unmap_handle(DlMapper* m, uint64_t handle, uint64_t len) {
  if (m == nullptr) return DL_MAP_INVALID;
  const auto r = m->requests.unmap_handle(handle, len);
  return r ? DL_MAP_OK : status_of(r.error);
}

int dl_mapper_unmap(DlMapper* m, uint64_t dma_addr, uint64_t len) {
  if (m == nullptr) return DL_MAP_INVALID;
  const auto r = m->requests.unmap_dma(dma_addr, len);
  return r ? DL_MAP_OK : status_of(r.error);
}

void dl_mapper_release_all(DlMapper* m) {
  if (m != nullptr) m->requests.release_all();
}

void dl_mapper_stats(const DlMapper* m, DlMapperStats* out) {
  if (m == nullptr || out == nullptr) return;
  const MapperStats& s = m->mapper.stats();
  *out = DlMapperStats{s.live_mappings, s.peak_mappings, s.mapped_bytes, s.peak_mapped_bytes,
                       s.live_requests, s.requested_bytes, s.peak_requested_bytes, s.map_requests,
                       s.shared_hits, s.host_map_calls, s.host_unmap_calls, s.failed_maps,
                       s.failures[static_cast<int>(MapError::Invalid)],
                       s.failures[static_cast<int>(MapError::Slots)],
                       s.failures[static_cast<int>(MapError::Aperture)],
                       s.failures[static_cast<int>(MapError::Fragmented)],
                       s.reuse_hits, s.cached_mappings, s.cached_bytes, s.evictions, s.promotions,
                       s.adaptations, s.window_bytes_now,
                       s.failures[static_cast<int>(MapError::Pool)],
                       s.pool_bytes_taken, s.peak_pool_bytes_taken, s.cap_refusals,
                       s.failures[static_cast<int>(MapError::Duplicate)],
                       s.failures[static_cast<int>(MapError::Truncated)]};
}

const char* dl_mapper_policy(const DlMapper* m) { return m == nullptr ? "" : m->spec.c_str(); }

const char* dl_map_status_name(int status) {
  switch (status) {
    case DL_MAP_OK: return "ok";
    case DL_MAP_INVALID:
    case DL_MAP_SLOTS:
    case DL_MAP_APERTURE:
    case DL_MAP_FRAGMENTED:
    case DL_MAP_DUPLICATE:
    case DL_MAP_TRUNCATED:
    case DL_MAP_POOL:
    case DL_MAP_CAP: return to_string(error_of(status)).data();  // string literals: NUL-terminated
    default: return "unknown";
  }
}

int dl_mapper_bounce_pool(const DlMapper* m, uint64_t* gpa, uint64_t* bytes) {
  if (m == nullptr || gpa == nullptr || bytes == nullptr || !m->mapper.bounce()) return DL_MAP_INVALID;
  *gpa = m->mapper.policy().bounce_pool_gpa;
  *bytes = m->mapper.policy().bounce_pool_bytes;
  return DL_MAP_OK;
}

int dl_mapper_bounce_slot(const DlMapper* m, uint64_t handle, DlBounceSlot* out) {
  if (m == nullptr || out == nullptr || !m->mapper.bounce()) return DL_MAP_INVALID;
  LiveRequest r;
  if (!m->requests.find(handle, r)) return DL_MAP_INVALID;
  *out = DlBounceSlot{r.gpa, r.len_bytes, r.target_gpa, dir_code(r.dir)};
  return DL_MAP_OK;
}

}  // extern "C"
