// SPDX-License-Identifier: MIT
#include "traces/gen/buddy_allocator.hpp"

#include <algorithm>
#include <bit>

namespace dartlab::trace::gen {

BuddyAllocator::BuddyAllocator(std::uint64_t ram_base, std::uint64_t ram_bytes,
                               std::uint32_t pcp_batch, std::uint32_t pcp_high)
    : ram_base_(ram_base),
      first_pfn_(ram_base / kGuestPageBytes),
      page_count_(static_cast<std::uint32_t>(ram_bytes / kGuestPageBytes)),
      pcp_batch_(pcp_batch),
      pcp_high_(pcp_high),
      free_order_(page_count_, 0),
      // Left uninitialised: a link is written before it is read, so untouched pages of the
      // table cost no memory.
      links_(new Link[std::size_t{page_count_} + kPageOrders]) {
  for (unsigned order = 0; order < kPageOrders; ++order) {
    links_[sentinel(order)] = Link{sentinel(order), sentinel(order)};
  }
  if (pcp_batch_ > 0) {
    // Room for a full list plus one batch, rounded up so that the ring indexes by mask.
    pcp_.resize(std::bit_ceil(std::uint64_t{pcp_high_} + pcp_batch_ + 1));
    pcp_mask_ = static_cast<std::uint32_t>(pcp_.size() - 1);
  }
  // Boot: the largest aligned block that fits at each place, lowest address first, each to the
  // head of its list.
  const std::uint64_t end_pfn = first_pfn_ + page_count_;
  for (std::uint64_t pfn = first_pfn_; pfn < end_pfn;) {
    unsigned order = std::min<unsigned>(kMaxPageOrder, static_cast<unsigned>(std::countr_zero(pfn)));
    while (pfn + (std::uint64_t{1} << order) > end_pfn) --order;
    push(static_cast<std::uint32_t>(pfn - first_pfn_), order, false);
    buddy_free_pages_ += std::uint64_t{1} << order;
    pfn += std::uint64_t{1} << order;
  }
}

void BuddyAllocator::push(std::uint32_t page, unsigned order, bool to_tail) {
  const std::uint32_t s = sentinel(order);
  const std::uint32_t prev = to_tail ? links_[s].prev : s;
  const std::uint32_t next = links_[prev].next;
  links_[page] = Link{prev, next};
  links_[prev].next = page;
  links_[next].prev = page;
  free_order_[page] = static_cast<std::uint8_t>(order + 1);
  ++list_length_[order];
}

void BuddyAllocator::unlink(std::uint32_t page, unsigned order) {
  const Link link = links_[page];
  links_[link.prev].next = link.next;
  links_[link.next].prev = link.prev;
  free_order_[page] = 0;
  --list_length_[order];
}

bool BuddyAllocator::is_free_head(std::uint64_t pfn, unsigned order) const {
  if (pfn < first_pfn_ || pfn + (std::uint64_t{1} << order) > first_pfn_ + page_count_) {
    return false;
  }
  return free_order_[pfn - first_pfn_] == order + 1;
}

std::optional<std::uint32_t> BuddyAllocator::take(unsigned order) {
  for (unsigned found = order; found < kPageOrders; ++found) {
    if (list_length_[found] == 0) continue;
    const std::uint32_t page = links_[sentinel(found)].next;
    unlink(page, found);
    // The lower half is kept, each upper half goes to the head of its list.
    for (unsigned split = found; split > order; --split) {
      push(page + (std::uint32_t{1} << (split - 1)), split - 1, false);
    }
    buddy_free_pages_ -= std::uint64_t{1} << order;
    return page;
  }
  return std::nullopt;
}

void BuddyAllocator::give(std::uint32_t page, unsigned order) {
  buddy_free_pages_ += std::uint64_t{1} << order;
  std::uint64_t pfn = first_pfn_ + page;
  for (; order < kMaxPageOrder; ++order) {
    const std::uint64_t buddy = pfn ^ (std::uint64_t{1} << order);
    if (!is_free_head(buddy, order)) break;
    unlink(static_cast<std::uint32_t>(buddy - first_pfn_), order);
    pfn &= buddy;
  }
  // buddy_merge_likely: if the buddy of the block's parent is free, this block's own buddy may
  // be freed soon; keep the block at the tail so that it is not split again meanwhile.
  bool to_tail = false;
  if (order + 1 < kMaxPageOrder) {
    const std::uint64_t parent = pfn & ~(std::uint64_t{1} << order);
    to_tail = is_free_head(parent ^ (std::uint64_t{1} << (order + 1)), order + 1);
  }
  push(static_cast<std::uint32_t>(pfn - first_pfn_), order, to_tail);
}

std::optional<std::uint64_t> BuddyAllocator::alloc(unsigned order) {
  if (order == 0 && pcp_batch_ > 0) {
    if (pcp_count_ == 0) pcp_refill();
    if (pcp_count_ > 0) {
      const std::uint32_t page = pcp_[pcp_head_];
      pcp_head_ = (pcp_head_ + 1) & pcp_mask_;
      --pcp_count_;
      return gpa_of(page);
    }
    return std::nullopt;  // the buddy lists are empty: nothing to drain the list into either
  }
  auto page = take(order);
  if (!page && pcp_count_ > 0) {  // the slow path drains the per-CPU lists, then tries again
    drain_pcp();
    page = take(order);
  }
  if (!page) return std::nullopt;
  return gpa_of(*page);
}

void BuddyAllocator::free(std::uint64_t gpa, unsigned order) {
  const std::uint32_t page = page_of(gpa);
  if (order == 0 && pcp_batch_ > 0) {
    pcp_push_front(page);
    if (pcp_count_ >= pcp_high_) pcp_free_oldest(pcp_batch_);
    return;
  }
  give(page, order);
}

void BuddyAllocator::free_range(std::uint64_t gpa, std::uint64_t bytes) {
  std::uint64_t pfn = gpa / kGuestPageBytes;
  std::uint64_t pages = bytes / kGuestPageBytes;
  while (pages > 0) {
    const unsigned aligned = static_cast<unsigned>(std::countr_zero(pfn));
    const unsigned fits = static_cast<unsigned>(std::bit_width(pages) - 1);
    const unsigned order = std::min({aligned, fits, kMaxPageOrder});
    free(pfn * kGuestPageBytes, order);
    pfn += std::uint64_t{1} << order;
    pages -= std::uint64_t{1} << order;
  }
}

void BuddyAllocator::drain_pcp() { pcp_free_oldest(pcp_count_); }

void BuddyAllocator::pcp_push_front(std::uint32_t page) {
  pcp_head_ = (pcp_head_ - 1) & pcp_mask_;
  pcp_[pcp_head_] = page;
  ++pcp_count_;
}

void BuddyAllocator::pcp_refill() {
  // rmqueue_bulk: each page to the tail, so the list hands them out in the order taken.
  for (std::uint32_t i = 0; i < pcp_batch_; ++i) {
    const auto page = take(0);
    if (!page) break;
    pcp_[(pcp_head_ + pcp_count_) & pcp_mask_] = *page;
    ++pcp_count_;
  }
}

void BuddyAllocator::pcp_free_oldest(std::uint32_t pages) {
  for (std::uint32_t i = 0; i < pages && pcp_count_ > 0; ++i) {
    --pcp_count_;
    give(pcp_[(pcp_head_ + pcp_count_) & pcp_mask_], 0);
  }
}

std::vector<std::uint64_t> BuddyAllocator::free_list(unsigned order) const {
  std::vector<std::uint64_t> blocks;
  for (std::uint32_t page = links_[sentinel(order)].next; page != sentinel(order);
       page = links_[page].next) {
    blocks.push_back(gpa_of(page));
  }
  return blocks;
}

}  // namespace dartlab::trace::gen
