// SPDX-License-Identifier: MIT
// The C API over Device for the QEMU glue, dartlab's one C boundary. Nothing thrown crosses it,
// and its numbers are dartlab's own enums' (checked here, at compile time).
#include <cstdio>
#include <exception>
#include <memory>
#include <variant>

#include "passthrough/qemu/core/apple_dma.h"
#include "passthrough/qemu/core/device.hpp"
#include "passthrough/qemu/core/reasons.hpp"

using dartlab::apple_dma::Device;

namespace {

using dartlab::Direction;
using dartlab::MapError;
using dartlab::apple_dma::reason_of;
using dartlab::dart::FaultCode;

// The DART's refusals are MapError's first four, and a guest reads each as its MapError + 1.
static_assert(ADMA_REASON_INVALID == static_cast<int>(MapError::Invalid) + 1);
static_assert(ADMA_REASON_SLOTS == static_cast<int>(MapError::Slots) + 1);
static_assert(ADMA_REASON_APERTURE == static_cast<int>(MapError::Aperture) + 1);
static_assert(ADMA_REASON_FRAGMENTED == static_cast<int>(MapError::Fragmented) + 1);
static_assert(dartlab::dart::kDartMapErrorCount == ADMA_REASON_FRAGMENTED);

// Every MapError has a reason of its own; NOT_FOUND is compat=rfc's alone (no MapError names it).
constexpr bool reasons_are_distinct() {
  bool seen[ADMA_REASON_TRUNCATED + 1] = {};
  for (int i = 0; i < dartlab::kMapErrorCount; ++i) {
    const std::uint32_t r = reason_of(static_cast<MapError>(i));
    if (r == ADMA_REASON_NONE || r == ADMA_REASON_NOT_FOUND || r > ADMA_REASON_TRUNCATED || seen[r]) return false;
    seen[r] = true;
  }
  return true;
}
static_assert(reasons_are_distinct(), "reason_of gives each MapError its own ADMA_REASON_*");
static_assert(dartlab::kMapErrorCount == 8, "a new MapError needs its ADMA_REASON_* (and the guest module's)");

static_assert(ADMA_DIR_BIDIRECTIONAL == static_cast<int>(Direction::Bidirectional));
static_assert(ADMA_DIR_TO_DEVICE == static_cast<int>(Direction::ToDevice));
static_assert(ADMA_DIR_FROM_DEVICE == static_cast<int>(Direction::FromDevice));

static_assert(ADMA_FAULT_NO_TTBR == dartlab::apple_dma::fault_code_of(FaultCode::NoTtbr));
static_assert(ADMA_FAULT_NO_L1 == dartlab::apple_dma::fault_code_of(FaultCode::NoL1));
static_assert(ADMA_FAULT_NO_PTE == dartlab::apple_dma::fault_code_of(FaultCode::NoPte));
static_assert(ADMA_FAULT_READ_PROT == dartlab::apple_dma::fault_code_of(FaultCode::ReadProt));
static_assert(ADMA_FAULT_WRITE_PROT == dartlab::apple_dma::fault_code_of(FaultCode::WriteProt));
static_assert(dartlab::dart::kFaultCodeCount == ADMA_FAULT_WRITE_PROT);

}  // namespace

struct AdmaDevice {
  std::unique_ptr<Device> device;
};

extern "C" {

AdmaDevice* adma_create(const AdmaConfig* config, const AdmaHostOps* ops, void* opaque, char* err, size_t errlen) {
  auto fail = [&](const char* msg) -> AdmaDevice* {
    if (err != nullptr && errlen > 0) std::snprintf(err, errlen, "%s", msg);
    return nullptr;
  };
  if (config == nullptr || ops == nullptr) return fail("apple-dma: configuration and host callbacks are required");
  try {
    auto made = Device::create(*config, *ops, opaque);
    if (auto* msg = std::get_if<std::string>(&made)) return fail(msg->c_str());
    return new AdmaDevice{std::move(std::get<std::unique_ptr<Device>>(made))};
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

void adma_destroy(AdmaDevice* dev) { delete dev; }

uint64_t adma_mmio_read(AdmaDevice* dev, uint64_t offset, unsigned size) {
  return dev == nullptr ? 0 : dev->device->mmio_read(offset, size);
}

void adma_mmio_write(AdmaDevice* dev, uint64_t offset, uint64_t value, unsigned size) {
  if (dev != nullptr) dev->device->mmio_write(offset, value, size);
}

void adma_reset(AdmaDevice* dev) {
  if (dev != nullptr) dev->device->reset();
}

void adma_set_managed_bdf(AdmaDevice* dev, uint32_t bdf) {
  if (dev != nullptr) dev->device->set_managed_bdf(bdf);
}

int adma_translate(AdmaDevice* dev, uint64_t bus_addr, int is_write, uint64_t* pa, int* fault_code) {
  if (dev == nullptr) return 1;
  return dev->device->translate(bus_addr, is_write != 0, pa, fault_code);
}

uint64_t adma_stat(const AdmaDevice* dev, unsigned index) { return dev == nullptr ? 0 : dev->device->stat(index); }

const char* adma_dir_name(int dir) {
  switch (dir) {
    case ADMA_DIR_TO_DEVICE: return "to_device";
    case ADMA_DIR_FROM_DEVICE: return "from_device";
    default: return "bidirectional";
  }
}

}  // extern "C"
