// SPDX-License-Identifier: MIT
// The real world's policies: bounce (one pool mapped once, requests carved from it first-fit) and
// cap (at most N live host mappings; past it a request is turned away unchanged).
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
constexpr std::uint64_t kSlot = Policy::kBounceSlotBytes;

}  // namespace

TEST_CASE("bounce specs take the real host's 64 MiB pool by default", "[policy][bounce]") {
  const Policy d = must_parse("bounce");
  CHECK(d.kind == PolicyKind::Bounce);
  CHECK(d.bounce_pool_bytes == 64 * M);
  CHECK(d.bounce_pool_gpa == 0);
  CHECK(d.spec() == "bounce:64M");
  CHECK(must_parse("bounce:at=0x200000000").spec() == "bounce:64M,at=0x200000000");
  CHECK(must_parse("bounce:0x100000").spec() == "bounce:1M");
}

TEST_CASE("bad bounce specs are refused with a message that says what is wrong", "[policy][bounce]") {
  CHECK_THAT(parse_error("bounce:100K"), Catch::Contains("multiple of 16K"));
  CHECK_THAT(parse_error("bounce:8K"), Catch::Contains("between 16K and 64G"));
  CHECK_THAT(parse_error("bounce:128G"), Catch::Contains("between 16K and 64G"));
  CHECK_THAT(parse_error("bounce:0"), Catch::Contains("between 16K and 64G"));
  CHECK_THAT(parse_error("bounce:lots"), Catch::Contains("'lots' is not a size"));
  CHECK_THAT(parse_error("bounce:64M,at=0x1001"), Catch::Contains("16K-aligned"));
  CHECK_THAT(parse_error("bounce:64M,at=0xfffffffffffc0000"), Catch::Contains("past the end of the address space"));
  CHECK_THAT(parse_error("bounce:64M,at=here"), Catch::Contains("not an address"));
  CHECK_THAT(parse_error("bounce:64M,at=0,at=0x4000"), Catch::Contains("given twice"));
  CHECK_THAT(parse_error("bounce:at=0,64M"), Catch::Contains("size first"));
  CHECK_THAT(parse_error("bounce:64M,1M"), Catch::Contains("size first"));
  CHECK_THAT(parse_error("bounce:64M,slot=4K"), Catch::Contains("no parameter 'slot'"));
  CHECK_THAT(parse_error("lazy:bounce:64M,keep=4"), Catch::Contains("lazy cannot wrap bounce"));
  CHECK_THAT(parse_error("cap:bounce:64M,windows=4"), Catch::Contains("cap cannot wrap bounce"));
}

