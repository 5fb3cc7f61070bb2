// SPDX-License-Identifier: MIT
// The pseudo-random source and the few draws the workload generators need.
// Written here rather than taken from <random>: the std distributions differ between standard
// libraries, and a generated trace must be the same for a seed on every machine.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

namespace dartlab::trace::gen {

// A probability as a threshold on a uniform 32-bit draw, computed once so that a draw is one
// compare. 2^-32 resolution is far finer than any workload knob needs.
struct Probability {
  std::uint64_t threshold = 0;

  static constexpr Probability of(double p) {
    constexpr double kScale = 4294967296.0;  // 2^32
    if (!(p > 0.0)) return {0};
    if (p >= 1.0) return {std::uint64_t{1} << 32};
    return {static_cast<std::uint64_t>(p * kScale)};
  }
  constexpr bool holds(std::uint32_t draw) const { return draw < threshold; }
};

// xoshiro256** (Blackman and Vigna, 2018), seeded through splitmix64 as its authors advise.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& word : state_) word = splitmix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, n) for 1 <= n <= 2^32: multiply-shift without Lemire's rejection step. The
  // bias, below n / 2^32, is far beneath anything a workload shape can show.
  std::uint32_t below(std::uint64_t n) {
    return static_cast<std::uint32_t>(((next() >> 32) * n) >> 32);
  }

  // Uniform in [lo, hi], any 64-bit range.
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) {
    const std::uint64_t span = hi - lo + 1;  // 0 means the full 64-bit range
    if (span == 0) return next();
    if (span <= (std::uint64_t{1} << 32)) return lo + below(span);
    return lo + next() % span;
  }

  bool chance(Probability p) { return p.holds(static_cast<std::uint32_t>(next() >> 32)); }

  // Two independent uniform 32-bit draws from one step, to compare against Probability
  // thresholds where a request needs several.
  struct Pair {
    std::uint32_t high;
    std::uint32_t low;
  };
  Pair pair() {
    const std::uint64_t x = next();
    return {static_cast<std::uint32_t>(x >> 32), static_cast<std::uint32_t>(x)};
  }

  // Geometric with p = 1/2, capped: k with probability 2^-(k+1), the cap taking the tail.
  unsigned halvings(unsigned cap) {
    return std::min(static_cast<unsigned>(std::countr_zero(next())), cap);
  }

 private:
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::array<std::uint64_t, 4> state_{};
};

}  // namespace dartlab::trace::gen
