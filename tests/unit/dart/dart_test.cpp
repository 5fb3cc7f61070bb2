// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <random>
#include <variant>
#include <vector>

#include "models/dart/dart.hpp"
#include "test_support.hpp"

using namespace dartlab::dart;
using dartlab::MapError;

using dartlab::dart::test::config_of;
using dartlab::dart::test::kPage;

TEST_CASE("Malformed map requests are refused as Invalid", "[dart]") {
  Dart dart(config_of(""));
  const auto invalid = [&](std::uint64_t pa, std::uint64_t len) {
    const DartMapResult r = dart.map(pa, len, Perms{});
    return !r.ok && r.error == MapError::Invalid;
  };
  CHECK(invalid(0x4000, 0));
  CHECK(invalid(0x4001, kPage));
  CHECK(invalid(0x4000, kPage + 1));
  CHECK(invalid(~std::uint64_t{0} - kPage + 1, 2 * kPage));      // wraps
  CHECK(invalid((std::uint64_t{1} << 42) - kPage, 2 * kPage));  // beyond the 42-bit PA space
  CHECK(dart.stats().failures[static_cast<unsigned>(MapError::Invalid)] == 5);
  CHECK(dart.stats().map_calls == 5);
  CHECK(dart.map((std::uint64_t{1} << 42) - kPage, kPage, Perms{}).ok);  // the last page is fine
}

TEST_CASE("A full slot table refuses the next mapping with Slots", "[dart]") {
  Dart dart(config_of("slots=4"));
  std::vector<std::uint64_t> handles;
  for (int i = 0; i < 4; ++i) {
    const auto r = dart.map(0x4000, kPage, Perms{});  // the same PA may be mapped many times
    REQUIRE(r.ok);
    handles.push_back(r.mapping.handle);
  }
  const auto fifth = dart.map(0x4000, kPage, Perms{});
  CHECK_FALSE(fifth.ok);
  CHECK(fifth.error == MapError::Slots);
  SECTION("Invalid is checked before Slots") {
    CHECK(dart.map(0x4000, 0, Perms{}).error == MapError::Invalid);
  }
  SECTION("an unmap frees a slot") {
    REQUIRE(dart.unmap(handles[2]));
    CHECK(dart.map(0x4000, kPage, Perms{}).ok);
  }
}

TEST_CASE("A request larger than the free bytes is refused with Aperture", "[dart]") {
  Dart dart(config_of("aperture=1M,slots=2"));
  CHECK(dart.map(0, (1u << 20) + kPage, Perms{}).error == MapError::Aperture);
  REQUIRE(dart.map(0, 60 * kPage, Perms{}).ok);
  CHECK(dart.map(0, 5 * kPage, Perms{}).error == MapError::Aperture);
  SECTION("Slots is checked before Aperture") {
    REQUIRE(dart.map(0, 4 * kPage, Perms{}).ok);
    CHECK(dart.map(0, 5 * kPage, Perms{}).error == MapError::Slots);
  }
}

TEST_CASE("Enough free bytes without a contiguous run is refused as Fragmented", "[dart]") {
  const char* spec = GENERATE("aperture=1M,alloc=first-fit", "aperture=1M,alloc=best-fit");
  CAPTURE(spec);
  Dart dart(config_of(spec));
  std::vector<DartMapping> maps;
  for (int i = 0; i < 64; ++i) {
    const auto r = dart.map(0x100000, kPage, Perms{});
    REQUIRE(r.ok);
    maps.push_back(r.mapping);
  }
  CHECK(dart.map(0x100000, kPage, Perms{}).error == MapError::Aperture);
  for (std::size_t i = 0; i < maps.size(); i += 2) REQUIRE(dart.unmap(maps[i].handle));
  const DartStats& s = dart.stats();
  CHECK(s.free_bytes == 32 * kPage);
  CHECK(s.largest_free_bytes == kPage);
  const auto r = dart.map(0x100000, 2 * kPage, Perms{});
  CHECK_FALSE(r.ok);
  CHECK(r.error == MapError::Fragmented);
  CHECK(s.failures[static_cast<unsigned>(MapError::Fragmented)] == 1);
  CHECK(dart.map(0x100000, kPage, Perms{}).ok);
}

