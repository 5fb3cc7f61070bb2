// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "passthrough/mapper/request_table.hpp"
#include "support/fake_backend.hpp"

using namespace dartlab;
using namespace dartlab::mapper;
using dartlab::test::FakeBackend;

namespace {
const Policy kWindow256K{PolicyKind::Window, 256 * 1024};
}

TEST_CASE("a released request handle cannot release a shared window a second time", "[requests]") {
  FakeBackend backend;
  Mapper m(backend, kWindow256K);
  RequestTable t(m);
  const auto a = t.map(0x41000, 4096, Direction::ToDevice);
  const auto b = t.map(0x42000, 4096, Direction::ToDevice);
  REQUIRE((a && b));
  REQUIRE(t.unmap_handle(a.value.handle, 4096));
  CHECK(t.unmap_handle(a.value.handle, 4096).error == MapError::Invalid);  // b still holds the window
  CHECK(backend.live.size() == 1);
  CHECK(m.stats().live_requests == 1);
  REQUIRE(t.unmap_handle(b.value.handle, 4096));
  CHECK(backend.live.empty());
}

TEST_CASE("a release must name a live request of exactly its length", "[requests]") {
  FakeBackend backend;
  Mapper m(backend, kWindow256K);
  RequestTable t(m);
  const auto a = t.map(0x41000, 4096, Direction::ToDevice);
  REQUIRE(a);
  CHECK(t.unmap_handle(a.value.handle, 8192).error == MapError::Invalid);
  CHECK(t.unmap_handle(a.value.handle + 1, 4096).error == MapError::Invalid);
  CHECK(t.unmap_handle(0, 4096).error == MapError::Invalid);
  CHECK(t.unmap_handle(~0ULL, 4096).error == MapError::Invalid);
  CHECK(t.unmap_dma(a.value.dma_addr, 8192).error == MapError::Invalid);
  CHECK(t.unmap_dma(a.value.dma_addr + 4096, 4096).error == MapError::Invalid);
  CHECK(t.live() == 1);
  REQUIRE(t.unmap_dma(a.value.dma_addr, 4096));
  CHECK(t.live() == 0);
  CHECK(t.unmap_dma(a.value.dma_addr, 4096).error == MapError::Invalid);
}

TEST_CASE("identical requests each need their own release", "[requests]") {
  FakeBackend backend;
  Mapper m(backend, Policy{PolicyKind::Direct, 0});
  RequestTable t(m);
  std::vector<RequestMapping> same;
  for (int i = 0; i < 3; ++i) same.push_back(t.map(0x8000, 4096, Direction::ToDevice).value);
  CHECK(same[0].dma_addr == same[2].dma_addr);
  CHECK(same[0].handle != same[1].handle);
  REQUIRE(t.unmap_handle(same[1].handle, 4096));  // from the middle of the chain
  REQUIRE(t.unmap_dma(same[0].dma_addr, 4096));
  CHECK(backend.live.size() == 1);
  REQUIRE(t.unmap_dma(same[0].dma_addr, 4096));
  CHECK(backend.live.empty());
  CHECK(t.unmap_dma(same[0].dma_addr, 4096).error == MapError::Invalid);
}

TEST_CASE("request handles stay exact under random churn and reset", "[requests][property]") {
  const auto seed = GENERATE(3u, 4u, 5u);
  FakeBackend backend;
  Mapper m(backend, kWindow256K);
  RequestTable t(m);
  std::mt19937_64 rng(seed);
  struct Held { RequestMapping r; std::uint64_t len; };
  std::vector<Held> held, released;
  for (int step = 0; step < 5000; ++step) {
    if (held.empty() || rng() % 2 == 0) {
      const std::uint64_t len = 4096 * (1 + rng() % 4);
      const auto r = t.map((rng() % 4096) << 12, len, Direction::ToDevice);
      REQUIRE(r);
      held.push_back({r.value, len});
    } else {
      const std::size_t i = rng() % held.size();
      // By address only when no other held request has the same address and length: either of
      // two identical requests may be the one released, as with dma_unmap_page.
      std::size_t twins = 0;
      for (const Held& h : held) twins += h.r.dma_addr == held[i].r.dma_addr && h.len == held[i].len;
      if (twins > 1 || rng() % 2 == 0) {
        REQUIRE(t.unmap_handle(held[i].r.handle, held[i].len));
      } else {
        REQUIRE(t.unmap_dma(held[i].r.dma_addr, held[i].len));
      }
      released.push_back(held[i]);
      held[i] = held.back();
      held.pop_back();
    }
    if (!released.empty() && rng() % 8 == 0) {  // a replayed stale handle is always refused
      REQUIRE(t.unmap_handle(released[rng() % released.size()].r.handle, 4096).error == MapError::Invalid);
    }
    REQUIRE(t.live() == held.size());
    REQUIRE(m.stats().live_requests == held.size());
  }
  t.release_all();
  CHECK(t.live() == 0);
  CHECK(backend.live.empty());
  CHECK(backend.bad_unmaps == 0);
}
