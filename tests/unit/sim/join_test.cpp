// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/join.hpp"

namespace {
struct Named {
  std::string_view name;
};
}  // namespace

TEST_CASE("join puts the separator between items only, through a projection", "[join]") {
  CHECK(dartlab::join(std::vector<std::string>{}, ", ").empty());
  CHECK(dartlab::join(std::vector<std::string>{"a"}, ", ") == "a");
  CHECK(dartlab::join(std::vector<std::string>{"a", "", "c"}, ", ") == "a, , c");
  constexpr std::array<Named, 3> named{{{"tb3"}, {"tb4"}, {"usb4v2"}}};
  CHECK(dartlab::join(named, "/", &Named::name) == "tb3/tb4/usb4v2");
  const std::vector<std::uint64_t> lines{3, 10, 200};
  CHECK(dartlab::join(lines, ", ", [](std::uint64_t l) { return std::to_string(l); }) == "3, 10, 200");
}
