// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <utility>
#include <vector>

#include "models/dart/dart_variant.hpp"
#include "models/dart/page_table.hpp"
#include "models/dart/pte.hpp"

namespace pte = dartlab::dart::pte;
using dartlab::dart::FaultCode;
using dartlab::dart::PageTable;
using dartlab::dart::Perms;

TEST_CASE("A leaf in the model's (t8110) layout holds PA >> 4 in bits 37:10, flags in bits 0, 2, 3 and a whole-page sub-page range", "[pte]") {
  CHECK(pte::encode_leaf(0x8'0000'4000, Perms{true, true}) == 0x000F'FF00'8000'0401);
  CHECK(pte::encode_leaf(0x8'0000'4000, Perms{true, false}) == 0x000F'FF00'8000'0405);  // no-write
  CHECK(pte::encode_leaf(0x8'0000'4000, Perms{false, true}) == 0x000F'FF00'8000'0409);  // no-read
  CHECK(pte::encode_leaf(0x4000, Perms{}) == 0x000F'FF00'0000'0401);                  // PA bit 14 -> bit 10
  CHECK(pte::encode_leaf(std::uint64_t{1} << 41, Perms{}) ==
        0x000F'FF00'0000'0001 + (std::uint64_t{1} << 37));  // PA bit 41 -> bit 37

  const std::uint64_t e = pte::encode_leaf(0x3'dead'c000, Perms{false, true});
  CHECK(pte::decode_pa(e) == 0x3'dead'c000);
  CHECK(pte::is_valid(e));
  CHECK_FALSE(pte::decode_perms(e).device_read);
  CHECK(pte::decode_perms(e).device_write);
  CHECK(pte::subpage_start(e) == 0x000);
  CHECK(pte::subpage_end(e) == 0xfff);
}

TEST_CASE("A table entry holds the next table's PA as a leaf holds its page, with only the valid bit", "[pte]") {
  CHECK(pte::encode_table(0x10'0000'0000) == 0x1'0000'0001);
  CHECK(pte::encode_table(0x10'0000'4000) == 0x1'0000'0401);
  CHECK(pte::decode_pa(pte::encode_table(0x10'0123'4000)) == 0x10'0123'4000);
}

TEST_CASE("A t8020 leaf holds its PA in place in bits 35:12, no-read in bit 8, no-write in bit 7 and sub-page protection off", "[pte]") {
  const pte::PteFormat& f = pte::kDart1;
  CHECK(pte::encode_leaf(f, 0x8'0000'4000, Perms{true, true}) == 0x000F'FF08'0000'4003);
  CHECK(pte::encode_leaf(f, 0x8'0000'4000, Perms{true, false}) == 0x000F'FF08'0000'4083);  // no-write
  CHECK(pte::encode_leaf(f, 0x8'0000'4000, Perms{false, true}) == 0x000F'FF08'0000'4103);  // no-read
  CHECK(pte::encode_table(f, 0x4000) == 0x4001);
  CHECK(f.pa_limit() == std::uint64_t{1} << 36);
  const std::uint64_t e = pte::encode_leaf(f, 0xdead'c000, Perms{false, true});
  CHECK(pte::decode_pa(f, e) == 0xdead'c000);
  CHECK_FALSE(pte::decode_perms(f, e).device_read);
  CHECK(pte::decode_perms(f, e).device_write);
  CHECK(pte::subpage_end(e) == 0xfff);
}

TEST_CASE("Each variant names the PTE layout Linux gives it: APPLE_DART for t8020, APPLE_DART2 for t8110", "[pte]") {
  CHECK(dartlab::dart::kDartT8020.pte_format->name == "APPLE_DART");
  CHECK(dartlab::dart::kDartT8110.pte_format->name == "APPLE_DART2");
  CHECK(*dartlab::dart::kDartT8110.pte_format == pte::kModel);  // the layout the model writes
  CHECK(pte::kDart2.pa_limit() == pte::kPaLimit);
}

TEST_CASE("The walk has as many levels as the input space needs", "[page_table]") {
  SECTION("t8020 (32 bits, 16 KiB pages) walks an L1 of 128 entries, then the leaf") {
    PageTable t(16384, 32);
    CHECK(t.levels() == 2);
    CHECK(t.entries_per_table() == 2048);
    CHECK(t.entries_used(1) == 128);
    CHECK(t.entries_used(2) == 2048);
    const std::uint64_t bus = (std::uint64_t{5} << 25) + (std::uint64_t{7} << 14) + 0x123;
    CHECK(t.index_at(bus, 1) == 5);  // one leaf table maps 32 MiB
    CHECK(t.index_at(bus, 2) == 7);
  }
  SECTION("t8110 (42 bits, 16 KiB pages) walks one level more") {
    PageTable t(16384, 42);
    CHECK(t.levels() == 3);
    CHECK(t.entries_used(1) == 64);
    const std::uint64_t bus = (std::uint64_t{3} << 36) + (std::uint64_t{9} << 25) + (std::uint64_t{11} << 14);
    CHECK(t.index_at(bus, 1) == 3);
    CHECK(t.index_at(bus, 2) == 9);
    CHECK(t.index_at(bus, 3) == 11);
  }
  SECTION("4 KiB and 64 KiB pages walk as many levels as 42 or 32 bits need") {
    CHECK(PageTable(4096, 42).levels() == 4);   // 12 + 3 * 9 = 39 < 42
    CHECK(PageTable(65536, 42).levels() == 2);  // 16 + 13 = 29 < 42 <= 16 + 26
    CHECK(PageTable(65536, 32).entries_used(1) == 8);
  }
  SECTION("page sizes outside 4 KiB..64 KiB are refused") {
    CHECK_THROWS_AS(PageTable(2048, 42), std::invalid_argument);
    CHECK_THROWS_AS(PageTable(131072, 42), std::invalid_argument);
    CHECK_THROWS_AS(PageTable(12288, 42), std::invalid_argument);
  }
}

TEST_CASE("Tables are built only for mapped addresses and freed when their last entry goes", "[page_table]") {
  SECTION("42 bits: one page at the top of the input space needs exactly three tables") {
    PageTable t(16384, 42);
    CHECK(t.tables_live() == 0);
    const std::uint64_t top = (std::uint64_t{1} << 42) - 16384;
    t.map_range(top, 0x8'0000'0000, 1, Perms{});
    CHECK(t.tables_live() == 3);
    const auto w = t.walk(top);
    REQUIRE(w.ok);
    CHECK(pte::decode_pa(w.pte) == 0x8'0000'0000);
    // A second page 32 MiB lower shares the top two tables and adds one leaf.
    t.map_range(top - (32u << 20), 0x8'0000'4000, 1, Perms{});
    CHECK(t.tables_live() == 4);
    t.unmap_range(top, 1);
    CHECK(t.tables_live() == 3);
    t.unmap_range(top - (32u << 20), 1);
    CHECK(t.tables_live() == 0);
    CHECK(t.read_entry(t.table_root_pa(), 63) == 0);
  }
  SECTION("32 bits build two tables for one page and free them at its unmap") {
    PageTable t(16384, 32);
    t.map_range(0xffff'c000, 0x4000, 1, Perms{});
    CHECK(t.tables_live() == 2);
    t.unmap_range(0xffff'c000, 1);
    CHECK(t.tables_live() == 0);
  }
  SECTION("a range across a leaf-table boundary builds two leaves and frees each as its part is unmapped") {
    PageTable t(16384, 42);
    const std::uint64_t bus = (32u << 20) - 2 * 16384;  // the last two pages of the first leaf table
    t.map_range(bus, 0x100'0000, 4, Perms{});
    CHECK(t.tables_live() == 4);  // root, one L2, two leaves
    t.unmap_range(bus, 2);
    CHECK(t.tables_live() == 3);
    CHECK(t.walk(bus + 2 * 16384).ok);
    t.unmap_range(bus + 2 * 16384, 2);
    CHECK(t.tables_live() == 0);
  }
  SECTION("after map/unmap churn only the tables of live pages remain") {
    PageTable t(16384, 42);
    t.map_range(0, 0x4000, 1, Perms{});
    for (int i = 0; i < 1000; ++i) {
      const std::uint64_t bus = (std::uint64_t{1} + static_cast<std::uint64_t>(i % 50)) << 36;
      t.map_range(bus, 0x8000, 3, Perms{});
      REQUIRE(t.tables_live() == 5);  // its own L2 and leaf
      t.unmap_range(bus, 3);
    }
    CHECK(t.tables_live() == 3);
  }
}

TEST_CASE("A walk reports the level whose entry is invalid", "[page_table]") {
  PageTable t(16384, 42);
  SECTION("with no table at all the walk faults at the top level") {
    const auto w = t.walk(0x4000);
    REQUIRE_FALSE(w.ok);
    CHECK(w.fault.code == FaultCode::NoL1);
    CHECK(w.fault.level == 1);
  }
  SECTION("with one page mapped the walk faults at the level where the path ends") {
    t.map_range(0x4000, 0x8'0000'4000, 1, Perms{});
    auto w = t.walk(0x8000);  // same leaf table
    CHECK(w.fault.code == FaultCode::NoPte);
    CHECK(w.fault.level == 3);
    w = t.walk(std::uint64_t{32} << 20);  // same L2, another leaf
    CHECK(w.fault.code == FaultCode::NoL1);
    CHECK(w.fault.level == 2);
    w = t.walk(std::uint64_t{1} << 36);  // another top-level entry
    CHECK(w.fault.code == FaultCode::NoL1);
    CHECK(w.fault.level == 1);
    w = t.walk(std::uint64_t{1} << 42);  // beyond the input space
    CHECK(w.fault.code == FaultCode::NoTtbr);
    CHECK(w.fault.level == 0);
    CHECK(w.fault.bus_addr == std::uint64_t{1} << 42);
  }
}

TEST_CASE("Reading table memory entry by entry from the root finds the PTE the walk finds", "[page_table]") {
  PageTable t(16384, 42, 0x20'0000'0000);
  const std::uint64_t bus = (std::uint64_t{2} << 36) + (std::uint64_t{3} << 25) + (std::uint64_t{4} << 14);
  t.map_range(bus, 0x1'2345'8000, 1, Perms{true, false});
  CHECK(t.table_root_pa() == 0x20'0000'0000);
  std::uint64_t table_pa = t.table_root_pa();
  std::uint64_t entry = 0;
  for (unsigned level = 1; level <= t.levels(); ++level) {
    entry = t.read_entry(table_pa, static_cast<unsigned>(t.index_at(bus, level)));
    REQUIRE(pte::is_valid(entry));
    table_pa = pte::decode_pa(entry);
    if (level < t.levels()) {
      CHECK(table_pa >= 0x20'0000'0000);
      CHECK(table_pa % 16384 == 0);
    }
  }
  CHECK(entry == t.walk(bus).pte);
  CHECK(entry == pte::encode_leaf(0x1'2345'8000, Perms{true, false}));
}

// The page table remembers the leaf each 32 MiB range last used, in a direct-mapped set of hints;
// ranges 8 GiB apart share a hint. Random maps and unmaps over such ranges, leaves emptied and
// rebuilt in between, must walk as a plain map of pages says, and keep only the tables it needs.
TEST_CASE("Leaf hints never outlive their leaf: random churn over ranges that share hints walks as a model says", "[page_table]") {
  PageTable t(16384, 42);
  constexpr std::uint64_t kPage = 16384;
  constexpr std::uint64_t kLeaf = 32u << 20;
  // Six leaf ranges: three pairs whose hints collide (8 GiB apart), two pairs of neighbours.
  const std::uint64_t bases[] = {0, std::uint64_t{8} << 30, kLeaf, (std::uint64_t{8} << 30) + kLeaf,
                                 std::uint64_t{1} << 36, (std::uint64_t{1} << 36) + (std::uint64_t{8} << 30)};
  std::map<std::uint64_t, std::uint64_t> model;  // bus page -> pa
  std::vector<std::pair<std::uint64_t, std::uint64_t>> live;  // mapped ranges: bus, pages
  std::mt19937_64 rng(7);
  std::uint64_t next_pa = 0x1'0000'0000;
  for (int step = 0; step < 4000; ++step) {
    if (!live.empty() && (rng() % 2 == 0 || live.size() > 40)) {
      const std::size_t k = rng() % live.size();
      const auto [bus, pages] = live[k];
      t.unmap_range(bus, pages);
      for (std::uint64_t p = 0; p < pages; ++p) model.erase(bus + p * kPage);
      live[k] = live.back();
      live.pop_back();
    } else {
      // A range of 1..8 pages near the end of a leaf range, so some cross into the next leaf.
      const std::uint64_t pages = 1 + rng() % 8;
      const std::uint64_t bus = bases[rng() % std::size(bases)] + kLeaf - (1 + rng() % 16) * kPage;
      bool free = true;
      for (std::uint64_t p = 0; p < pages; ++p) free = free && !model.contains(bus + p * kPage);
      if (!free) continue;
      t.map_range(bus, next_pa, pages, Perms{});
      for (std::uint64_t p = 0; p < pages; ++p) model[bus + p * kPage] = next_pa + p * kPage;
      next_pa += pages * kPage;
      live.emplace_back(bus, pages);
    }
    if (step % 97 == 0 || live.empty()) {
      for (const std::uint64_t base : bases)
        for (std::uint64_t bus = base + kLeaf - 16 * kPage; bus < base + kLeaf + 8 * kPage; bus += kPage) {
          const auto w = t.walk(bus);
          const auto it = model.find(bus);
          REQUIRE(w.ok == (it != model.end()));
          if (w.ok) REQUIRE(pte::decode_pa(w.pte) == it->second);
        }
    }
  }
  for (const auto& [bus, pages] : live) t.unmap_range(bus, pages);
  CHECK(t.tables_live() == 0);
}
