// SPDX-License-Identifier: MIT
// The apple-dma-pci device without QEMU: BAR0 registers, the doorbell's command processing, the
// statistics window, reset, and the DART translation of the managed device's accesses.
// Interface 2 commands map through a `direct` mapper; interface 3 requests through the mapper
// with the configured policy; both share one functional DART (the host mapping service). The
// mappers, the DART and its backend are held as C++ objects: apple_dma.h is the only C here.
#pragma once

#include <array>
#include <cstdarg>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <variant>

#include "models/dart/dart.hpp"
#include "passthrough/backends/dart_backend.hpp"
#include "passthrough/mapper/mapper.hpp"
#include "passthrough/mapper/request_table.hpp"
#include "passthrough/qemu/core/apple_dma.h"
#include "passthrough/qemu/core/command.hpp"

namespace dartlab::apple_dma {

class Device {
 public:
  // A message naming the bad property on failure.
  static std::variant<std::unique_ptr<Device>, std::string> create(const AdmaConfig& config, const AdmaHostOps& ops,
                                                                   void* opaque);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  std::uint64_t mmio_read(std::uint64_t offset, unsigned size);
  void mmio_write(std::uint64_t offset, std::uint64_t value, unsigned size);
  void reset();
  void set_managed_bdf(std::uint32_t bdf) { managed_bdf_ = bdf; }
  int translate(std::uint64_t bus_addr, bool is_write, std::uint64_t* pa, int* fault_code);
  std::uint64_t stat(unsigned index) const;

 private:
  Device(const AdmaConfig& config, const AdmaHostOps& ops, void* opaque, const dart::DartConfig& dart);

  // The host mapping service as the mappers see it: the DART backend, all of a range or a
  // refusal (a cut region is undone and refused as Truncated), every host mapping counted and
  // reported to the glue.
  class HostService final : public mapper::MappingBackend {
   public:
    explicit HostService(Device& device) : device_(device) {}
    Result<mapper::BackendMapping> map(std::uint64_t gpa, std::uint64_t len_bytes, Direction dir) override {
      return device_.map_on_host(gpa, len_bytes, dir, /*whole=*/true);
    }
    bool unmap(std::uint64_t handle) override { return device_.unmap_on_host(handle); }
    mapper::BackendPressure pressure() const override;

   private:
    Device& device_;
  };

  // A mapper and the guest's handles on its requests (a guest may not release what it does not hold).
  struct Requests {
    Requests(mapper::MappingBackend& backend, const mapper::Policy& policy) : mapper(backend, policy), table(mapper) {}
    ~Requests() { table.release_all(); }
    mapper::Mapper mapper;
    mapper::RequestTable table;
  };

  // Outcome of one entry or one command: status plus, when invalid, why.
  struct Outcome {
    std::uint32_t status = ADMA_STATUS_OK;
    std::uint32_t reason = ADMA_REASON_NONE;
    std::uint32_t cause = ADMA_CAUSE_NONE;
  };

  void doorbell();
  Outcome run(const Command& c);
  Outcome map_entry(std::uint32_t type, const EntryBytes& request, EntryBytes& response);
  Outcome unmap_entry(std::uint32_t type, const EntryBytes& request, EntryBytes& response);
  // Interface 2 under compat=rfc: one host registration per entry, named by its gpa.
  Outcome map_entry_rfc(const EntryBytes& request, EntryBytes& response);
  Outcome unmap_entry_rfc(const EntryBytes& request, EntryBytes& response);
  // A host refusal the guest sees as status 1 (compat=rfc's answer to what strict calls invalid).
  Outcome host_refusal(std::uint32_t reason, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
  void count_refusal(std::uint32_t reason);
  // bounce: moves a live request's bytes between its own memory and its slot in the pool (into
  // the slot at its map unless the device only writes; back at its unmap unless it only reads).
  void bounce_copy(std::uint64_t handle, bool at_map);
  bool rfc() const { return compat_ == ADMA_COMPAT_RFC; }
  Outcome refuse(std::uint32_t cause, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
  // Both refusals' shared half: the message to the guest-error log, counted.
  void log_guest_error(const char* fmt, va_list ap) __attribute__((format(printf, 2, 0)));
  void note(const Outcome& o);
  void bad_access(std::uint32_t cause, const char* what, std::uint64_t offset, unsigned size);
  std::uint64_t read_register(std::uint64_t offset) const;
  // Requests live in both mappers (interface 2 ids and interface 3 handles) and their bytes.
  struct RequestTotals {
    std::uint64_t live = 0;
    std::uint64_t bytes = 0;
  };
  RequestTotals request_totals() const;

  // One host mapping on the DART, counted and reported. whole: all of [gpa, gpa + len) or a
  // refusal (what the policies build on); else the host service's own answer, cut at its chunk.
  Result<mapper::BackendMapping> map_on_host(std::uint64_t gpa, std::uint64_t len, Direction dir, bool whole);
  bool unmap_on_host(std::uint64_t handle);

  AdmaHostOps ops_;
  void* opaque_;
  int interface_version_;
  std::uint32_t max_entries_;
  int compat_;           // ADMA_COMPAT_STRICT or ADMA_COMPAT_RFC
  bool reset_releases_;  // a reset releases every mapping (strict) or keeps them (the RFC device)

  // Declared in the order they are built; the mappers go first on destruction, as they unmap
  // through the DART.
  dart::Dart dart_;
  backends::DartBackend backend_;
  HostService host_;
  std::unique_ptr<Requests> direct_;  // interface 2 commands
  std::unique_ptr<Requests> policy_;  // interface 3 requests (null under interface 2)
  bool bounce_ = false;               // policy_ bounces through a pool

  // Registers.
  std::uint32_t managed_bdf_ = 0;
  std::uint32_t status_ = ADMA_STATUS_OK;
  std::uint64_t cmd_gpa_ = 0;
  bool cmd_gpa_written_ = false;
  std::uint32_t last_error_reason_ = ADMA_REASON_NONE;
  std::uint32_t invalid_cause_ = ADMA_CAUSE_NONE;

  // compat=rfc interface 2 registrations by their id, the gpa (as the host service keys them).
  struct Registration {
    std::uint64_t handle = 0;  // the DART's
    std::uint64_t len = 0;     // what was mapped (at most one chunk)
  };
  std::unordered_map<std::uint64_t, Registration> registrations_;
  std::uint64_t registered_bytes_ = 0;

  std::uint64_t host_live_ = 0;
  std::array<std::uint64_t, ADMA_STAT_COUNT> counters_{};
};

}  // namespace dartlab::apple_dma
