// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include "passthrough/backends/dart_backend.hpp"
#include "passthrough/mapper/mapper.hpp"
#include "test_support.hpp"

using namespace dartlab::dart;
using dartlab::backends::DartBackend;
using dartlab::Direction;
using dartlab::MapError;

using dartlab::dart::test::config_of;
using dartlab::dart::test::kPage;

TEST_CASE("The backend rounds a range out to pages and returns the bus address of gpa itself", "[backend]") {
  Dart dart(config_of(""));
  DartBackend backend(dart);
  SECTION("a range inside one page maps that page and keeps gpa's offset") {
    const auto r = backend.map(0x1'0000'1234, 0x100, Direction::Bidirectional);
    REQUIRE(r.ok);
    CHECK(r.value.bus_addr == kPage + 0x1234);
    CHECK(dart.stats().mapped_bytes == kPage);
    CHECK(dart.translate(r.value.bus_addr, Access::Read).pa == 0x1'0000'1234);
    CHECK(dart.translate(r.value.bus_addr - 0x1234, Access::Read).pa == 0x1'0000'0000);
  }
  SECTION("straddling a page boundary takes both pages") {
    const auto r = backend.map(0x3ff0, 0x20, Direction::Bidirectional);
    REQUIRE(r.ok);
    CHECK(dart.stats().mapped_bytes == 2 * kPage);
    CHECK(r.value.bus_addr == kPage + 0x3ff0);
    CHECK(dart.translate(r.value.bus_addr + 0x1f, Access::Write).pa == 0x3ff0 + 0x1f);
  }
  SECTION("an aligned range is mapped as is") {
    const auto r = backend.map(0x8000, 3 * kPage, Direction::Bidirectional);
    REQUIRE(r.ok);
    CHECK(dart.stats().mapped_bytes == 3 * kPage);
    CHECK(backend.unmap(r.value.handle));
    CHECK_FALSE(backend.unmap(r.value.handle));
    CHECK(dart.stats().live_mappings == 0);
  }
}

TEST_CASE("The backend grants the device what the DMA direction allows", "[backend]") {
  Dart dart(config_of(""));
  DartBackend backend(dart);
  const auto to_dev = backend.map(0x4000, 64, Direction::ToDevice);
  const auto from_dev = backend.map(0x8000, 64, Direction::FromDevice);
  const auto both = backend.map(0xc000, 64, Direction::Bidirectional);
  REQUIRE((to_dev.ok && from_dev.ok && both.ok));
  CHECK(dart.walk(to_dev.value.bus_addr, Access::Read).ok);
  CHECK(dart.walk(to_dev.value.bus_addr, Access::Write).fault.code == FaultCode::WriteProt);
  CHECK(dart.walk(from_dev.value.bus_addr, Access::Write).ok);
  CHECK(dart.walk(from_dev.value.bus_addr, Access::Read).fault.code == FaultCode::ReadProt);
  CHECK(dart.walk(both.value.bus_addr, Access::Read).ok);
  CHECK(dart.walk(both.value.bus_addr, Access::Write).ok);
}

TEST_CASE("The backend reports each DART refusal as the mapper error of the same name", "[backend]") {
  Dart dart(config_of("aperture=64K,slots=3"));
  DartBackend backend(dart);
  CHECK(backend.map(0x4000, 0, Direction::ToDevice).error == MapError::Invalid);
  CHECK(backend.map(~std::uint64_t{0} - 10, 100, Direction::ToDevice).error == MapError::Invalid);
  CHECK(backend.map(0, 5 * kPage, Direction::ToDevice).error == MapError::Aperture);
  const auto a = backend.map(0, 1, Direction::ToDevice);
  const auto b = backend.map(0, 1, Direction::ToDevice);
  REQUIRE((a.ok && b.ok));
  REQUIRE(backend.unmap(a.value.handle));
  CHECK(backend.map(0, 2 * kPage + 1, Direction::ToDevice).error == MapError::Fragmented);
  REQUIRE(backend.map(0, 1, Direction::ToDevice).ok);
  REQUIRE(backend.map(0, 1, Direction::ToDevice).ok);
  CHECK(backend.map(0, 1, Direction::ToDevice).error == MapError::Slots);
  CHECK(dart.stats().failures[static_cast<unsigned>(MapError::Invalid)] == 2);  // the DART counted them
}

TEST_CASE("lazy's pressure counts bytes in the DART's own pages, so page=64K keeps it under 95% of the aperture",
          "[backend][lazy]") {
  // 2 MiB of 64 KiB pages: 95% is 1,945.6 KiB, so at most 30 pages may be mapped. Each request is
  // 16 KiB but takes a whole 64 KiB page; counted in 16 KiB it would look like room for a 31st.
  Dart dart(config_of("page=64K,aperture=2M,slots=unlimited"));
  DartBackend backend(dart);
  dartlab::mapper::Mapper m(backend, std::get<dartlab::mapper::Policy>(dartlab::mapper::parse_policy("lazy:direct,keep=1000")));
  const std::uint64_t limit = dart.stats().aperture_bytes;
  for (std::uint64_t i = 0; i < 64; ++i) {
    const auto r = m.map(i * 64 * 1024, 16 * 1024, Direction::ToDevice);
    REQUIRE(r);
    REQUIRE(m.unmap(r.value.token, 16 * 1024));
    CHECK(static_cast<double>(dart.stats().mapped_bytes) <= 0.95 * static_cast<double>(limit));
  }
  CHECK(m.stats().failed_maps == 0);
  CHECK(m.stats().evictions > 0);
}
