// SPDX-License-Identifier: MIT
// Policy specs in tests: one that must parse, or the message of one that must not.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <variant>

#include "passthrough/mapper/policy.hpp"

namespace dartlab::test {

inline mapper::Policy must_parse(std::string_view spec) {
  auto p = mapper::parse_policy(spec);
  if (auto* e = std::get_if<std::string>(&p)) FAIL("'" << spec << "': unexpected error: " << *e);
  return std::get<mapper::Policy>(p);
}

inline std::string parse_error(std::string_view spec) {
  auto p = mapper::parse_policy(spec);
  if (auto* e = std::get_if<std::string>(&p)) return *e;
  FAIL("'" << spec << "' parsed, but should not have");
  return {};
}

}  // namespace dartlab::test
