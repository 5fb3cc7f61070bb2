// SPDX-License-Identifier: MIT
// Helpers shared by the DART tests.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <variant>

#include "models/dart/dart_config.hpp"

namespace dartlab::dart::test {

inline constexpr std::uint64_t kPage = 16384;

// The config of a spec the test expects to be valid.
inline DartConfig config_of(const std::string& spec) {
  auto parsed = parse_dart_spec(spec);
  if (auto* error = std::get_if<std::string>(&parsed)) FAIL("spec '" << spec << "' refused: " << *error);
  return std::get<DartConfig>(parsed);
}

}  // namespace dartlab::dart::test
