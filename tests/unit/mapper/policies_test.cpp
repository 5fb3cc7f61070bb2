// SPDX-License-Identifier: MIT
// The multi, lazy and adaptive policies: what each does that window and direct do not.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "passthrough/mapper/mapper.hpp"
#include "passthrough/mapper/request_table.hpp"
#include "support/alloc_counter.hpp"
#include "support/fake_backend.hpp"
#include "support/policy_specs.hpp"

using namespace dartlab;
using namespace dartlab::mapper;
using dartlab::test::FakeBackend;
using dartlab::test::must_parse;
using dartlab::test::parse_error;

namespace {

constexpr std::uint64_t K = 1024;
constexpr std::uint64_t M = 1024 * K;

}  // namespace

TEST_CASE("multi, adaptive, lazy, bounce and cap specs parse and print back canonically", "[policy]") {
  const auto spec = GENERATE(as<std::string>{}, "multi:64K,256K,1M", "multi:16K,2M,promote=0.25",
                             "multi:64K,promote=off", "adaptive:start=256K,min=16K,max=4M,high=0.9,low=0.5,every=64",
                             "adaptive:start=64K,min=64K,max=64K,high=1,low=0.1,every=1", "lazy:window:256K,keep=1024",
                             "lazy:direct,bytes=64M", "lazy:multi:64K,1M,keep=0,bytes=1G",
                             "lazy:adaptive:start=256K,min=16K,max=4M,high=0.9,low=0.5,every=64,keep=10",
                             "bounce:64M", "bounce:16K", "bounce:64G", "bounce:1536M,at=0x4000", "bounce:1M,at=0xfff00000000",
                             "cap:direct,windows=1", "cap:window:128K,windows=5600",
                             "cap:multi:64K,256K,1M,promote=0.25,windows=300",
                             "cap:adaptive:start=256K,min=16K,max=4M,high=0.9,low=0.5,every=64,windows=64",
                             "cap:lazy:window:256K,keep=64,windows=100", "cap:lazy:multi:64K,1M,keep=32,bytes=8M,windows=9");
  CAPTURE(spec);
  CHECK(must_parse(spec).spec() == spec);
  CHECK(must_parse(must_parse(spec).spec()) == must_parse(spec));
}

TEST_CASE("policy specs accept sizes in any order, percentages and defaults", "[policy]") {
  const Policy m = must_parse("multi:1M,64K,256K,promote=75%");
  CHECK(m.kind == PolicyKind::Multi);
  CHECK(m.multi_sizes == (64 * K | 256 * K | 1 * M));
  CHECK(m.promote_fraction == 0.75);
  CHECK(m.spec() == "multi:64K,256K,1M,promote=0.75");

  const Policy a = must_parse("adaptive");
  CHECK(a.kind == PolicyKind::Adaptive);
  CHECK(a.window_bytes == 256 * K);  // the guest module's default window
  CHECK(a.adaptive_min_bytes == 16 * K);
  CHECK(a.adaptive_max_bytes == 4 * M);

  const Policy l = must_parse("lazy:multi:64K,256K,keep=512");
  CHECK(l.lazy);
  CHECK(l.kind == PolicyKind::Multi);
  CHECK(l.lazy_keep == 512);
  CHECK(l.lazy_bytes == Policy::kUnbounded);
  CHECK(must_parse("lazy:window:64K,bytes=16M,keep=4").lazy_bytes == 16 * M);
}

TEST_CASE("bad multi, adaptive and lazy specs are refused with a message that says what is wrong", "[policy]") {
  CHECK_THAT(parse_error("multi"), Catch::Contains("needs window sizes"));
  CHECK_THAT(parse_error("multi:"), Catch::Contains("needs window sizes"));
  CHECK_THAT(parse_error("multi:64K,64K"), Catch::Contains("given twice"));
  CHECK_THAT(parse_error("multi:48K"), Catch::Contains("not a power of two"));
  CHECK_THAT(parse_error("multi:4K"), Catch::Contains("between 16K and 1G"));
  CHECK_THAT(parse_error("multi:64K,promote=2"), Catch::Contains("(0, 1]"));
  CHECK_THAT(parse_error("multi:64K,promote=half"), Catch::Contains("not a fraction"));
  CHECK_THAT(parse_error("multi:64K,grow=1"), Catch::Contains("no parameter 'grow'"));
  CHECK_THAT(parse_error("multi:promote=0.5"), Catch::Contains("at least one window size"));
  CHECK_THAT(parse_error("adaptive:start=8M"), Catch::Contains("min <= start <= max"));
  CHECK_THAT(parse_error("adaptive:low=0.9,high=0.5"), Catch::Contains("low < high"));
  CHECK_THAT(parse_error("adaptive:speed=1"), Catch::Contains("no parameter 'speed'"));
  CHECK_THAT(parse_error("adaptive:256K"), Catch::Contains("key=value"));
  CHECK_THAT(parse_error("adaptive:every=0"), Catch::Contains("every must be"));
  CHECK_THAT(parse_error("lazy:window:256K"), Catch::Contains("needs a bound"));
  CHECK_THAT(parse_error("lazy:keep=5"), Catch::Contains("needs a policy"));
  CHECK_THAT(parse_error("lazy:lazy:direct,keep=1,keep=2"), Catch::Contains("given twice"));
  CHECK_THAT(parse_error("lazy:lazy:direct,keep=1"), Catch::Contains("cannot wrap a lazy"));
  CHECK_THAT(parse_error("lazy:window:3K,keep=1"), Catch::Contains("inside lazy"));
  CHECK_THAT(parse_error("lazy:direct,keep=many"), Catch::Contains("not a number"));
  CHECK_THAT(parse_error("fancy:1"), Catch::Contains("known: direct"));
}