TEST_CASE("bounce maps its pool once, at the first request, and carves requests from it lowest first",
          "[policy][bounce]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("bounce:1M,at=0x80000000"));
  CHECK(backend.live.empty());  // nothing before the first request
  const auto a = m.map(0x1234'5000, 4 * K, Direction::ToDevice);    // 2 slots
  const auto b = m.map(0x7777'0100, 3000, Direction::FromDevice);   // 2 slots
  const auto c = m.map(0x1234'5000, 1, Direction::Bidirectional);   // the same gpa again: its own slot
  REQUIRE((a && b && c));
  CHECK(backend.maps == 1);
  CHECK(backend.has(0x80000000, 1 * M));
  const std::uint64_t pool_bus = backend.live.begin()->second.bus_addr;
  CHECK(a.value.dma_addr == pool_bus);
  CHECK(b.value.dma_addr == pool_bus + 2 * kSlot);
  CHECK(c.value.dma_addr == pool_bus + 4 * kSlot);
  // The device reaches the slot, in the pool, not the request's own memory.
  for (const auto& r : {a, b, c}) {
    CHECK(backend.target_of(r.value.dma_addr) == m.target_gpa(r.value.dma_addr, 0x1234'5000));
    CHECK(m.target_gpa(r.value.dma_addr, 0x1234'5000) == 0x80000000 + (r.value.dma_addr - pool_bus));
  }
  const MapperStats& s = m.stats();
  CHECK(s.live_mappings == 1);
  CHECK(s.mapped_bytes == 1 * M);
  CHECK(s.host_map_calls == 1);
  CHECK(s.shared_hits == 2);
  CHECK(s.live_requests == 3);
  CHECK(s.requested_bytes == 4 * K + 3000 + 1);
  CHECK(s.pool_bytes_taken == 5 * kSlot);

  // A hole at the bottom is taken first by what fits in it.
  REQUIRE(m.unmap(a.value.token, 4 * K));
  const auto d = m.map(0x9000, 2 * K, Direction::ToDevice);
  CHECK(d.value.dma_addr == pool_bus);
  const auto e = m.map(0x9000, 4 * K, Direction::ToDevice);  // one slot is left there: too short
  CHECK(e.value.dma_addr == pool_bus + 5 * kSlot);
  CHECK(m.stats().peak_pool_bytes_taken == 6 * kSlot);  // d, b, c, e
  // The pool stays mapped with nothing in it.
  for (const auto& r : {std::pair{b, 3000ULL}, {c, 1ULL}, {d, 2 * K}, {e, 4 * K}}) REQUIRE(m.unmap(r.first.value.token, r.second));
  CHECK(m.stats().live_requests == 0);
  CHECK(m.stats().pool_bytes_taken == 0);
  CHECK(backend.live.size() == 1);
  CHECK(m.stats().host_unmap_calls == 0);
}

TEST_CASE("bounce refuses a request no free run of the pool holds, and serves it once one is released",
          "[policy][bounce]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("bounce:64K"));  // 32 slots
  std::vector<Mapping> held;
  for (int i = 0; i < 4; ++i) held.push_back(m.map(i * 1 * M, 16 * K, Direction::ToDevice).value);
  const auto full = m.map(0x4000'0000, 2 * K, Direction::ToDevice);
  REQUIRE_FALSE(full);
  CHECK(full.error == MapError::Pool);
  CHECK(m.stats().failed_maps == 1);
  CHECK(m.stats().failures[static_cast<int>(MapError::Pool)] == 1);
  CHECK(m.stats().map_requests == 5);
  // Two 16K holes, not adjacent: 32K free but no run of 32K.
  REQUIRE(m.unmap(held[0].token, 16 * K));
  REQUIRE(m.unmap(held[2].token, 16 * K));
  CHECK(m.map(0x4000'0000, 32 * K, Direction::ToDevice).error == MapError::Pool);
  const auto fits = m.map(0x4000'0000, 16 * K, Direction::ToDevice);
  REQUIRE(fits);
  CHECK(fits.value.dma_addr == held[0].dma_addr);
  // Larger than the whole pool: refused without a host call.
  FakeBackend fresh;
  Mapper n(fresh, must_parse("bounce:64K"));
  CHECK(n.map(0, 64 * K + 1, Direction::ToDevice).error == MapError::Pool);
  CHECK(fresh.maps == 0);
  CHECK(n.map(0, 64 * K, Direction::ToDevice));
}

TEST_CASE("bounce passes on the host's refusal of its pool and asks again at the next request",
          "[policy][bounce]") {
  FakeBackend backend;
  backend.bytes_limit = 1 * M;
  Mapper m(backend, must_parse("bounce:2M"));
  const auto r = m.map(0, 4 * K, Direction::ToDevice);
  REQUIRE_FALSE(r);
  CHECK(r.error == MapError::Aperture);
  CHECK(m.stats().live_mappings == 0);
  CHECK(m.stats().pool_bytes_taken == 0);
  backend.bytes_limit = 4 * M;
  const auto again = m.map(0, 4 * K, Direction::ToDevice);
  REQUIRE(again);
  CHECK(again.value.dma_addr == backend.live.begin()->second.bus_addr);  // the first slot: nothing was kept
}

TEST_CASE("a reset unmaps the pool and makes every earlier bounce token stale", "[policy][bounce]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("bounce:1M"));
  const auto a = m.map(0x5000, 4 * K, Direction::ToDevice);
  const auto b = m.map(0x9000, 4 * K, Direction::ToDevice);
  REQUIRE((a && b));
  m.release_all();
  CHECK(backend.live.empty());
  CHECK(backend.bad_unmaps == 0);
  CHECK(m.stats().host_unmap_calls == 1);
  CHECK(m.stats().live_mappings == 0);
  CHECK(m.stats().live_requests == 0);
  CHECK(m.stats().pool_bytes_taken == 0);
  CHECK(m.unmap(a.value.token, 4 * K).error == MapError::Invalid);
  // Usable again: the pool is mapped anew; a's old token does not release the new request.
  const auto c = m.map(0x5000, 4 * K, Direction::ToDevice);
  REQUIRE(c);
  CHECK(c.value.token.entry == a.value.token.entry);
  CHECK(m.unmap(a.value.token, 4 * K).error == MapError::Invalid);
  CHECK(m.stats().live_requests == 1);
  CHECK(backend.maps == 2);
}

TEST_CASE("a bounced request is released by its DMA address, its first slot's, and its length", "[policy][bounce][requests]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("bounce:1M"));
  RequestTable t(m);
  const auto a = t.map(0x5000, 4 * K, Direction::ToDevice);
  const auto b = t.map(0x9000, 4 * K, Direction::ToDevice);
  REQUIRE((a && b));
  CHECK(t.unmap_dma(b.value.dma_addr + 100, 4 * K).error == MapError::Invalid);    // inside the slot
  CHECK(t.unmap_dma(b.value.dma_addr - 1 * M, 4 * K).error == MapError::Invalid);  // below the pool
  CHECK(t.unmap_dma(b.value.dma_addr, 8 * K).error == MapError::Invalid);          // not its length
  REQUIRE(t.unmap_dma(b.value.dma_addr, 4 * K));
  CHECK(t.unmap_dma(b.value.dma_addr, 4 * K).error == MapError::Invalid);
  CHECK(m.stats().live_requests == 1);
  CHECK(m.stats().pool_bytes_taken == 2 * kSlot);  // a's two slots
}

TEST_CASE("a bounced scatter-gather list is all or nothing", "[policy][bounce]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("bounce:64K"));
  const MapSegment fits[] = {{0x1000, 16 * K}, {0x9000, 16 * K}};
  const MapSegment too_much[] = {{0x1000, 16 * K}, {0x9000, 48 * K + 1}};
  Mapping out[2];
  CHECK(m.map_sg(too_much, Direction::ToDevice, out).error == MapError::Pool);
  CHECK(m.stats().pool_bytes_taken == 0);
  CHECK(m.stats().live_requests == 0);
  REQUIRE(m.map_sg(fits, Direction::ToDevice, out));
  CHECK(out[1].dma_addr - out[0].dma_addr == 16 * K);
  CHECK(m.stats().pool_bytes_taken == 32 * K);
}

TEST_CASE("the device learns a bounced request's slot and direction from its handle", "[policy][bounce][requests]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("bounce:1M,at=0x40000000"));
  RequestTable t(m);
  const auto a = t.map(0x1000, 4 * K, Direction::ToDevice);
  const auto b = t.map(0x7000, 100, Direction::FromDevice);
  REQUIRE((a && b));
  LiveRequest r;
  REQUIRE(t.find(b.value.handle, r));
  CHECK(r.gpa == 0x7000);
  CHECK(r.len_bytes == 100);
  CHECK(r.dir == Direction::FromDevice);
  CHECK(r.dma_addr == b.value.dma_addr);
  CHECK(r.target_gpa == 0x40000000 + 2 * kSlot);
  REQUIRE(t.unmap_handle(b.value.handle, 100));
  CHECK_FALSE(t.find(b.value.handle, r));
  // Any other policy: the device reaches the request's own memory.
  FakeBackend other;
  Mapper w(other, must_parse("window:256K"));
  RequestTable tw(w);
  const auto c = tw.map(0x41000, 4 * K, Direction::ToDevice);
  REQUIRE(tw.find(c.value.handle, r));
  CHECK(r.target_gpa == 0x41000);
}

TEST_CASE("bounced requests allocate nothing once the pool is mapped", "[policy][bounce][alloc]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("bounce:64M"));
  std::vector<Mapping> held(256);
  std::vector<std::uint64_t> lens(held.size());
  for (std::size_t i = 0; i < lens.size(); ++i) lens[i] = 1 + (i * 7919) % (256 * K);
  REQUIRE(m.map(0, 4 * K, Direction::ToDevice));  // maps the pool
  dartlab::test::AllocationCount count;
  for (int round = 0; round < 20; ++round) {
    for (std::size_t i = 0; i < held.size(); ++i) held[i] = m.map(i * 1 * M, lens[i], Direction::ToDevice).value;
    // Released out of order, so the pool's free runs break up and merge again.
    for (std::size_t i = 0; i < held.size(); i += 2) REQUIRE(m.unmap(held[i].token, lens[i]));
    for (std::size_t i = 1; i < held.size(); i += 2) REQUIRE(m.unmap(held[i].token, lens[i]));
  }
  CHECK(count.count() == 0);
  CHECK(m.stats().failed_maps == 0);
  CHECK(m.stats().host_map_calls == 1);
}

TEST_CASE("cap specs wrap any policy but bounce", "[policy][cap]") {
  const Policy c = must_parse("cap:window:128K,windows=5600");
  CHECK(c.kind == PolicyKind::Window);
  CHECK(c.window_bytes == 128 * K);
  CHECK(c.cap_windows == 5600);
  CHECK(must_parse("cap:window:0x20000,windows=0x10").spec() == "cap:window:128K,windows=16");
  CHECK(must_parse("cap:lazy:direct,keep=4,windows=8").lazy);
}

TEST_CASE("bad cap specs are refused with a message that says what is wrong", "[policy][cap]") {
  CHECK_THAT(parse_error("cap:window:256K"), Catch::Contains("needs a policy and its limit"));
  CHECK_THAT(parse_error("cap:windows=5"), Catch::Contains("needs a policy and its limit"));
  CHECK_THAT(parse_error("cap"), Catch::Contains("needs a policy and its limit"));
  CHECK_THAT(parse_error("cap:window:256K,windows=0"), Catch::Contains("windows must be 1.."));
  CHECK_THAT(parse_error("cap:window:256K,windows=5000000000"), Catch::Contains("windows must be 1.."));
  CHECK_THAT(parse_error("cap:window:256K,windows=many"), Catch::Contains("not a number"));
  CHECK_THAT(parse_error("cap:window:100K,windows=5"), Catch::Contains("inside cap"));
  CHECK_THAT(parse_error("cap:cap:direct,windows=1,windows=2"), Catch::Contains("cannot wrap a cap"));
  CHECK_THAT(parse_error("lazy:cap:direct,windows=3,keep=1"), Catch::Contains("cap goes outside lazy"));
}

TEST_CASE("at the cap a request that needs a new host mapping is turned away and nothing changes",
          "[policy][cap]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("cap:window:64K,windows=2"));
  const auto a = m.map(0x00000, 4 * K, Direction::ToDevice);
  const auto b = m.map(0x10000, 4 * K, Direction::ToDevice);
  REQUIRE((a && b));
  const MapperStats before = m.stats();
  const auto c = m.map(0x20000, 4 * K, Direction::ToDevice);
  REQUIRE_FALSE(c);
  CHECK(c.error == MapError::Cap);
  CHECK(backend.maps == 2);
  CHECK(m.stats().cap_refusals == 1);
  // Not a request, not a failure: the same request is asked again later.
  CHECK(m.stats().map_requests == before.map_requests);
  CHECK(m.stats().failed_maps == 0);
  CHECK(m.stats().failures[static_cast<int>(MapError::Cap)] == 0);
  CHECK(m.stats().live_requests == before.live_requests);
  // A request a live window serves needs no room.
  const auto hit = m.map(0x01000, 4 * K, Direction::ToDevice);
  REQUIRE(hit);
  CHECK(m.stats().shared_hits == 1);
  // A release that frees a window makes room.
  REQUIRE(m.unmap(b.value.token, 4 * K));
  REQUIRE(m.map(0x20000, 4 * K, Direction::ToDevice));
  CHECK(m.stats().live_mappings == 2);
  CHECK(m.stats().peak_mappings == 2);
}

TEST_CASE("under cap a kept lazy mapping gives its place up before a request is turned away", "[policy][cap][lazy]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("cap:lazy:window:64K,keep=8,windows=2"));
  const auto a = m.map(0x00000, 4 * K, Direction::ToDevice);
  const auto b = m.map(0x10000, 4 * K, Direction::ToDevice);
  REQUIRE(m.unmap(a.value.token, 4 * K));  // kept: still a live host mapping, at the cap
  CHECK(m.stats().live_mappings == 2);
  REQUIRE(m.map(0x20000, 4 * K, Direction::ToDevice));
  CHECK(m.stats().evictions == 1);
  CHECK_FALSE(backend.has(0x00000, 64 * K));
  CHECK(m.stats().cap_refusals == 0);
  CHECK(m.map(0x30000, 4 * K, Direction::ToDevice).error == MapError::Cap);  // nothing kept now
  CHECK(m.stats().live_mappings == 2);
  REQUIRE(m.unmap(b.value.token, 4 * K));
}

TEST_CASE("a scatter-gather list turned away at the cap waits whole and counts as no request", "[policy][cap]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("cap:window:64K,windows=3"));
  const auto held = m.map(0x00000, 4 * K, Direction::ToDevice);
  const auto other = m.map(0x40000, 4 * K, Direction::ToDevice);
  REQUIRE((held && other));
  // The first segment shares a live window, the second takes the last place, the third is one too many.
  const MapSegment list[] = {{0x01000, 4 * K}, {0x10000, 4 * K}, {0x20000, 4 * K}};
  Mapping out[3];
  const MapperStats before = m.stats();
  CHECK(m.map_sg(list, Direction::ToDevice, out).error == MapError::Cap);
  CHECK(m.stats().map_requests == before.map_requests);
  CHECK(m.stats().shared_hits == before.shared_hits);
  CHECK(m.stats().live_requests == 2);
  CHECK(m.stats().live_mappings == 2);
  CHECK(m.stats().failed_maps == 0);
  // The host really mapped and unmapped the window the second segment took.
  CHECK(m.stats().host_map_calls == before.host_map_calls + 1);
  CHECK(m.stats().host_unmap_calls == before.host_unmap_calls + 1);
  REQUIRE(m.unmap(other.value.token, 4 * K));
  REQUIRE(m.map_sg(list, Direction::ToDevice, out));
  CHECK(m.stats().map_requests == before.map_requests + 3);
}

TEST_CASE("requests served at the cap by live windows allocate nothing", "[policy][cap][alloc]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("cap:window:256K,windows=4"));
  std::vector<Mapping> anchors;
  for (std::uint64_t w = 0; w < 4; ++w) anchors.push_back(m.map(w * 256 * K, 4 * K, Direction::ToDevice).value);
  std::vector<Mapping> held(128);
  dartlab::test::AllocationCount count;
  for (int round = 0; round < 20; ++round) {
    for (std::uint64_t i = 0; i < held.size(); ++i) held[i] = m.map(i * 8 * K, 4 * K, Direction::ToDevice).value;
    CHECK(m.map(1 * M, 4 * K, Direction::ToDevice).error == MapError::Cap);  // and a turn-away costs nothing either
    for (const auto& h : held) REQUIRE(m.unmap(h.token, 4 * K));
  }
  CHECK(count.count() == 0);
  CHECK(m.stats().cap_refusals == 20);
  CHECK(m.stats().host_map_calls == 4);
}
