// SPDX-License-Identifier: MIT
// What the report draws and the help says of the host comes from the models, not from copies:
// the host's limits in base/ are the DART model's defaults, and the --dart help names every key
// the DART spec parser reads.
#include <catch2/catch.hpp>

#include <string>

#include "base/types.hpp"
#include "models/dart/dart_config.hpp"

using namespace dartlab;

TEST_CASE("the host limits a report draws against are the DART model's defaults", "[report][dart]") {
  const dart::DartConfig defaults{};
  CHECK(defaults.slots == kHostSlots);
  CHECK(defaults.aperture_bytes == kHostApertureBytes);
  CHECK(defaults.page_bytes == kHostPageBytes);
  CHECK_FALSE(defaults.unlimited_slots);
}

TEST_CASE("the --dart help lists every key the DART spec parser reads", "[dart][help]") {
  const std::string help(dart::dart_spec_help());
  for (const std::string_view key : dart::dart_spec_keys()) {
    INFO("key " << key);
    CHECK(help.find("  " + std::string(key) + "=") != std::string::npos);
  }
}
