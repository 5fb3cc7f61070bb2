// SPDX-License-Identifier: MIT
// The requests a recording has mapped and not yet unmapped, found again by what their unmap
// prints: (device, DMA address), (device, scatterlist), (IOMMU, IOVA) in ftrace, (device, handle),
// (device, entry id) or (device, iova) in a QEMU log, (gpa, size) in the apple_dma CSV: the one
// table of every importer. An open-addressing table: no allocation per request once it has grown
// to the recording's peak of live requests.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace dartlab::trace::line_import {

// Which kind of map a key belongs to; an unmap only ends a request of its own family.
enum class Family : std::uint8_t {
  Single,  // dma_map_* / dma_unmap_*, by DMA address
  Alloc,   // dma_alloc* / dma_free*, by DMA address
  Sg,      // dma_map_sg / dma_unmap_sg, by ftrace::sg_key() of the physical addresses
  Sgt,     // dma_alloc_sgt / dma_free_sgt, by DMA address
  Iommu,   // iommu:map / iommu:unmap, by IOVA
  Handle,  // QEMU apple_dma_map / apple_dma_unmap, by the device's handle (traces/qemu_log)
  EntryId,   // the real apple-dma-pci device's map / unmap entries, by id (= gpa) (traces/qemu_log)
  HostIova,  // apple_dext_register_dma / unregister_dma, by iova (traces/qemu_log)
  CsvMap,    // apple_dma CSV M rows, ended by U or F rows, by (gpa, size) (traces/apple_dma_csv)
  CsvSg,     // apple_dma CSV S rows, ended by T rows, by (gpa, size)
};

struct LiveKey {
  std::uint64_t addr = 0;
  std::uint16_t device = 0;
  Family family = Family::Single;
  std::uint64_t len = 0;  // a second word of the key: the size, for (gpa, size) keys; else 0
};

struct LiveRequest {
  std::uint64_t id = 0;
  std::uint64_t len_bytes = 0;
};

class LiveRequests {
 public:
  LiveRequests();

  // Adds a request. If one with the same key is live (dma-direct maps one buffer twice), it stays
  // live behind the new one; returns true then.
  bool add(const LiveKey& key, const LiveRequest& request);
  // Removes the request with this key that was added last, if any.
  std::optional<LiveRequest> take(const LiveKey& key);
  // Removes every live request of `device` in `family` (a device reset ends them all), appending
  // them to `out` in no particular order. Walks the whole table: for rare events only.
  void take_device(std::uint16_t device, Family family, std::vector<LiveRequest>& out);
  // Live requests, including those behind another of the same key.
  std::size_t size() const { return live_; }

 private:
  struct Slot {
    std::uint64_t addr = 0;
    std::uint64_t id = 0;
    std::uint64_t len_bytes = 0;
    std::uint64_t key_len = 0;  // LiveKey::len
    std::uint32_t behind = 0;  // 1 + index into behind_ of the request this one hides; 0: none
    std::uint16_t device = 0;
    Family family = Family::Single;
    bool used = false;
  };
  struct Behind {
    LiveRequest request;
    std::uint32_t behind = 0;  // as Slot::behind; for the free list, 1 + the next free index
  };

  static LiveKey key_of(const Slot& s);
  std::size_t find(const LiveKey& key) const;  // the slot holding key, or the empty slot where it goes
  void grow();
  void erase(std::size_t slot);

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t used_ = 0;  // slots in use
  std::size_t live_ = 0;
  std::vector<Behind> behind_;
  std::uint32_t free_behind_ = 0;  // 1 + first free index of behind_; 0: none
  std::vector<LiveKey> device_keys_;  // take_device's scratch, kept to reuse its memory
};

}  // namespace dartlab::trace::line_import
