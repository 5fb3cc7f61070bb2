// SPDX-License-Identifier: MIT
// The host mapping service's own rules on top of the DART (duplicate=, chunk=), in the backend
// and in the mapper over it.
#include <catch2/catch.hpp>

#include "passthrough/backends/dart_backend.hpp"
#include "passthrough/mapper/mapper.hpp"
#include "test_support.hpp"

using namespace dartlab::dart;
using dartlab::backends::DartBackend;
using dartlab::Direction;
using dartlab::MapError;
using dartlab::mapper::Mapper;
using dartlab::mapper::Policy;
using dartlab::mapper::PolicyKind;

using dartlab::dart::test::config_of;
using dartlab::dart::test::kPage;

namespace {
constexpr std::uint64_t K = 1024;
constexpr std::uint64_t M = 1024 * K;

std::uint64_t failures(const Mapper& m, MapError e) { return m.stats().failures[static_cast<int>(e)]; }
}  // namespace

TEST_CASE("Under duplicate=refuse a second map at a registered gpa is refused before the DART is asked",
          "[backend][host]") {
  Dart dart(config_of("duplicate=refuse"));
  DartBackend backend(dart);
  const auto first = backend.map(0x40000, 256 * K, Direction::Bidirectional);
  REQUIRE(first.ok);
  const std::uint64_t dart_calls = dart.stats().map_calls;
  // The same gpa at any length is the same key to the host.
  CHECK(backend.map(0x40000, 512 * K, Direction::Bidirectional).error == MapError::Duplicate);
  CHECK(backend.map(0x40000, 256 * K, Direction::ToDevice).error == MapError::Duplicate);
  CHECK(dart.stats().map_calls == dart_calls);
  CHECK(dart.stats().live_mappings == 1);
  // Another gpa inside the same mapping is another key.
  CHECK(backend.map(0x44000, 16 * K, Direction::Bidirectional).ok);
  SECTION("the gpa is free again once its mapping is gone") {
    REQUIRE(backend.unmap(first.value.handle));
    const auto again = backend.map(0x40000, 512 * K, Direction::Bidirectional);
    REQUIRE(again.ok);
    CHECK(again.value.len_bytes == 512 * K);
  }
  SECTION("a reset forgets every registration") {
    backend.reset();
    CHECK(dart.stats().live_mappings == 0);
    CHECK(backend.map(0x40000, 16 * K, Direction::Bidirectional).ok);
    CHECK(backend.map(0x44000, 16 * K, Direction::Bidirectional).ok);
  }
}

TEST_CASE("Unmapping through the backend a mapping made on the DART itself leaves the registrations alone",
          "[backend][host]") {
  Dart dart(config_of("duplicate=refuse"));
  DartBackend backend(dart);
  const auto first = backend.map(0x40000, 16 * K, Direction::Bidirectional);
  REQUIRE(first.ok);
  REQUIRE(backend.unmap(first.value.handle));
  const DartMapResult direct = dart.map(0x80000, kPage, Perms{});  // takes the slot the first had
  REQUIRE(direct.ok);
  REQUIRE(backend.map(0x40000, 16 * K, Direction::Bidirectional).ok);
  REQUIRE(backend.unmap(direct.mapping.handle));
  CHECK(backend.map(0x40000, 16 * K, Direction::Bidirectional).error == MapError::Duplicate);
}

TEST_CASE("A duplicate gpa is refused as still open even when the table is full, as the host searches first",
          "[backend][host]") {
  Dart dart(config_of("duplicate=refuse,slots=1"));
  DartBackend backend(dart);
  REQUIRE(backend.map(0x40000, 16 * K, Direction::Bidirectional).ok);
  CHECK(backend.map(0x40000, 32 * K, Direction::Bidirectional).error == MapError::Duplicate);
  CHECK(backend.map(0x80000, 16 * K, Direction::Bidirectional).error == MapError::Slots);
}

TEST_CASE("Under duplicate=share a registered gpa is mapped again, as dartlab did before the rule", "[backend][host]") {
  Dart dart(config_of(""));
  REQUIRE(dart.config().duplicate == DuplicateRule::Share);
  DartBackend backend(dart);
  const auto a = backend.map(0x40000, 256 * K, Direction::Bidirectional);
  const auto b = backend.map(0x40000, 512 * K, Direction::Bidirectional);
  REQUIRE((a.ok && b.ok));
  CHECK(a.value.bus_addr != b.value.bus_addr);
  CHECK(dart.stats().live_mappings == 2);
}

