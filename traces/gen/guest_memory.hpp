// Where a generated request lives in guest-physical memory.
//
// The model, kept simple and fast on purpose (a fuller buddy-allocator model comes later):
// - Guest RAM [ram_base, ram_base + ram_bytes) is cut into clusters of cluster_bytes (a power of
//   two, 2 MiB by default: an arm64 huge page, the unit Linux's buddy allocator groups pages by).
//   Each cluster keeps a bitmap of its 4 KiB pages and a count of pages in use.
// - Clustered pages (alloc_pages): a few 4 KiB pages at a time, taken at a random free offset of
//   one current cluster. The current cluster is left once it holds fill_pages pages in use; the
//   next is the next cluster in address order (wrapping) that holds at most half as many. So
//   pages handed out close in time lie in the same cluster, and so in few 256 KiB windows, but
//   are rarely adjacent. Frees thin clusters out and the walk comes back to them.
// - Blocks (alloc_block): a power of two of pages, naturally aligned as a buddy allocator gives
//   them. Up to a cluster: a random aligned free place in a current block cluster, else the next
//   cluster with room. Larger: that many consecutive free clusters, aligned to the block size.
// Nothing here allocates after construction; the bitmaps take one bit per 4 KiB of guest RAM.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <vector>

#include "traces/gen/rng.hpp"

namespace dartlab::trace::gen {

inline constexpr std::uint64_t kGuestPageBytes = 4096;  // arm64 Linux guest with 4 KiB pages

class GuestMemory {
 public:
  // cluster_bytes: a power of two, 256 KiB .. 1 GiB; ram_bytes is rounded down to whole clusters.
  // fill_pages: pages in use at which alloc_pages leaves its current cluster.
  GuestMemory(std::uint64_t ram_base, std::uint64_t ram_bytes, std::uint64_t cluster_bytes,
              std::uint32_t fill_pages);

  // `pages` (a power of two, at most 64) naturally aligned pages from the current clustered-page
  // cluster; the gpa of the first, or nothing when no cluster has room.
  std::optional<std::uint64_t> alloc_pages(Rng& rng, std::uint32_t pages) {
    // Most requests: one page, found in the word of a random place of the current cluster.
    const std::uint32_t cluster = page_cursor_;
    if (pages == 1 && used_in_cluster_[cluster] < fill_pages_) {
      const std::uint64_t page =
          (std::uint64_t{cluster} << cluster_shift_) | rng.below(cluster_pages_);
      std::uint64_t& word = bitmap_[page / 64];
      const std::uint64_t free = ~word & (~std::uint64_t{0} << (page % 64));
      if (free != 0) {
        const auto bit = static_cast<unsigned>(std::countr_zero(free));
        word |= std::uint64_t{1} << bit;
        ++used_in_cluster_[cluster];
        ++used_pages_;
        return ram_base_ + ((page & ~std::uint64_t{63}) + bit) * kGuestPageBytes;
      }
    }
    return alloc_pages_slow(rng, pages);
  }

  // A naturally aligned block of `bytes` (a power of two, >= 4 KiB), or nothing.
  std::optional<std::uint64_t> alloc_block(Rng& rng, std::uint64_t bytes);

  // Returns [gpa, gpa + bytes) handed out earlier by alloc_pages or alloc_block.
  void free(std::uint64_t gpa, std::uint64_t bytes) {
    const std::uint64_t page = (gpa - ram_base_) / kGuestPageBytes;
    if (bytes == kGuestPageBytes) {  // most requests: one bit, inline
      bitmap_[page / 64] &= ~(std::uint64_t{1} << (page % 64));
      --used_in_cluster_[page >> cluster_shift_];
      --used_pages_;
    } else {
      set_range(page, (bytes + kGuestPageBytes - 1) / kGuestPageBytes, false);
    }
  }

  // A hint that `gpa` will soon be freed: its bitmap word is fetched into cache.
  void prefetch(std::uint64_t gpa) const {
    __builtin_prefetch(&bitmap_[(gpa - ram_base_) / kGuestPageBytes / 64]);
  }

  std::uint64_t used_bytes() const { return used_pages_ * kGuestPageBytes; }
  std::uint64_t cluster_bytes() const { return cluster_pages_ * kGuestPageBytes; }

 private:
  std::optional<std::uint32_t> find_free(std::uint32_t cluster, std::uint32_t pages,
                                         std::uint32_t start_page) const;
  std::uint64_t take(std::uint32_t cluster, std::uint32_t page, std::uint32_t pages);
  std::optional<std::uint64_t> alloc_pages_slow(Rng& rng, std::uint32_t pages);
  std::optional<std::uint64_t> alloc_pages_in(std::uint32_t cluster, Rng& rng, std::uint32_t pages);
  std::optional<std::uint64_t> alloc_in_cluster(Rng& rng, std::uint32_t pages);
  std::optional<std::uint64_t> alloc_clusters(std::uint64_t bytes);
  void set_range(std::uint64_t first_page, std::uint64_t pages, bool in_use);

  std::uint64_t ram_base_;
  std::uint32_t cluster_pages_;  // a power of two, as are the two below
  std::uint32_t cluster_shift_;
  std::uint32_t words_per_cluster_;
  std::uint32_t cluster_count_;
  std::uint32_t fill_pages_;
  std::uint32_t page_cursor_ = 0;   // current cluster of alloc_pages
  std::uint32_t block_cursor_ = 0;  // current cluster of alloc_block
  std::uint64_t used_pages_ = 0;
  std::vector<std::uint64_t> bitmap_;  // words_per_cluster_ words per cluster, bit set = in use
  std::vector<std::uint32_t> used_in_cluster_;
};

}  // namespace dartlab::trace::gen
