// SPDX-License-Identifier: MIT
// A model of the Linux guest's page allocator (mm/page_alloc.c), the source of every
// guest-physical address a generator hands the driver.
//
// What it keeps of Linux, because it shapes where a driver's pages land:
// - Blocks of 2^order pages, orders 0 .. kMaxPageOrder, naturally aligned by page frame number.
//   kMaxPageOrder is 10 (4 MiB): Linux's MAX_PAGE_ORDER (include/linux/mmzone.h; arm64 with
//   4 KiB pages defaults ARCH_FORCE_MAX_ORDER to 10 as well). Before Linux 6.4 the same limit
//   was spelt MAX_ORDER 11, exclusive.
// - One free list per order. An allocation takes the head of the smallest non-empty list at or
//   above its order and splits it, the upper halves going back to the heads of the lists below
//   (__rmqueue_smallest, expand): so a run of allocations from one block comes out in ascending
//   address order.
// - A freed block merges with its buddy while the buddy is free, then goes to the head of its
//   list (LIFO: recently freed memory comes back first), or to the tail when its own buddy's
//   parent is free, so that it may merge soon (buddy_merge_likely, __free_one_page).
// - A per-CPU list for order 0 (one CPU, struct per_cpu_pages): frees go to its head, and once
//   it holds pcp_high pages the pcp_batch oldest go back to the buddy lists; allocations take
//   its head and, when it is empty, refill it with pcp_batch pages taken one by one from the
//   buddy lists (rmqueue_bulk), so they too come out in ascending order. pcp_batch 0 turns it
//   off.
// Left out: zones, migrate types and pageblocks, watermarks, compaction, reclaim (the caller
// frees instead), page shuffling, higher orders on the per-CPU lists (Linux 5.14 on).
//
// Boot hands RAM to the free lists in ascending address order, each block at the head of its
// list, as memblock_free_all does; so a fresh guest allocates from the top of RAM down.
//
// Memory: 9 bytes per 4 KiB page (list links and the order of free blocks), 36 MiB for 16 GiB,
// plus the per-CPU list; nothing is allocated after construction.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace dartlab::trace::gen {

inline constexpr std::uint64_t kGuestPageBytes = 4096;  // arm64 Linux guest with 4 KiB pages
inline constexpr unsigned kMaxPageOrder = 10;           // Linux MAX_PAGE_ORDER: 4 MiB blocks
inline constexpr unsigned kPageOrders = kMaxPageOrder + 1;

constexpr std::uint64_t order_bytes(unsigned order) { return kGuestPageBytes << order; }

class BuddyAllocator {
 public:
  // ram_base 4 KiB aligned; ram_bytes is rounded down to whole pages, at most 2^32 pages.
  // pcp_batch 0: no per-CPU list; else pcp_high >= pcp_batch.
  BuddyAllocator(std::uint64_t ram_base, std::uint64_t ram_bytes, std::uint32_t pcp_batch,
                 std::uint32_t pcp_high);

  // A free block of 2^order pages (order <= kMaxPageOrder), naturally aligned: its gpa, or
  // nothing when no block that large is free even after the per-CPU list is drained.
  std::optional<std::uint64_t> alloc(unsigned order);
  // Gives back a block alloc(order) returned, or any naturally aligned part of one.
  void free(std::uint64_t gpa, unsigned order);
  // Gives back [gpa, gpa + bytes), page aligned, as the largest naturally aligned blocks.
  void free_range(std::uint64_t gpa, std::uint64_t bytes);
  // Returns every page of the per-CPU list to the buddy lists (drain_all_pages).
  void drain_pcp();

  std::uint64_t total_pages() const { return page_count_; }
  std::uint64_t free_pages() const { return buddy_free_pages_ + pcp_count_; }
  std::uint64_t pcp_pages() const { return pcp_count_; }
  std::uint64_t free_blocks(unsigned order) const { return list_length_[order]; }
  // The free blocks of one order, head first (the order alloc takes them in). For tests.
  std::vector<std::uint64_t> free_list(unsigned order) const;

 private:
  struct Link {
    std::uint32_t prev;
    std::uint32_t next;
  };

  std::uint32_t page_of(std::uint64_t gpa) const {
    return static_cast<std::uint32_t>((gpa - ram_base_) / kGuestPageBytes);
  }
  std::uint64_t gpa_of(std::uint32_t page) const {
    return ram_base_ + std::uint64_t{page} * kGuestPageBytes;
  }
  std::uint32_t sentinel(unsigned order) const { return page_count_ + order; }
  void push(std::uint32_t page, unsigned order, bool to_tail);
  void unlink(std::uint32_t page, unsigned order);
  std::optional<std::uint32_t> take(unsigned order);  // __rmqueue_smallest
  void give(std::uint32_t page, unsigned order);      // __free_one_page
  bool is_free_head(std::uint64_t pfn, unsigned order) const;
  void pcp_push_front(std::uint32_t page);
  void pcp_refill();
  void pcp_free_oldest(std::uint32_t pages);

  std::uint64_t ram_base_;
  std::uint64_t first_pfn_;  // page frame numbers: alignment is absolute, as in Linux
  std::uint32_t page_count_;
  std::uint32_t pcp_batch_;
  std::uint32_t pcp_high_;
  std::uint64_t buddy_free_pages_ = 0;
  // Per page: order + 1 when the page heads a free block of that order, else 0 (PageBuddy).
  std::vector<std::uint8_t> free_order_;
  // Per page, then one sentinel per order: circular doubly linked free lists. Only the links
  // of free block heads and sentinels are meaningful; the rest are never read.
  std::unique_ptr<Link[]> links_;
  std::array<std::uint64_t, kPageOrders> list_length_{};
  // The per-CPU list as a ring: index pcp_head_ is the head (next to allocate), the entry
  // pcp_count_ - 1 after it the tail (oldest).
  std::vector<std::uint32_t> pcp_;
  std::uint32_t pcp_mask_ = 0;
  std::uint32_t pcp_head_ = 0;
  std::uint32_t pcp_count_ = 0;
};

}  // namespace dartlab::trace::gen