TEST_CASE("A range longer than a chunk maps its first chunk only and says how much it covers", "[backend][host]") {
  Dart dart(config_of("chunk=64K"));
  DartBackend backend(dart);
  SECTION("a range from a page boundary maps its first chunk exactly") {
    const auto r = backend.map(0x100000, 256 * K, Direction::Bidirectional);
    REQUIRE(r.ok);
    CHECK(r.value.len_bytes == 64 * K);
    CHECK(dart.stats().mapped_bytes == 64 * K);
    CHECK(dart.translate(r.value.bus_addr + 64 * K - 1, Access::Read).pa == 0x100000 + 64 * K - 1);
    CHECK_FALSE(dart.walk(r.value.bus_addr + 64 * K, Access::Read).ok);  // past the first chunk: nothing
    CHECK(backend.unmap(r.value.handle));
    CHECK(dart.stats().mapped_bytes == 0);
  }
  SECTION("from inside a page: the chunk starts at the page, so less of the range is covered") {
    const auto r = backend.map(0x100000 + 0x1234, 256 * K, Direction::Bidirectional);
    REQUIRE(r.ok);
    CHECK(r.value.len_bytes == 64 * K - 0x1234);
    CHECK(r.value.bus_addr % kPage == 0x1234);
  }
  SECTION("a range of exactly one chunk is whole") {
    const auto r = backend.map(0x100000, 64 * K, Direction::Bidirectional);
    REQUIRE(r.ok);
    CHECK(r.value.len_bytes == 64 * K);
  }
  SECTION("a range whose pages end past the chunk is cut though its bytes fit") {
    const auto r = backend.map(0x100000 + 0x1000, 64 * K - 0x1000 + 1, Direction::Bidirectional);
    REQUIRE(r.ok);
    CHECK(r.value.len_bytes == 64 * K - 0x1000);
  }
}

TEST_CASE("A range of more chunks than the host keeps per region is refused for lack of space", "[backend][host]") {
  Dart dart(config_of("chunk=16K,aperture=4M"));
  DartBackend backend(dart);
  const std::uint64_t longest = DartBackend::kMaxChunks * kPage;
  const auto cut = backend.map(0x100000, longest, Direction::Bidirectional);
  REQUIRE(cut.ok);
  CHECK(cut.value.len_bytes == kPage);
  CHECK(backend.map(0x200000, longest + 1, Direction::Bidirectional).error == MapError::Slots);
}

TEST_CASE("A 2 GiB map on a roomy DART comes back cut at the host's 1.5 GiB by default, whole under chunk=unlimited",
          "[backend][host]") {
  const auto [spec, answered_bytes] = GENERATE(table<std::string, std::uint64_t>(
      {{"aperture=4G", 1536 * M}, {"aperture=4G,chunk=unlimited", 2048 * M}}));
  CAPTURE(spec);
  Dart dart(config_of(spec));
  DartBackend backend(dart);
  const auto r = backend.map(0x1'0000'0000, 2048 * M, Direction::Bidirectional);
  REQUIRE(r.ok);
  CHECK(r.value.len_bytes == answered_bytes);
  CHECK(dart.stats().mapped_bytes == answered_bytes);
}

TEST_CASE("The mapper undoes a mapping the host cut short and refuses the request as truncated", "[mapper][host]") {
  Dart dart(config_of("chunk=256K"));
  DartBackend backend(dart);
  Mapper m(backend, Policy{PolicyKind::Direct, 0});
  const auto refused = m.map(0x100000, 1 * M, Direction::ToDevice);
  REQUIRE_FALSE(refused);
  CHECK(refused.error == MapError::Truncated);
  CHECK(failures(m, MapError::Truncated) == 1);
  CHECK(m.stats().failed_maps == 1);
  // The host was asked twice, to map and to unmap, and holds nothing.
  CHECK(m.stats().host_map_calls == 1);
  CHECK(m.stats().host_unmap_calls == 1);
  CHECK(m.stats().live_mappings == 0);
  CHECK(m.stats().live_requests == 0);
  CHECK(dart.stats().live_mappings == 0);
  CHECK(dart.stats().map_calls == 1);
  CHECK(dart.stats().unmap_calls == 1);
  // A request within one chunk is served whole.
  const auto served = m.map(0x200000, 256 * K, Direction::ToDevice);
  REQUIRE(served);
  CHECK(dart.translate(served.value.dma_addr + 256 * K - 1, Access::Read).pa == 0x200000 + 256 * K - 1);
}

