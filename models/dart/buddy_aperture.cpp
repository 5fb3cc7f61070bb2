// SPDX-License-Identifier: MIT
#include "models/dart/buddy_aperture.hpp"

#include <array>
#include <bit>
#include <boost/intrusive/set.hpp>
#include <cassert>
#include <deque>

#include "models/dart/bitmap_aperture.hpp"

namespace dartlab::dart {

namespace {

// Choices, and why:
// - Blocks are aligned relative to bus address 0, not to the aperture's first page: a 2 MiB
//   request then gets a 2 MiB-aligned bus address (what NVIDIA UVM asks for), as with alloc=linux.
//   The price: an aperture that does not start on a large boundary (base=16K by default) is cut
//   into several maximal aligned blocks (the default 1536M at page 1: blocks of 1, 2, 4, ...,
//   16384 pages, then 32768 and 32768 more, then 1), so no request above 512 MiB can be served
//   although 1.5 GiB are free. largest_free_pages() says so from the start.
// - Of the free blocks large enough, the smallest order and in it the lowest address is split,
//   and the low half kept, down to the request's order: allocations pack towards low addresses
//   and the choice is a function of the free set alone (a page-by-page model can predict it),
//   unlike the LIFO free lists of Linux's page allocator.
// - Free blocks live in one ordered set keyed by (order, first page): the block to split is a
//   lower_bound, a buddy a find, both O(log blocks); nodes come from a pool that only grows, so
//   steady-state alloc/free allocate nothing. Memory follows the free blocks, not the aperture:
//   aperture=max costs a few dozen blocks.
class BuddyAllocator final : public ApertureAllocator {
 public:
  BuddyAllocator(std::uint64_t first_page, std::uint64_t page_count)
      : first_page_(first_page), page_count_(page_count) {
    assert(first_page + page_count <= kPageMask && "page indices must fit beside the order in a key");
    reset();
  }
  ~BuddyAllocator() override { free_.clear(); }  // unlink before the pool goes

  std::uint64_t take(std::uint64_t pages) override {
    if (pages == 0 || pages > page_count_) return kNoFit;
    const unsigned order = order_of(pages);
    const auto it = free_.lower_bound(key(order, 0));
    if (it == free_.end()) return kNoFit;
    const std::uint64_t first = it->key & kPageMask;
    unsigned block_order = static_cast<unsigned>(it->key >> kOrderShift);
    remove(*it);
    while (block_order > order) {  // split: the high half stays free
      --block_order;
      add(block_order, first + (std::uint64_t{1} << block_order));
    }
    free_pages_ -= std::uint64_t{1} << order;
    return first;
  }

  void free(std::uint64_t first_page, std::uint64_t pages) override {
    assert(pages > 0 && first_page >= first_page_ && first_page + pages <= first_page_ + page_count_);
    unsigned order = order_of(pages);
    assert(first_page % (std::uint64_t{1} << order) == 0 && "buddy frees whole blocks");
    free_pages_ += std::uint64_t{1} << order;
    // A buddy in the free set lies inside the aperture, so the merged block does too.
    for (;;) {
      const std::uint64_t buddy = first_page ^ (std::uint64_t{1} << order);
      const auto it = free_.find(key(order, buddy));
      if (it == free_.end()) break;
      remove(*it);
      first_page &= ~(std::uint64_t{1} << order);
      ++order;
    }
    add(order, first_page);
  }

  std::uint64_t reserved_pages(std::uint64_t pages) const override {
    return pages > page_count_ ? pages : std::bit_ceil(pages);
  }
  std::uint64_t free_pages() const override { return free_pages_; }
  std::uint64_t largest_free_pages() const override {
    return orders_in_use_ == 0 ? 0 : std::uint64_t{1} << (std::bit_width(orders_in_use_) - 1);
  }
  std::uint64_t free_extents() const override { return free_.size(); }

  void reset() override {
    free_.clear();
    pool_.clear();
    pool_.shrink_to_fit();
    spare_ = nullptr;
    counts_ = {};
    orders_in_use_ = 0;
    free_pages_ = page_count_;
    // The maximal aligned blocks: at each page the largest block that starts there and fits.
    std::uint64_t page = first_page_;
    const std::uint64_t end = first_page_ + page_count_;
    while (page < end) {
      unsigned order = page == 0 ? 63 : static_cast<unsigned>(std::countr_zero(page));
      while ((std::uint64_t{1} << order) > end - page) --order;
      add(order, page);
      page += std::uint64_t{1} << order;
    }
  }

 private:
  static constexpr unsigned kOrderShift = 58;  // key: order above, first page below
  static constexpr std::uint64_t kPageMask = (std::uint64_t{1} << kOrderShift) - 1;

  using Hook = boost::intrusive::set_member_hook<boost::intrusive::link_mode<boost::intrusive::normal_link>>;
  struct Block {
    std::uint64_t key = 0;
    Block* next_spare = nullptr;
    Hook hook;
  };
  struct KeyOf {
    using type = std::uint64_t;
    std::uint64_t operator()(const Block& b) const { return b.key; }
  };
  using FreeSet = boost::intrusive::set<Block, boost::intrusive::member_hook<Block, Hook, &Block::hook>,
                                        boost::intrusive::key_of_value<KeyOf>>;

  static std::uint64_t key(unsigned order, std::uint64_t first_page) {
    return (std::uint64_t{order} << kOrderShift) | first_page;
  }
  static unsigned order_of(std::uint64_t pages) { return static_cast<unsigned>(std::bit_width(pages - 1)); }

  void add(unsigned order, std::uint64_t first_page) {
    Block* b = spare_;
    if (b != nullptr) {
      spare_ = b->next_spare;
    } else {
      b = &pool_.emplace_back();  // a deque: blocks never move
    }
    b->key = key(order, first_page);
    free_.insert(*b);
    if (counts_[order]++ == 0) orders_in_use_ |= std::uint64_t{1} << order;
  }

  void remove(Block& b) {
    const auto order = static_cast<unsigned>(b.key >> kOrderShift);
    free_.erase(free_.iterator_to(b));
    if (--counts_[order] == 0) orders_in_use_ &= ~(std::uint64_t{1} << order);
    b.next_spare = spare_;
    spare_ = &b;
  }

  std::uint64_t first_page_;
  std::uint64_t page_count_;
  std::deque<Block> pool_;
  Block* spare_ = nullptr;  // unused pool blocks, chained
  FreeSet free_;
  std::uint64_t free_pages_ = 0;
  std::array<std::uint64_t, 64> counts_{};  // free blocks by order
  std::uint64_t orders_in_use_ = 0;  // bit k: some free block of order k
};

}  // namespace

std::unique_ptr<ApertureAllocator> make_buddy_aperture(std::uint64_t first_page, std::uint64_t page_count) {
  if (auto bitmap = make_bitmap_buddy(first_page, page_count)) return bitmap;
  return make_set_buddy_aperture(first_page, page_count);
}

std::unique_ptr<ApertureAllocator> make_set_buddy_aperture(std::uint64_t first_page, std::uint64_t page_count) {
  return std::make_unique<BuddyAllocator>(first_page, page_count);
}

}  // namespace dartlab::dart
