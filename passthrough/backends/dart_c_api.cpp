// SPDX-License-Identifier: MIT
// The C API over Dart + DartBackend for the QEMU device. Nothing thrown crosses this boundary.
#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <variant>

#include "models/dart/dart.hpp"
#include "passthrough/backends/dart_backend.hpp"
#include "passthrough/backends/dartlab_dart.h"

struct DlDart {
  explicit DlDart(const dartlab::dart::DartConfig& config) : dart(config), backend(dart) {}
  dartlab::dart::Dart dart;
  dartlab::backends::DartBackend backend;
};

namespace {

using dartlab::dart::FaultCode;

void write_error(char* err, size_t errlen, const std::string& message) {
  if (err == nullptr || errlen == 0) return;
  const size_t n = std::min(errlen - 1, message.size());
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

int to_c_fault(FaultCode code) { return static_cast<int>(code) + 1; }

static_assert(DL_DART_FAULT_NO_TTBR == static_cast<int>(FaultCode::NoTtbr) + 1);
static_assert(DL_DART_FAULT_WRITE_PROT == static_cast<int>(FaultCode::WriteProt) + 1);

int to_c_status(dartlab::MapError e) {
  using dartlab::MapError;
  switch (e) {
    case MapError::Invalid: return DL_DART_INVALID;
    case MapError::Slots: return DL_DART_SLOTS;
    case MapError::Aperture: return DL_DART_APERTURE;
    case MapError::Fragmented: return DL_DART_FRAGMENTED;
    case MapError::Duplicate: return DL_DART_DUPLICATE;
    case MapError::Truncated: return DL_DART_TRUNCATED;
    case MapError::Pool:  // the policies' own refusals: never the DART's
    case MapError::Cap: return DL_DART_ERROR;
  }
  return DL_DART_ERROR;
}

}  // namespace

extern "C" {

DlDart* dl_dart_create(const char* spec, char* err, size_t errlen) {
  try {
    auto parsed = dartlab::dart::parse_dart_spec(spec != nullptr ? spec : "");
    if (auto* message = std::get_if<std::string>(&parsed)) {
      write_error(err, errlen, *message);
      return nullptr;
    }
    return new DlDart(std::get<dartlab::dart::DartConfig>(parsed));
  } catch (const std::exception& e) {
    write_error(err, errlen, e.what());
  } catch (...) {
    write_error(err, errlen, "unknown error");
  }
  return nullptr;
}

void dl_dart_destroy(DlDart* dart) { delete dart; }

int dl_dart_map_region(DlDart* dart, uint64_t pa, uint64_t len, int dir, uint64_t* bus_addr, uint64_t* mapped_len,
                       uint64_t* handle) {
  if (dart == nullptr) return DL_DART_ERROR;
  using dartlab::Direction;
  Direction direction;
  switch (dir) {
    case DL_DART_BIDIRECTIONAL: direction = Direction::Bidirectional; break;
    case DL_DART_TO_DEVICE: direction = Direction::ToDevice; break;
    case DL_DART_FROM_DEVICE: direction = Direction::FromDevice; break;
    default: return DL_DART_INVALID;
  }
  try {
    const auto r = dart->backend.map(pa, len, direction);
    if (!r.ok) return to_c_status(r.error);
    if (bus_addr != nullptr) *bus_addr = r.value.bus_addr;
    if (mapped_len != nullptr) *mapped_len = r.value.len_bytes;
    if (handle != nullptr) *handle = r.value.handle;
    return DL_DART_OK;
  } catch (...) {  // only std::bad_alloc can get here
    return DL_DART_ERROR;
  }
}

int dl_dart_map(DlDart* dart, uint64_t pa, uint64_t len, int dir, uint64_t* bus_addr, uint64_t* handle) {
  uint64_t bus = 0;
  uint64_t mapped_len = 0;
  uint64_t region = 0;
  const int status = dl_dart_map_region(dart, pa, len, dir, &bus, &mapped_len, &region);
  if (status != DL_DART_OK) return status;
  if (mapped_len < len) {  // a caller that cannot hear of a cut must not get a mapping short of its range
    try {
      dart->backend.unmap(region);
    } catch (...) {
      return DL_DART_ERROR;
    }
    return DL_DART_TRUNCATED;
  }
  if (bus_addr != nullptr) *bus_addr = bus;
  if (handle != nullptr) *handle = region;
  return DL_DART_OK;
}

int dl_dart_unmap(DlDart* dart, uint64_t handle) {
  if (dart == nullptr) return DL_DART_ERROR;
  try {
    return dart->backend.unmap(handle) ? DL_DART_OK : DL_DART_INVALID;
  } catch (...) {
    return DL_DART_ERROR;
  }
}

int dl_dart_translate(DlDart* dart, uint64_t bus_addr, int is_write, uint64_t* pa, int* fault_code) {
  if (dart == nullptr) return DL_DART_ERROR;
  using dartlab::dart::Access;
  const dartlab::dart::Translation t = dart->dart.translate(bus_addr, is_write ? Access::Write : Access::Read);
  if (fault_code != nullptr) *fault_code = t.ok ? DL_DART_FAULT_NONE : to_c_fault(t.fault.code);
  if (t.ok && pa != nullptr) *pa = t.pa;
  return t.ok ? 0 : 1;
}

int dl_dart_last_fault(const DlDart* dart, uint64_t* bus_addr) {
  if (dart == nullptr) return DL_DART_FAULT_NONE;
  const dartlab::dart::FaultRecord f = dart->dart.last_fault();
  if (!f.valid) return DL_DART_FAULT_NONE;
  if (bus_addr != nullptr) *bus_addr = f.fault.bus_addr;
  return to_c_fault(f.fault.code);
}

void dl_dart_clear_fault(DlDart* dart) {
  if (dart != nullptr) dart->dart.clear_fault();
}

void dl_dart_stats(const DlDart* dart, DlDartStats* out) {
  if (dart == nullptr || out == nullptr) return;
  const dartlab::dart::DartStats& s = dart->dart.stats();
  *out = DlDartStats{};
  out->live_mappings = s.live_mappings;
  out->mapped_bytes = s.mapped_bytes;
  out->free_bytes = s.free_bytes;
  out->largest_free_bytes = s.largest_free_bytes;
  out->aperture_bytes = s.aperture_bytes;
  out->slot_capacity = s.slot_capacity;
  out->tables_live = s.tables_live;
  out->map_calls = s.map_calls;
  out->unmap_calls = s.unmap_calls;
  for (size_t i = 0; i < s.failures.size(); ++i) out->failures[i] = s.failures[i];
  for (size_t i = 0; i < s.faults_by_code.size(); ++i) out->faults_by_code[i] = s.faults_by_code[i];
}

void dl_dart_reset(DlDart* dart) {
  if (dart == nullptr) return;
  try {
    dart->backend.reset();
  } catch (...) {  // reset only frees memory; nothing to report
  }
}

}  // extern "C"
