// SPDX-License-Identifier: MIT
#include "passthrough/mapper/request_table.hpp"

namespace dartlab::mapper {

Result<RequestMapping> RequestTable::map(std::uint64_t gpa, std::uint64_t len_bytes, Direction dir) {
  const Result<Mapping> m = mapper_.map(gpa, len_bytes, dir);
  if (!m) return Result<RequestMapping>::failure(m.error);
  if (m.value.dma_addr == ~std::uint64_t{0}) {  // the table's empty key: cannot be indexed
    mapper_.unmap(m.value.token, len_bytes);
    return Result<RequestMapping>::failure(MapError::Invalid);
  }
  std::uint32_t index = 0;
  if (free_.empty()) {
    index = static_cast<std::uint32_t>(requests_.size());
    requests_.emplace_back();
  } else {
    index = free_.back();
    free_.pop_back();
  }
  Request& r = requests_[index];
  r.token = m.value.token;
  r.dma_addr = m.value.dma_addr;
  r.len_bytes = len_bytes;
  r.gpa = gpa;
  r.dir = dir;
  if (++r.generation == 0) r.generation = 1;
  r.live = true;
  r.next_same_addr = kNone;
  const auto [head, inserted] = by_dma_.insert(r.dma_addr, index);
  if (!inserted) {
    r.next_same_addr = *head;
    *head = index;
  }
  ++live_;
  return Result<RequestMapping>::success(RequestMapping{r.dma_addr, (std::uint64_t{r.generation} << 32) | index});
}

void RequestTable::release(std::uint32_t index) {
  Request& r = requests_[index];
  // Unlink from the chain of its DMA address.
  std::uint32_t* head = by_dma_.find(r.dma_addr);
  if (*head == index) {
    if (r.next_same_addr == kNone) {
      by_dma_.erase(r.dma_addr);
    } else {
      *head = r.next_same_addr;
    }
  } else {
    std::uint32_t at = *head;
    while (requests_[at].next_same_addr != index) at = requests_[at].next_same_addr;
    requests_[at].next_same_addr = r.next_same_addr;
  }
  mapper_.unmap(r.token, r.len_bytes);
  r.live = false;
  free_.push_back(index);
  --live_;
}

const RequestTable::Request* RequestTable::live_request(std::uint64_t handle) const {
  const auto index = static_cast<std::uint32_t>(handle);
  const auto generation = static_cast<std::uint32_t>(handle >> 32);
  if (index >= requests_.size()) return nullptr;
  const Request& r = requests_[index];
  return r.live && r.generation == generation ? &r : nullptr;
}

Result<bool> RequestTable::unmap_handle(std::uint64_t handle, std::uint64_t len_bytes) {
  const Request* r = live_request(handle);
  if (r == nullptr || r->len_bytes != len_bytes) return Result<bool>::failure(MapError::Invalid);
  release(static_cast<std::uint32_t>(handle));
  return Result<bool>::success(true);
}

bool RequestTable::find(std::uint64_t handle, LiveRequest& out) const {
  const Request* r = live_request(handle);
  if (r == nullptr) return false;
  out = LiveRequest{r->gpa, r->len_bytes, r->dma_addr, mapper_.target_gpa(r->dma_addr, r->gpa), r->dir};
  return true;
}

Result<bool> RequestTable::unmap_dma(std::uint64_t dma_addr, std::uint64_t len_bytes) {
  const std::uint32_t* head = by_dma_.find(dma_addr);
  for (std::uint32_t at = head == nullptr ? kNone : *head; at != kNone; at = requests_[at].next_same_addr) {
    if (requests_[at].len_bytes == len_bytes) {
      release(at);
      return Result<bool>::success(true);
    }
  }
  return Result<bool>::failure(MapError::Invalid);
}

void RequestTable::release_all() {
  for (std::uint32_t i = 0; i < requests_.size(); ++i)
    if (requests_[i].live) release(i);
}

}  // namespace dartlab::mapper
