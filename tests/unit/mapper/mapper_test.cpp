// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "passthrough/mapper/mapper.hpp"
#include "support/alloc_counter.hpp"
#include "support/fake_backend.hpp"

using namespace dartlab;
using namespace dartlab::mapper;
using dartlab::test::FakeBackend;

namespace {
constexpr std::uint64_t K = 1024;
const Policy kWindow256K{PolicyKind::Window, 256 * K};
const Policy kDirect{PolicyKind::Direct, 0};
}  // namespace

TEST_CASE("requests inside one window share one host mapping until the last release", "[mapper]") {
  FakeBackend backend;
  Mapper m(backend, kWindow256K);
  const auto a = m.map(0x40000 + 0x1000, 4 * K, Direction::ToDevice);
  const auto b = m.map(0x40000 + 0x9000, 4 * K, Direction::FromDevice);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(backend.maps == 1);
  CHECK(m.stats().live_mappings == 1);
  CHECK(m.stats().mapped_bytes == 256 * K);
  CHECK(m.stats().live_requests == 2);
  CHECK(m.stats().requested_bytes == 8 * K);
  CHECK(m.stats().shared_hits == 1);
  // DMA address = bus base + (gpa - window base)
  const auto& live = backend.live.begin()->second;
  CHECK(live.gpa == 0x40000);
  CHECK(live.len_bytes == 256 * K);
  CHECK(a.value.dma_addr == live.bus_addr + 0x1000);
  CHECK(b.value.dma_addr == live.bus_addr + 0x9000);

  REQUIRE(m.unmap(a.value.token, 4 * K));
  CHECK(backend.unmaps == 0);
  CHECK(m.stats().live_mappings == 1);
  REQUIRE(m.unmap(b.value.token, 4 * K));
  CHECK(backend.unmaps == 1);
  CHECK(backend.live.empty());
  CHECK(m.stats().live_mappings == 0);
  CHECK(m.stats().mapped_bytes == 0);
  CHECK(m.stats().live_requests == 0);
  CHECK(m.stats().requested_bytes == 0);
  CHECK(m.stats().peak_mappings == 1);
  CHECK(m.stats().peak_requested_bytes == 8 * K);
}

TEST_CASE("a straddling request gets its own direct mapping beside the window", "[mapper]") {
  FakeBackend backend;
  Mapper m(backend, kWindow256K);
  const auto in_window = m.map(0x41000, 4 * K, Direction::ToDevice);
  const auto straddling = m.map(0x7f000, 8 * K, Direction::ToDevice);  // crosses 0x80000
  REQUIRE(in_window);
  REQUIRE(straddling);
  CHECK(backend.maps == 2);
  CHECK(m.stats().mapped_bytes == 256 * K + 32 * K);  // [0x7c000, 0x84000)
  CHECK(backend.target_of(straddling.value.dma_addr) == 0x7f000);
  CHECK(backend.target_of(straddling.value.dma_addr + 8 * K - 1) == 0x80fff);
}

TEST_CASE("identical direct requests share a key and different ones do not", "[mapper]") {
  FakeBackend backend;
  Mapper m(backend, kDirect);
  const auto a = m.map(0x5000, 4 * K, Direction::ToDevice);
  const auto b = m.map(0x5000, 4 * K, Direction::ToDevice);
  const auto c = m.map(0x6000, 4 * K, Direction::ToDevice);  // another 4 KiB of the same 16 KiB page
  REQUIRE((a && b && c));
  CHECK(backend.maps == 1);  // all three round to [0x4000, 0x8000)
  const auto d = m.map(0x8000, 4 * K, Direction::ToDevice);
  REQUIRE(d);
  CHECK(backend.maps == 2);
  CHECK(c.value.dma_addr == a.value.dma_addr + 0x1000);
}

TEST_CASE("malformed requests are refused as invalid and counted", "[mapper]") {
  FakeBackend backend;
  Mapper m(backend, kWindow256K);
  SECTION("a request of length 0 is refused") {
    const auto r = m.map(0x1000, 0, Direction::ToDevice);
    CHECK_FALSE(r);
    CHECK(r.error == MapError::Invalid);
  }
  SECTION("a request whose gpa + len overflows is refused") {
    CHECK(m.map(~0ULL - 10, 4 * K, Direction::ToDevice).error == MapError::Invalid);
  }
  SECTION("a request whose 16 KiB-rounded end would wrap is refused") {
    CHECK(m.map(~0ULL - 0x2000, 0x1000, Direction::ToDevice).error == MapError::Invalid);
  }
  CHECK(m.stats().failed_maps == 1);
  CHECK(m.stats().failures[static_cast<int>(MapError::Invalid)] == 1);
  CHECK(backend.maps == 0);
}

