// SPDX-License-Identifier: MIT
// The DART's error register: the first fault since the last clear stays latched (flag, code,
// address, level), as on hardware; later faults only count. Counters by code never latch.
#pragma once

#include <array>
#include <cstdint>

#include "models/dart/translation.hpp"

namespace dartlab::dart {

struct FaultRecord {
  bool valid = false;       // the error flag
  Fault fault{};            // the latched (first) fault
  Access access = Access::Read;
  std::uint64_t later_faults = 0;  // faults since the latch, not recorded in detail
};

class FaultRegister {
 public:
  void record(const Fault& fault, Access access);
  const FaultRecord& latched() const { return latched_; }
  void clear() { latched_ = FaultRecord{}; }  // the counters keep counting
  std::uint64_t count(FaultCode code) const { return counts_[static_cast<unsigned>(code)]; }
  const std::array<std::uint64_t, kFaultCodeCount>& counts() const { return counts_; }
  void reset();  // clear and zero the counters

 private:
  FaultRecord latched_{};
  std::array<std::uint64_t, kFaultCodeCount> counts_{};
};

}  // namespace dartlab::dart
