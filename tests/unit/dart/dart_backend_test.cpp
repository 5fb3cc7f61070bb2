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

TEST_CASE("unmap_hinted answers as unmap and leaves the DART as unmap does, whatever the hint", "[backend]") {
  // page=64K: gpa's offset in its page shows in the bus address; chunk=: a long region is cut;
  // duplicate=refuse: the gpa registration goes with the mapping.
  const char* const spec = "page=64K,aperture=16M,slots=8,chunk=256K,duplicate=refuse";
  struct Hint {
    std::uint64_t bus_delta;  // added to the bus address map() answered
    std::uint64_t len_bytes;
  };
  const Hint hint = GENERATE(Hint{0, 0x9000}, Hint{0, 0x100000}, Hint{0, 0x1000}, Hint{0x10000, 0x9000},
                             Hint{~std::uint64_t{0}, 0x9000}, Hint{0, ~std::uint64_t{0}});
  INFO("bus + " << hint.bus_delta << ", " << hint.len_bytes << " bytes");
  Dart plain_dart(config_of(spec));
  Dart hinted_dart(config_of(spec));
  DartBackend plain(plain_dart);
  DartBackend hinted(hinted_dart);
  for (const std::uint64_t len : {std::uint64_t{0x9000}, std::uint64_t{0x100000}}) {
    const auto p = plain.map(0x1'0000'3000, len, Direction::ToDevice);
    const auto h = hinted.map(0x1'0000'3000, len, Direction::ToDevice);
    REQUIRE((p.ok && h.ok));
    REQUIRE(p.value.handle == h.value.handle);
    const std::uint64_t bus = h.value.bus_addr + hint.bus_delta;
    CHECK(hinted.unmap_hinted(h.value.handle, bus, hint.len_bytes) == plain.unmap(p.value.handle));
    CHECK(hinted.unmap_hinted(h.value.handle, bus, hint.len_bytes) == plain.unmap(p.value.handle));  // stale
    CHECK(hinted_dart.stats().live_mappings == plain_dart.stats().live_mappings);
    CHECK(hinted_dart.stats().free_bytes == plain_dart.stats().free_bytes);
    CHECK(hinted_dart.stats().largest_free_bytes == plain_dart.stats().largest_free_bytes);
    CHECK(hinted_dart.stats().mapped_bytes == plain_dart.stats().mapped_bytes);
    CHECK(hinted_dart.stats().unmap_calls == plain_dart.stats().unmap_calls);
    CHECK(hinted_dart.stats().tables_live == plain_dart.stats().tables_live);
    // The gpa is free to map again under duplicate=refuse on both.
    const auto p2 = plain.map(0x1'0000'3000, 0x100, Direction::ToDevice);
    const auto h2 = hinted.map(0x1'0000'3000, 0x100, Direction::ToDevice);
    REQUIRE((p2.ok && h2.ok));
    CHECK(p2.value.handle == h2.value.handle);
    CHECK(p2.value.bus_addr == h2.value.bus_addr);
    REQUIRE(plain.unmap(p2.value.handle));
    REQUIRE(hinted.unmap_hinted(h2.value.handle, h2.value.bus_addr, 0x100));
  }
  CHECK(hinted_dart.stats().live_mappings == 0);
}
