// SPDX-License-Identifier: MIT
// The model of the guest's buddy page allocator the generators place requests with.
#include <catch2/catch.hpp>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "traces/gen/buddy_allocator.hpp"
#include "traces/gen/rng.hpp"

namespace {

using dartlab::trace::gen::BuddyAllocator;
using dartlab::trace::gen::kMaxPageOrder;
using dartlab::trace::gen::kPageOrders;
using dartlab::trace::gen::order_bytes;
using dartlab::trace::gen::Rng;

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;
constexpr std::uint64_t kBase = 0x4000'0000;  // 1 GiB aligned, so alignment shows in the gpa
constexpr std::uint32_t kBatch = 63;          // Linux's per-CPU batch
constexpr std::uint32_t kHigh = 378;

// Blocks handed out, checked for alignment, bounds and overlap as they come.
class Taken {
 public:
  Taken(std::uint64_t begin, std::uint64_t end) : begin_(begin), end_(end) {}

  // A block alloc(order) returned, or its refusal: only when no free block is that large.
  void add(const BuddyAllocator& buddy, std::optional<std::uint64_t> gpa, unsigned order) {
    if (!gpa) {
      for (unsigned larger = order; larger < kPageOrders; ++larger) {
        if (buddy.free_blocks(larger) > 0) note("refused although a block that large is free");
      }
      if (order == 0 && buddy.free_pages() > 0) note("refused a page although one is free");
      return;
    }
    const std::uint64_t bytes = order_bytes(order);
    if (*gpa % bytes != 0) note("not naturally aligned");
    if (*gpa < begin_ || *gpa + bytes > end_) note("outside guest RAM");
    const auto next = blocks_.lower_bound(*gpa);
    if (next != blocks_.end() && next->first < *gpa + bytes) note("overlaps the next block");
    if (next != blocks_.begin() && std::prev(next)->first + order_bytes(std::prev(next)->second) > *gpa) {
      note("overlaps the previous block");
    }
    blocks_.emplace(*gpa, order);
    pages_ += bytes / 4096;
  }
  // Frees a random block.
  void free_one(BuddyAllocator& buddy, Rng& rng) {
    auto it = std::next(blocks_.begin(), static_cast<std::ptrdiff_t>(rng.below(blocks_.size())));
    buddy.free(it->first, it->second);
    pages_ -= order_bytes(it->second) / 4096;
    blocks_.erase(it);
  }
  void free_all(BuddyAllocator& buddy) {
    for (const auto& [gpa, order] : blocks_) buddy.free(gpa, order);
    blocks_.clear();
    pages_ = 0;
  }
  std::size_t size() const { return blocks_.size(); }
  std::uint64_t pages() const { return pages_; }
  const std::string& problem() const { return problem_; }

 private:
  void note(const char* what) {
    if (problem_.empty()) problem_ = what;
  }
  std::uint64_t begin_;
  std::uint64_t end_;
  std::map<std::uint64_t, unsigned> blocks_;
  std::uint64_t pages_ = 0;
  std::string problem_;
};

// The free lists as sets of blocks, order by order: what the allocator would hand out.
std::vector<std::set<std::uint64_t>> free_blocks(const BuddyAllocator& buddy) {
  std::vector<std::set<std::uint64_t>> lists;
  for (unsigned order = 0; order < kPageOrders; ++order) {
    const auto list = buddy.free_list(order);
    lists.emplace_back(list.begin(), list.end());
  }
  return lists;
}

// Mixed orders, most of them small, as the generators ask.
unsigned random_order(Rng& rng) { return rng.below(4) == 0 ? rng.below(kPageOrders) : rng.below(3); }

}  // namespace

TEST_CASE("The buddy allocator hands out disjoint, naturally aligned blocks",
          "[traces][gen][buddy]") {
  const std::uint32_t batch = GENERATE(as<std::uint32_t>{}, 0, kBatch);
  Rng rng(GENERATE(1u, 2u, 3u));
  BuddyAllocator buddy(kBase, 256 * MiB, batch, kHigh);
  Taken taken(kBase, kBase + 256 * MiB);
  for (int i = 0; i < 20000; ++i) {
    // Allocations win until half of RAM is taken, then frees: RAM fills and fragments.
    if (taken.size() > 0 && (taken.pages() * 2 > buddy.total_pages() || rng.below(5) < 2)) {
      taken.free_one(buddy, rng);
    } else {
      const unsigned order = random_order(rng);
      taken.add(buddy, buddy.alloc(order), order);
    }
  }
  INFO("per-CPU batch " << batch);
  CHECK(taken.problem() == "");
  CHECK(buddy.free_pages() + taken.pages() == buddy.total_pages());
}