TEST_CASE("multi maps the smallest listed window that holds a request, else a direct range", "[policy][multi]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("multi:64K,1M,promote=off"));
  REQUIRE(m.map(0x10000 + 0x1000, 4 * K, Direction::ToDevice));
  CHECK(backend.has(0x10000, 64 * K));
  // Straddles two 64K windows but lies in one 1M window.
  REQUIRE(m.map(0x2f000, 8 * K, Direction::ToDevice));
  CHECK(backend.has(0, 1 * M));
  // Straddles two 1M windows: direct, rounded out to 16K.
  REQUIRE(m.map(0xff000, 8 * K, Direction::ToDevice));
  CHECK(backend.has(0xfc000, 32 * K));
  CHECK(m.stats().host_map_calls == 3);
}

TEST_CASE("under multi any live window that holds a request serves it, the largest first", "[policy][multi]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("multi:64K,1M,promote=off"));
  const auto small = m.map(0x1000, 4 * K, Direction::ToDevice);  // the 64K window at 0
  const auto large = m.map(0xf000, 8 * K, Direction::ToDevice);  // straddles 64K windows: the 1M at 0
  REQUIRE(small);
  REQUIRE(large);
  CHECK(m.stats().host_map_calls == 2);
  // Inside both: the 1M window serves it, no new host mapping.
  const auto again = m.map(0x2000, 4 * K, Direction::ToDevice);
  REQUIRE(again);
  CHECK(m.stats().host_map_calls == 2);
  CHECK(large.value.dma_addr - again.value.dma_addr == 0xf000 - 0x2000);
  // Inside the 1M window only.
  REQUIRE(m.map(0x80000, 4 * K, Direction::ToDevice));
  CHECK(m.stats().host_map_calls == 2);
  CHECK(m.stats().shared_hits == 2);
}

TEST_CASE("multi promotes a region to its larger window once smaller live windows cover enough of it",
          "[policy][multi]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("multi:64K,256K,promote=0.5"));
  std::vector<Mapping> held;
  held.push_back(m.map(0x00000, 4 * K, Direction::ToDevice).value);  // 64K window 0: covers 1/4
  held.push_back(m.map(0x10000, 4 * K, Direction::ToDevice).value);  // 64K window 1: covers 1/2
  CHECK(m.stats().promotions == 0);
  CHECK(backend.has(0x10000, 64 * K));
  // Half of the 256K region is live in 64K windows: the next new window there is the 256K one.
  held.push_back(m.map(0x20000, 4 * K, Direction::ToDevice).value);
  CHECK(m.stats().promotions == 1);
  CHECK(backend.has(0, 256 * K));
  CHECK(m.stats().live_mappings == 3);
  // New requests in the old small windows go to the large one: the small ones drain.
  const auto into_large = m.map(0x00100, 4 * K, Direction::ToDevice);
  REQUIRE(into_large);
  CHECK(into_large.value.token.entry == held[2].token.entry);
  // Another 256K region with nothing live: back to a 64K window.
  REQUIRE(m.map(0x40000, 4 * K, Direction::ToDevice));
  CHECK(backend.has(0x40000, 64 * K));
  CHECK(m.stats().promotions == 1);
}

TEST_CASE("multi does not promote once the small windows of a region are released", "[policy][multi]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("multi:64K,256K"));
  const auto a = m.map(0x00000, 4 * K, Direction::ToDevice);
  const auto b = m.map(0x10000, 4 * K, Direction::ToDevice);
  REQUIRE(m.unmap(a.value.token, 4 * K));
  REQUIRE(m.unmap(b.value.token, 4 * K));
  REQUIRE(m.map(0x20000, 4 * K, Direction::ToDevice));
  CHECK(m.stats().promotions == 0);
  CHECK(backend.has(0x20000, 64 * K));
}

