// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include "models/dart/dart.hpp"
#include "test_support.hpp"

using namespace dartlab::dart;

using dartlab::dart::test::config_of;
using dartlab::dart::test::kPage;

TEST_CASE("Every page of a multi-page mapping translates to its PA plus the offset", "[translate]") {
  const char* spec = GENERATE("", "variant=t8020", "aperture=4T,base=0", "page=4K,aperture=64M");
  CAPTURE(spec);
  Dart dart(config_of(spec));
  const std::uint64_t page = dart.config().page_bytes;
  const std::uint64_t pa = 0x8'1234'0000;
  const auto r = dart.map(pa, 5 * page, Perms{});
  REQUIRE(r.ok);
  for (std::uint64_t i = 0; i < 5; ++i) {
    for (const std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{123}, page - 1}) {
      const std::uint64_t bus = r.mapping.bus_addr + i * page + offset;
      for (const Access access : {Access::Read, Access::Write}) {
        const Translation t = dart.translate(bus, access);
        REQUIRE(t.ok);
        CHECK(t.pa == pa + i * page + offset);
      }
    }
  }
  const Translation after = dart.translate(r.mapping.bus_addr + 5 * page, Access::Read);
  REQUIRE_FALSE(after.ok);
  CHECK(after.fault.code == FaultCode::NoPte);
  CHECK(dart.last_fault().valid);
}

TEST_CASE("Addresses inside the aperture but unmapped fault with NoPte or NoL1", "[translate]") {
  Dart dart(config_of("aperture=1G"));
  SECTION("with nothing mapped yet a translation faults with NoL1") {
    const Translation t = dart.translate(kPage, Access::Read);
    REQUIRE_FALSE(t.ok);
    CHECK(t.fault.code == FaultCode::NoL1);
  }
  SECTION("an unmapped page beside a mapped one faults NoPte, one in another 32 MiB region NoL1") {
    const auto r = dart.map(0x4000, kPage, Perms{});
    REQUIRE(r.ok);
    CHECK(dart.translate(r.mapping.bus_addr + kPage, Access::Read).fault.code == FaultCode::NoPte);
    const Translation far = dart.translate(r.mapping.bus_addr + (64u << 20), Access::Read);
    CHECK(far.fault.code == FaultCode::NoL1);
    CHECK(far.fault.level == 2);
  }
  SECTION("after an unmap the address faults NoL1 and no table stays live") {
    const auto r = dart.map(0x4000, kPage, Perms{});
    REQUIRE(dart.unmap(r.mapping.handle));
    CHECK(dart.translate(r.mapping.bus_addr, Access::Read).fault.code == FaultCode::NoL1);
    CHECK(dart.stats().tables_live == 0);
  }
}

TEST_CASE("Addresses outside the aperture fault with NoTtbr", "[translate]") {
  Dart dart(config_of("aperture=1M"));
  REQUIRE(dart.map(0x4000, 64 * kPage, Perms{}).ok);  // the whole aperture
  for (const std::uint64_t bus : {std::uint64_t{0}, kPage - 1, kPage + (1u << 20), std::uint64_t{1} << 42,
                                  ~std::uint64_t{0}}) {
    CAPTURE(bus);
    const Translation t = dart.walk(bus, Access::Read);
    REQUIRE_FALSE(t.ok);
    CHECK(t.fault.code == FaultCode::NoTtbr);
    CHECK(t.fault.level == 0);
    CHECK(t.fault.bus_addr == bus);
  }
  CHECK(dart.walk(kPage, Access::Read).ok);
  CHECK(dart.walk(kPage + (1u << 20) - 1, Access::Read).ok);
}

TEST_CASE("Permissions follow the mapping: read-only pages refuse writes, write-only pages refuse reads", "[translate]") {
  Dart dart(config_of(""));
  const auto to_device = dart.map(0x10000, kPage, Perms{true, false});
  const auto from_device = dart.map(0x20000, kPage, Perms{false, true});
  REQUIRE((to_device.ok && from_device.ok));
  CHECK(dart.translate(to_device.mapping.bus_addr, Access::Read).ok);
  const Translation w = dart.translate(to_device.mapping.bus_addr + 8, Access::Write);
  REQUIRE_FALSE(w.ok);
  CHECK(w.fault.code == FaultCode::WriteProt);
  CHECK(w.fault.level == 3);
  CHECK(dart.translate(from_device.mapping.bus_addr, Access::Write).ok);
  const Translation r = dart.translate(from_device.mapping.bus_addr, Access::Read);
  REQUIRE_FALSE(r.ok);
  CHECK(r.fault.code == FaultCode::ReadProt);
}

TEST_CASE("The error register latches the first fault until cleared and counts every fault by code", "[translate][faults]") {
  Dart dart(config_of("aperture=1M"));
  const auto ro = dart.map(0x10000, kPage, Perms{true, false});
  REQUIRE(ro.ok);
  CHECK_FALSE(dart.last_fault().valid);

  CHECK_FALSE(dart.walk(0, Access::Read).ok);  // walk has no side effects
  CHECK_FALSE(dart.last_fault().valid);
  CHECK(dart.stats().faults_by_code[static_cast<unsigned>(FaultCode::NoTtbr)] == 0);

  CHECK_FALSE(dart.translate(ro.mapping.bus_addr + 4, Access::Write).ok);
  CHECK_FALSE(dart.translate(0, Access::Read).ok);
  CHECK_FALSE(dart.translate(0, Access::Read).ok);
  FaultRecord f = dart.last_fault();
  REQUIRE(f.valid);
  CHECK(f.fault.code == FaultCode::WriteProt);
  CHECK(f.fault.bus_addr == ro.mapping.bus_addr + 4);
  CHECK(f.access == Access::Write);
  CHECK(f.later_faults == 2);
  CHECK(dart.stats().faults_by_code[static_cast<unsigned>(FaultCode::WriteProt)] == 1);
  CHECK(dart.stats().faults_by_code[static_cast<unsigned>(FaultCode::NoTtbr)] == 2);

  dart.clear_fault();
  CHECK_FALSE(dart.last_fault().valid);
  CHECK_FALSE(dart.translate(ro.mapping.bus_addr + kPage, Access::Read).ok);
  f = dart.last_fault();
  REQUIRE(f.valid);
  CHECK(f.fault.code == FaultCode::NoPte);
  CHECK(f.later_faults == 0);
  CHECK(dart.stats().faults_by_code[static_cast<unsigned>(FaultCode::NoTtbr)] == 2);  // counters survive clear
}