TEST_CASE("With buddy, a request is Fragmented when free blocks are too small and Aperture when its block cannot fit at all",
          "[dart]") {
  // Pages 1..4 (base=16K): maximal blocks 1 (1 page), 2..3 (2 pages), 4 (1 page).
  Dart dart(config_of("aperture=64K,alloc=buddy"));
  CHECK(dart.stats().largest_free_bytes == 2 * kPage);
  // 3 pages take a 4-page block; 4 pages are free but no aligned block of 4 lies inside.
  CHECK(dart.map(0x100000, 3 * kPage, Perms{}).error == MapError::Fragmented);
  const auto two = dart.map(0x100000, 2 * kPage, Perms{});
  REQUIRE(two.ok);
  CHECK(two.mapping.bus_addr == 2 * kPage);
  // Pages 1 and 4 are free but no buddies: Fragmented for 2 pages; 3 pages would take 4: Aperture.
  CHECK(dart.map(0x100000, 2 * kPage, Perms{}).error == MapError::Fragmented);
  CHECK(dart.map(0x100000, 3 * kPage, Perms{}).error == MapError::Aperture);
  const auto one = dart.map(0x100000, kPage, Perms{});
  REQUIRE(one.ok);
  CHECK(one.mapping.bus_addr == kPage);
  CHECK(dart.stats().free_bytes == kPage);
  REQUIRE(dart.unmap(two.mapping.handle));
  REQUIRE(dart.unmap(one.mapping.handle));
  CHECK(dart.stats().free_bytes == 4 * kPage);
  CHECK(dart.stats().largest_free_bytes == 2 * kPage);
}

TEST_CASE("With linux, a request is Fragmented when free pages hold no size-aligned run, Aperture when too few are free",
          "[dart]") {
  // Pages 1..8 (base=16K): 8 pages free, but an 8-page run must start on a multiple of 8.
  Dart dart(config_of("aperture=128K,alloc=linux"));
  CHECK(dart.stats().largest_free_bytes == 4 * kPage);  // 5..8 pages would have to start at page 8
  CHECK(dart.map(0x100000, 8 * kPage, Perms{}).error == MapError::Fragmented);
  const auto four = dart.map(0x100000, 4 * kPage, Perms{});
  REQUIRE(four.ok);
  CHECK(four.mapping.bus_addr == 4 * kPage);  // the highest multiple of 4 pages that fits
  // Pages 1..3 and 8 are free.
  CHECK(dart.map(0x100000, 4 * kPage, Perms{}).error == MapError::Fragmented);
  CHECK(dart.map(0x100000, 5 * kPage, Perms{}).error == MapError::Aperture);
  const auto one = dart.map(0x100000, kPage, Perms{});
  REQUIRE(one.ok);
  CHECK(one.mapping.bus_addr == 3 * kPage);  // below the cached run at page 4, not the hole at 8
  const DartStats& s = dart.stats();
  CHECK(s.failures[static_cast<unsigned>(MapError::Fragmented)] == 2);
  CHECK(s.failures[static_cast<unsigned>(MapError::Aperture)] == 1);
}

TEST_CASE("alloc=linux places a 2 MiB mapping on a 2 MiB bus boundary at the top of the aperture, first-fit at its bottom",
          "[dart]") {
  Dart linux_dart(config_of("alloc=linux"));
  Dart first_fit(config_of("alloc=first-fit"));
  const auto l = linux_dart.map(0x200000, 2u << 20, Perms{});
  const auto f = first_fit.map(0x200000, 2u << 20, Perms{});
  REQUIRE((l.ok && f.ok));
  // The aperture ends at 16K + 1536M: the highest 2 MiB boundary with 2 MiB below the end.
  CHECK(l.mapping.bus_addr == 1534ull << 20);
  CHECK(f.mapping.bus_addr == kPage);
}

TEST_CASE("Mappings get page-aligned bus addresses in the aperture, starting above the null page", "[dart]") {
  Dart dart(config_of(""));
  const auto a = dart.map(0x8'0000'0000, 3 * kPage, Perms{});
  const auto b = dart.map(0x4000, kPage, Perms{});
  REQUIRE((a.ok && b.ok));
  CHECK(a.mapping.bus_addr == kPage);  // first-fit, base=16K
  CHECK(b.mapping.bus_addr == 4 * kPage);
  CHECK(a.mapping.handle != b.mapping.handle);
  CHECK(a.mapping.handle != 0);
}

