// SPDX-License-Identifier: MIT
// Per-request handles over a Mapper, for callers that must not be trusted to release only what
// they hold (a guest driving the QEMU device). A Mapper's token names a shared host mapping, so
// releasing a request twice would take another request's reference; here every request has its
// own handle, checked on release, and a DMA-address release must match a live request exactly.
#pragma once

#include <cstdint>
#include <vector>

#include "base/flat_map.hpp"
#include "passthrough/mapper/mapper.hpp"

namespace dartlab::mapper {

struct RequestMapping {
  std::uint64_t dma_addr = 0;
  std::uint64_t handle = 0;  // (generation << 32) | index; never 0
};

// A live request as it was asked for, and where the device reaches it.
struct LiveRequest {
  std::uint64_t gpa = 0;
  std::uint64_t len_bytes = 0;
  std::uint64_t dma_addr = 0;
  std::uint64_t target_gpa = 0;  // where the device's accesses land: gpa, or its bounce slot
  Direction dir = Direction::Bidirectional;
};

class RequestTable {
 public:
  explicit RequestTable(Mapper& mapper) : mapper_(mapper) {}

  Result<RequestMapping> map(std::uint64_t gpa, std::uint64_t len_bytes, Direction dir);
  // Invalid unless the handle names a live request of exactly len_bytes.
  Result<bool> unmap_handle(std::uint64_t handle, std::uint64_t len_bytes);
  // Invalid unless a live request has exactly this DMA address and length (dma_unmap_page).
  Result<bool> unmap_dma(std::uint64_t dma_addr, std::uint64_t len_bytes);
  // Releases every request and so every host mapping (device or guest reset).
  void release_all();
  // The live request a handle names; false when it names none.
  bool find(std::uint64_t handle, LiveRequest& out) const;

  std::uint64_t live() const { return live_; }

 private:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  struct Request {
    MapToken token;
    std::uint64_t dma_addr = 0;
    std::uint64_t len_bytes = 0;
    std::uint64_t gpa = 0;
    std::uint32_t generation = 0;
    std::uint32_t next_same_addr = kNone;  // chain of live requests with the same DMA address
    Direction dir = Direction::Bidirectional;
    bool live = false;
  };
  const Request* live_request(std::uint64_t handle) const;

  void release(std::uint32_t index);

  Mapper& mapper_;
  std::vector<Request> requests_;
  std::vector<std::uint32_t> free_;
  FlatMap<std::uint64_t, std::uint32_t, FlatHash<std::uint64_t>, ~std::uint64_t{0}> by_dma_;  // head of chain
  std::uint64_t live_ = 0;
};

}  // namespace dartlab::mapper
