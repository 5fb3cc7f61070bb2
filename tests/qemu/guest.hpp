// SPDX-License-Identifier: MIT
// The guest driver's side of apple-dma-pci over qtest: command page, request and response
// arrays in guest RAM (layouts from the device core's command.hpp), registers and statistics.
#pragma once

#include <cstdint>
#include <vector>

#include "passthrough/qemu/core/apple_dma.h"
#include "passthrough/qemu/core/command.hpp"
#include "qemu/qtest_machine.hpp"

namespace dartlab::qtest {

struct Guest {
  static constexpr std::uint64_t kCommandGpa = 0x100000;
  static constexpr std::uint64_t kRequestGpa = 0x101000;
  static constexpr std::uint64_t kResponseGpa = 0x180000;
  static constexpr std::uint64_t kDataGpa = 0x1000000;  // 16 MiB: below edu's 28-bit DMA mask

  explicit Guest(Qemu& qemu) : q(qemu) { q.enable(kAppleDmaSlot, kAppleDmaBar, false); }

  Qemu& q;

  std::uint32_t reg(std::uint64_t offset) { return q.readl(kAppleDmaBar + offset); }
  std::uint64_t stat(unsigned index) { return q.readq(kAppleDmaBar + ADMA_STATS_BASE + 8u * index); }

  void put_map(std::uint32_t type, std::uint32_t i, std::uint64_t gpa, std::uint64_t len, std::uint32_t dir) {
    apple_dma::EntryBytes b;
    apple_dma::encode_map_request(type, {gpa, len, dir, 0}, b);
    const auto size = apple_dma::entry_layout(type).request_bytes;
    q.write(kRequestGpa + i * size, std::vector<std::uint8_t>(b.begin(), b.begin() + static_cast<long>(size)));
  }
  void put_unmap(std::uint32_t type, std::uint32_t i, std::uint64_t handle, std::uint64_t len) {
    apple_dma::EntryBytes b;
    apple_dma::encode_unmap_request({handle, len}, b);
    const auto size = apple_dma::entry_layout(type).request_bytes;
    q.write(kRequestGpa + i * size, std::vector<std::uint8_t>(b.begin(), b.begin() + static_cast<long>(size)));
  }

  void set_command_page(std::uint64_t gpa) {
    q.writel(kAppleDmaBar + ADMA_REG_CMD_GPA_LO, static_cast<std::uint32_t>(gpa));
    q.writel(kAppleDmaBar + ADMA_REG_CMD_GPA_HI, static_cast<std::uint32_t>(gpa >> 32));
  }

  // Writes the command page, rings, returns STATUS.
  std::uint32_t ring(std::uint32_t type, std::uint32_t count, std::uint64_t req = kRequestGpa,
                     std::uint64_t resp = kResponseGpa) {
    std::uint8_t page[apple_dma::kCommandBytes];
    apple_dma::encode_command({type, count, 0, req, resp}, page);
    q.write(kCommandGpa, std::vector<std::uint8_t>(page, page + sizeof(page)));
    set_command_page(kCommandGpa);
    q.writel(kAppleDmaBar + ADMA_REG_DOORBELL, 1);
    return reg(ADMA_REG_STATUS);
  }

  std::vector<std::uint8_t> response(std::uint32_t type, std::uint32_t i) {
    const auto size = apple_dma::entry_layout(type).response_bytes;
    return q.read(kResponseGpa + i * size, size);
  }
  std::uint64_t resp_handle(std::uint32_t type, std::uint32_t i) { return apple_dma::load_u64(response(type, i).data()); }
  std::uint64_t resp_dma(std::uint32_t type, std::uint32_t i) { return apple_dma::load_u64(response(type, i).data() + 8); }
  std::uint32_t resp_status(std::uint32_t type, std::uint32_t i) {
    return apple_dma::load_u32(response(type, i).data() + apple_dma::response_status_offset(type));
  }
  std::uint32_t resp_reason(std::uint32_t type, std::uint32_t i) {  // interface 3 layouts only
    return apple_dma::load_u32(response(type, i).data() + apple_dma::response_reason_offset(type));
  }
  std::uint32_t resp_word(std::uint32_t type, std::uint32_t i, std::uint64_t offset) {
    return apple_dma::load_u32(response(type, i).data() + offset);
  }
  std::uint32_t command_status() { return q.readl(kCommandGpa + apple_dma::kCommandStatusOffset); }
};

}  // namespace dartlab::qtest
