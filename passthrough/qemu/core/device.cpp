// SPDX-License-Identifier: MIT
// The apple-dma-pci device logic; see device.hpp and passthrough/qemu/INTERFACE.md.
#include "passthrough/qemu/core/device.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <limits>
#include <new>

#include "passthrough/qemu/core/reasons.hpp"

namespace dartlab::apple_dma {

namespace {

bool is_v3(std::uint32_t type) { return type == ADMA_CMD_MAP_REQ || type == ADMA_CMD_UNMAP_REQ; }

}  // namespace

std::variant<std::unique_ptr<Device>, std::string> Device::create(const AdmaConfig& config, const AdmaHostOps& ops,
                                                                  void* opaque) {
  if (ops.read == nullptr || ops.write == nullptr || ops.is_ram == nullptr) {
    return std::string("apple-dma: guest memory callbacks read, write and is_ram are required");
  }
  if (config.interface_version != 2 && config.interface_version != 3) {
    return "apple-dma: interface=" + std::to_string(config.interface_version) + ": must be 2 or 3";
  }
  if (config.compat < ADMA_COMPAT_DEFAULT || config.compat > ADMA_COMPAT_RFC) {
    return "apple-dma: compat=" + std::to_string(config.compat) + ": must be rfc or strict";
  }
  if (config.reset_releases < ADMA_RESET_DEFAULT || config.reset_releases > ADMA_RESET_KEEP) {
    return "apple-dma: reset-releases=" + std::to_string(config.reset_releases) + ": must be on or off";
  }
  if (config.max_entries > ADMA_MAX_MAX_ENTRIES) {
    return "apple-dma: max-entries=" + std::to_string(config.max_entries) + ": at most " +
           std::to_string(ADMA_MAX_MAX_ENTRIES);
  }
  const char* dart_spec = config.dart != nullptr ? config.dart : "";
  auto dart = dart::parse_dart_spec(dart_spec);
  if (const auto* msg = std::get_if<std::string>(&dart)) return std::string("apple-dma: dart=") + dart_spec + ": " + *msg;
  std::unique_ptr<Device> d(new Device(config, ops, opaque, std::get<dart::DartConfig>(dart)));
  d->direct_ = std::make_unique<Requests>(d->host_, std::get<mapper::Policy>(mapper::parse_policy("direct")));
  if (config.interface_version == 3) {
    const char* spec = config.policy != nullptr && config.policy[0] != '\0' ? config.policy : "direct";
    auto policy = mapper::parse_policy(spec);
    if (const auto* msg = std::get_if<std::string>(&policy)) return std::string("apple-dma: policy=") + spec + ": " + *msg;
    d->policy_ = std::make_unique<Requests>(d->host_, std::get<mapper::Policy>(policy));
    // A bounce pool is guest RAM the guest's own allocations leave alone (a region it reserves,
    // e.g. with the kernel's memmap=): the device cannot see that, but it can refuse a pool that
    // is no RAM at all, and the pool at 0 that the spec defaults to, which every guest uses.
    if (d->policy_->mapper.bounce()) {
      const std::uint64_t pool_gpa = d->policy_->mapper.policy().bounce_pool_gpa;
      const std::uint64_t pool_bytes = d->policy_->mapper.policy().bounce_pool_bytes;
      if (pool_gpa == 0 || pool_gpa > std::numeric_limits<std::uint64_t>::max() - pool_bytes ||
          ops.is_ram(opaque, pool_gpa, pool_bytes) == 0) {
        return std::string("apple-dma: policy=") + spec +
               ": the bounce pool must be guest RAM that the guest reserves for it: give its place with at=";
      }
      d->bounce_ = true;
    }
  }
  return d;
}

Device::Device(const AdmaConfig& config, const AdmaHostOps& ops, void* opaque, const dart::DartConfig& dart)
    : ops_(ops),
      opaque_(opaque),
      interface_version_(config.interface_version),
      max_entries_(config.max_entries == 0 ? ADMA_DEFAULT_MAX_ENTRIES : config.max_entries),
      compat_(config.compat != ADMA_COMPAT_DEFAULT ? config.compat
              : config.interface_version == 2 ? ADMA_COMPAT_RFC
                                              : ADMA_COMPAT_STRICT),
      reset_releases_(config.reset_releases != ADMA_RESET_DEFAULT ? config.reset_releases == ADMA_RESET_RELEASE
                                                                  : compat_ == ADMA_COMPAT_STRICT),
      dart_(dart),
      backend_(dart_),
      host_(*this) {}

Device::~Device() {
  // The mappers unmap through the DART, counted here, on destruction: they go first.
  policy_.reset();
  direct_.reset();
}

void Device::log_guest_error(const char* fmt, va_list ap) {
  char msg[256];
  std::vsnprintf(msg, sizeof(msg), fmt, ap);
  ++counters_[ADMA_STAT_GUEST_ERRORS];
  if (ops_.guest_error != nullptr) ops_.guest_error(opaque_, msg);
}

Device::Outcome Device::refuse(std::uint32_t cause, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_guest_error(fmt, ap);
  va_end(ap);
  return Outcome{ADMA_STATUS_INVALID, ADMA_REASON_INVALID, cause};
}

Device::Outcome Device::host_refusal(std::uint32_t reason, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_guest_error(fmt, ap);
  va_end(ap);
  return Outcome{ADMA_STATUS_IO_ERROR, reason, ADMA_CAUSE_NONE};
}

void Device::count_refusal(std::uint32_t reason) {
  switch (reason) {
    case ADMA_REASON_INVALID: ++counters_[ADMA_STAT_FAIL_INVALID]; break;
    case ADMA_REASON_SLOTS: ++counters_[ADMA_STAT_FAIL_SLOTS]; break;
    case ADMA_REASON_APERTURE: ++counters_[ADMA_STAT_FAIL_APERTURE]; break;
    case ADMA_REASON_FRAGMENTED: ++counters_[ADMA_STAT_FAIL_FRAGMENTED]; break;
    case ADMA_REASON_STILL_OPEN: ++counters_[ADMA_STAT_FAIL_STILL_OPEN]; break;
    case ADMA_REASON_NOT_FOUND: ++counters_[ADMA_STAT_FAIL_NOT_FOUND]; break;
    case ADMA_REASON_POOL: ++counters_[ADMA_STAT_FAIL_POOL]; break;
    case ADMA_REASON_CAP: ++counters_[ADMA_STAT_FAIL_CAP]; break;
    case ADMA_REASON_TRUNCATED: ++counters_[ADMA_STAT_FAIL_TRUNCATED]; break;
    default: break;
  }
}

void Device::note(const Outcome& o) {
  if (o.status == ADMA_STATUS_OK) return;
  last_error_reason_ = o.reason;
  if (o.status == ADMA_STATUS_INVALID) invalid_cause_ = o.cause;
}

void Device::bad_access(std::uint32_t cause, const char* what, std::uint64_t offset, unsigned size) {
  const Outcome o = refuse(cause, "apple-dma: %s at BAR0 offset 0x%llx, size %u", what,
                           static_cast<unsigned long long>(offset), size);
  // The RFC device reads 0 and ignores writes there, and says nothing to the guest: only the
  // log has it. Strict answers invalid.
  if (rfc()) return;
  note(o);
  status_ = ADMA_STATUS_INVALID;
  ++counters_[ADMA_STAT_INVALID_COMMANDS];
}

std::uint64_t Device::mmio_read(std::uint64_t offset, unsigned size) {
  const std::uint64_t stats_end = ADMA_STATS_BASE + 8ull * ADMA_STAT_COUNT;
  if (offset >= ADMA_STATS_BASE && offset < stats_end) {
    if ((size != 4 && size != 8) || offset % size != 0) {
      bad_access(ADMA_CAUSE_BAD_ACCESS, "statistics read of a wrong size or alignment", offset, size);
      return 0;
    }
    const std::uint64_t v = stat(static_cast<unsigned>((offset - ADMA_STATS_BASE) / 8));
    if (size == 8) return v;
    return offset % 8 == 0 ? v & 0xffffffffu : v >> 32;
  }
  if (offset >= ADMA_REG_LAST) {
    bad_access(ADMA_CAUSE_NO_REGISTER, "read of an offset with no register", offset, size);
    return 0;
  }
  if (size != 4 || offset % 4 != 0) {
    bad_access(ADMA_CAUSE_BAD_ACCESS, "register read of a wrong size or alignment", offset, size);
    return 0;
  }
  return read_register(offset);
}

std::uint64_t Device::read_register(std::uint64_t offset) const {
  const dart::FaultRecord fault = dart_.last_fault();  // the error register
  const std::uint64_t fault_addr = fault.valid ? fault.fault.bus_addr : 0;
  switch (offset) {
    case ADMA_REG_VERSION: return static_cast<std::uint32_t>(interface_version_);
    case ADMA_REG_MANAGED_BDF: return managed_bdf_;
    case ADMA_REG_MAX_ENTRIES: return max_entries_;
    case ADMA_REG_STATUS: return status_;
    case ADMA_REG_CMD_GPA_LO: return cmd_gpa_ & 0xffffffffu;
    case ADMA_REG_CMD_GPA_HI: return cmd_gpa_ >> 32;
    case ADMA_REG_DOORBELL: return 0;
    case ADMA_REG_LAST_ERROR_REASON: return last_error_reason_;
    case ADMA_REG_INVALID_CAUSE: return invalid_cause_;
    case ADMA_REG_FAULT_STATUS: return fault.valid ? static_cast<std::uint32_t>(fault_code_of(fault.fault.code)) : 0;
    case ADMA_REG_FAULT_ADDR_LO: return fault_addr & 0xffffffffu;
    case ADMA_REG_FAULT_ADDR_HI: return fault_addr >> 32;
    default: return 0;
  }
}

void Device::mmio_write(std::uint64_t offset, std::uint64_t value, unsigned size) {
  const std::uint64_t stats_end = ADMA_STATS_BASE + 8ull * ADMA_STAT_COUNT;
  if (offset >= ADMA_STATS_BASE && offset < stats_end) {
    bad_access(ADMA_CAUSE_READ_ONLY, "write to the read-only statistics window", offset, size);
    return;
  }
  if (offset >= ADMA_REG_LAST) {
    bad_access(ADMA_CAUSE_NO_REGISTER, "write to an offset with no register", offset, size);
    return;
  }
  if (size != 4 || offset % 4 != 0) {
    bad_access(ADMA_CAUSE_BAD_ACCESS, "register write of a wrong size or alignment", offset, size);
    return;
  }
  const auto v32 = static_cast<std::uint32_t>(value);
  switch (offset) {
    case ADMA_REG_CMD_GPA_LO:
      cmd_gpa_ = (cmd_gpa_ & ~0xffffffffull) | v32;
      cmd_gpa_written_ = true;
      return;
    case ADMA_REG_CMD_GPA_HI:
      cmd_gpa_ = (cmd_gpa_ & 0xffffffffull) | static_cast<std::uint64_t>(v32) << 32;
      cmd_gpa_written_ = true;
      return;
    case ADMA_REG_DOORBELL: doorbell(); return;
    case ADMA_REG_FAULT_STATUS: dart_.clear_fault(); return;
    default: bad_access(ADMA_CAUSE_READ_ONLY, "write to a read-only register", offset, size); return;
  }
}

void Device::doorbell() {
  ++counters_[ADMA_STAT_DOORBELLS];
  Outcome o;
  Command c;
  std::uint8_t page[kCommandBytes] = {};
  if (!cmd_gpa_written_) {
    o = refuse(ADMA_CAUSE_NO_COMMAND_PAGE, "apple-dma: doorbell with no command page (CMD_GPA never written)");
  } else if (cmd_gpa_ > std::numeric_limits<std::uint64_t>::max() - kCommandBytes ||
             ops_.read(opaque_, cmd_gpa_, page, kCommandBytes) != 0) {
    o = refuse(ADMA_CAUSE_COMMAND_NOT_RAM, "apple-dma: command page at gpa 0x%llx is not guest RAM",
               static_cast<unsigned long long>(cmd_gpa_));
  } else {
    c = decode_command(page);
    o = run(c);
    std::uint8_t status_bytes[4];
    store_u32(status_bytes, o.status);
    // The page was RAM a moment ago and the guest cannot run meanwhile (one vCPU exit).
    ops_.write(opaque_, cmd_gpa_ + kCommandStatusOffset, status_bytes, sizeof(status_bytes));
  }
  note(o);
  status_ = o.status;
  if (o.status == ADMA_STATUS_INVALID) ++counters_[ADMA_STAT_INVALID_COMMANDS];
  if (ops_.trace_doorbell != nullptr) ops_.trace_doorbell(opaque_, c.type, c.count, static_cast<int>(o.status));
}

Device::Outcome Device::run(const Command& c) {
  const EntryLayout layout = entry_layout(c.type);
  if (layout.request_bytes == 0 || (is_v3(c.type) && interface_version_ < 3)) {
    return refuse(ADMA_CAUSE_BAD_TYPE, "apple-dma: command type %u unknown under interface %d", c.type,
                  interface_version_);
  }
  if (c.reserved != 0 && !rfc()) {
    return refuse(ADMA_CAUSE_RESERVED_NONZERO, "apple-dma: command reserved word 0x%x is not 0", c.reserved);
  }
  if (c.count == 0) return refuse(ADMA_CAUSE_COUNT_ZERO, "apple-dma: command with count 0");
  if (c.count > max_entries_) {
    return refuse(ADMA_CAUSE_COUNT_TOO_LARGE, "apple-dma: command count %u exceeds MAX_ENTRIES %u", c.count,
                  max_entries_);
  }
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  // The RFC device takes an array address of 0 for "none given".
  if (rfc() && c.req_gpa == 0) return refuse(ADMA_CAUSE_REQUEST_NOT_RAM, "apple-dma: request array address is 0");
  if (rfc() && c.resp_gpa == 0) return refuse(ADMA_CAUSE_RESPONSE_NOT_RAM, "apple-dma: response array address is 0");
  const std::uint64_t req_bytes = c.count * layout.request_bytes;
  const std::uint64_t resp_bytes = c.count * layout.response_bytes;
  if (c.req_gpa > max - req_bytes || ops_.is_ram(opaque_, c.req_gpa, req_bytes) == 0) {
    return refuse(ADMA_CAUSE_REQUEST_NOT_RAM, "apple-dma: request array [0x%llx, +0x%llx) is not guest RAM",
                  static_cast<unsigned long long>(c.req_gpa), static_cast<unsigned long long>(req_bytes));
  }
  if (c.resp_gpa > max - resp_bytes || ops_.is_ram(opaque_, c.resp_gpa, resp_bytes) == 0) {
    return refuse(ADMA_CAUSE_RESPONSE_NOT_RAM, "apple-dma: response array [0x%llx, +0x%llx) is not guest RAM",
                  static_cast<unsigned long long>(c.resp_gpa), static_cast<unsigned long long>(resp_bytes));
  }
  // Responses written over the requests still to be read, or over the command page, would let
  // one entry rewrite the next: refused outright (the RFC device does not look: the guest's
  // business, and guest RAM either way).
  if (!rfc() && (ranges_overlap(c.req_gpa, req_bytes, cmd_gpa_, kCommandBytes) ||
      ranges_overlap(c.resp_gpa, resp_bytes, cmd_gpa_, kCommandBytes) ||
      ranges_overlap(c.req_gpa, req_bytes, c.resp_gpa, resp_bytes))) {
    return refuse(ADMA_CAUSE_OVERLAP, "apple-dma: request, response and command buffers overlap");
  }

  const bool is_map = c.type == ADMA_CMD_MAP || c.type == ADMA_CMD_MAP_REQ;
  Outcome worst;
  EntryBytes request{};
  EntryBytes response{};
  for (std::uint32_t i = 0; i < c.count; ++i) {
    if (ops_.read(opaque_, c.req_gpa + i * layout.request_bytes, request.data(), layout.request_bytes) != 0) {
      return refuse(ADMA_CAUSE_REQUEST_NOT_RAM, "apple-dma: request entry %u unreadable", i);
    }
    const bool rfc_entry = rfc() && !is_v3(c.type);
    const Outcome o = is_map ? (rfc_entry ? map_entry_rfc(request, response) : map_entry(c.type, request, response))
                             : (rfc_entry ? unmap_entry_rfc(request, response) : unmap_entry(c.type, request, response));
    ops_.write(opaque_, c.resp_gpa + i * layout.response_bytes, response.data(), layout.response_bytes);
    note(o);
    // Invalid outranks an I/O error: the guest has a bug to fix, not a limit to live with.
    if (o.status == ADMA_STATUS_INVALID || (o.status != ADMA_STATUS_OK && worst.status == ADMA_STATUS_OK)) worst = o;
  }
  return worst;
}

Device::Outcome Device::map_entry(std::uint32_t type, const EntryBytes& bytes, EntryBytes& response) {
  ++counters_[ADMA_STAT_MAP_ENTRIES];
  const MapRequest r = decode_map_request(type, bytes);
  const bool v2 = type == ADMA_CMD_MAP;
  const std::uint32_t dir = v2 ? (r.flags & 3u) : r.flags;
  Outcome o;
  if ((v2 && (r.flags & ~3u) != 0) || dir > ADMA_DIR_FROM_DEVICE || r.reserved != 0) {
    o = refuse(ADMA_CAUSE_BAD_FLAGS, "apple-dma: map gpa 0x%llx: bad direction/flags 0x%x",
               static_cast<unsigned long long>(r.gpa), r.flags);
  } else if (r.len == 0) {
    o = refuse(ADMA_CAUSE_ZERO_LENGTH, "apple-dma: map gpa 0x%llx of length 0", static_cast<unsigned long long>(r.gpa));
  } else if (r.gpa > std::numeric_limits<std::uint64_t>::max() - r.len) {
    o = refuse(ADMA_CAUSE_RANGE_OVERFLOW, "apple-dma: map gpa 0x%llx + len 0x%llx wraps",
               static_cast<unsigned long long>(r.gpa), static_cast<unsigned long long>(r.len));
  } else if (ops_.is_ram(opaque_, r.gpa, r.len) == 0) {
    o = refuse(ADMA_CAUSE_GPA_NOT_RAM, "apple-dma: map [0x%llx, +0x%llx) is not guest RAM",
               static_cast<unsigned long long>(r.gpa), static_cast<unsigned long long>(r.len));
  }
  std::uint64_t dma_addr = 0;
  std::uint64_t handle = 0;
  if (o.status == ADMA_STATUS_OK) {
    Result<mapper::RequestMapping> m;
    try {
      m = (v2 ? direct_ : policy_)->table.map(r.gpa, r.len, direction_of(dir));
    } catch (const std::bad_alloc&) {
      m = Result<mapper::RequestMapping>::failure(MapError::Slots);  // no memory to track it: no room
    }
    if (m) {
      dma_addr = m.value.dma_addr;
      handle = m.value.handle;
    } else if (m.error == MapError::Invalid) {
      o = refuse(ADMA_CAUSE_REFUSED, "apple-dma: map [0x%llx, +0x%llx) refused by the DART as invalid",
                 static_cast<unsigned long long>(r.gpa), static_cast<unsigned long long>(r.len));
    } else {
      o = Outcome{ADMA_STATUS_IO_ERROR, reason_of(m.error), ADMA_CAUSE_NONE};
    }
  }
  count_refusal(o.reason);
  if (o.status != ADMA_STATUS_OK) dma_addr = handle = 0;
  // Under bounce the DMA address reaches the request's slot in the pool: the bytes the device
  // will read go there now (as swiotlb copies at map time).
  if (o.status == ADMA_STATUS_OK && !v2 && bounce_) bounce_copy(handle, true);
  const auto dma_len = static_cast<std::uint32_t>(o.status == ADMA_STATUS_OK && v2 ? r.len : 0);
  encode_map_response(type, handle, dma_addr, dma_len, o.status, o.reason, response);
  if (ops_.trace_map != nullptr) {
    ops_.trace_map(opaque_, r.gpa, r.len, static_cast<int>(dir), dma_addr, handle, static_cast<int>(o.status));
  }
  return o;
}

Device::Outcome Device::unmap_entry(std::uint32_t type, const EntryBytes& bytes, EntryBytes& response) {
  ++counters_[ADMA_STAT_UNMAP_ENTRIES];
  const UnmapRequest r = decode_unmap_request(bytes);
  Outcome o;
  // Under bounce what the device wrote into the slot goes back to the request's own memory first.
  if (type == ADMA_CMD_UNMAP_REQ && bounce_) bounce_copy(r.handle, false);
  if (!(type == ADMA_CMD_UNMAP ? direct_ : policy_)->table.unmap_handle(r.handle, r.len)) {
    ++counters_[ADMA_STAT_FAIL_INVALID];
    o = refuse(ADMA_CAUSE_UNKNOWN_HANDLE, "apple-dma: unmap of handle 0x%llx, len 0x%llx: not a live mapping",
               static_cast<unsigned long long>(r.handle), static_cast<unsigned long long>(r.len));
  }
  encode_unmap_response(type, r.handle, o.status, o.reason, response);
  if (ops_.trace_unmap != nullptr) ops_.trace_unmap(opaque_, r.handle, r.len, static_cast<int>(o.status));
  return o;
}

Device::Outcome Device::map_entry_rfc(const EntryBytes& bytes, EntryBytes& response) {
  ++counters_[ADMA_STAT_MAP_ENTRIES];
  const MapRequest r = decode_map_request(ADMA_CMD_MAP, bytes);  // flags: ignored, as the RFC device
  Outcome o;
  std::uint64_t dma_addr = 0;
  std::uint64_t mapped = 0;
  if (r.len == 0 || r.gpa > std::numeric_limits<std::uint64_t>::max() - r.len || ops_.is_ram(opaque_, r.gpa, r.len) == 0) {
    o = host_refusal(ADMA_REASON_INVALID, "apple-dma: map [0x%llx, +0x%llx) is not guest RAM",
                     static_cast<unsigned long long>(r.gpa), static_cast<unsigned long long>(r.len));
  } else if (registrations_.count(r.gpa) != 0) {
    // The host service keys registrations by iova = gpa and refuses a second (kIOReturnStillOpen).
    o = host_refusal(ADMA_REASON_STILL_OPEN, "apple-dma: map of gpa 0x%llx, which is still registered",
                     static_cast<unsigned long long>(r.gpa));
  } else {
    // The host cuts a region past its chunk (the DART spec's chunk=, 1536M by default).
    const Result<mapper::BackendMapping> m = map_on_host(r.gpa, r.len, Direction::Bidirectional, /*whole=*/false);
    if (m) {
      dma_addr = m.value.bus_addr;
      mapped = m.value.len_bytes;
      registrations_.emplace(r.gpa, Registration{m.value.handle, mapped});
      registered_bytes_ += mapped;
    } else {
      o = Outcome{ADMA_STATUS_IO_ERROR, reason_of(m.error), ADMA_CAUSE_NONE};
    }
  }
  count_refusal(o.reason);
  if (o.status != ADMA_STATUS_OK) dma_addr = mapped = 0;
  // id = the gpa; dma_len = what the host mapped: shorter than asked past one chunk.
  encode_map_response(ADMA_CMD_MAP, r.gpa, dma_addr, static_cast<std::uint32_t>(mapped), o.status, o.reason,
                      response);
  if (ops_.trace_map != nullptr) {
    ops_.trace_map(opaque_, r.gpa, r.len, ADMA_DIR_BIDIRECTIONAL, dma_addr, r.gpa, static_cast<int>(o.status));
  }
  return o;
}

Device::Outcome Device::unmap_entry_rfc(const EntryBytes& bytes, EntryBytes& response) {
  ++counters_[ADMA_STAT_UNMAP_ENTRIES];
  const UnmapRequest r = decode_unmap_request(bytes);  // size: ignored, as the RFC device
  Outcome o;
  const auto it = registrations_.find(r.handle);
  std::uint64_t len = 0;
  if (it == registrations_.end()) {
    o = host_refusal(ADMA_REASON_NOT_FOUND, "apple-dma: unmap of id 0x%llx, which is not registered",
                     static_cast<unsigned long long>(r.handle));
  } else {
    len = it->second.len;
    unmap_on_host(it->second.handle);
    registered_bytes_ -= it->second.len;
    registrations_.erase(it);
  }
  count_refusal(o.reason);
  encode_unmap_response(ADMA_CMD_UNMAP, r.handle, o.status, o.reason, response);
  if (ops_.trace_unmap != nullptr) ops_.trace_unmap(opaque_, r.handle, len, static_cast<int>(o.status));
  return o;
}

void Device::bounce_copy(std::uint64_t handle, bool at_map) {
  mapper::LiveRequest slot;
  if (!policy_->table.find(handle, slot)) return;  // not live: the unmap refuses it
  if (at_map ? slot.dir == Direction::FromDevice : slot.dir == Direction::ToDevice) return;
  const std::uint64_t from = at_map ? slot.gpa : slot.target_gpa;
  const std::uint64_t to = at_map ? slot.target_gpa : slot.gpa;
  std::uint8_t buf[4096];
  for (std::uint64_t done = 0; done < slot.len_bytes;) {
    const std::uint64_t n = std::min<std::uint64_t>(sizeof(buf), slot.len_bytes - done);
    // Both ranges were checked as guest RAM (the request at its map, the pool at creation).
    if (ops_.read(opaque_, from + done, buf, n) != 0 || ops_.write(opaque_, to + done, buf, n) != 0) return;
    done += n;
  }
  counters_[ADMA_STAT_BOUNCE_BYTES] += slot.len_bytes;
}

Device::RequestTotals Device::request_totals() const {
  RequestTotals t{registrations_.size(), registered_bytes_};
  for (const Requests* r : {direct_.get(), policy_.get()}) {
    if (r == nullptr) continue;
    t.live += r->mapper.stats().live_requests;
    t.bytes += r->mapper.stats().requested_bytes;
  }
  return t;
}

void Device::reset() {
  // The RFC device has no reset handler: its registrations live until QEMU exits (a rebooted
  // guest that maps the same gpa again is refused: still open).
  if (!reset_releases_) return;
  const std::uint64_t live = request_totals().live;
  if (policy_ != nullptr) policy_->table.release_all();
  direct_->table.release_all();
  registrations_.clear();
  registered_bytes_ = 0;
  backend_.reset();  // nothing is mapped any more; clears the fault latch and its counters
  host_live_ = 0;
  status_ = ADMA_STATUS_OK;
  cmd_gpa_ = 0;
  cmd_gpa_written_ = false;
  last_error_reason_ = ADMA_REASON_NONE;
  invalid_cause_ = ADMA_CAUSE_NONE;
  counters_.fill(0);
  if (ops_.invalidate != nullptr) ops_.invalidate(opaque_);
  if (ops_.trace_reset != nullptr) ops_.trace_reset(opaque_, live);
}

int Device::translate(std::uint64_t bus_addr, bool is_write, std::uint64_t* pa, int* fault_code) {
  const dart::Translation t = dart_.translate(bus_addr, is_write ? dart::Access::Write : dart::Access::Read);
  if (t.ok) {
    if (pa != nullptr) *pa = t.pa;
    if (fault_code != nullptr) *fault_code = ADMA_FAULT_NONE;
    return 0;
  }
  const int code = fault_code_of(t.fault.code);
  ++counters_[ADMA_STAT_DART_FAULTS];
  counters_[ADMA_STAT_LAST_FAULT_CODE] = static_cast<std::uint64_t>(code);
  counters_[ADMA_STAT_LAST_FAULT_ADDR] = bus_addr;
  if (fault_code != nullptr) *fault_code = code;
  return 1;
}

std::uint64_t Device::stat(unsigned index) const {
  if (index >= ADMA_STAT_COUNT) return 0;
  const dart::DartStats& ds = dart_.stats();
  switch (index) {
    case ADMA_STAT_LIVE_MAPPINGS: return host_live_;
    case ADMA_STAT_LIVE_REQUESTS: return request_totals().live;
    case ADMA_STAT_REQUESTED_BYTES: return request_totals().bytes;
    case ADMA_STAT_MAPPED_BYTES: return ds.mapped_bytes;
    case ADMA_STAT_SLOT_CAPACITY: return ds.slot_capacity;
    case ADMA_STAT_APERTURE_BYTES: return ds.aperture_bytes;
    case ADMA_STAT_FREE_BYTES: return ds.free_bytes;
    case ADMA_STAT_LARGEST_FREE_BYTES: return ds.largest_free_bytes;
    default: return counters_[index];
  }
}

}  // namespace dartlab::apple_dma