TEST_CASE("Over duplicate=refuse the seed's window policy is refused a direct range that starts at a live window",
          "[mapper][host]") {
  const std::string rule = GENERATE(as<std::string>{}, "refuse", "share");
  CAPTURE(rule);
  Dart dart(config_of("duplicate=" + rule));
  DartBackend backend(dart);
  Mapper m(backend, Policy{PolicyKind::Window, 256 * K});
  REQUIRE(m.map(0x40000 + 0x1000, 4 * K, Direction::ToDevice));  // the window (0x40000, 256K)
  // Longer than the window: its own key (0x40000, 512K), registered at the window's gpa.
  const auto longer = m.map(0x40000, 512 * K, Direction::ToDevice);
  if (rule == "refuse") {
    REQUIRE_FALSE(longer);
    CHECK(longer.error == MapError::Duplicate);
    CHECK(failures(m, MapError::Duplicate) == 1);
    CHECK(m.stats().live_mappings == 1);
  } else {
    CHECK(longer);
    CHECK(m.stats().live_mappings == 2);
  }
  CHECK(dart.stats().live_mappings == m.stats().live_mappings);
}

TEST_CASE("Neither lazy nor adaptive gives mappings back or resizes for a duplicate or a cut", "[mapper][host]") {
  Dart dart(config_of("duplicate=refuse,chunk=1M"));
  DartBackend backend(dart);
  SECTION("lazy evicts nothing on a duplicate or a cut") {
    Mapper m(backend, std::get<Policy>(dartlab::mapper::parse_policy("lazy:direct,keep=8")));
    const auto a = m.map(0x100000, 16 * K, Direction::ToDevice);
    const auto b = m.map(0x200000, 16 * K, Direction::ToDevice);
    REQUIRE((a && b));
    REQUIRE(m.unmap(b.value.token, 16 * K));  // kept
    REQUIRE(m.stats().cached_mappings == 1);
    CHECK(m.map(0x100000, 32 * K, Direction::ToDevice).error == MapError::Duplicate);
    CHECK(m.map(0x400000, 2 * M, Direction::ToDevice).error == MapError::Truncated);
    CHECK(m.stats().evictions == 0);
    CHECK(m.stats().cached_mappings == 1);
  }
  SECTION("adaptive keeps its window size on a duplicate or a cut") {
    Mapper m(backend, std::get<Policy>(dartlab::mapper::parse_policy("adaptive:start=64K,min=16K,max=4M")));
    REQUIRE(m.map(0x100000, 4 * K, Direction::ToDevice));  // the window (0x100000, 64K)
    CHECK(m.map(0x100000, 128 * K, Direction::ToDevice).error == MapError::Duplicate);
    CHECK(m.map(0x400000, 2 * M, Direction::ToDevice).error == MapError::Truncated);
    CHECK(m.stats().adaptations == 0);
    CHECK(m.stats().window_bytes_now == 64 * K);
  }
}

TEST_CASE("Every refusal reason names the host's return code where the host has one", "[host]") {
  using dartlab::host_return_code;
  CHECK(host_return_code(MapError::Invalid) == "kIOReturnBadArgument");
  CHECK(host_return_code(MapError::Slots) == "kIOReturnNoSpace");
  CHECK(host_return_code(MapError::Fragmented) == "kIOReturnNotAligned");
  CHECK(host_return_code(MapError::Duplicate) == "kIOReturnStillOpen");
  CHECK(host_return_code(MapError::Aperture).empty());   // the DART mapper's own failure, no code of the service's
  CHECK(host_return_code(MapError::Truncated).empty());  // the host answered success
  CHECK(dartlab::to_string(MapError::Duplicate) == "duplicate");
  CHECK(dartlab::to_string(MapError::Truncated) == "truncated");
}
