// SPDX-License-Identifier: MIT
// What the QEMU device relies on from the DART and its backend (once behind a C API): a device
// reset releases everything and forgets every registered gpa, and the error register and the
// fault counters follow the managed device's refused accesses.
#include <catch2/catch.hpp>

#include "passthrough/backends/dart_backend.hpp"
#include "test_support.hpp"

using namespace dartlab::dart;
using dartlab::Direction;
using dartlab::MapError;
using dartlab::backends::DartBackend;
using dartlab::dart::test::config_of;
using dartlab::dart::test::kPage;

TEST_CASE("A backend reset releases every mapping and forgets the registered gpas", "[backend][host]") {
  Dart dart(config_of("aperture=1M,slots=2,duplicate=refuse"));
  DartBackend backend(dart);
  const auto a = backend.map(0x40000, kPage, Direction::Bidirectional);
  REQUIRE(a.ok);
  CHECK(backend.map(0x40000, 2 * kPage, Direction::Bidirectional).error == MapError::Duplicate);
  const auto b = backend.map(0x80000, 1, Direction::FromDevice);
  REQUIRE(b.ok);
  CHECK(backend.map(0xc0000, 1, Direction::FromDevice).error == MapError::Slots);
  CHECK(dart.stats().failures[static_cast<unsigned>(MapError::Slots)] == 1);

  backend.reset();
  CHECK_FALSE(backend.unmap(a.value.handle));
  CHECK_FALSE(backend.unmap(b.value.handle));
  CHECK(dart.stats().live_mappings == 0);
  CHECK(dart.stats().tables_live == 0);
  const auto again = backend.map(0x40000, 2 * kPage, Direction::Bidirectional);  // no longer registered
  REQUIRE(again.ok);
  REQUIRE(backend.unmap(again.value.handle));
  CHECK(backend.map(0x40000, kPage, Direction::Bidirectional).ok);
}

TEST_CASE("The error register latches the first refused access and the counters count each by code",
          "[dart][faults]") {
  Dart dart(config_of("aperture=1M"));
  DartBackend backend(dart);
  const auto r = backend.map(0x8'0000'3ff0, 0x20, Direction::ToDevice);
  REQUIRE(r.ok);
  CHECK(r.value.bus_addr == kPage + 0x3ff0);
  CHECK(dart.translate(r.value.bus_addr + 0x1f, Access::Read).pa == 0x8'0000'3ff0 + 0x1f);
  CHECK(dart.translate(r.value.bus_addr, Access::Write).fault.code == FaultCode::WriteProt);
  CHECK(dart.translate(0, Access::Read).fault.code == FaultCode::NoTtbr);
  const FaultRecord first = dart.last_fault();
  REQUIRE(first.valid);
  CHECK(first.fault.code == FaultCode::WriteProt);
  CHECK(first.fault.bus_addr == r.value.bus_addr);
  CHECK(dart.stats().faults_by_code[static_cast<unsigned>(FaultCode::WriteProt)] == 1);
  CHECK(dart.stats().faults_by_code[static_cast<unsigned>(FaultCode::NoTtbr)] == 1);
  dart.clear_fault();
  CHECK_FALSE(dart.last_fault().valid);
  CHECK(backend.map(0, 2u << 20, Direction::Bidirectional).error == MapError::Aperture);
  CHECK(backend.map(0, 0, Direction::Bidirectional).error == MapError::Invalid);
}
