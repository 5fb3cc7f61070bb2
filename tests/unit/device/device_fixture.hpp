// A device core over a fake guest, for the device tests.
#pragma once

#include <memory>
#include <string>

#include "support/fake_guest.hpp"

namespace dartlab::test {

struct DeviceUnderTest {
  explicit DeviceUnderTest(int interface_version = 3, const char* policy = "direct", const char* dart = "",
                           std::uint32_t max_entries = 0)
      : guest(), dev(make(interface_version, policy, dart, max_entries)), drv(guest, dev.get()) {}

  std::unique_ptr<AdmaDevice, void (*)(AdmaDevice*)> make(int v, const char* policy, const char* dart,
                                                          std::uint32_t max_entries) {
    AdmaConfig c{v, policy, dart, max_entries};
    const AdmaHostOps ops = guest.ops();
    char err[256] = {};
    AdmaDevice* d = adma_create(&c, &ops, &guest, err, sizeof(err));
    if (d == nullptr) throw std::runtime_error(err);
    return {d, &adma_destroy};
  }

  FakeGuest guest;
  std::unique_ptr<AdmaDevice, void (*)(AdmaDevice*)> dev;
  GuestDriver drv;
};

}  // namespace dartlab::test