TEST_CASE("Stats follow maps, unmaps and failures", "[dart]") {
  Dart dart(config_of("aperture=1M,slots=8"));
  DartStats s = dart.stats();
  CHECK(s.aperture_bytes == 1u << 20);
  CHECK(s.free_bytes == 1u << 20);
  CHECK(s.largest_free_bytes == 1u << 20);
  CHECK(s.slot_capacity == 8);
  CHECK(s.live_mappings == 0);
  CHECK(s.tables_live == 0);

  const auto a = dart.map(0x4000, 2 * kPage, Perms{});
  const auto b = dart.map(0x4000, 3 * kPage, Perms{});
  REQUIRE((a.ok && b.ok));
  s = dart.stats();
  CHECK(s.live_mappings == 2);
  CHECK(s.mapped_bytes == 5 * kPage);
  CHECK(s.free_bytes == (1u << 20) - 5 * kPage);
  CHECK(s.largest_free_bytes == (1u << 20) - 5 * kPage);
  CHECK(s.tables_live == 3);
  CHECK(s.map_calls == 2);

  REQUIRE(dart.unmap(a.mapping.handle));
  CHECK_FALSE(dart.unmap(a.mapping.handle));  // double unmap
  CHECK_FALSE(dart.unmap(0));
  CHECK_FALSE(dart.unmap(0x7'0000'0001));
  s = dart.stats();
  CHECK(s.unmap_calls == 4);
  CHECK(s.live_mappings == 1);
  CHECK(s.mapped_bytes == 3 * kPage);
  CHECK(s.free_bytes == (1u << 20) - 3 * kPage);
  CHECK(s.largest_free_bytes == (1u << 20) - 5 * kPage);  // the freed 2 pages sit apart

  CHECK(Dart(config_of("slots=unlimited")).stats().slot_capacity == 0);
}

TEST_CASE("The change count moves with every map served and unmap done, never with a refusal", "[dart]") {
  Dart dart(config_of("aperture=64K,slots=8"));  // four pages
  const std::uint64_t c0 = dart.stats().changes;  // counts from wherever construction left it
  const auto a = dart.map(0x4000, 3 * kPage, Perms{});
  REQUIRE(a.ok);
  CHECK(dart.stats().changes == c0 + 1);
  CHECK_FALSE(dart.map(0x4000, 2 * kPage, Perms{}).ok);  // one page left
  CHECK_FALSE(dart.map(0x4001, kPage, Perms{}).ok);      // invalid
  CHECK(dart.stats().changes == c0 + 1);
  CHECK(dart.stats().map_calls == 3);
  REQUIRE(dart.unmap(a.mapping.handle));
  CHECK_FALSE(dart.unmap(a.mapping.handle));
  CHECK(dart.stats().changes == c0 + 2);
  const auto b = dart.map(0x8000, kPage, Perms{});
  REQUIRE(b.ok);
  CHECK(dart.unmap(b.mapping.handle, DartRange{b.mapping.bus_addr, kPage}));  // the hinted unmap
  CHECK(dart.stats().changes == c0 + 4);
  // A reset moves it too, and does not zero it: a reader comparing it with a value it saw before
  // cannot mistake the reset for no change.
  dart.reset();
  CHECK(dart.stats().changes == c0 + 5);
  CHECK(dart.stats().map_calls == 0);
}

TEST_CASE("Reset releases every mapping, table and fault, and old handles stay dead", "[dart]") {
  Dart dart(config_of("aperture=1M"));
  const auto a = dart.map(0x4000, 10 * kPage, Perms{});
  REQUIRE(a.ok);
  REQUIRE_FALSE(dart.translate(0, Access::Read).ok);
  dart.reset();
  const DartStats& s = dart.stats();
  CHECK(s.live_mappings == 0);
  CHECK(s.mapped_bytes == 0);
  CHECK(s.tables_live == 0);
  CHECK(s.free_bytes == 1u << 20);
  CHECK(s.map_calls == 0);
  CHECK(s.faults_by_code[static_cast<unsigned>(FaultCode::NoTtbr)] == 0);
  CHECK_FALSE(dart.last_fault().valid);
  CHECK(dart.translate(a.mapping.bus_addr, Access::Read).fault.code == FaultCode::NoL1);
  const auto b = dart.map(0x4000, 1u << 20, Perms{});
  REQUIRE(b.ok);
  CHECK_FALSE(dart.unmap(a.mapping.handle));
  CHECK(dart.unmap(b.mapping.handle));
}