TEST_CASE("Everything freed merges back into the blocks guest RAM started with",
          "[traces][gen][buddy]") {
  const std::uint32_t batch = GENERATE(as<std::uint32_t>{}, 0, kBatch);
  // RAM that is not a whole number of 4 MiB blocks, nor 4 MiB aligned: smaller blocks at the
  // edges, as boot gives them.
  const std::uint64_t base = GENERATE(as<std::uint64_t>{}, kBase, kBase + 12 * KiB);
  const std::uint64_t ram = GENERATE(as<std::uint64_t>{}, 64 * MiB, 64 * MiB + 36 * KiB);
  Rng rng(4);
  BuddyAllocator buddy(base, ram, batch, kHigh);
  const auto at_boot = free_blocks(buddy);
  Taken taken(base, base + ram);
  for (int i = 0; i < 5000; ++i) {
    if (taken.size() > 0 && rng.below(3) == 0) {
      taken.free_one(buddy, rng);
    } else {
      const unsigned order = random_order(rng);
      taken.add(buddy, buddy.alloc(order), order);
    }
  }
  INFO("batch " << batch << " base " << base << " ram " << ram);
  REQUIRE(taken.problem() == "");
  taken.free_all(buddy);
  buddy.drain_pcp();
  CHECK(buddy.free_pages() == buddy.total_pages());
  CHECK(buddy.pcp_pages() == 0);
  CHECK(free_blocks(buddy) == at_boot);
  if (base == kBase && ram == 64 * MiB) {
    CHECK(buddy.free_blocks(kMaxPageOrder) == 64 * MiB / order_bytes(kMaxPageOrder));
  }
}

TEST_CASE("Recently freed pages come back first", "[traces][gen][buddy]") {
  SECTION("from the per-CPU list") {
    BuddyAllocator buddy(kBase, 64 * MiB, kBatch, kHigh);
    std::vector<std::uint64_t> pages;
    for (int i = 0; i < 10; ++i) pages.push_back(*buddy.alloc(0));
    buddy.free(pages[2], 0);
    buddy.free(pages[7], 0);
    buddy.free(pages[4], 0);
    CHECK(buddy.alloc(0) == pages[4]);
    CHECK(buddy.alloc(0) == pages[7]);
    CHECK(buddy.alloc(0) == pages[2]);
  }
  SECTION("from the buddy lists, when the buddies are in use") {
    BuddyAllocator buddy(kBase, 64 * MiB, 0, 0);
    std::vector<std::uint64_t> pages;
    for (int i = 0; i < 8; ++i) pages.push_back(*buddy.alloc(0));
    buddy.free(pages[0], 0);  // pages 1, 3 and 5, their buddies, stay in use
    buddy.free(pages[2], 0);
    buddy.free(pages[4], 0);
    CHECK(buddy.alloc(0) == pages[4]);
    CHECK(buddy.alloc(0) == pages[2]);
    CHECK(buddy.alloc(0) == pages[0]);
  }
  SECTION("a merged block") {
    BuddyAllocator buddy(kBase, 64 * MiB, 0, 0);
    const auto a = buddy.alloc(4);
    const auto b = buddy.alloc(4);
    const auto c = buddy.alloc(4);
    REQUIRE((a && b && c));
    buddy.free(*b, 4);
    CHECK(buddy.alloc(4) == b);
  }
}

TEST_CASE("A fresh block is handed out page by page in ascending order", "[traces][gen][buddy]") {
  const std::uint32_t batch = GENERATE(as<std::uint32_t>{}, 0, kBatch);
  BuddyAllocator buddy(kBase, 64 * MiB, batch, kHigh);
  const std::uint64_t first = *buddy.alloc(0);
  CHECK(first % order_bytes(kMaxPageOrder) == 0);
  for (std::uint64_t i = 1; i < 300; ++i) {
    INFO("page " << i << " batch " << batch);
    REQUIRE(buddy.alloc(0) == first + i * 4096);
  }
}

TEST_CASE("The per-CPU list holds at most pcp_high pages and moves them in batches",
          "[traces][gen][buddy]") {
  BuddyAllocator buddy(kBase, 64 * MiB, kBatch, kHigh);
  CHECK(buddy.pcp_pages() == 0);
  std::vector<std::uint64_t> pages;
  for (int i = 0; i < 1000; ++i) pages.push_back(*buddy.alloc(0));
  CHECK(buddy.pcp_pages() < kBatch);  // refilled a batch at a time
  for (std::uint64_t gpa : pages) {
    buddy.free(gpa, 0);
    REQUIRE(buddy.pcp_pages() < kHigh);
  }
  CHECK(buddy.pcp_pages() >= kHigh - kBatch);
  CHECK(buddy.free_pages() == buddy.total_pages());
}

TEST_CASE("The buddy allocator says so when it has no block", "[traces][gen][buddy]") {
  const std::uint32_t batch = GENERATE(as<std::uint32_t>{}, 0, kBatch);
  BuddyAllocator buddy(kBase, 8 * MiB, batch, kHigh);  // two 4 MiB blocks
  const auto a = buddy.alloc(kMaxPageOrder);
  const auto b = buddy.alloc(kMaxPageOrder);
  REQUIRE((a && b));
  CHECK(buddy.alloc(kMaxPageOrder) == std::nullopt);
  CHECK(buddy.alloc(0) == std::nullopt);
  CHECK(buddy.free_pages() == 0);

  buddy.free_range(*a, 4 * MiB - 64 * KiB);  // all but the last 64 KiB of one block
  CHECK(buddy.alloc(kMaxPageOrder) == std::nullopt);  // 4 MiB - 64 KiB free, not 4 MiB
  CHECK(buddy.alloc(kMaxPageOrder - 1).has_value());
  CHECK(buddy.alloc(0).has_value());

  SECTION("pages parked on the per-CPU list still serve a large block") {
    BuddyAllocator small(kBase, 4 * MiB, batch, kHigh);
    std::vector<std::uint64_t> pages;
    while (auto gpa = small.alloc(0)) pages.push_back(*gpa);
    CHECK(pages.size() == 1024);
    for (std::uint64_t gpa : pages) small.free(gpa, 0);
    CHECK(small.alloc(kMaxPageOrder) == kBase);
  }
}