TEST_CASE("lazy keeps a released host mapping and reuses it without asking the host", "[policy][lazy]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("lazy:window:64K,keep=2"));
  const auto a = m.map(0x1000, 4 * K, Direction::ToDevice);
  REQUIRE(m.unmap(a.value.token, 4 * K));
  CHECK(backend.live.size() == 1);
  CHECK(m.stats().cached_mappings == 1);
  CHECK(m.stats().cached_bytes == 64 * K);
  CHECK(m.stats().live_mappings == 1);
  CHECK(m.stats().live_requests == 0);
  // A released request's token stays dead though its mapping is kept.
  CHECK_FALSE(m.unmap(a.value.token, 4 * K));

  const auto b = m.map(0x3000, 4 * K, Direction::ToDevice);
  REQUIRE(b);
  CHECK(m.stats().reuse_hits == 1);
  CHECK(m.stats().host_map_calls == 1);
  CHECK(m.stats().cached_mappings == 0);
  CHECK(b.value.dma_addr - a.value.dma_addr == 0x2000);
}

TEST_CASE("lazy evicts the least recently released mapping past its count or byte bound", "[policy][lazy]") {
  SECTION("keep=N evicts the oldest released mapping past N") {
    FakeBackend backend;
    Mapper m(backend, must_parse("lazy:window:64K,keep=2"));
    for (std::uint64_t w = 0; w < 3; ++w) {
      const auto r = m.map(w * 64 * K, 4 * K, Direction::ToDevice);
      REQUIRE(m.unmap(r.value.token, 4 * K));
    }
    CHECK(m.stats().cached_mappings == 2);
    CHECK(m.stats().evictions == 1);
    CHECK_FALSE(backend.has(0, 64 * K));  // the oldest went
    CHECK(backend.has(64 * K, 64 * K));
    CHECK(backend.has(128 * K, 64 * K));
  }
  SECTION("bytes=B evicts released mappings past B bytes") {
    FakeBackend backend;
    Mapper m(backend, must_parse("lazy:direct,bytes=32K"));
    for (std::uint64_t p = 0; p < 4; ++p) {
      const auto r = m.map(p * 16 * K, 16 * K, Direction::ToDevice);
      REQUIRE(m.unmap(r.value.token, 16 * K));
    }
    CHECK(m.stats().cached_bytes == 32 * K);
    CHECK(m.stats().evictions == 2);
  }
  SECTION("keep=0 keeps nothing") {
    FakeBackend backend;
    Mapper m(backend, must_parse("lazy:direct,keep=0"));
    const auto r = m.map(0, 16 * K, Direction::ToDevice);
    REQUIRE(m.unmap(r.value.token, 16 * K));
    CHECK(backend.live.empty());
  }
}

TEST_CASE("lazy gives kept mappings back when the host refuses, then asks again", "[policy][lazy]") {
  FakeBackend backend;
  backend.bytes_limit = 128 * K;
  Mapper m(backend, must_parse("lazy:direct,keep=100"));
  for (std::uint64_t p = 0; p < 4; ++p) {
    const auto r = m.map(p * 32 * K, 32 * K, Direction::ToDevice);
    REQUIRE(m.unmap(r.value.token, 32 * K));
  }
  CHECK(backend.live_bytes == 128 * K);
  // 64K more: the host refuses, two kept 32K mappings go, the map succeeds.
  REQUIRE(m.map(1 * M, 64 * K, Direction::ToDevice));
  CHECK(m.stats().evictions == 2);
  CHECK(m.stats().failed_maps == 0);
  CHECK(m.stats().cached_mappings == 2);
}

TEST_CASE("lazy evicts before the host's reported pressure passes 95%", "[policy][lazy]") {
  FakeBackend backend;
  backend.slot_limit = 100;
  backend.report_pressure = true;
  Mapper m(backend, must_parse("lazy:direct,keep=1000"));
  for (std::uint64_t p = 0; p < 120; ++p) {
    const auto r = m.map(p * 16 * K, 16 * K, Direction::ToDevice);
    REQUIRE(r);
    REQUIRE(m.unmap(r.value.token, 16 * K));
    CHECK(backend.live.size() <= 95);
  }
  CHECK(m.stats().failed_maps == 0);
  CHECK(m.stats().evictions == 120 - 95);
}