TEST_CASE("A 4 TiB aperture builds no tables until a map, and only those its mappings need", "[dart]") {
  Dart dart(config_of("aperture=4T,base=0"));
  CHECK(dart.stats().tables_live == 0);
  CHECK(dart.stats().free_bytes == std::uint64_t{1} << 42);
  const auto one = dart.map(0x4000, kPage, Perms{});
  REQUIRE(one.ok);
  CHECK(dart.stats().tables_live == 3);  // root, L2, one leaf
  const auto big = dart.map(0x100'0000, 1536u << 20, Perms{});
  REQUIRE(big.ok);
  // 1.5 GiB from bus 16K: 48 leaves of 32 MiB, plus the partly used one after them; same root and L2.
  CHECK(dart.stats().tables_live == 2 + 49);
  CHECK(dart.translate(big.mapping.bus_addr + (1536u << 20) - 1, Access::Write).pa == 0x100'0000 + (1536u << 20) - 1);
  REQUIRE(dart.unmap(big.mapping.handle));
  CHECK(dart.stats().tables_live == 3);
  REQUIRE(dart.unmap(one.mapping.handle));
  CHECK(dart.stats().tables_live == 0);
}

TEST_CASE("A Dart refuses a config that the spec parser would refuse", "[dart]") {
  DartConfig c;
  SECTION("an aperture beyond the input space is refused") {
    c.variant = kDartT8020;
    c.aperture_bytes = std::uint64_t{1} << 32;
  }
  SECTION("zero slots are refused") { c.slots = 0; }
  SECTION("an aperture that is not whole pages is refused") { c.aperture_bytes = 3 * 4096; }
  SECTION("a page size that is not a power of two is refused") { c.page_bytes = 12288; c.aperture_bytes = 12288 * 4; c.base_bus_addr = 0; }
  CHECK_THROWS_AS(Dart(c), std::invalid_argument);
}

namespace {
void check_same_stats(const DartStats& a, const DartStats& b) {
  CHECK(a.live_mappings == b.live_mappings);
  CHECK(a.mapped_bytes == b.mapped_bytes);
  CHECK(a.peak_mapped_bytes == b.peak_mapped_bytes);
  CHECK(a.free_bytes == b.free_bytes);
  CHECK(a.largest_free_bytes == b.largest_free_bytes);
  CHECK(a.tables_live == b.tables_live);
  CHECK(a.map_calls == b.map_calls);
  CHECK(a.unmap_calls == b.unmap_calls);
  CHECK(a.failures == b.failures);
  CHECK(a.changes == b.changes);
}
}  // namespace

TEST_CASE("An unmap told a range answers and changes the DART exactly as the plain unmap, right range or wrong",
          "[dart]") {
  const std::string alloc = GENERATE(as<std::string>{}, "first-fit", "best-fit", "buddy", "linux");
  const int which = GENERATE(range(0, 8));
  INFO("alloc=" << alloc << ", hint " << which);
  Dart plain(config_of("aperture=1M,slots=8,alloc=" + alloc));
  Dart hinted(config_of("aperture=1M,slots=8,alloc=" + alloc));
  DartMapResult a{};
  for (Dart* d : {&plain, &hinted}) {
    REQUIRE(d->map(0x4000, 2 * kPage, Perms{}).ok);
    a = d->map(0x40000, 3 * kPage, Perms{});
    REQUIRE(a.ok);
    REQUIRE(d->map(0x80000, kPage, Perms{}).ok);
  }
  const std::uint64_t bus = a.mapping.bus_addr;
  const DartRange hints[] = {
      {bus, 3 * kPage},              // right
      {bus + 0x123, 3 * kPage},      // inside the first page: still right
      {bus + kPage, 3 * kPage},      // wrong first page
      {bus, 2 * kPage},              // too short
      {bus, 4 * kPage},              // too long
      {bus - kPage, 3 * kPage},      // the mapping below
      {0, 0},                        // nothing
      {~std::uint64_t{0}, ~std::uint64_t{0}},
  };
  const DartRange hint = hints[which];
  for (const std::uint64_t handle : {a.mapping.handle, a.mapping.handle /* again: stale */, std::uint64_t{0},
                                     a.mapping.handle + (std::uint64_t{5} << 32)}) {
    CHECK(hinted.unmap(handle, hint) == plain.unmap(handle));
    check_same_stats(hinted.stats(), plain.stats());
  }
  CHECK_FALSE(hinted.translate(bus, Access::Read).ok);
  CHECK_FALSE(plain.translate(bus, Access::Read).ok);
  CHECK(hinted.translate(bus - kPage, Access::Read).ok == plain.translate(bus - kPage, Access::Read).ok);
  // What comes next sees the same aperture and slots.
  const DartMapResult next_plain = plain.map(0x100000, 2 * kPage, Perms{});
  const DartMapResult next_hinted = hinted.map(0x100000, 2 * kPage, Perms{});
  REQUIRE(next_plain.ok == next_hinted.ok);
  CHECK(next_plain.mapping.handle == next_hinted.mapping.handle);
  CHECK(next_plain.mapping.bus_addr == next_hinted.mapping.bus_addr);
  check_same_stats(hinted.stats(), plain.stats());
}

TEST_CASE("A DART that remembers its refusals answers as one that asks the allocator every time", "[dart]") {
  // Map refuses a request at least as large as one refused since pages were last freed without
  // asking the allocator (aperture.hpp's contract). Held to a DART that forgets before every map,
  // over a random churn that keeps a small aperture near full, for every allocator.
  const std::string alloc = GENERATE(as<std::string>{}, "first-fit", "best-fit", "buddy", "linux");
  INFO("alloc=" << alloc);
  const std::string spec = "aperture=4M,slots=200,alloc=" + alloc;  // 256 pages
  Dart remembers(config_of(spec));
  Dart asks(config_of(spec));
  std::mt19937_64 next(20261208);  // fully specified by the standard: the same sequence everywhere
  std::vector<std::uint64_t> live;
  std::uint64_t refusals = 0;
  std::uint64_t refused_in_a_row = 0;  // refusals right after a refusal, nothing freed between
  std::uint64_t served_after = 0;  // smaller requests served right after a refusal
  bool last_refused = false;
  int burst = 0;  // maps still to come before any unmap: a refusal is followed by a few
  for (int step = 0; step < 6000; ++step) {
    if (live.empty() || burst > 0 || next() % 100 < 55) {
      const bool in_burst = burst > 0;
      if (in_burst) --burst;
      // Mostly small, now and then large: a large refusal, then smaller requests that fit.
      const std::uint64_t pages = next() % 8 == 0 ? 1 + next() % 96 : 1 + next() % 6;
      const std::uint64_t pa = (next() % 4096) * kPage;
      asks.forget_refusals();
      const DartMapResult got = remembers.map(pa, pages * kPage, Perms{});
      const DartMapResult want = asks.map(pa, pages * kPage, Perms{});
      REQUIRE(got.ok == want.ok);
      if (got.ok) {
        REQUIRE(got.mapping.handle == want.mapping.handle);
        REQUIRE(got.mapping.bus_addr == want.mapping.bus_addr);
        live.push_back(got.mapping.handle);
        if (last_refused) ++served_after;
      } else {
        REQUIRE(got.error == want.error);
        ++refusals;
        if (last_refused) ++refused_in_a_row;
        if (!in_burst) burst = 3;
      }
      last_refused = !got.ok;
    } else {
      const std::size_t i = next() % live.size();
      REQUIRE(remembers.unmap(live[i]) == asks.unmap(live[i]));
      live[i] = live.back();
      live.pop_back();
      last_refused = false;
    }
  }
  check_same_stats(remembers.stats(), asks.stats());
  CHECK(refusals > 1000);  // the aperture stayed near full
  INFO(refusals << " refusals, " << refused_in_a_row << " right after another");
  CHECK(refused_in_a_row > 500);  // and refusals came in runs, which the memory answers
  CHECK(served_after > 200);      // and smaller requests still got through it
}
