// SPDX-License-Identifier: MIT
// The walker reads one table entry per level through the memory it is given, and its results are
// the functional DART's.
#include <catch2/catch.hpp>

#include "models/dart/dart.hpp"
#include "models/dart/pte.hpp"
#include "models/dart/table_walk.hpp"

using namespace dartlab::dart;

namespace {
DartConfig config_for(const DartVariant& variant) {
  DartConfig c;
  c.variant = variant;
  return c;
}
}  // namespace

TEST_CASE("A walk reads one entry per level: two on t8020, three on t8110", "[table_walk]") {
  for (const DartVariant& variant : kDartVariants) {
    DYNAMIC_SECTION(variant.name) {
      Dart dart(config_for(variant));
      const DartMapResult m = dart.map(0x8'0000'0000, 3 * 16384, Perms{true, true});
      REQUIRE(m.ok);
      const TableWalker walker(dart.page_table());
      CHECK(walker.va_bits() == variant.va_bits);
      DirectTableMemory memory(dart.page_table());
      const WalkResult w = walker.walk(m.mapping.bus_addr + 16384 + 12, memory);
      REQUIRE(w.ok);
      CHECK(w.reads == (variant.va_bits == 32 ? 2u : 3u));
      CHECK(memory.reads() == w.reads);
      const Translation t = walker.translate_leaf(w.pte, m.mapping.bus_addr + 16384 + 12, Access::Read);
      REQUIRE(t.ok);
      CHECK(t.pa == 0x8'0000'4000 + 12);
      CHECK(t.pa == dart.walk(m.mapping.bus_addr + 16384 + 12, Access::Read).pa);
    }
  }
}

TEST_CASE("A walk stops at the first invalid entry with the functional DART's fault", "[table_walk]") {
  Dart dart(config_for(kDartT8110));
  const DartMapResult m = dart.map(0x8'0000'0000, 16384, Perms{true, false});
  REQUIRE(m.ok);
  const TableWalker walker(dart.page_table());
  SECTION("an unmapped page beside a mapped one: the leaf entry is invalid") {
    DirectTableMemory memory(dart.page_table());
    const WalkResult w = walker.walk(m.mapping.bus_addr + 16384, memory);
    CHECK_FALSE(w.ok);
    CHECK(w.fault.code == FaultCode::NoPte);
    CHECK(w.reads == 3);
  }
  SECTION("a walk far away stops at an invalid intermediate entry after fewer reads") {
    DirectTableMemory memory(dart.page_table());
    const WalkResult w = walker.walk(std::uint64_t{1} << 40, memory);
    CHECK_FALSE(w.ok);
    CHECK(w.fault.code == FaultCode::NoL1);
    CHECK(w.reads < 3);
  }
  SECTION("a walk beyond the input space faults NoTtbr without a read") {
    DirectTableMemory memory(dart.page_table());
    const WalkResult w = walker.walk(std::uint64_t{1} << 42, memory);
    CHECK(w.fault.code == FaultCode::NoTtbr);
    CHECK(w.reads == 0);
  }
  SECTION("a read-only page refuses a device write, as Dart::walk does") {
    DirectTableMemory memory(dart.page_table());
    const WalkResult w = walker.walk(m.mapping.bus_addr, memory);
    REQUIRE(w.ok);
    const Translation t = walker.translate_leaf(w.pte, m.mapping.bus_addr, Access::Write);
    CHECK_FALSE(t.ok);
    CHECK(t.fault.code == FaultCode::WriteProt);
    CHECK(t.fault.code == dart.walk(m.mapping.bus_addr, Access::Write).fault.code);
  }
}
