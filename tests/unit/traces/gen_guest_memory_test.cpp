// SPDX-License-Identifier: MIT
// The driver's allocations among the rest of the guest's (guest_memory.hpp).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <set>
#include <unordered_set>
#include <vector>

#include "traces/gen/generator.hpp"
#include "traces/gen/guest_memory.hpp"

namespace {

using dartlab::trace::Segment;
using dartlab::trace::gen::GenParams;
using dartlab::trace::gen::GuestMemory;

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;

GenParams small_guest() {
  GenParams params;
  params.guest_ram_bytes = 256 * MiB;
  return params;
}

}  // namespace

TEST_CASE("The driver's pages cluster among the guest's, rarely contiguous",
          "[traces][gen][memory]") {
  GenParams params = small_guest();
  params.seed = GENERATE(1u, 2u);
  params.other_per_alloc = GENERATE(1.0, 2.0, 3.0);
  GuestMemory memory(params, 4096);
  std::vector<std::uint64_t> pages;
  for (int i = 0; i < 4096; ++i) pages.push_back(*memory.alloc(0));
  std::set<std::uint64_t> windows;
  for (std::uint64_t gpa : pages) windows.insert(gpa / (256 * KiB));
  const std::unordered_set<std::uint64_t> page_set(pages.begin(), pages.end());
  std::uint64_t with_next_page = 0;
  for (std::uint64_t gpa : pages) with_next_page += page_set.count(gpa + 4 * KiB);
  // The pages and the guest's between them fill a region: about 64 / (1 + other_per_alloc)
  // of the driver's per 256 KiB window.
  const double per_window = static_cast<double>(pages.size()) / static_cast<double>(windows.size());
  INFO("other_per_alloc " << params.other_per_alloc << ": " << per_window << " pages per window, "
                          << with_next_page << " followed by a driver page");
  CHECK(per_window == Approx(64.0 / (1.0 + params.other_per_alloc)).epsilon(0.1));
  CHECK(with_next_page * 2 < pages.size());
  CHECK(memory.other_pages_live() == Approx(params.other_per_alloc * 4096).epsilon(0.1));
}

TEST_CASE("Without the rest of the guest the driver's pages are contiguous",
          "[traces][gen][memory]") {
  GenParams params = small_guest();
  params.other_per_alloc = 0;
  GuestMemory memory(params, 1000);
  const std::uint64_t first = *memory.alloc(0);
  for (std::uint64_t i = 1; i < 1000; ++i) REQUIRE(memory.alloc(0) == first + i * 4 * KiB);
  CHECK(memory.other_pages_live() == 0);
}

TEST_CASE("A page the driver frees is the next one it gets when the guest allocates none between",
          "[traces][gen][memory]") {
  GenParams params = small_guest();
  params.other_per_alloc = 0;
  GuestMemory memory(params, 100);
  std::vector<std::uint64_t> pages;
  for (int i = 0; i < 100; ++i) pages.push_back(*memory.alloc(0));
  memory.free(pages[40], 0);
  memory.free(pages[10], 0);
  CHECK(memory.alloc(0) == pages[10]);
  CHECK(memory.alloc(0) == pages[40]);
}

TEST_CASE("The guest gives its pages back when the driver needs the room", "[traces][gen][memory]") {
  GenParams params;
  params.guest_ram_bytes = 64 * MiB;
  params.other_per_alloc = 8;
  // The guest's working set may grow to half of RAM; the driver takes the rest and then more.
  GuestMemory memory(params, 1u << 20);
  std::uint64_t driver_bytes = 0;
  while (auto gpa = memory.alloc(4)) driver_bytes += 64 * KiB;
  INFO("driver " << driver_bytes << " bytes, guest " << memory.other_pages_live() << " pages");
  CHECK(driver_bytes > 48 * MiB);
  CHECK(memory.other_pages_live() * 4 * KiB + driver_bytes <= 64 * MiB);
  CHECK(memory.alloc(0) == std::nullopt);  // full, and the guest has nothing left to give
}

TEST_CASE("A scatter-gather buffer is made of chunks, contiguous ones merged",
          "[traces][gen][memory]") {
  GenParams params = small_guest();
  params.seed = GENERATE(1u, 2u, 3u);
  GuestMemory memory(params, 1024);
  std::vector<Segment> segments;
  REQUIRE(dartlab::trace::gen::alloc_sg_buffer(memory, 32 * MiB, 4, segments));
  std::uint64_t bytes = 0;
  std::vector<Segment> sorted = segments;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    bytes += segments[i].len_bytes;
    INFO("segment " << i);
    CHECK(segments[i].gpa % (64 * KiB) == 0);
    CHECK(segments[i].len_bytes % (64 * KiB) == 0);
    if (i > 0) CHECK(segments[i - 1].gpa + segments[i - 1].len_bytes != segments[i].gpa);
  }
  std::sort(sorted.begin(), sorted.end(), [](const Segment& a, const Segment& b) { return a.gpa < b.gpa; });
  for (std::size_t i = 1; i < sorted.size(); ++i) CHECK(sorted[i - 1].gpa + sorted[i - 1].len_bytes <= sorted[i].gpa);
  CHECK(bytes == 32 * MiB);
  CHECK(segments.size() < 32 * MiB / (64 * KiB) / 4);  // long runs: merging happened
  const std::uint64_t free_before = memory.buddy().free_pages();
  dartlab::trace::gen::free_segments(memory, segments);
  CHECK(memory.buddy().free_pages() == free_before + 32 * MiB / (4 * KiB));

  SECTION("or nothing at all when guest RAM runs out") {
    std::vector<Segment> too_big;
    CHECK_FALSE(dartlab::trace::gen::alloc_sg_buffer(memory, 512 * MiB, 4, too_big));
    CHECK(too_big.empty());
    CHECK(memory.buddy().free_pages() + memory.other_pages_live() == memory.buddy().total_pages());
  }
}
