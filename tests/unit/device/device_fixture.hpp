// SPDX-License-Identifier: MIT
// A device core over a fake guest, for the device tests.
#pragma once

#include <memory>
#include <string>

#include "support/fake_guest.hpp"

namespace dartlab::test {

// compat: the device tests written for dartlab's checked interface 2 run under ADMA_COMPAT_STRICT
// (the default under interface 2 is the RFC's behaviour: tests of it say so).
struct DeviceUnderTest {
  explicit DeviceUnderTest(int interface_version = 3, const char* policy = "direct", const char* dart = "",
                           std::uint32_t max_entries = 0, int compat = ADMA_COMPAT_STRICT,
                           int reset_releases = ADMA_RESET_DEFAULT)
      : guest(), dev(make(interface_version, policy, dart, max_entries, compat, reset_releases)), drv(guest, dev.get()) {}

  std::unique_ptr<AdmaDevice, void (*)(AdmaDevice*)> make(int v, const char* policy, const char* dart,
                                                          std::uint32_t max_entries, int compat, int reset_releases) {
    AdmaConfig c{v, policy, dart, max_entries, compat, reset_releases};
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
