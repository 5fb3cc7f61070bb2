#include <catch2/catch.hpp>

#include "models/dart/dart_backend.hpp"
#include "test_support.hpp"

using namespace dartlab::dart;
using dartlab::mapper::Direction;
using dartlab::mapper::MapError;

using dartlab::dart::test::config_of;
using dartlab::dart::test::kPage;

TEST_CASE("The backend rounds a range out to pages and returns the bus address of gpa itself", "[backend]") {
  Dart dart(config_of(""));
  DartBackend backend(dart);
  SECTION("inside one page") {
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
  CHECK(dart.stats().failures[static_cast<unsigned>(MapFailure::Invalid)] == 2);  // the DART counted them
}