TEST_CASE("a kept mapping serves no request: a second release by address is refused and a reset unmaps it",
          "[policy][lazy]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("lazy:window:64K,keep=8"));
  RequestTable t(m);
  const auto r = t.map(0x1000, 4 * K, Direction::ToDevice);
  REQUIRE(t.unmap_dma(r.value.dma_addr, 4 * K));
  CHECK_FALSE(t.unmap_dma(r.value.dma_addr, 4 * K));
  CHECK(backend.live.size() == 1);
  m.release_all();
  CHECK(backend.live.empty());
  CHECK(backend.bad_unmaps == 0);
  CHECK(m.stats().cached_mappings == 0);
  // Usable after the reset.
  REQUIRE(m.map(0x1000, 4 * K, Direction::ToDevice));
  CHECK(m.stats().reuse_hits == 0);
}

TEST_CASE("adaptive coarsens windows as the host's slots run out and refines them as bytes run out",
          "[policy][adaptive]") {
  SECTION("windows grow as the host's slots run out") {
    FakeBackend backend;
    backend.slot_limit = 20;
    backend.report_pressure = true;
    Mapper m(backend, must_parse("adaptive:start=16K,min=16K,max=1M,high=0.5,low=0.1,every=1"));
    std::uint64_t gpa = 0;
    for (int i = 0; i < 14; ++i, gpa += 1 * M) REQUIRE(m.map(gpa, 4 * K, Direction::ToDevice));
    CHECK(m.stats().window_bytes_now > 16 * K);
    CHECK(m.stats().adaptations > 0);
    // Windows grew with the pressure: later host mappings are larger than the first.
    CHECK(backend.has(0, 16 * K));
    CHECK_FALSE(backend.has(13 * M, 16 * K));
  }
  SECTION("windows shrink as the host's bytes run out, and no map fails") {
    FakeBackend backend;
    backend.bytes_limit = 4 * M;
    backend.report_pressure = true;
    Mapper m(backend, must_parse("adaptive:start=1M,min=16K,max=1M,high=0.5,low=0.1,every=1"));
    std::uint64_t gpa = 0;
    for (int i = 0; i < 6; ++i, gpa += 8 * M) REQUIRE(m.map(gpa, 4 * K, Direction::ToDevice));
    CHECK(m.stats().window_bytes_now < 1 * M);
    CHECK(m.stats().failed_maps == 0);
  }
}

TEST_CASE("adaptive adapts at once to a refusal and tries the request again", "[policy][adaptive]") {
  FakeBackend backend;
  backend.bytes_limit = 96 * K;  // no pressure reported: only refusals tell
  Mapper m(backend, must_parse("adaptive:start=64K,min=16K,max=1M,every=1000000"));
  REQUIRE(m.map(0, 4 * K, Direction::ToDevice));  // a 64K window
  // Another 64K window would pass 96K: refused, the size halves, 32K fits.
  const auto r = m.map(1 * M, 4 * K, Direction::ToDevice);
  REQUIRE(r);
  CHECK(m.stats().window_bytes_now == 32 * K);
  CHECK(m.stats().adaptations == 1);
  CHECK(backend.has(1 * M, 32 * K));
  CHECK(m.stats().failed_maps == 0);
}

TEST_CASE("requests served by live windows under multi and by kept mappings under lazy allocate nothing",
          "[policy][alloc]") {
  const auto spec = GENERATE(as<std::string>{}, "multi:64K,256K,1M", "lazy:window:256K,keep=4", "adaptive");
  CAPTURE(spec);
  const bool lazy = spec.rfind("lazy:", 0) == 0;
  FakeBackend backend;  // allocates per host mapping: none may be made below
  Mapper m(backend, must_parse(spec));
  const auto map_all = [&m](std::vector<Mapping>& held) {
    for (std::uint64_t i = 0; i < held.size(); ++i) held[i] = m.map(0x40000 + i * 4 * K, 4 * K, Direction::ToDevice).value;
  };
  // Warm: the windows a round needs exist, held live (or, under lazy, released and kept).
  std::vector<Mapping> warm(64), held(64);
  map_all(warm);
  if (lazy)
    for (const auto& h : warm) REQUIRE(m.unmap(h.token, 4 * K));
  const std::uint64_t host_maps = m.stats().host_map_calls;
  dartlab::test::AllocationCount count;
  for (int round = 0; round < 50; ++round) {
    map_all(held);
    for (const auto& h : held) REQUIRE(m.unmap(h.token, 4 * K));
  }
  CHECK(count.count() == 0);
  CHECK(m.stats().host_map_calls == host_maps);
  if (lazy) CHECK(m.stats().reuse_hits == 50);
}
