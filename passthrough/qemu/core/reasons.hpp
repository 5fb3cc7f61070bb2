// SPDX-License-Identifier: MIT
// dartlab's enums as the C boundary (apple_dma.h) numbers them: a refusal's reason, a direction,
// a DART fault code. The one place that translates; core/c_api.cpp checks the numbers at compile
// time.
#pragma once

#include <cstdint>

#include "base/types.hpp"
#include "models/dart/translation.hpp"
#include "passthrough/qemu/core/apple_dma.h"

namespace dartlab::apple_dma {

// What a guest reads for a refusal. A duplicate is the host service's kIOReturnStillOpen, the
// answer compat=rfc gives for a gpa it holds already: one reason for both.
constexpr std::uint32_t reason_of(MapError e) {
  switch (e) {
    case MapError::Invalid: return ADMA_REASON_INVALID;
    case MapError::Slots: return ADMA_REASON_SLOTS;
    case MapError::Aperture: return ADMA_REASON_APERTURE;
    case MapError::Fragmented: return ADMA_REASON_FRAGMENTED;
    case MapError::Pool: return ADMA_REASON_POOL;
    case MapError::Cap: return ADMA_REASON_CAP;
    case MapError::Duplicate: return ADMA_REASON_STILL_OPEN;
    case MapError::Truncated: return ADMA_REASON_TRUNCATED;
  }
  return ADMA_REASON_INVALID;
}

// ADMA_DIR_* is Direction's own numbering (checked in c_api.cpp); dir must be one of them.
constexpr Direction direction_of(std::uint32_t dir) { return static_cast<Direction>(dir); }
constexpr int dir_code(Direction d) { return static_cast<int>(d); }

constexpr int fault_code_of(dart::FaultCode code) { return static_cast<int>(code) + 1; }

}  // namespace dartlab::apple_dma
