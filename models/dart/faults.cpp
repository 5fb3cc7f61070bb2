// SPDX-License-Identifier: MIT
#include "models/dart/faults.hpp"

namespace dartlab::dart {

std::string_view to_string(FaultCode code) {
  switch (code) {
    case FaultCode::NoTtbr: return "no-ttbr";
    case FaultCode::NoL1: return "no-l1";
    case FaultCode::NoPte: return "no-pte";
    case FaultCode::ReadProt: return "read-prot";
    case FaultCode::WriteProt: return "write-prot";
  }
  return "?";
}

void FaultRegister::record(const Fault& fault, Access access) {
  ++counts_[static_cast<unsigned>(fault.code)];
  if (latched_.valid) {
    ++latched_.later_faults;
    return;
  }
  latched_ = FaultRecord{true, fault, access, 0};
}

void FaultRegister::reset() {
  clear();
  counts_ = {};
}

}  // namespace dartlab::dart