TEST_CASE("backend refusals come back with their reason and leave no state behind", "[mapper]") {
  FakeBackend backend;
  backend.slot_limit = 1;
  Mapper m(backend, kWindow256K);
  REQUIRE(m.map(0x0, 4 * K, Direction::ToDevice));
  const auto r = m.map(0x40000, 4 * K, Direction::ToDevice);
  CHECK(r.error == MapError::Slots);
  backend.fail_next_with_fragmented = true;
  CHECK(m.map(0x80000, 4 * K, Direction::ToDevice).error == MapError::Fragmented);
  CHECK(m.stats().failures[static_cast<int>(MapError::Slots)] == 1);
  CHECK(m.stats().failures[static_cast<int>(MapError::Fragmented)] == 1);
  CHECK(m.stats().live_requests == 1);
  CHECK(m.stats().live_mappings == 1);
  // A window already live still serves requests when the backend is full.
  CHECK(m.map(0x2000, 4 * K, Direction::ToDevice));
}

TEST_CASE("stale and unknown tokens are refused", "[mapper]") {
  FakeBackend backend;
  Mapper m(backend, kWindow256K);
  const auto a = m.map(0x0, 4 * K, Direction::ToDevice);
  REQUIRE(a);
  REQUIRE(m.unmap(a.value.token, 4 * K));
  CHECK(m.unmap(a.value.token, 4 * K).error == MapError::Invalid);  // double unmap
  CHECK(m.unmap(MapToken{12345, 1}, 4 * K).error == MapError::Invalid);
  CHECK(m.unmap(MapToken{0, 0}, 4 * K).error == MapError::Invalid);
  // The entry is reused by a new mapping: the old token still must not release it.
  const auto b = m.map(0x40000, 4 * K, Direction::ToDevice);
  REQUIRE(b);
  CHECK(b.value.token.entry == a.value.token.entry);
  CHECK(m.unmap(a.value.token, 4 * K).error == MapError::Invalid);
  CHECK(m.stats().live_mappings == 1);
  CHECK(MapToken::unpack(b.value.token.pack()).generation == b.value.token.generation);
}

TEST_CASE("scatter-gather maps every segment or none", "[mapper]") {
  FakeBackend backend;
  Mapper m(backend, kWindow256K);
  const MapSegment segs[] = {{0x1000, 4 * K}, {0x41000, 4 * K}, {0x81000, 4 * K}};
  Mapping out[3];
  SECTION("when all segments fit each is mapped to its own gpa") {
    REQUIRE(m.map_sg(segs, Direction::ToDevice, out));
    CHECK(m.stats().live_requests == 3);
    CHECK(backend.maps == 3);
    for (int i = 0; i < 3; ++i) CHECK(backend.target_of(out[i].dma_addr) == segs[i].gpa);
  }
  SECTION("when the third segment is refused the first two are released") {
    backend.slot_limit = 2;
    const auto r = m.map_sg(segs, Direction::ToDevice, out);
    CHECK(r.error == MapError::Slots);
    CHECK(m.stats().live_requests == 0);
    CHECK(m.stats().live_mappings == 0);
    CHECK(backend.live.empty());
  }
  SECTION("an empty list is refused as invalid") {
    CHECK(m.map_sg({}, Direction::ToDevice, out).error == MapError::Invalid);
  }
}

TEST_CASE("release_all returns every host mapping to the backend", "[mapper]") {
  FakeBackend backend;
  Mapper m(backend, kDirect);
  for (std::uint64_t i = 0; i < 100; ++i) REQUIRE(m.map(i * 0x10000, 4 * K, Direction::ToDevice));
  CHECK(backend.live.size() == 100);
  m.release_all();
  CHECK(backend.live.empty());
  CHECK(backend.bad_unmaps == 0);
  CHECK(m.stats().live_mappings == 0);
  CHECK(m.stats().live_requests == 0);
  CHECK(m.map(0x0, 4 * K, Direction::ToDevice));  // usable again
}

TEST_CASE("a request served by a live window allocates nothing", "[mapper][alloc]") {
  FakeBackend backend;
  Mapper m(backend, kWindow256K);
  const auto first = m.map(0x40000, 4 * K, Direction::ToDevice);
  REQUIRE(first);
  std::vector<Mapping> held(64);
  dartlab::test::AllocationCount count;
  for (int round = 0; round < 100; ++round) {
    for (std::uint64_t i = 0; i < held.size(); ++i) held[i] = m.map(0x40000 + i * 4 * K, 4 * K, Direction::ToDevice).value;
    for (const auto& h : held) REQUIRE(m.unmap(h.token, 4 * K));
  }
  CHECK(count.count() == 0);
}

