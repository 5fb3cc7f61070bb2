// SPDX-License-Identifier: MIT
// The C API over Device for the QEMU glue. Nothing thrown crosses this boundary.
#include <cstdio>
#include <exception>
#include <memory>
#include <variant>

#include "passthrough/qemu/core/apple_dma.h"
#include "passthrough/qemu/core/device.hpp"

using dartlab::apple_dma::Device;

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
    case DL_DIR_TO_DEVICE: return "to_device";
    case DL_DIR_FROM_DEVICE: return "from_device";
    default: return "bidirectional";
  }
}

}  // extern "C"
