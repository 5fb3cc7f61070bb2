// SPDX-License-Identifier: MIT
// Random DMA request streams for property tests: a mix of 4 KiB pages clustered in a few
// regions, odd-sized and straddling requests, and large buffers, with random releases.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace dartlab::test {

struct RandomRequest {
  std::uint64_t gpa;
  std::uint64_t len_bytes;
};

class RandomRequests {
 public:
  explicit RandomRequests(std::uint64_t seed) : rng_(seed) {}

  RandomRequest next() {
    const std::uint64_t region = 0x4000'0000 + (rng_() % 8) * (64ULL << 20);  // 8 regions of 64 MiB
    switch (rng_() % 10) {
      case 0:  // odd size and offset: straddles windows now and then
        return {region + (rng_() % (48ULL << 20)), 1 + rng_() % (300 * 1024)};
      case 1:  // a large buffer
        return {region + ((rng_() % 32) << 21), (1 + rng_() % 8) << 20};
      default:  // a 4 KiB page near others
        return {region + ((rng_() % 4096) << 12), 4096};
    }
  }
  bool coin() { return rng_() % 2 == 0; }
  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }

 private:
  std::mt19937_64 rng_;
};

}  // namespace dartlab::test