TEST_CASE("live counts return to zero after random map/unmap churn", "[mapper][property]") {
  const auto seed = GENERATE(1u, 7u, 99u);
  const auto window = GENERATE(16 * K, 256 * K, 1024 * K);
  FakeBackend backend;
  Mapper m(backend, Policy{PolicyKind::Window, window});
  std::mt19937_64 rng(seed);
  struct Held { Mapping mapping; std::uint64_t gpa, len; };
  std::vector<Held> held;
  for (int step = 0; step < 20000; ++step) {
    if (held.empty() || rng() % 2 == 0) {
      const std::uint64_t gpa = (rng() % (64 << 20)) & ~0xfffULL;
      const std::uint64_t len = (rng() % 4 == 0) ? (rng() % (512 * K)) + 1 : 4 * K;
      const auto r = m.map(gpa, len, Direction::ToDevice);
      REQUIRE(r);
      REQUIRE(backend.target_of(r.value.dma_addr) == gpa);
      REQUIRE(backend.target_of(r.value.dma_addr + len - 1) == gpa + len - 1);
      held.push_back({r.value, gpa, len});
    } else {
      const std::size_t i = rng() % held.size();
      REQUIRE(m.unmap(held[i].mapping.token, held[i].len));
      held[i] = held.back();
      held.pop_back();
    }
    REQUIRE(m.stats().live_mappings == backend.live.size());
  }
  for (const auto& h : held) REQUIRE(m.unmap(h.mapping.token, h.len));
  CHECK(m.stats().live_mappings == 0);
  CHECK(m.stats().mapped_bytes == 0);
  CHECK(m.stats().live_requests == 0);
  CHECK(m.stats().requested_bytes == 0);
  CHECK(backend.live.empty());
  CHECK(backend.bad_unmaps == 0);
  CHECK(m.stats().host_map_calls == m.stats().host_unmap_calls);
}

TEST_CASE("a host mapping answered shorter than asked is unmapped again and the request refused as truncated",
          "[mapper]") {
  FakeBackend backend;
  backend.chunk_bytes = 64 * K;
  Mapper m(backend, kWindow256K);
  const auto r = m.map(0x40000 + 0x1000, 4 * K, Direction::ToDevice);
  REQUIRE_FALSE(r);
  CHECK(r.error == MapError::Truncated);
  CHECK(backend.maps == 1);
  CHECK(backend.unmaps == 1);
  CHECK(backend.live.empty());
  CHECK(m.stats().host_map_calls == 1);
  CHECK(m.stats().host_unmap_calls == 1);
  CHECK(m.stats().failed_maps == 1);
  CHECK(m.stats().failures[static_cast<int>(MapError::Truncated)] == 1);
  CHECK(m.stats().live_mappings == 0);
  CHECK(m.stats().mapped_bytes == 0);
  CHECK(m.stats().peak_mappings == 0);
  // A mapping that fits the host's answer is served.
  Mapper direct(backend, kDirect);
  CHECK(direct.map(0x90000, 64 * K, Direction::ToDevice));
}

TEST_CASE("the mapper tells the host the bus range of the mapping it unmaps", "[mapper]") {
  FakeBackend backend;
  Mapper m(backend, kWindow256K);
  const auto a = m.map(0x40000 + 0x1000, 4 * K, Direction::ToDevice);
  const auto b = m.map(0x40000 + 0x9000, 4 * K, Direction::ToDevice);
  REQUIRE((a && b));
  REQUIRE(backend.live.size() == 1);
  const FakeBackend::Live host = backend.live.begin()->second;
  REQUIRE(m.unmap(a.value.token, 4 * K));
  CHECK(backend.hinted_unmaps == 0);  // b still holds the window
  REQUIRE(m.unmap(b.value.token, 4 * K));
  CHECK(backend.hinted_unmaps == 1);
  CHECK(backend.unmaps == 1);
  CHECK(backend.hint_bus_addr == host.bus_addr);
  CHECK(backend.hint_len_bytes == 256 * K);

  Mapper d(backend, kDirect);
  const auto c = d.map(0x123456, 100, Direction::ToDevice);  // rounded out to [0x120000, 0x124000)
  REQUIRE(c);
  REQUIRE(d.unmap(c.value.token, 100));
  CHECK(backend.hinted_unmaps == 2);
  CHECK(backend.hint_bus_addr + 0x3456 == c.value.dma_addr);
  CHECK(backend.hint_len_bytes == 16 * K);
  CHECK(backend.bad_unmaps == 0);
}
